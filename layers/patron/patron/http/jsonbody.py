"""JSON for request and response bodies: numbers stay exact (Decimal), NaN and Infinity are refused."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from patron.errors import MalformedJsonError


def _refuse_constant(_: str) -> Any:
    raise ValueError("non-finite number")


def loads(body: bytes | str) -> Any:
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedJsonError() from None


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)
