"""Typed errors with stable machine-readable codes; `patron.http.errors` maps them to HTTP in one place."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import msgspec

# Where a path points outside the body: Talon.One's ErrorSource names it a `parameter`.
_PARAMETER_PREFIXES = ("query.", "header.")


def _source(path: str, path_parameters: Collection[str]) -> dict[str, str]:
    """Talon.One's ErrorSource for a Patron path: `query.limit` is the parameter `limit`, and so is a path id
    (`integrationId`); `attributes.x`, `customerProfiles[3].attributes.x` are the JSON pointers `/attributes/x`,
    `/customerProfiles/3/attributes/x`; `$` is the body itself (`""`)."""
    if path in path_parameters:
        return {"parameter": path}
    for prefix in _PARAMETER_PREFIXES:
        if path.startswith(prefix):
            return {"parameter": path.removeprefix(prefix)}
    if path == "$":
        return {"pointer": ""}
    tokens: list[str] = []
    for part in path.split("."):
        name, _, indices = part.partition("[")
        tokens.append(name)
        tokens += [index.rstrip("]") for index in indices.split("[") if index] if indices else []
    # RFC 6901: "~" and "/" inside a name are escaped.
    return {"pointer": "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)}


class FieldIssue(msgspec.Struct, frozen=True):
    """One problem with one field of a request, located by a JSON path such as `attributes.age`."""

    path: str
    code: str
    message: str

    def as_dict(self, path_parameters: Collection[str] = ()) -> dict[str, Any]:
        """Patron's members (`path`, `code`, `message`) and Talon.One's APIError (`title`, `details`, `source`),
        so a Patron client and a talon-one-sdk client each read every error."""
        # A path may quote a key that is not valid text (a lone surrogate): written escaped, never as is.
        path = self.path.encode("utf-8", "backslashreplace").decode("utf-8")
        return {
            "path": path,
            "code": self.code,
            "message": self.message,
            "title": self.code,
            "details": self.message,
            "source": _source(path, path_parameters),
        }

    def under(self, root: str) -> FieldIssue:
        """The same issue inside a larger document: `attributes.x` under `customerProfiles[3]`."""
        return FieldIssue(f"{root}.{self.path}" if self.path != "$" else root, self.code, self.message)


@dataclass
class PatronError(Exception):
    """Base of every error a caller may see. Messages never carry personal data or request values."""

    message: str
    code: str = "internal_error"
    status: int = 500
    details: list[FieldIssue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def body(self, path_parameters: Collection[str] = ()) -> dict[str, Any]:
        """`path_parameters`: the route's path ids, which Talon.One's ErrorSource names parameters."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["errors"] = [issue.as_dict(path_parameters) for issue in self.details]
        return body


class ValidationError(PatronError):
    def __init__(self, message: str, details: list[FieldIssue] | None = None, code: str = "invalid_request"):
        super().__init__(message=message, code=code, status=400, details=details or [])


class MalformedJsonError(PatronError):
    def __init__(self) -> None:
        message = "The request body is not valid JSON."
        super().__init__(
            message=message, code="malformed_json", status=400, details=[FieldIssue("$", "malformed_json", message)]
        )


class PayloadTooLargeError(PatronError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            message=f"The request body exceeds the limit of {limit} bytes.",
            code="payload_too_large",
            status=413,
        )


class NotFoundError(PatronError):
    def __init__(self, message: str, code: str = "not_found"):
        super().__init__(message=message, code=code, status=404)


class ConflictError(PatronError):
    def __init__(self, message: str, code: str = "conflict"):
        super().__init__(message=message, code=code, status=409)


class UnsupportedFeatureError(PatronError):
    """A documented parameter whose feature Patron does not run yet: refused, never pretended."""

    def __init__(self, message: str, code: str, path: str):
        super().__init__(
            message=message,
            code=code,
            status=400,
            details=[FieldIssue(path=path, code=code, message=message)],
        )


class UnauthorizedError(PatronError):
    def __init__(self, message: str = "Missing or invalid API key.") -> None:
        super().__init__(message=message, code="unauthorized", status=401)


class ForbiddenError(PatronError):
    def __init__(self, message: str = "This API key's scope does not allow this route.") -> None:
        super().__init__(message=message, code="forbidden", status=403)


class ServiceUnavailableError(PatronError):
    def __init__(self, message: str = "A dependency is unavailable; retry later.") -> None:
        super().__init__(message=message, code="service_unavailable", status=503)
