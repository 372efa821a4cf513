"""The fingerprint of a request: what a repeated Idempotency-Key is compared by.

SHA-256 of a canonical form of the method, the resource, its path parameters, the query and the body. A JSON body is
canonicalised (keys sorted, no whitespace, numbers normalised so 1.10 and 1.1 agree, as DynamoDB stores them), so a
client that re-serialises the same document gets the same fingerprint; any other body is taken byte for byte.
Headers are not part of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from patron.errors import MalformedJsonError
from patron.http import jsonbody


def _number(value: int | Decimal) -> str:
    normalized = Decimal(value).normalize()
    return "0" if normalized.is_zero() else str(normalized)


def _canonical(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | Decimal):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=True)}:{_canonical(v)}" for k, v in items) + "}"
    raise TypeError(type(value).__name__)


def _body(body: bytes) -> str:
    if not body:
        return "none:"
    try:
        return "json:" + _canonical(jsonbody.loads(body))
    except (MalformedJsonError, RecursionError):
        # Not JSON (the route will answer 400), or nested too deep to walk: the bytes as sent.
        return "raw:" + body.hex()


def request_fingerprint(
    method: str, resource: str, path_params: Mapping[str, str], query: Mapping[str, str], body: bytes
) -> str:
    head = json.dumps(
        [method.upper(), resource, sorted(path_params.items()), sorted(query.items())],
        ensure_ascii=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256()
    digest.update(head.encode("ascii"))
    digest.update(b"\n")
    digest.update(_body(body).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
