"""pydantic validation errors -> 400s that name each field by its path, never echoing the value sent."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from patron.errors import FieldIssue, ValidationError

M = TypeVar("M", bound=BaseModel)

_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
}


def field_path(location: tuple[int | str, ...], root: str = "") -> str:
    path = root
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "$"


def issues_from(exc: PydanticValidationError, root: str = "") -> list[FieldIssue]:
    return [
        FieldIssue(
            path=field_path(tuple(error["loc"]), root),
            code=_CODES.get(error["type"], "invalid_value"),
            message=error["msg"],
        )
        for error in exc.errors(include_input=False, include_url=False)
    ]


def parse_model(model: type[M], data: Any, root: str = "") -> M:
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError("The request is invalid.", issues_from(exc, root)) from None
