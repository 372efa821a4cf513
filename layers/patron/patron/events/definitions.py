"""Custom event definitions at work: which definition an event names (by Talon.One's `type` or ExpertSender's
`customEventId`), and its attributes checked against the definition's typed fields (docs/events.md, "Definitions").

The definitions are published with the application's ruleset (`customEvents` in the campaign files, the
management API's body), so a call reads them with the live ruleset it reads anyway. An event whose type has no
definition is taken as it comes (Talon.One's events need none); one that has a definition is refused, whole and
before anything is written, when an attribute is not a field, a required field is missing, or a value is not of
its field's type. Issues name the path of each value, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from patron.errors import FieldIssue, ValidationError
from patron.promotions.definitions import CustomEventDefinition, EventField, EventFieldType, Ruleset
from patron.promotions.money import minor_units

MAX_STRING = 255  # ExpertSender's String; Text is the long form
MAX_TEXT = 10_000
MAX_URL = 2048
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Control characters: none in a String or URL, only tab and line breaks in a Text (a value a person could type).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_EXPECTED = {
    EventFieldType.STRING: f"a string of at most {MAX_STRING} characters, without control characters",
    EventFieldType.TEXT: f"a string of at most {MAX_TEXT} characters, no control characters but tabs and line breaks",
    EventFieldType.URL: "an absolute http(s) URL",
    EventFieldType.NUMBER: "a number",
    EventFieldType.MONEY: "an amount: a number with at most the currency's decimal places",
    EventFieldType.BOOLEAN: "true or false",
    EventFieldType.DATE: "a date, YYYY-MM-DD",
    EventFieldType.DATETIME: "a date-time in ISO 8601 with an offset, e.g. 2026-12-04T10:00:00Z",
}


class DataField(msgspec.Struct, frozen=True):
    """ExpertSender's `dataFields[]` member: every value is text, typed by `type`."""

    name: str
    type: str
    value: str


def by_type(ruleset: Ruleset | None, event_type: str) -> CustomEventDefinition | None:
    if ruleset is None:
        return None
    return next((d for d in ruleset.custom_events if d.type == event_type), None)


def by_id(ruleset: Ruleset | None, definition_id: int) -> CustomEventDefinition | None:
    if ruleset is None:
        return None
    return next((d for d in ruleset.custom_events if d.id == definition_id), None)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return number if number.is_finite() else None


def _instant(text: str) -> bool:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in text.upper() and moment.tzinfo is not None


def _calendar_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def fits(field: EventField, value: Any, currency: str) -> bool:
    """Whether a JSON value is one of the field's type."""
    kind = field.type
    if kind in (EventFieldType.NUMBER, EventFieldType.MONEY):
        number = _number(value)
        if number is None:
            return False
        return kind is EventFieldType.NUMBER or -number.as_tuple().exponent <= max(minor_units(currency), 0)  # type: ignore[operator]
    if kind is EventFieldType.BOOLEAN:
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    if kind is EventFieldType.STRING:
        return len(value) <= MAX_STRING and not _CONTROL.search(value)
    if kind is EventFieldType.TEXT:
        return len(value) <= MAX_TEXT and not _TEXT_CONTROL.search(value)
    if kind is EventFieldType.URL:
        return len(value) <= MAX_URL and bool(_URL.match(value)) and not _CONTROL.search(value)
    if kind is EventFieldType.DATE:
        return _calendar_date(value)
    return _instant(value)  # DateTime


def check_attributes(
    definition: CustomEventDefinition, attributes: Mapping[str, Any], currency: str, path: str = "attributes"
) -> None:
    """Raises ValidationError with one issue per faulty attribute."""
    fields = {field.name: field for field in definition.fields}
    issues: list[FieldIssue] = []
    for name, value in attributes.items():
        field = fields.get(name)
        if field is None:
            message = f"Custom event {definition.id} ({definition.type}) has no field of this name."
            issues.append(FieldIssue(f"{path}.{name}", "unknown_attribute", message))
        elif value is not None and not fits(field, value, currency):
            message = f"{field.type.value}: {_EXPECTED[field.type]}."
            issues.append(FieldIssue(f"{path}.{name}", "attribute_type_mismatch", message))
    for field in definition.fields:
        if field.required and attributes.get(field.name) is None:
            issues.append(FieldIssue(f"{path}.{field.name}", "required", "This field of the custom event is required."))
    if issues:
        raise ValidationError("The event's attributes do not match its definition.", issues)


def _typed(field: EventField, text: str) -> Any:
    """A data field's text as the JSON value of its type (None: not one)."""
    if field.type in (EventFieldType.NUMBER, EventFieldType.MONEY):
        if not re.fullmatch(r"-?\d{1,30}(\.\d{1,30})?", text.strip()):
            return None
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            return None
    if field.type is EventFieldType.BOOLEAN:
        lowered = text.strip().lower()
        return {"true": True, "false": False}.get(lowered)
    return text


def attributes_from_fields(
    definition: CustomEventDefinition, data_fields: Sequence[DataField], currency: str, path: str = "dataFields"
) -> dict[str, Any]:
    """ExpertSender's `dataFields` as the event's typed attributes: Number and Money become numbers, Boolean true or
    false, the rest stay text, each checked as `check_attributes` checks a JSON value. Issues name
    `dataFields[i].name` (unknown, repeated), `.type` (not the field's), `.value` (not of the type)."""
    fields = {field.name: field for field in definition.fields}
    issues: list[FieldIssue] = []
    attributes: dict[str, Any] = {}
    for index, data in enumerate(data_fields):
        at = f"{path}[{index}]"
        field = fields.get(data.name)
        if field is None:
            message = f"Custom event {definition.id} has no data field of this name."
            issues.append(FieldIssue(f"{at}.name", "unknown_field", message))
            continue
        if data.name in attributes:
            issues.append(FieldIssue(f"{at}.name", "duplicate_field", "This data field is given twice."))
            continue
        if data.type.lower() != field.type.value.lower():
            message = f"The field is declared {field.type.value}."
            issues.append(FieldIssue(f"{at}.type", "field_type_mismatch", message))
            continue
        value = _typed(field, data.value)
        if value is None or not fits(field, value, currency):
            message = f"{field.type.value}: {_EXPECTED[field.type]}."
            issues.append(FieldIssue(f"{at}.value", "invalid_value", message))
            continue
        attributes[data.name] = value
    for field in definition.fields:
        if field.required and field.name not in attributes and not any(d.name == field.name for d in data_fields):
            issues.append(FieldIssue(path, "required", f"The data field {field.name!r} is required."))
    if issues:
        raise ValidationError("The event's data fields do not match its definition.", issues)
    return attributes
