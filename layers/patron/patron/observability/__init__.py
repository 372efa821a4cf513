"""One decorator stack for every function's `lambda_handler`, on Powertools for AWS Lambda (docs/observability.md).

- `event_handler`: every line the invocation logs carries `function_request_id` (Lambda's), `function_name`,
  `cold_start` and, when the event is API Gateway's (the authorizer's too), `correlation_id` (API Gateway's
  request id), `route` (`PUT /v1/orders/{orderId}`) and `application_id` (the authorizer's).
- `api_handler`: the same, plus one CloudWatch embedded-metric-format document per invocation: `Requests`,
  `Latency` (ms), `4XXError` and `5XXError` under the dimensions `route` and `service` (the stack), with
  `application_id`, `status_code` and `error_code` (the error body's `code`) as properties. The application is a
  property, not a dimension: as a dimension every application would add four custom metrics per route it calls.
- `patron.observability.sqs.sqs_handler`: SQS consumers, through Powertools' BatchProcessor (a module of its own:
  importing batch processing would cost every other function some 15 % more cold start for nothing).

Not Powertools' `inject_lambda_context` and `log_metrics`: they keep an invocation's state at process level (one
cold-start flag for every function, appended keys and metric sets shared by all instances). Lambda runs one
invocation at a time per process; the local runtime runs all functions in one process, in threads. Here the keys
live in Powertools' context-variable keys and each invocation has its own metrics object.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from patron.logs import get_logger, powertools_logger, write_line

Handler = Callable[[dict[str, Any], Any], Any]

NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_NAMESPACE = "Patron"
# An error body larger than this is not read for its code (ours are a few hundred bytes).
_MAX_ERROR_BODY = 64 * 1024

_log = get_logger("patron.observability")


class ColdStart:
    """One per handler: true on the first invocation of the function in this process, false under provisioned
    concurrency (whose init runs before any request)."""

    def __init__(self) -> None:
        self._first = True

    def __call__(self) -> bool:
        first, self._first = self._first, False
        return first and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"


@contextmanager
def logged_with(keys: Mapping[str, Any]) -> Iterator[None]:
    """`keys` on every line this thread logs until the block ends; an enclosing invocation's keys come back after
    (the local runtime may invoke one handler inside another)."""
    logger = powertools_logger()
    saved = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_append_keys(**{name: value for name, value in keys.items() if value is not None})
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(**saved)


def lambda_keys(context: Any, cold_start: bool) -> dict[str, Any]:
    return {
        "function_name": getattr(context, "function_name", None),
        "function_request_id": getattr(context, "aws_request_id", None),
        "cold_start": cold_start,
    }


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def api_keys(event: Mapping[str, Any]) -> dict[str, Any]:
    """What an API Gateway event says about the request: never its path, query, headers or body."""
    request = _mapping(event.get("requestContext"))
    method, resource = event.get("httpMethod"), event.get("resource")
    application = _mapping(request.get("authorizer")).get("applicationId")
    return {
        "correlation_id": request.get("requestId"),
        "route": f"{str(method).upper()} {resource}" if method and resource else None,
        "application_id": str(application) if application is not None else None,
    }


def mark(wrapper: Handler, kind: str) -> Handler:
    # Read by tests/template/test_observability.py: every function's handler goes through this module.
    wrapper.__dict__["observability"] = kind
    return wrapper


def event_handler(handler: Handler) -> Handler:
    """Logging context only: the authorizer, workflow tasks, EventBridge events."""
    cold_start = ColdStart()

    @functools.wraps(handler)
    def event_invocation(event: dict[str, Any], context: Any) -> Any:
        with logged_with({**lambda_keys(context, cold_start()), **api_keys(_mapping(event))}):
            return handler(event, context)

    return mark(event_invocation, "event")


def api_handler(handler: Handler) -> Handler:
    """For API Gateway proxy functions: logging context, and the route's metrics (one document per invocation)."""
    cold_start = ColdStart()

    @functools.wraps(handler)
    def api_invocation(event: dict[str, Any], context: Any) -> Any:
        keys = {**lambda_keys(context, cold_start()), **api_keys(_mapping(event))}
        started = time.perf_counter()
        response: Any = None
        with logged_with(keys):
            try:
                response = handler(event, context)
                return response
            finally:
                emit_route_metrics(keys, response, (time.perf_counter() - started) * 1000)

    return mark(api_invocation, "api")


def outcome(response: Any) -> tuple[int, str | None]:
    """The proxy response's status, and for a 4xx/5xx its body's `code` (our errors are `{"code": ...}`). None
    is a handler that raised: API Gateway answers 502 (RestApi.resolve maps every error, so rarely)."""
    if response is None:
        return 502, "internal_error"
    proxy = _mapping(response)
    status = int(proxy.get("statusCode") or 502)
    if status < 400:
        return status, None
    body = proxy.get("body")
    if proxy.get("isBase64Encoded") or not isinstance(body, str) or len(body) > _MAX_ERROR_BODY:
        return status, None
    try:
        code = _mapping(json.loads(body)).get("code")
    except ValueError:
        return status, None
    return status, code if isinstance(code, str) else None


def emit_route_metrics(keys: Mapping[str, Any], response: Any, latency_ms: float) -> None:
    """One EMF document on stdout; never raises (a metric is not worth failing a request)."""
    try:
        status, code = outcome(response)
        metrics = EphemeralMetrics(
            namespace=os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE, service=powertools_logger().service
        )
        metrics.add_dimension(name="route", value=str(keys.get("route") or "unknown"))
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=round(latency_ms, 3))
        metrics.add_metric(name="4XXError", unit=MetricUnit.Count, value=int(400 <= status < 500))
        metrics.add_metric(name="5XXError", unit=MetricUnit.Count, value=int(status >= 500))
        properties = {name: keys.get(name) for name in ("application_id", "correlation_id", "function_request_id")}
        for name, value in {**properties, "status_code": status, "error_code": code}.items():
            if value is not None:
                metrics.add_metadata(key=name, value=value)
        if not is_metrics_disabled():
            write_line(json.dumps(metrics.serialize_metric_set(), separators=(",", ":")))
    except Exception as error:
        _log.warning("route metrics not emitted", error=type(error).__name__)
