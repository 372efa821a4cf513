"""A minimal REST resolver for API Gateway proxy events.

API Gateway has already matched the route, so dispatch is a dictionary lookup on (method, resource). We do not
use Powertools' resolver: with its validation middleware it costs more cold-start time than the whole budget
allows (measured in docs/architecture.md); msgspec Structs type request bodies (patron.http.validation).

Every route declares its body and its answers as msgspec Structs (`body=`, `answers=`): the resolver decodes the
body before the route runs, every wrong field reported at once (patron.http.validation), and writes the Struct a
route returns, after checking it is one the route declared; local/patron_local/openapi.py documents both.

A route registered with `idempotent=True` honours an `Idempotency-Key` header through the idempotency store
(patron.idempotency.service); without the header nothing changes.
"""

from __future__ import annotations

import base64
import traceback
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, overload

import msgspec

from patron.errors import (
    FieldIssue,
    NotFoundError,
    PatronError,
    PayloadTooLargeError,
    UnauthorizedError,
    ValidationError,
)
from patron.http import jsonbody
from patron.http import query as query_values
from patron.http.text import unreadable_text
from patron.http.validation import parse_model
from patron.http.wire import to_builtins
from patron.idempotency import model as idempotency
from patron.idempotency.fingerprint import request_fingerprint
from patron.logs import get_logger

if TYPE_CHECKING:
    # Only a type here: the store (and the DynamoDB code behind it) reaches the resolver through a factory.
    from patron.idempotency.service import IdempotencyStore

_log = get_logger("patron.http")

JSON_HEADERS = {"Content-Type": "application/json"}


class Caller(msgspec.Struct, frozen=True):
    """Who is calling, as the authorizer established it. The tenant comes only from here."""

    application_id: int
    scope: str
    key_id: str


_UNREAD = object()


class Request(msgspec.Struct):
    method: str
    resource: str
    path: str
    path_params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    caller: Caller
    request_id: str
    # A parameter repeated (`?customerSessionIDs=a&customerSessionIDs=b`): all its values (`query` holds the last).
    query_lists: dict[str, list[str]] = msgspec.field(default_factory=dict)
    _json: Any = _UNREAD  # the parsed body, once read (not a constructor argument by convention)

    def json(self) -> Any:
        """The body's JSON value, read once (a route declaring `body=` gets it as its Struct too)."""
        if self._json is _UNREAD:
            if not self.body:
                raise ValidationError(
                    "A JSON body is required.", [FieldIssue("$", "missing_body", "A JSON body is required.")]
                )
            self._json = jsonbody.loads(self.body)
        return self._json

    # Every route reads its query through these (patron.http.query): one parser per kind of value.
    def query_bool(self, name: str) -> bool | None:
        return query_values.boolean(self.query, name)

    def query_int(self, name: str, default: int, minimum: int, maximum: int) -> int:
        return query_values.integer(self.query, name, default, minimum, maximum)

    def query_choice(self, name: str, allowed: Collection[str], default: str) -> str:
        return query_values.choice(self.query, name, allowed, default)

    def query_cursor(self, name: str = "cursor") -> str | None:
        return query_values.cursor(self.query, name)

    def query_instant(self, name: str) -> datetime | None:
        return query_values.instant(self.query, name)

    def query_list(self, name: str) -> list[str]:
        """Every value of a parameter that may repeat (none: empty)."""
        if name in self.query_lists:
            return list(self.query_lists[name])
        return [self.query[name]] if name in self.query else []


class Response(msgspec.Struct):
    """A route's answer when a bare Struct (200) does not say enough: another status, headers, no body."""

    status: int
    body: Any = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)

    @classmethod
    def json(cls, body: Any, status: int = 200) -> Response:
        return cls(status=status, body=body)


B = TypeVar("B", bound=msgspec.Struct)
Answer = Response | msgspec.Struct
Route = Callable[[Request], Answer]
BodyRoute = Callable[[Request, B], Answer]
# What a route answers on success: one Struct (200), or the Struct (None: no body) for each status it uses.
Answers = type[msgspec.Struct] | Mapping[int, type[msgspec.Struct] | None]
# Whom a route's response concerns (integration ids, ...), from the request and the answer's JSON body (None when
# it has none): stored responses are filed under them, and erased with them.
Subjects = Callable[[Request, Any], Iterable[str]]


