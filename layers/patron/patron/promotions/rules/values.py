"""The runtime rules every value follows, shared by the compiler and the interpreter so both answer alike.

Values are `Decimal` (number), `str`, `bool`, an aware `datetime` (time), a `date`, a `tuple` (list) or None
(absent). Nothing here raises on a value: a value of the wrong type, an absent value, a division by zero or an
overflow gives an absent result, and a comparison with one is false (docs/rules.md, "Absent and dynamic values").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from math import isfinite
from typing import Any

from patron.promotions.rules.schema import Kind, Type

ZERO = Decimal(0)
_ORDERED = frozenset({Decimal, str, datetime, date})
_SCALARS = frozenset({str, bool, Decimal, date})


# -- values from the outside: attributes as JSON brought them --------------------------------------------------


def normalize(value: Any) -> Any:
    """An attribute's JSON value as a language value: numbers become `Decimal` (a float by its shortest text, so
    0.1 is 0.1), a list a tuple of such scalars; an object, a non-finite number or anything else is absent."""
    kind = type(value)
    if kind is list or kind is tuple:
        return tuple(_scalar(element) for element in value)
    return _scalar(value)


def _scalar(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or kind is date:
        return value
    if kind is Decimal:
        return value if value.is_finite() else None
    if kind is int:
        return Decimal(value)
    if kind is float:
        return Decimal(repr(value)) if isfinite(value) else None
    if kind is datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return None


def parse_time(text: str) -> datetime | None:
    """ISO-8601 (`2026-05-01T10:00:00Z`, `2026-05-01T12:00:00+02:00`); without an offset, UTC."""
    if len(text) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _as_time(value: Any) -> datetime | None:
    if type(value) is str:
        return parse_time(value)
    value = _scalar(value)
    return value if type(value) is datetime else None


def coercer(declared: Type) -> Callable[[Any], Any]:
    """How a declared attribute is read: its value when it has the declared type, else absent (a time may arrive as
    an ISO-8601 string, as it does on the wire)."""
    kind = declared.kind
    if kind is Kind.DYNAMIC:
        return normalize
    if kind is Kind.TIME:
        return _as_time
    if kind is Kind.LIST:
        element = coercer(declared.element) if declared.element is not None else _scalar
        return lambda value: _as_list(value, element)
    python_type = {Kind.NUMBER: Decimal, Kind.STRING: str, Kind.BOOLEAN: bool, Kind.DATE: date}[kind]

    def coerce(value: Any) -> Any:
        value = _scalar(value)
        return value if type(value) is python_type else None

    return coerce


def _as_list(value: Any, element: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    if type(value) is not list and type(value) is not tuple:
        return None
    elements = tuple(element(item) for item in value)
    return None if None in elements else elements


# -- comparisons -------------------------------------------------------------------------------------------------


def equal(left: Any, right: Any) -> bool:
    """Values of different types are never equal (1 is not true, "1" is not 1); absent equals only absent."""
    if type(left) is not type(right):
        return False
    if type(left) is tuple:
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def less(left: Any, right: Any) -> bool:
    return type(left) is type(right) and type(left) in _ORDERED and bool(left < right)


def less_or_equal(left: Any, right: Any) -> bool:
    return type(left) is type(right) and type(left) in _ORDERED and bool(left <= right)


def member(element: Any, collection: Any) -> bool:
    if type(collection) is not tuple:
        return False
    if type(element) is str:  # a string equals nothing but a string: the C membership test is exact
        return element in collection
    return any(equal(element, candidate) for candidate in collection)


def contains(container: Any, element: Any) -> bool:
    if type(container) is str:
        return type(element) is str and element in container
    return member(element, container)


# -- arithmetic --------------------------------------------------------------------------------------------------


def add(left: Any, right: Any) -> Any:
    if type(left) is Decimal and type(right) is Decimal:
        try:
            return left + right
        except ArithmeticError:  # overflow
            return None
    if type(left) is str and type(right) is str:
        return left + right
    return None


def subtract(left: Any, right: Any) -> Decimal | None:
    if type(left) is not Decimal or type(right) is not Decimal:
        return None
    try:
        return left - right
    except ArithmeticError:
        return None


def multiply(left: Any, right: Any) -> Decimal | None:
    if type(left) is not Decimal or type(right) is not Decimal:
        return None
    try:
        return left * right
    except ArithmeticError:
        return None


def divide(left: Any, right: Any) -> Decimal | None:
    if type(left) is not Decimal or type(right) is not Decimal or not right:
        return None
    try:
        return left / right
    except ArithmeticError:
        return None


def negate(value: Any) -> Decimal | None:
    return -value if type(value) is Decimal else None


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {"+": add, "-": subtract, "*": multiply, "/": divide}


# -- functions ---------------------------------------------------------------------------------------------------


def starts_with(text: Any, prefix: Any) -> bool:
    return type(text) is str and type(prefix) is str and text.startswith(prefix)


def ends_with(text: Any, suffix: Any) -> bool:
    return type(text) is str and type(suffix) is str and text.endswith(suffix)


def lower(text: Any) -> str | None:
    return text.lower() if type(text) is str else None


def upper(text: Any) -> str | None:
    return text.upper() if type(text) is str else None


def length(value: Any) -> Decimal | None:
    return Decimal(len(value)) if type(value) is str or type(value) is tuple else None


def round_half_up(value: Any, places: Any = ZERO) -> Decimal | None:
    """Commercial rounding (half away from zero), as money is rounded (`patron.promotions.money`)."""
    if type(value) is not Decimal or type(places) is not Decimal:
        return None
    try:
        return value.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)
    except ArithmeticError:  # more digits than the context holds
        return None


def floor(value: Any) -> Decimal | None:
    return value.to_integral_value(rounding=ROUND_FLOOR) if type(value) is Decimal else None


def ceil(value: Any) -> Decimal | None:
    return value.to_integral_value(rounding=ROUND_CEILING) if type(value) is Decimal else None


def absolute(value: Any) -> Decimal | None:
    return abs(value) if type(value) is Decimal else None


def minimum(*values: Any) -> Decimal | None:
    """Absent when any argument is absent or not a number: a cap that cannot be read caps nothing silently."""
    numbers: list[Decimal] = [value for value in values if type(value) is Decimal]
    return min(numbers) if len(numbers) == len(values) else None


def maximum(*values: Any) -> Decimal | None:
    numbers: list[Decimal] = [value for value in values if type(value) is Decimal]
    return max(numbers) if len(numbers) == len(values) else None


def coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def parse_timestamp(text: str) -> datetime | None:
    """A timestamp literal must say its offset: a campaign file is read in many timezones."""
    if "T" not in text or len(text) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def days_since(value: Any, today: date, zone: tzinfo) -> Decimal | None:
    """Whole calendar days from the value's date (in the application's timezone) to today's; negative ahead."""
    if type(value) is datetime:
        value = value.astimezone(zone).date()
    elif type(value) is not date:
        return None
    return Decimal((today - value).days)
