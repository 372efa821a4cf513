"""ExpertSender's error envelope (docs/expertsender.md, research D2 and D4): RFC 7807 ProblemDetails with ECDP's
`substatus`, plus `errors`, a list of strings, one per problem. WooCommerce's plugin counts an answer as failed
only when its body has `errors` (it joins them as text), so every error answers them; a success never does."""

from __future__ import annotations

from typing import Any

from patron.errors import PatronError
from patron.http import jsonbody

PROBLEM_HEADERS = {"Content-Type": "application/problem+json"}

_TITLES = {
    400: "One or more validation errors occurred.",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_SECTIONS = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 409: "15.5.10", 413: "15.5.14", 429: "6.1"}


class ExpertSenderError(PatronError):
    """An error with ECDP's own substatus (`CustomerAlreadyExists`, `OrderNotFound`...)."""

    def __init__(self, status: int, substatus: str, message: str, code: str = "invalid_request"):
        super().__init__(message=message, code=code, status=status)
        self.substatus = substatus


def _entity(resource: str) -> str:
    """What a route is about, in ECDP's substatus names: `Customer`, `Order`, `OrderStatus`, `CustomEvent`."""
    if resource.startswith("/orders/status"):
        return "OrderStatus"
    if resource.startswith("/orders"):
        return "Order"
    if resource.startswith("/scenariocustomevents"):
        return "CustomEvent"
    if resource.startswith("/customers"):
        return "Customer"
    return "Request"


def substatus_of(error: PatronError, resource: str) -> str:
    if isinstance(error, ExpertSenderError):
        return error.substatus
    entity = _entity(resource)
    by_status = {
        400: f"{entity}InvalidModelState",
        401: "ApiKeyInvalid",
        403: "ApiKeyForbidden",
        404: "RouteNotFound" if error.code == "route_not_found" else f"{entity}NotFound",
        409: f"{entity}Conflict",
        413: "PayloadTooLarge",
        429: "RateLimitExceeded",
        503: "ServiceUnavailable",
    }
    return by_status.get(error.status, "InternalError")


def problem_body(error: PatronError, resource: str) -> dict[str, Any]:
    # Paths may quote keys that are not valid text: written escaped, as Patron's envelope writes them.
    lines = [
        f"{issue.path.encode('utf-8', 'backslashreplace').decode('utf-8')}: {issue.message}" for issue in error.details
    ]
    section = _SECTIONS.get(error.status)
    kind = f"https://tools.ietf.org/html/rfc9110#section-{section}" if section else "about:blank"
    return {
        "type": kind,
        "title": _TITLES.get(error.status, "Error"),
        "status": error.status,
        "substatus": substatus_of(error, resource),
        "detail": error.message,
        "instance": resource,
        "errors": lines or [error.message],
    }


def problem_response(error: PatronError, resource: str = "") -> dict[str, Any]:
    """The proxy response of an error on an ExpertSender route (RestApi's `errors`)."""
    return {
        "statusCode": error.status,
        "headers": {**PROBLEM_HEADERS, **error.headers},
        "body": jsonbody.dumps(problem_body(error, resource)),
        "isBase64Encoded": False,
    }