class _RouteSpec(msgspec.Struct, frozen=True):
    handler: Callable[..., Answer]
    idempotent: bool = False
    subjects: Subjects | None = None
    check_body_text: bool = True
    dry: bool = False
    body: type[msgspec.Struct] | None = None
    answers: Mapping[int, type[msgspec.Struct] | None] | None = None
    guard: Callable[[Request], None] | None = None
    documents: type[msgspec.Struct] | None = None  # the body's documented shape, for a route reading it itself
    errors: Callable[[PatronError, str], dict[str, Any]] | None = None  # its dialect's envelope, if not the API's

    def call(self, request: Request) -> Response:
        """Runs the route on its decoded body; its answer must be one it declared (a 500 otherwise)."""
        if self.guard is not None:
            self.guard(request)
        if self.body is None:
            answer = self.handler(request)
        else:
            answer = self.handler(request, parse_model(self.body, request.json()))
        response = answer if isinstance(answer, Response) else Response(status=200, body=answer)
        if self.answers is not None:
            expected = self.answers.get(response.status, _UNDECLARED)
            body = response.body
            if expected is _UNDECLARED or (body is not None if expected is None else not isinstance(body, expected)):
                name = getattr(self.handler, "__name__", "a route")
                raise TypeError(f"{name} answered {response.status} with {type(body).__name__}, not as declared")
        return response


_UNDECLARED: Any = object()


def _answer_json(proxy: Mapping[str, Any]) -> Any:
    try:
        return jsonbody.loads(proxy.get("body") or "null")
    except PatronError:
        return None


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


def _worst_values(lists: Mapping[str, list[str]]) -> dict[str, str]:
    """A repeated parameter's value the text check should see: one that cannot be stored, if any."""
    return {
        name: next((one for one in values if jsonbody.is_unencodable(one)), values[-1])
        for name, values in lists.items()
    }


def _idempotency_key(event: Mapping[str, Any]) -> str | None:
    """The Idempotency-Key header's value (any letter case), None without one; two different values are a 400."""
    wanted = idempotency.HEADER.lower()
    values = {
        str(value)
        for name, many in (event.get("multiValueHeaders") or {}).items()
        if str(name).lower() == wanted
        for value in (many or [])
    }
    values |= {str(value) for name, value in (event.get("headers") or {}).items() if str(name).lower() == wanted}
    if not values:
        return None
    if len(values) > 1:
        raise idempotency.invalid_key()
    return idempotency.parse_key(values.pop())


