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
    """The body's value. Its text may still hold a lone surrogate (`"\\ud800"` is valid JSON): see unencodable."""
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


# JSON escapes a UTF-16 surrogate as \uD800-\uDFFF. json pairs a high and a low one into one character; a lone one
# stays in the decoded text as a code point UTF-8 cannot encode, so DynamoDB, S3 and every response would fail on
# it. Such an escape is the only way into a decoded body (a raw lone surrogate is not UTF-8: malformed JSON), so
# a body without one is clean without walking it.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_TEXT_ISSUES = 50  # paths named in one answer; a body may hold thousands


def may_be_unencodable(raw: bytes | str) -> bool:
    """False when the JSON text `raw` cannot decode to a string UTF-8 refuses (one C scan of the bytes)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return _SURROGATE_ESCAPE.search(data) is not None


def is_unencodable(text: str) -> bool:
    """True when `text` holds a lone surrogate: not Unicode text, and nothing can store or send it."""
    return _SURROGATE.search(text) is not None


def _join(root: str, name: str) -> str:
    return f"{root}.{name}" if root else name


_BAD_KEY = object()


def unencodable_paths(value: Any, root: str = "", limit: int = MAX_TEXT_ISSUES) -> list[str]:
    """The paths (`attributes.x`, `items[0].name`, `$` for the value itself) of the strings and object keys in a
    decoded JSON value that are not Unicode text, in document order, at most `limit` of them. A key that is not
    text is named by itself (FieldIssue writes it escaped)."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [(root, value)]
    while stack and len(found) < limit:
        path, item = stack.pop()
        if item is _BAD_KEY or (isinstance(item, str) and _SURROGATE.search(item)):
            found.append(path or "$")
        elif isinstance(item, dict):
            # A key that is not text stands for itself (its value is not walked): in document order with the rest.
            children = [
                (_join(path, key), _BAD_KEY if _SURROGATE.search(key) else child) for key, child in item.items()
            ]
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in reversed(list(enumerate(item))))
    return found
