"""What `patron logs` and `patron health` show: an application's recent API calls and each route's health.

Both are read from the metric document every API invocation writes (`patron.observability.emit_route_metrics`:
route, status_code, error_code, Latency, correlation_id, application_id), never from a table: CloudWatch Logs
Insights on a deployed stack (`patron_cli.insights`), the local runtime's log file here (`DocumentCallLog`).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

DEFAULT_SINCE = "1h"
DEFAULT_LIMIT = 50
# Logs Insights returns at most this many rows a page; more calls than that are not worth a terminal.
MAX_LIMIT = 10_000
# Ten years: further back than any log kept (and `now - since` stays a date).
MAX_SINCE = timedelta(days=3650)

_SINCE = re.compile(r"([0-9]{1,9})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# A route as the template and the metric documents write it. Nothing else reaches a query's text: no quote, no
# backslash, no pipe.
_ROUTE = re.compile(r"(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS|ANY) (/[A-Za-z0-9_.{}+\-/]*)")


def parse_since(text: str) -> timedelta:
    """`90s`, `15m`, `1h`, `2d`: how far back to look."""
    match = _SINCE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 15m, 1h or 2d")
    since = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if not timedelta(0) < since <= MAX_SINCE:
        raise argparse.ArgumentTypeError(f"the window is longer than 0 and at most {MAX_SINCE.days}d")
    return since


def parse_limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"the limit is between 1 and {MAX_LIMIT}")
    return limit


def parse_route(text: str) -> str:
    """`PUT /v1/orders/{orderId}`: the template's path, not a request's."""
    match = _ROUTE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f'{text!r} is not a route such as "PUT /v1/orders/{{orderId}}"')
    return f"{match[1]} {match[2]}"


@dataclass(frozen=True)
class CallQuery:
    application_id: int
    start: datetime
    end: datetime
    limit: int = DEFAULT_LIMIT
    route: str | None = None
    errors_only: bool = False

    @classmethod
    def recent(cls, application_id: int, since: timedelta, **options: Any) -> CallQuery:
        end = datetime.now(UTC)
        return cls(application_id, end - since, end, **options)


@dataclass(frozen=True)
class Call:
    time: str  # ISO 8601, UTC, milliseconds
    route: str
    status: int
    code: str | None
    latency_ms: float | None
    request_id: str | None  # API Gateway's request id (correlation_id)

    def view(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "route": self.route,
            "status": self.status,
            "code": self.code,
            "latencyMs": self.latency_ms,
            "requestId": self.request_id,
        }


@dataclass(frozen=True)
class RouteHealth:
    route: str
    requests: int
    client_errors: int
    server_errors: int
    error_codes: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p99_ms: float | None = None

    def view(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "requests": self.requests,
            "4xx": self.client_errors,
            "5xx": self.server_errors,
            "errorCodes": self.error_codes,
            "p50Ms": self.p50_ms,
            "p99Ms": self.p99_ms,
        }


class CallLog(Protocol):
    def calls(self, query: CallQuery) -> list[Call]:
        """The application's calls in the window, newest first, at most `query.limit`."""
        ...

    def health(self, query: CallQuery) -> list[RouteHealth]:
        """Per route the application called in the window, by route."""
        ...


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def percentile(values: list[float], percent: float) -> float | None:
    """Nearest rank: a value that was measured, as CloudWatch's percentiles are."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def _number(value: Any) -> float | None:
    # Powertools writes a metric's values as a list ([12.5]); a bare number is read too.
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _call(document: Mapping[str, Any]) -> tuple[datetime, Call] | None:
    """The call an API invocation's metric document describes; None for anything else."""
    envelope = document.get("_aws")
    timestamp = _number(envelope.get("Timestamp")) if isinstance(envelope, dict) else None  # ms since the epoch
    status = document.get("status_code")
    if timestamp is None or not isinstance(status, int):
        return None
    moment = datetime.fromtimestamp(timestamp / 1000, UTC)
    code = document.get("error_code")
    request_id = document.get("correlation_id")
    return moment, Call(
        time=iso_time(moment),
        route=str(document.get("route") or "unknown"),
        status=status,
        code=code if isinstance(code, str) else None,
        latency_ms=_number(document.get("Latency")),
        request_id=request_id if isinstance(request_id, str) else None,
    )


def health_of(calls: Iterable[Call]) -> list[RouteHealth]:
    by_route: dict[str, list[Call]] = {}
    for call in calls:
        by_route.setdefault(call.route, []).append(call)
    health = []
    for route, route_calls in sorted(by_route.items()):
        codes: dict[str, int] = {}
        for call in route_calls:
            if call.status >= 400 and call.code:
                codes[call.code] = codes.get(call.code, 0) + 1
        latencies = [call.latency_ms for call in route_calls if call.latency_ms is not None]
        health.append(
            RouteHealth(
                route=route,
                requests=len(route_calls),
                client_errors=sum(1 for call in route_calls if 400 <= call.status < 500),
                server_errors=sum(1 for call in route_calls if call.status >= 500),
                error_codes=dict(sorted(codes.items())),
                p50_ms=percentile(latencies, 50),
                p99_ms=percentile(latencies, 99),
            )
        )
    return health


class DocumentCallLog:
    """Calls and health computed from metric documents as the local runtime's log store keeps them."""

    def __init__(self, documents: Callable[[], Iterable[Mapping[str, Any]]]):
        self._documents = documents

    def _matching(self, query: CallQuery) -> list[tuple[datetime, Call]]:
        application = str(query.application_id)
        found = []
        for document in self._documents():
            if str(document.get("application_id")) != application:
                continue
            timed = _call(document)
            if timed is None:
                continue
            moment, call = timed
            in_window = query.start <= moment <= query.end
            if in_window and query.route in (None, call.route) and (call.status >= 400 or not query.errors_only):
                found.append(timed)
        return found

    def calls(self, query: CallQuery) -> list[Call]:
        # Written last, listed first: two calls within a millisecond keep their order.
        newest_first = sorted(reversed(self._matching(query)), key=lambda timed: timed[0], reverse=True)
        return [call for _, call in newest_first[: query.limit]]

    def health(self, query: CallQuery) -> list[RouteHealth]:
        return health_of(call for _, call in self._matching(query))
