"""Request bodies -> typed models (msgspec Structs), and validation errors -> 400s that name each field by its
path, never echoing the value sent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import NoneType, UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import msgspec

from patron.errors import FieldIssue, ValidationError
from patron.http.wire import dec_hook

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


# A body can hold thousands of wrong values (a bulk of 1,000 items): an answer names at most this many.
MAX_FIELD_ISSUES = 100


def _convert(value: Any, kind: Any) -> msgspec.ValidationError | None:
    try:
        msgspec.convert(value, kind, dec_hook=dec_hook)
    except msgspec.ValidationError as error:
        return error
    return None


def _unwrap(kind: Any) -> Any:
    """The type under `Annotated[...]` (its constraints are checked by converting the whole value)."""
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    return kind


def _nested_issues(kind: Any, value: Any, path: str) -> list[FieldIssue]:
    """The faults inside a value that failed to convert as `kind`, each at its own path: a Struct's fields, a
    list's items, a dict's values. Empty when the fault is the value's own (a wrong type, a bound on the whole
    list): the caller then reports msgspec's error at `path`."""
    kind = _unwrap(kind)
    origin = get_origin(kind)
    if origin in (Union, UnionType):
        # `X | None` (and `X | UNSET`): the value is an X, or the fault is its own.
        options = [option for option in get_args(kind) if option not in (NoneType, msgspec.UnsetType)]
        return _nested_issues(options[0], value, path) if len(options) == 1 and value is not None else []
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return _field_issues(kind, value, path) if isinstance(value, dict) else []
    if origin is list and isinstance(value, list):
        (item,) = get_args(kind)
        return _each(item, ((f"{path}[{index}]", child) for index, child in enumerate(value)))
    if origin is dict and isinstance(value, dict):
        key, item = get_args(kind)
        if any(_convert(name, key) is not None for name in value):
            return []
        return _each(item, ((f"{path}.{name}", child) for name, child in value.items()))
    return []


def _each(kind: Any, children: Iterable[tuple[str, Any]]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for path, child in children:
        if (error := _convert(child, kind)) is not None:
            issues += _nested_issues(kind, child, path) or [issue_from(error, path)]
            if len(issues) >= MAX_FIELD_ISSUES:
                break
    return issues


def _field_issues(model: type[msgspec.Struct], data: dict[str, Any], root: str) -> list[FieldIssue]:
    """Every wrong field of an object at once (msgspec stops at the first): unknown ones, missing ones, and each
    present one converted on its own, and so on down nested Structs, lists and dicts."""
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
        issues += _each(field.type, [(_join(root, field.encode_name), data[field.encode_name])])
    return issues


def parse_model(model: type[M], data: Any, root: str = "") -> M:
    """`data` as `model`; a 400 naming every wrong field, nested ones included (at most MAX_FIELD_ISSUES; within
    one value, the first fault msgspec finds). Nothing extra runs unless the conversion fails."""
    try:
        return msgspec.convert(data, model, dec_hook=dec_hook)
    except msgspec.ValidationError as error:
        issues = _nested_issues(model, data, root) or [issue_from(error, root)]
        raise ValidationError("The request is invalid.", issues[:MAX_FIELD_ISSUES]) from None