def _remaining_ms(context: Any) -> int | None:
    """How long this invocation may still run: an in-flight key is held no longer than that."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return int(remaining()) if callable(remaining) else None


def _stored(proxy: dict[str, Any]) -> idempotency.StoredResponse:
    return idempotency.StoredResponse(
        status=int(proxy["statusCode"]),
        headers={str(name): str(value) for name, value in (proxy.get("headers") or {}).items()},
        body=str(proxy.get("body") or ""),
    )


def _proxy_from(stored: idempotency.StoredResponse, replayed: bool) -> dict[str, Any]:
    headers = dict(stored.headers)
    if replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    return {
        "statusCode": stored.status,
        "headers": headers,
        "body": stored.body,
        "isBase64Encoded": False,
    }


def to_proxy_response(response: Response) -> dict[str, Any]:
    body = response.body
    headers = dict(JSON_HEADERS) if body is not None else {}
    headers.update(response.headers)
    if isinstance(body, msgspec.Struct):
        body = to_builtins(body)
    return {
        "statusCode": response.status,
        "headers": headers,
        "body": jsonbody.dumps(body) if body is not None else "",
        "isBase64Encoded": False,
    }


def path_parameters(resource: str) -> frozenset[str]:
    """The path ids of an API Gateway resource: `/v1/orders/{orderId}` -> {orderId}."""
    return frozenset(part.strip("{}+") for part in resource.split("/") if part.startswith("{"))


def error_response(error: PatronError, resource: str = "") -> dict[str, Any]:
    body = error.body(path_parameters(resource))
    return to_proxy_response(Response(status=error.status, body=body, headers=dict(error.headers)))


class RestApi:
    """Routes of one Lambda function, keyed as API Gateway names them: ("PUT", "/v2/customer_profiles/{id}")."""

    def __init__(
        self,
        max_body_bytes: Callable[[], int],
        idempotency: Callable[[], IdempotencyStore] | None = None,
        errors: Callable[[PatronError, str], dict[str, Any]] = error_response,
    ):
        """`errors`: the proxy response of an error on a route (its resource), in the dialect's own envelope
        (default: Patron's, Talon.One's shape)."""
        self._routes: dict[tuple[str, str], _RouteSpec] = {}
        self._max_body_bytes = max_body_bytes
        self._idempotency = idempotency
        self._errors = errors

    @overload
    def route(
        self,
        method: str,
        resource: str,
        *,
        body: type[B],
        answers: Answers | None = None,
        guard: Callable[[Request], None] | None = None,
        idempotent: bool = False,
        subjects: Subjects | None = None,
        check_body_text: bool = True,
        dry: bool = False,
        documents: type[msgspec.Struct] | None = None,
        errors: Callable[[PatronError, str], dict[str, Any]] | None = None,
    ) -> Callable[[BodyRoute[B]], BodyRoute[B]]: ...

    @overload
    def route(
        self,
        method: str,
        resource: str,
        *,
        body: None = None,
        answers: Answers | None = None,
        guard: Callable[[Request], None] | None = None,
        idempotent: bool = False,
        subjects: Subjects | None = None,
        check_body_text: bool = True,
        dry: bool = False,
        documents: type[msgspec.Struct] | None = None,
        errors: Callable[[PatronError, str], dict[str, Any]] | None = None,
    ) -> Callable[[Route], Route]: ...

    def route(
        self,
        method: str,
        resource: str,
        *,
        body: type[msgspec.Struct] | None = None,
        answers: Answers | None = None,
        guard: Callable[[Request], None] | None = None,
        idempotent: bool = False,
        subjects: Subjects | None = None,
        check_body_text: bool = True,
        dry: bool = False,
        documents: type[msgspec.Struct] | None = None,
        errors: Callable[[PatronError, str], dict[str, Any]] | None = None,
    ) -> Callable[[Callable[..., Answer]], Callable[..., Answer]]:
        """`body=Struct`: the JSON body, decoded into the Struct, is the route's second argument (a 400 naming every
        wrong field otherwise, before the route runs). `answers=Struct` (200) or `{status: Struct or None}`: what
        the route returns, a bare Struct for 200 or a Response; anything else it returns is a 500. Both feed
        docs/openapi.json. `guard`: runs first, before the body is read (a route's own size limit, say).
        `idempotent=True`: an Idempotency-Key header makes retries safe (the API needs an idempotency store).
        `subjects`: whom a stored response concerns, so that erasing them erases it (see IdempotencyStore).
        `check_body_text=False`: the route refuses text that cannot be stored in its body itself (an import
        rejects such a record alone); path, query and headers are checked all the same (patron.http.text).
        `dry=True`: the route honours `?dry=true` (decides, writes nothing), and a dry call's answer is never
        stored under its Idempotency-Key: it changed nothing, so a retry simply decides again. `documents=Struct`:
        the body's shape for docs/openapi.json when the route reads its body itself (a lenient dialect's).
        `errors`: this route's error envelope when its dialect is not the API's (ExpertSender's custom events,
        served by the function that runs the event engine)."""
        if idempotent and self._idempotency is None:
            raise ValueError(f"{method} {resource}: an idempotent route needs RestApi(idempotency=...)")
        if subjects is not None and not idempotent:
            raise ValueError(f"{method} {resource}: subjects only apply to idempotent routes")

        declared = {200: answers} if isinstance(answers, type) else answers

        def register(handler: Callable[..., Answer]) -> Callable[..., Answer]:
            self._routes[(method.upper(), resource)] = _RouteSpec(
                handler, idempotent, subjects, check_body_text, dry, body, declared, guard, documents, errors
            )
            return handler

        return register

    @property
    def routes(self) -> frozenset[tuple[str, str]]:
        return frozenset(self._routes)

    @property
    def idempotent_routes(self) -> frozenset[tuple[str, str]]:
        return frozenset(route for route, spec in self._routes.items() if spec.idempotent)

    def spec(self, method: str, resource: str) -> _RouteSpec:
        """A route's declaration (its handler, body and answers), for the OpenAPI document."""
        return self._routes[(method.upper(), resource)]

    def resolve(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        request_id = str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())
        method = str(event.get("httpMethod", "")).upper()
        resource = str(event.get("resource", ""))
        try:
            limit = self._max_body_bytes()
            raw = _raw_body(event)
            if len(raw) > limit:
                raise PayloadTooLargeError(limit)
            spec = self._routes.get((method, resource))
            if spec is None:
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
                query_lists={
                    str(k): [str(one) for one in v]
                    for k, v in (event.get("multiValueQueryStringParameters") or {}).items()
                    if isinstance(v, list) and len(v) > 1
                },
            )
            # Before the route and the idempotency store: nothing of such a request is stored, its answer neither.
            if issues := unreadable_text(
                path=request.path,
                resource=resource,
                path_params=request.path_params,
                query={**request.query, **_worst_values(request.query_lists)},
                headers=request.headers,
                body=raw,
                check_body=spec.check_body_text,
            ):
                raise ValidationError("The request holds text that cannot be stored.", issues)
            dry_call = spec.dry and request.query_bool("dry") is True
            key = _idempotency_key(event) if spec.idempotent and not dry_call else None
            if key is None or self._idempotency is None:
                return self._dispatch(spec, request)
            answered: list[dict[str, Any]] = []

            def execute() -> idempotency.StoredResponse:
                answered.append(self._dispatch(spec, request))
                return _stored(answered[0])

            def subjects() -> Iterable[str]:
                if spec.subjects is None:
                    return ()
                return spec.subjects(request, _answer_json(answered[0]) if answered else None)

            outcome = self._idempotency().run(
                request.caller.application_id,
                key,
                request_fingerprint(method, resource, request.path_params, request.query, raw),
                execute=execute,
                subjects=subjects,
                lease_ms=_remaining_ms(context),
            )
            return _proxy_from(outcome.response, outcome.replayed)
        except PatronError as error:
            return self._error(error, method, resource)
        except Exception as exc:
            return self._unexpected(exc, method, resource)

    def _dispatch(self, spec: _RouteSpec, request: Request) -> dict[str, Any]:
        """The route's answer as a proxy response, errors mapped (what an idempotent request stores)."""
        try:
            return to_proxy_response(spec.call(request))
        except PatronError as error:
            return self._error(error, request.method, request.resource)
        except Exception as exc:
            return self._unexpected(exc, request.method, request.resource)

    def errors_of(self, method: str, resource: str) -> Callable[[PatronError, str], dict[str, Any]]:
        """How a route answers errors: its own envelope, or the API's."""
        spec = self._routes.get((method.upper(), resource))
        return (spec.errors if spec is not None else None) or self._errors

    def _error(self, error: PatronError, method: str, resource: str) -> dict[str, Any]:
        if error.status >= 500:
            _log.error("request failed", code=error.code, route=f"{method} {resource}")
        return self.errors_of(method, resource)(error, resource)

    def _unexpected(self, exc: Exception, method: str, resource: str) -> dict[str, Any]:
        # Where it failed, never the exception's text: that may quote request values (personal data).
        frames = [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in traceback.extract_tb(exc.__traceback__)]
        _log.error("unhandled error", route=f"{method} {resource}", error=type(exc).__name__, frames=frames[-8:])
        failure = PatronError(message="Internal error.", code="internal_error", status=500)
        return self.errors_of(method, resource)(failure, resource)
