"""A minimal REST resolver for API Gateway proxy events.

API Gateway has already matched the route, so dispatch is a dictionary lookup on (method, resource). We do not
use Powertools' resolver: with its validation middleware it costs more cold-start time than the whole budget
allows (measured in docs/architecture.md); msgspec Structs type request bodies (patron.http.validation).
"""

from __future__ import annotations

import base64
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from patron.errors import (
    FieldIssue,
    NotFoundError,
    PatronError,
    PayloadTooLargeError,
    UnauthorizedError,
    ValidationError,
)
from patron.http import jsonbody
from patron.logs import get_logger

_log = get_logger("patron.http")

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the authorizer established it. The tenant comes only from here."""

    application_id: int
    scope: str
    key_id: str


@dataclass
class Request:
    method: str
    resource: str
    path: str
    path_params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    caller: Caller
    request_id: str

    def json(self) -> Any:
        if not self.body:
            raise ValidationError(
                "A JSON body is required.", [FieldIssue("$", "missing_body", "A JSON body is required.")]
            )
        return jsonbody.loads(self.body)

    def query_bool(self, name: str) -> bool | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        lowered = raw.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValidationError(
            "A query parameter is invalid.",
            [FieldIssue(f"query.{name}", "invalid_value", "Expected true or false.")],
        )


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, body: Any, status: int = 200) -> Response:
        return cls(status=status, body=body)


Route = Callable[[Request], Response]


def _lower_headers(event: Mapping[str, Any]) -> dict[str, str]:
    headers = event.get("headers") or {}
    return {str(name).lower(): str(value) for name, value in headers.items()}


def _raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    # surrogatepass: a lone surrogate is then refused as malformed JSON rather than failing here.
    return str(body).encode("utf-8", "surrogatepass")


def _caller(event: Mapping[str, Any]) -> Caller:
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    try:
        return Caller(
            application_id=int(context["applicationId"]),
            scope=str(context["scope"]),
            key_id=str(context["keyId"]),
        )
    except (KeyError, TypeError, ValueError):
        # Only reachable if a route were deployed without the authorizer: refuse rather than guess a tenant.
        raise UnauthorizedError() from None


def to_proxy_response(response: Response) -> dict[str, Any]:
    headers = dict(JSON_HEADERS) if response.body is not None else {}
    headers.update(response.headers)
    return {
        "statusCode": response.status,
        "headers": headers,
        "body": jsonbody.dumps(response.body) if response.body is not None else "",
        "isBase64Encoded": False,
    }


def error_response(error: PatronError) -> dict[str, Any]:
    return to_proxy_response(Response(status=error.status, body=error.body(), headers=dict(error.headers)))


class RestApi:
    """Routes of one Lambda function, keyed as API Gateway names them: ("PUT", "/v2/customer_profiles/{id}")."""

    def __init__(self, max_body_bytes: Callable[[], int]):
        self._routes: dict[tuple[str, str], Route] = {}
        self._max_body_bytes = max_body_bytes

    def route(self, method: str, resource: str) -> Callable[[Route], Route]:
        def register(handler: Route) -> Route:
            self._routes[(method.upper(), resource)] = handler
            return handler

        return register

    @property
    def routes(self) -> frozenset[tuple[str, str]]:
        return frozenset(self._routes)

    def resolve(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        request_id = str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())
        method = str(event.get("httpMethod", "")).upper()
        resource = str(event.get("resource", ""))
        try:
            limit = self._max_body_bytes()
            raw = _raw_body(event)
            if len(raw) > limit:
                raise PayloadTooLargeError(limit)
            handler = self._routes.get((method, resource))
            if handler is None:
                raise NotFoundError("No such route.", code="route_not_found")
            request = Request(
                method=method,
                resource=resource,
                path=str(event.get("path", "")),
                path_params={k: str(v) for k, v in (event.get("pathParameters") or {}).items()},
                query={k: str(v) for k, v in (event.get("queryStringParameters") or {}).items()},
                headers=_lower_headers(event),
                body=raw,
                caller=_caller(event),
                request_id=request_id,
            )
            return to_proxy_response(handler(request))
        except PatronError as error:
            if error.status >= 500:
                _log.error("request failed", code=error.code, route=f"{method} {resource}")
            return error_response(error)
        except Exception as exc:
            # Where it failed, never the exception's text: that may quote request values (personal data).
            frames = [
                f"{frame.filename}:{frame.lineno} {frame.name}" for frame in traceback.extract_tb(exc.__traceback__)
            ]
            _log.error("unhandled error", route=f"{method} {resource}", error=type(exc).__name__, frames=frames[-8:])
            return error_response(PatronError(message="Internal error.", code="internal_error", status=500))
