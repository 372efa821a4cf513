"""Opaque page cursors: the sort key to resume after, base64 of JSON. The partition comes from the request, so
a forged cursor can only read what its caller could list anyway; one of another list's keys is refused."""

from __future__ import annotations

import base64
import json

from patron.errors import FieldIssue, ValidationError

MAX_SORT_KEY_BYTES = 1024  # DynamoDB's limit: a longer cursor names no key it could have given


def encode(sort_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"sk": sort_key}).encode()).decode().rstrip("=")


def decode(cursor: str, prefix: str) -> str:
    """The sort key a cursor carries, which must begin with `prefix`; a 400 naming `query.cursor` otherwise."""
    try:
        sort_key = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))["sk"]
        if not isinstance(sort_key, str) or not sort_key.startswith(prefix):
            raise ValueError("not ours")
        if len(sort_key.encode("utf-8")) > MAX_SORT_KEY_BYTES:  # a lone surrogate raises here too (a ValueError)
            raise ValueError("no key of ours")
        return sort_key
    except (ValueError, KeyError, TypeError):
        raise ValidationError(
            "The cursor is invalid.", [FieldIssue("query.cursor", "invalid_value", "Not a cursor we gave.")]
        ) from None
