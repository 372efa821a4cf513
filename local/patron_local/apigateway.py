"""API Gateway (REST, Lambda proxy) as the template configures it: routing, the REQUEST authorizer and its
policy, usage-plan throttling, gateway responses, and the proxy event and response formats."""

from __future__ import annotations

import base64
import fnmatch
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from patron_local.functions import FunctionRegistry
from patron_local.ratelimit import Throttle, retry_after_header
from patron_local.template import ACCOUNT, REGION, GatewayResponse, Route, Template

API_GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024
# The methods a REST API can define (ANY stands for these): any other (TRACE, CONNECT, FOO) matches no method.
API_GATEWAY_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"})
# An authorized method's ARN (stage, method and path) is at most 1,600 bytes; past that the client gets 414.
METHOD_ARN_MAX_BYTES = 1600
LAMBDA_MAX_SYNC_PAYLOAD = 6 * 1024 * 1024  # the whole invocation event, as Lambda counts it
API_ID = "patronlocal"

# API Gateway's own defaults, used when the template does not override a response type.
_DEFAULTS: dict[str, tuple[int, str]] = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "THROTTLED": (429, "Too Many Requests"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "AUTHORIZER_FAILURE": (500, "Internal server error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal server error"),
    "INTEGRATION_FAILURE": (502, "Internal server error"),
}


@dataclass
class HttpRequest:
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class RateLimits:
    rate: float
    burst: int


LimitsLookup = Callable[[str, dict[str, Any]], RateLimits | None]


class _CompiledRoute:
    def __init__(self, route: Route):
        self.route = route
        self.segments = [segment for segment in route.resource.split("/") if segment]

    def match(self, parts: list[str]) -> tuple[int, dict[str, str]] | None:
        """(specificity, path parameters) when the path matches; literal segments outrank parameters."""
        params: dict[str, str] = {}
        literals = 0
        for index, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                if index >= len(parts):
                    return None
                params[segment[1:-2]] = "/".join(parts[index:])
                return literals, params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                # Escapes that are not UTF-8 become U+FFFD, as a Java decoder's would (docs/local-runtime.md):
                # the raw segment stays in the event's `path` for the resolver to refuse.
                params[segment[1:-1]] = unquote(parts[index], errors="replace")
            elif segment != parts[index]:
                return None
            else:
                literals += 1
        if len(parts) != len(self.segments):
            return None
        return literals, params


