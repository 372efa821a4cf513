"""`patron logs` and `patron health` on a deployed stack: CloudWatch Logs Insights over its functions' log groups.

The query text and the reading of results are pure functions; the clients are passed in (tests give fakes: moto
accepts `start_query` but runs no Insights query, neither `filter` nor `stats` nor JSON fields). Insights reads the
metric documents' fields because they are JSON log events; Powertools writes a metric's values as a list, which
Insights flattens to `Latency.0`.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from patron_cli.calls import Call, CallQuery, RouteHealth, iso_time

FUNCTION_TYPE = "AWS::Lambda::Function"
# StartQuery reads at most 50 log groups.
MAX_LOG_GROUPS = 50
QUERY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.5
_DONE = "Complete"
_ENDED = frozenset({"Failed", "Cancelled", "Timeout", "Unknown"})
# The value as written, or, as Powertools writes it, the first of a list.
_LATENCY = "coalesce(`Latency.0`, Latency)"


class InsightsError(RuntimeError):
    """The stack's logs cannot be queried (a query that failed or ran too long, too many log groups)."""


# -- the log groups ------------------------------------------------------------------------------------------


def function_log_groups(cloudformation: Any, stack_name: str) -> list[str]:
    """`/aws/lambda/<name>` of every function of the stack (Lambda's default log group)."""
    groups: list[str] = []
    token: str | None = None
    while True:
        page = cloudformation.list_stack_resources(StackName=stack_name, **({"NextToken": token} if token else {}))
        groups += [
            f"/aws/lambda/{resource['PhysicalResourceId']}"
            for resource in page.get("StackResourceSummaries", [])
            if resource.get("ResourceType") == FUNCTION_TYPE and resource.get("PhysicalResourceId")
        ]
        token = page.get("NextToken")
        if not token:
            return groups


def existing_log_groups(logs: Any, groups: Sequence[str]) -> list[str]:
    """Those of `groups` that exist: Lambda creates a function's group on its first invocation, and StartQuery
    refuses the whole query when one of its groups does not exist."""
    existing: set[str] = set()
    for first in range(0, len(groups), MAX_LOG_GROUPS):
        chunk = list(groups[first : first + MAX_LOG_GROUPS])
        token: str | None = None
        while True:
            page = logs.describe_log_groups(logGroupIdentifiers=chunk, **({"nextToken": token} if token else {}))
            existing.update(group["logGroupName"] for group in page.get("logGroups", []))
            token = page.get("nextToken")
            if not token:
                break
    return [group for group in groups if group in existing]


# -- the queries ---------------------------------------------------------------------------------------------


def _filter(query: CallQuery) -> str:
    # Metric documents only (log lines carry no status_code); application_id is written as a string.
    clauses = ["ispresent(status_code)", f'application_id = "{int(query.application_id)}"']
    if query.route is not None:
        if '"' in query.route or "\\" in query.route:
            raise ValueError("a route has no quote or backslash")
        clauses.append(f'route = "{query.route}"')
    if query.errors_only:
        clauses.append("status_code >= 400")
    return "filter " + " and ".join(clauses)


def calls_query(query: CallQuery) -> str:
    return "\n| ".join(
        [
            _filter(query),
            f"fields @timestamp, route, status_code, error_code, {_LATENCY} as latency_ms, correlation_id",
            "sort @timestamp desc",
            f"limit {int(query.limit)}",
        ]
    )


def route_health_query(query: CallQuery) -> str:
    return "\n| ".join(
        [
            _filter(query),
            f"fields {_LATENCY} as latency_ms",
            "stats count(*) as requests, pct(latency_ms, 50) as p50, pct(latency_ms, 99) as p99 by route",
        ]
    )


def route_errors_query(query: CallQuery) -> str:
    # By status too: a 4xx and a 5xx may share a code (or have none), and the health counts them apart.
    return "\n| ".join(
        [
            _filter(query) + ("" if query.errors_only else " and status_code >= 400"),
            "stats count(*) as calls by route, status_code, error_code",
        ]
    )


# -- the results ---------------------------------------------------------------------------------------------

Row = Mapping[str, str]


def row_fields(row: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """GetQueryResults' `[{"field": ..., "value": ...}]`; a field without a value is left out, as Insights does."""
    return {cell["field"]: cell["value"] for cell in row if "field" in cell and "value" in cell}


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def insights_time(value: str) -> str:
    """Insights' `2024-05-01 12:34:56.789` (UTC) as ISO 8601."""
    try:
        return iso_time(datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC))
    except ValueError:
        return value


