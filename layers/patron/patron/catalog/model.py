"""Attribute descriptors, type inference, and which received type an expected type accepts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from patron.errors import FieldIssue, ValidationError


class EntityKind(StrEnum):
    """What an attribute belongs to; each kind has its own catalog (ExpertSender's three attribute lists)."""

    CUSTOMER = "customer"
    ORDER = "order"
    PRODUCT = "product"
    # Consent channels (email, sms, push, ...): listed by GET /v1/consents, not among the attribute lists.
    CONSENT = "consent"


ATTRIBUTE_KINDS = (EntityKind.CUSTOMER, EntityKind.ORDER, EntityKind.PRODUCT)


class AttributeType(StrEnum):
    BOOLEAN = "boolean"
    NUMBER = "number"
    STRING = "string"
    DATE = "date"  # a string holding an ISO-8601 date or date-time
    OBJECT = "object"
    ARRAY = "array"


class AttributeDescriptor(msgspec.Struct, frozen=True):
    name: str
    type: AttributeType
    first_seen: str  # ISO-8601 UTC, when the descriptor was first written


def entity_kind(raw: str, path: str = "entity") -> EntityKind:
    """The entity kind a client named (exact, lower case), or a 400 naming the field."""
    for kind in ATTRIBUTE_KINDS:
        if kind.value == raw:
            return kind
    allowed = ", ".join(kind.value for kind in ATTRIBUTE_KINDS)
    raise ValidationError("Unknown entity.", [FieldIssue(path, "invalid_value", f"The entity is one of: {allowed}.")])


# ISO-8601 extended format only (what JSON APIs send): YYYY-MM-DD, optionally followed by T, hh:mm, optional
# :ss with an optional fraction of up to 9 digits, and an optional Z or offset (+hh:mm, +hhmm or +hh). ASCII digits only
# (`\d` would also match other scripts' digits). Basic format (20200101), week and ordinal dates are strings.
_DATE_TIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:T(?P<hh>[0-9]{2}):(?P<mm>[0-9]{2})(?::(?P<ss>[0-9]{2})(?:\.[0-9]{1,9})?)?"
    r"(?:Z|[+-](?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?)?"
)


def is_iso_date(text: str) -> bool:
    """True for a real calendar date or date-time in ISO-8601 extended format ("2020-02-30" is not one)."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return False
    try:
        date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return False
    hour, minute, second = (int(match[group] or 0) for group in ("hh", "mm", "ss"))
    offset_hour, offset_minute = (int(match[group] or 0) for group in ("oh", "om"))
    # No leap second (60) and no 24:00: what datetime can represent, so every consumer can parse it.
    return hour <= 23 and minute <= 59 and second <= 59 and offset_hour <= 23 and offset_minute <= 59


def infer_type(value: Any) -> AttributeType | None:
    """The catalog type of a JSON value; None for null, which removes an attribute and carries no type.

    Only the top-level value is typed: an object's members and an array's elements may vary freely.
    """
    if value is None:
        return None
    if isinstance(value, bool):  # before numbers: bool is an int subclass
        return AttributeType.BOOLEAN
    if isinstance(value, int | float | Decimal):
        return AttributeType.NUMBER
    if isinstance(value, str):
        return AttributeType.DATE if is_iso_date(value) else AttributeType.STRING
    if isinstance(value, dict):
        return AttributeType.OBJECT
    if isinstance(value, list | tuple):
        return AttributeType.ARRAY
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def accepts(expected: AttributeType, received: AttributeType) -> bool:
    """Whether an attribute of type `expected` takes a value of type `received`. A date-looking string is still
    a string, so a `string` attribute takes it; a `date` attribute takes only dates."""
    return expected == received or (expected == AttributeType.STRING and received == AttributeType.DATE)


def mismatch_issue(name: str, expected: AttributeType, received: AttributeType) -> FieldIssue:
    # Types only, never the value: values may be personal data.
    return FieldIssue(
        f"attributes.{name}",
        "attribute_type_mismatch",
        f"The attribute is of type {expected.value}; the value sent is of type {received.value}.",
    )