def _policy_allows(policy: dict[str, Any], method_arn: str) -> bool:
    """IAM evaluation for execute-api:Invoke: an explicit Deny wins, then any Allow."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, pattern) for pattern in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _grouped(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


class ApiGateway:
    def __init__(
        self,
        template: Template,
        registry: FunctionRegistry,
        stage: str,
        limits: LimitsLookup | None = None,
        throttle: Throttle | None = None,
    ):
        self._registry = registry
        self._stage = stage
        self._routes = [_CompiledRoute(route) for route in template.routes()]
        self._authorizer = template.authorizer_function()
        # Each REST API answers its own refusals (ExpertSender's wire: ProblemDetails). A request no route matches
        # is refused by the API whose routes start with its first path segment (on AWS: the API at its host).
        self._responses = {name: template.gateway_responses(name) for name in template.apis()}
        self._main_api = template.api()[0]
        self._api_by_segment = {route.resource.split("/")[1]: route.api for route in template.routes()}
        self._limits = limits
        self._throttle = throttle or Throttle()

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        if len(request.body) > API_GATEWAY_MAX_PAYLOAD:
            return self._gateway_response("REQUEST_TOO_LARGE", request_id, api=self._api_of(request.path))
        found = self._match(request.method.upper(), request.path)
        if found is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id, api=self._api_of(request.path))
        route, path_params = found
        method_arn = (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{self._stage}/{request.method.upper()}{request.path}"
        )
        # Measured with the path decoded, the lenient reading of AWS's quota: what is refused here is refused there.
        if route.authorized and len(unquote_to_bytes(method_arn)) > METHOD_ARN_MAX_BYTES:
            return self.refuse(414, "Request URI too long", route.api)
        authorizer_context: dict[str, Any] = {}
        usage_key: str | None = None
        if route.authorized and self._authorizer:
            outcome = self._authorize(request, route, path_params, method_arn, request_id)
            if isinstance(outcome, HttpResponse):
                return outcome
            authorizer_context, usage_key = outcome
        if route.api_key_required:
            refused = self._check_usage_plan(usage_key, authorizer_context, request_id, route.api)
            if refused is not None:
                return refused
        event = self._proxy_event(request, route, path_params, authorizer_context, request_id)
        if len(json.dumps(event).encode("utf-8")) > LAMBDA_MAX_SYNC_PAYLOAD:
            # Lambda refuses the invocation (RequestTooLargeException); API Gateway reports an integration failure.
            return self._gateway_response("INTEGRATION_FAILURE", request_id, api=route.api)
        try:
            result = self._registry.invoke(route.function_id, event)
            return self._from_proxy_response(result, route.api)
        except Exception:
            message = "Internal server error"
            return self._gateway_response("DEFAULT_5XX", request_id, status=502, message=message, api=route.api)

    def _api_of(self, path: str) -> str:
        parts = path.split("/")
        return self._api_by_segment.get(parts[1] if len(parts) > 1 else "", self._main_api)

    def refuse(self, status: int, message: str, api: str | None = None) -> HttpResponse:
        """A refusal no response type of API Gateway's names (a URL or head past its quotas): the template's
        DEFAULT_4XX (or DEFAULT_5XX) with this status, as API Gateway answers any 4XX without a type of its own."""
        family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        return self._gateway_response(family, str(uuid.uuid4()), status=status, message=message, api=api)

    # -- steps ---------------------------------------------------------------------------------------------

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        if method not in API_GATEWAY_METHODS:
            return None  # not even an ANY method covers it
        parts = path.split("/")[1:]
        if parts and parts[-1] == "":
            parts = parts[:-1]  # a trailing slash matches the resource, as on API Gateway
        if any(part == "" for part in parts):
            return None  # an empty segment (//) matches no resource
        best: tuple[int, Route, dict[str, str]] | None = None
        for compiled in self._routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            matched = compiled.match(parts)
            if matched is not None and (best is None or matched[0] > best[0]):
                best = (matched[0], compiled.route, matched[1])
        return (best[1], best[2]) if best else None

    def _authorize(
        self,
        request: HttpRequest,
        route: Route,
        path_params: dict[str, str],
        method_arn: str,
        request_id: str,
    ) -> tuple[dict[str, Any], str | None] | HttpResponse:
        assert self._authorizer is not None
        headers, multi_headers = _grouped(request.headers)
        query, multi_query = _grouped(request.query)
        event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": route.resource,
            "path": request.path,
            "httpMethod": request.method.upper(),
            "headers": headers or {},
            "multiValueHeaders": multi_headers or {},
            "queryStringParameters": query or {},
            "multiValueQueryStringParameters": multi_query or {},
            "pathParameters": path_params,
            "stageVariables": {},
            "requestContext": self._request_context(request, route, request_id, {}),
        }
        started = time.perf_counter()
        try:
            result = self._registry.invoke(self._authorizer, event)
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return self._gateway_response("UNAUTHORIZED", request_id, api=route.api)
            return self._gateway_response("AUTHORIZER_FAILURE", request_id, api=route.api)
        if not isinstance(result, dict) or "policyDocument" not in result or "principalId" not in result:
            return self._gateway_response("AUTHORIZER_CONFIGURATION_ERROR", request_id, api=route.api)
        if not _policy_allows(result["policyDocument"], method_arn):
            return self._gateway_response("ACCESS_DENIED", request_id, api=route.api)
        context = {key: value for key, value in (result.get("context") or {}).items()}
        context["principalId"] = result["principalId"]
        context["integrationLatency"] = int((time.perf_counter() - started) * 1000)
        return context, result.get("usageIdentifierKey")

    def _check_usage_plan(
        self, usage_key: str | None, authorizer_context: dict[str, Any], request_id: str, api: str
    ) -> HttpResponse | None:
        if not usage_key or self._limits is None:
            return self._gateway_response("INVALID_API_KEY", request_id, api=api) if not usage_key else None
        limits = self._limits(usage_key, authorizer_context)
        if limits is None:
            return self._gateway_response("INVALID_API_KEY", request_id, api=api)
        wait = self._throttle.acquire(usage_key, limits.rate, limits.burst)
        if wait is None:
            return None
        return self._gateway_response("THROTTLED", request_id, retry_after=retry_after_header(wait), api=api)

    def _request_context(
        self, request: HttpRequest, route: Route, request_id: str, authorizer: dict[str, Any]
    ) -> dict[str, Any]:
        user_agent = next((value for name, value in request.headers if name.lower() == "user-agent"), None)
        now = time.time()
        context: dict[str, Any] = {
            "resourceId": "local",
            "resourcePath": route.resource,
            "httpMethod": request.method.upper(),
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{self._stage}{request.path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": self._stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": request.source_ip, "userAgent": user_agent},
            "domainName": "localhost",
            "apiId": API_ID,
        }
        if authorizer:
            context["authorizer"] = authorizer
        return context

    def _proxy_event(
        self,
        request: HttpRequest,
        route: Route,
        path_params: dict[str, str],
        authorizer: dict[str, Any],
        request_id: str,
    ) -> dict[str, Any]:
        headers, multi_headers = _grouped(request.headers)
        query, multi_query = _grouped(request.query)
        # Without binaryMediaTypes (the template has none) API Gateway passes every body as text.
        body = request.body.decode("utf-8", "replace") if request.body else None
        return {
            "resource": route.resource,
            "path": request.path,
            "httpMethod": request.method.upper(),
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": self._request_context(request, route, request_id, authorizer),
            "body": body,
            "isBase64Encoded": False,
        }

    def _from_proxy_response(self, result: Any, api: str) -> HttpResponse:
        # Lambda serialises the handler's return value as JSON; API Gateway then needs an integer status and,
        # if any, a string body and string header values. Anything else is a malformed proxy response (502).
        try:
            result = json.loads(json.dumps(result))
        except (TypeError, ValueError):
            result = None
        well_formed = (
            isinstance(result, dict)
            and isinstance(result.get("statusCode"), int)
            and isinstance(result.get("body", ""), str | None)
            and all(isinstance(v, str | int | float | bool) for v in (result.get("headers") or {}).values())
        )
        if not well_formed:
            return self._gateway_response("DEFAULT_5XX", "", status=502, message="Internal server error", api=api)
        headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(value)) for value in values)
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
        return HttpResponse(status=int(result["statusCode"]), headers=headers, body=body)

    def _gateway_response(
        self,
        kind: str,
        request_id: str,
        status: int | None = None,
        message: str | None = None,
        retry_after: str | None = None,
        api: str | None = None,
    ) -> HttpResponse:
        """`api`: the REST API answering (default: the main one)."""
        default_status, default_message = _DEFAULTS.get(kind, (status or 500, message or "Internal server error"))
        family = "DEFAULT_4XX" if (status or default_status) < 500 else "DEFAULT_5XX"
        responses = self._responses.get(api if api is not None else self._main_api, {})
        spec = responses.get(kind) or responses.get(family) or GatewayResponse(None, None)
        text = message or default_message
        body = spec.body or json.dumps({"message": text})
        body = (
            # messageString is the quoted message (a JSON string literal), as on API Gateway.
            body.replace("$context.error.messageString", json.dumps(text))
            .replace("$context.error.message", text)
            .replace("$context.requestId", request_id)
        )
        own = {name.lower() for name in spec.headers}
        default = [] if "content-type" in own else [("Content-Type", "application/json")]
        headers = [*default, *spec.headers.items()]
        if retry_after is not None:
            headers = [(name, value) for name, value in headers if name.lower() != "retry-after"]
            headers.append(("Retry-After", retry_after))
        return HttpResponse(status=status or spec.status or default_status, headers=headers, body=body.encode())
