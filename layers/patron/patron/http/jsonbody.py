"""JSON for request and response bodies: numbers stay exact (Decimal), NaN and Infinity are refused."""

from __future__ import annotations

import json
import re
import secrets
from decimal import MAX_PREC, Context, Decimal
from typing import Any

import msgspec

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


# normalize() rounds to its context's precision (28 digits by default): this one keeps every digit.
_EXACT = Context(prec=MAX_PREC)


def _number_text(value: Decimal) -> str:
    """A Decimal as a JSON number with every digit it has (a float would round past 15-17 digits)."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(_EXACT), "f")


# A placeholder as json writes it: "<token>:<number's position>". One pattern for every call (a pattern made
# per token missed re's cache and was compiled on every call: a tenth of an import worker's time).
_PLACEHOLDER = re.compile(r'"([0-9a-f]{16}):([0-9]+)"')


def dumps(value: Any) -> str:
    # json writes Decimals only through floats, so each one goes in as a placeholder string carrying a random
    # token (no client value can contain it) and comes back out as its exact digits.
    token = secrets.token_hex(8)
    numbers: list[str] = []

    def default(item: Any) -> Any:
        if isinstance(item, Decimal):
            numbers.append(_number_text(item))
            return f"{token}:{len(numbers) - 1}"
        if isinstance(item, set | frozenset):
            return sorted(item)
        raise TypeError(f"not JSON serialisable: {type(item).__name__}")

    text = json.dumps(value, default=default, separators=(",", ":"), ensure_ascii=False)
    if not numbers:
        return text

    def number(match: re.Match[str]) -> str:
        # A client string shaped like a placeholder carries another token: it stays as it is.
        return numbers[int(match.group(2))] if match.group(1) == token else match.group(0)

    return _PLACEHOLDER.sub(number, text)


# Numbers as the digits their Decimal carries (19.90, 1E+5): a size within a few bytes of dumps', for limits.
_SIZER = msgspec.json.Encoder(decimal_format="number")


def encoded_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON: what size limits measure. dumps writes each Decimal through a
    Python callback and a regular expression; this is one C call (the import worker measures every order)."""
    return len(_SIZER.encode(value))
