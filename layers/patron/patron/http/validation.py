"""Request bodies -> typed models (msgspec Structs), and validation errors -> 400s that name each field by its
path, never echoing the value sent."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from patron.errors import FieldIssue, ValidationError

M = TypeVar("M", bound=msgspec.Struct)

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]*)`")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]*)`")
_QUOTED = re.compile(r"'[^']*'")


def _join(root: str, path: str) -> str:
    """msgspec's `$.a.b[0]` under `root`, written `a.b[0]` (`$` for the body itself)."""
    path = path.lstrip(".")
    if root and path:
        return f"{root}{path}" if path.startswith("[") else f"{root}.{path}"
    return root or path or "$"


def issue_from(error: msgspec.ValidationError, root: str = "") -> FieldIssue:
    message = str(error)
    located = _AT.search(message)
    path = located.group("path") if located else ""
    message = message[: located.start()] if located else message
    if unknown := _UNKNOWN.match(message):
        return FieldIssue(_join(root, f"{path}.{unknown.group('field')}"), "unknown_field", "Unknown field.")
    if missing := _MISSING.match(message):
        return FieldIssue(_join(root, f"{path}.{missing.group('field')}"), "missing_field", "Required field.")
    if message.startswith("Invalid enum value"):
        return FieldIssue(_join(root, path), "invalid_value", "Not one of the allowed values.")
    # msgspec names types and bounds, not values; quoted fragments are dropped all the same.
    return FieldIssue(_join(root, path), "invalid_value", _QUOTED.sub("the value", message))


def _field_issues(model: type[msgspec.Struct], data: Any, root: str) -> list[FieldIssue]:
    """Every wrong field of an object at once (msgspec stops at the first): unknown ones, missing ones, and each
    present one converted on its own. Empty when the fault is not a field's (the caller reports msgspec's)."""
    if not isinstance(data, dict):
        return []
    fields = msgspec.structs.fields(model)
    names = {field.encode_name for field in fields}
    issues: list[FieldIssue] = []
    if model.__struct_config__.forbid_unknown_fields:
        issues += [
            FieldIssue(_join(root, str(name)), "unknown_field", "Unknown field.") for name in data if name not in names
        ]
    for field in fields:
        if field.encode_name not in data:
            if field.required:
                issues.append(FieldIssue(_join(root, field.encode_name), "missing_field", "Required field."))
            continue
        try:
            msgspec.convert(data[field.encode_name], field.type)
        except msgspec.ValidationError as error:
            issues.append(issue_from(error, _join(root, field.encode_name)))
    return issues


def parse_model(model: type[M], data: Any, root: str = "") -> M:
    """`data` as `model`; a 400 naming every wrong top-level field (within one, the first fault found)."""
    try:
        return msgspec.convert(data, model)
    except msgspec.ValidationError as error:
        issues = _field_issues(model, data, root) or [issue_from(error, root)]
        raise ValidationError("The request is invalid.", issues) from None