def calls_from_results(rows: Sequence[Row]) -> list[Call]:
    calls = []
    for row in rows:
        status = _int(row.get("status_code"))
        if status is None:
            continue
        calls.append(
            Call(
                time=insights_time(row.get("@timestamp", "")),
                route=row.get("route") or "unknown",
                status=status,
                code=row.get("error_code") or None,
                latency_ms=_float(row.get("latency_ms")),
                request_id=row.get("correlation_id") or None,
            )
        )
    return calls


def health_from_results(route_rows: Sequence[Row], error_rows: Sequence[Row]) -> list[RouteHealth]:
    routes = {row.get("route") or "unknown": row for row in route_rows}
    client_errors: dict[str, int] = {}
    server_errors: dict[str, int] = {}
    codes: dict[str, dict[str, int]] = {}
    for row in error_rows:
        route, status, count = row.get("route") or "unknown", _int(row.get("status_code")), _int(row.get("calls"))
        if status is None or count is None:
            continue
        tally = client_errors if status < 500 else server_errors
        tally[route] = tally.get(route, 0) + count
        if row.get("error_code"):
            route_codes = codes.setdefault(route, {})
            route_codes[row["error_code"]] = route_codes.get(row["error_code"], 0) + count
    return [
        RouteHealth(
            route=route,
            requests=_int(routes.get(route, {}).get("requests")) or 0,
            client_errors=client_errors.get(route, 0),
            server_errors=server_errors.get(route, 0),
            error_codes=dict(sorted(codes.get(route, {}).items())),
            p50_ms=_float(routes.get(route, {}).get("p50")),
            p99_ms=_float(routes.get(route, {}).get("p99")),
        )
        for route in sorted(set(routes) | set(client_errors) | set(server_errors))
    ]


# -- running them --------------------------------------------------------------------------------------------


def run_queries(
    logs: Any,
    log_groups: Sequence[str],
    query: CallQuery,
    query_strings: Sequence[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = QUERY_TIMEOUT_SECONDS,
) -> list[list[dict[str, str]]]:
    """Starts the queries together over the window, then polls them until each completes, at most `timeout`
    seconds in all (then stops those still running)."""
    if not log_groups:
        return [[] for _ in query_strings]  # no function has run yet, so none has logged
    if len(log_groups) > MAX_LOG_GROUPS:
        raise InsightsError(f"the stack has {len(log_groups)} log groups; a query reads at most {MAX_LOG_GROUPS}")
    window = {"startTime": math.floor(query.start.timestamp()), "endTime": math.ceil(query.end.timestamp())}
    ids = [
        logs.start_query(logGroupNames=list(log_groups), queryString=text, **window)["queryId"]
        for text in query_strings
    ]
    results: dict[str, list[dict[str, str]]] = {}
    deadline = clock() + timeout
    while True:
        for query_id in ids:
            if query_id in results:
                continue
            answer = logs.get_query_results(queryId=query_id)
            status = answer.get("status")
            if status == _DONE:
                results[query_id] = [row_fields(row) for row in answer.get("results", [])]
            elif status in _ENDED:
                raise InsightsError(f"the Logs Insights query ended {str(status).lower()}")
        if len(results) == len(ids):
            return [results[query_id] for query_id in ids]
        if clock() >= deadline:
            for query_id in set(ids) - set(results):
                # Best effort: it may have just finished, or the operator may not be allowed StopQuery.
                with contextlib.suppress(Exception):
                    logs.stop_query(queryId=query_id)
            raise InsightsError(f"the Logs Insights query took over {timeout:.0f} s; try a shorter --since")
        sleep(POLL_SECONDS)


class InsightsCallLog:
    """`CallLog` over a stack's log groups."""

    def __init__(
        self,
        logs: Any,
        log_groups: Sequence[str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._logs = logs
        self._log_groups = list(log_groups)
        self._sleep = sleep
        self._clock = clock

    def _run(self, query: CallQuery, texts: Sequence[str]) -> list[list[dict[str, str]]]:
        return run_queries(self._logs, self._log_groups, query, texts, sleep=self._sleep, clock=self._clock)

    def calls(self, query: CallQuery) -> list[Call]:
        (rows,) = self._run(query, [calls_query(query)])
        return calls_from_results(rows)

    def health(self, query: CallQuery) -> list[RouteHealth]:
        route_rows, error_rows = self._run(query, [route_health_query(query), route_errors_query(query)])
        return health_from_results(route_rows, error_rows)
