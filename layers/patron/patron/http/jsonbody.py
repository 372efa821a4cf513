"""JSON for request and response bodies: numbers stay exact (Decimal), NaN and Infinity are refused."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from patron.errors import MalformedJsonError


def _refuse_constant(_: str) -> Any:
    raise ValueError("non-finite number")


def _number(text: str) -> Decimal:
    number = Decimal(text)
    # Every zero is 0: DynamoDB (and boto3's serializer) refuse a zero with an exponent out of their range.
    return Decimal(0) if number.is_zero() else number


def _integer(text: str) -> int | Decimal:
    # Python refuses int() of over 4300 digits; as a Decimal the value reaches validation, which names it.
    return int(text) if len(text) <= 40 else _number(text)


def loads(body: bytes | str) -> Any:
    try:
        return json.loads(body, parse_float=_number, parse_int=_integer, parse_constant=_refuse_constant)
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
