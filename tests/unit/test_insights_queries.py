"""`patron logs` / `patron health --stack`: the Logs Insights query text, the reading of its results, the polling
bound, and finding a stack's log groups (patron_cli.insights), against fake CloudFormation and CloudWatch Logs
clients that check every call's parameters against botocore's model of the API. moto is no help here: it accepts
StartQuery but applies neither `filter` nor `stats`, and reads no field of a JSON event."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3.session
import botocore.session
import pytest
from botocore.validate import validate_parameters

from patron_cli.calls import Call, CallQuery, RouteHealth
from patron_cli.insights import (
    InsightsCallLog,
    InsightsError,
    calls_from_results,
    calls_query,
    existing_log_groups,
    function_log_groups,
    health_from_results,
    route_errors_query,
    route_health_query,
)
from patron_cli.main import main

START = datetime(2026, 5, 1, 11, 0, 0, 500_000, tzinfo=UTC)
END = START + timedelta(hours=1)
ORDER = "PUT /v1/orders/{orderId}"
PROFILE = "GET /v1/customer_profiles/{integrationId}/inventory"


def query(**options: Any) -> CallQuery:
    return CallQuery(7, START, END, **options)


@functools.cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


class Checked:
    """Refuses a call botocore would refuse (a wrong parameter name or type, a list too long)."""

    service = ""

    def __init__(self) -> None:
        self._model = _service_model(self.service)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def check(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, self._model.operation_model(operation).input_shape)
        self.calls.append((operation, params))


class FakeCloudFormation(Checked):
    service = "cloudformation"

    def __init__(self, pages: list[list[tuple[str, str]]]):
        super().__init__()
        self._pages = pages

    def list_stack_resources(self, **params: Any) -> dict[str, Any]:
        self.check("ListStackResources", params)
        index = int(params.get("NextToken", "0"))
        page: dict[str, Any] = {
            "StackResourceSummaries": [
                {"LogicalResourceId": f"R{i}", "ResourceType": kind, "PhysicalResourceId": physical}
                for i, (kind, physical) in enumerate(self._pages[index])
            ]
        }
        if index + 1 < len(self._pages):
            page["NextToken"] = str(index + 1)
        return page


class FakeLogs(Checked):
    """Answers each query with the rows given for its text (by a word it contains), after `running` polls that
    answer Running; `status` is how it ends."""

    service = "logs"

    def __init__(
        self,
        groups: set[str],
        rows: Mapping[str, list[dict[str, str]]] | None = None,
        running: int = 1,
        status: str = "Complete",
    ):
        super().__init__()
        self.groups = groups
        self.rows = rows or {}
        self.running = running
        self.status = status
        self.queries: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.stopped: list[str] = []

    def describe_log_groups(self, **params: Any) -> dict[str, Any]:
        self.check("DescribeLogGroups", params)
        wanted = params["logGroupIdentifiers"]
        assert len(wanted) <= 50  # the API's bound (botocore checks no maximum)
        return {"logGroups": [{"logGroupName": name} for name in wanted if name in self.groups]}

    def start_query(self, **params: Any) -> dict[str, Any]:
        self.check("StartQuery", params)
        if not set(params["logGroupNames"]) <= self.groups:
            raise LookupError("ResourceNotFoundException: The specified log group does not exist.")
        query_id = f"q{len(self.queries)}"
        self.queries[query_id] = params
        self.polls[query_id] = 0
        return {"queryId": query_id}

    def get_query_results(self, **params: Any) -> dict[str, Any]:
        self.check("GetQueryResults", params)
        query_id = params["queryId"]
        self.polls[query_id] += 1
        if self.polls[query_id] <= self.running:
            return {"status": "Running", "results": []}
        text = self.queries[query_id]["queryString"]
        rows = next((rows for word, rows in self.rows.items() if word in text), [])
        cells = [[{"field": name, "value": value} for name, value in row.items()] for row in rows]
        return {"status": self.status, "results": [[*cell, {"field": "@ptr", "value": "p"}] for cell in cells]}

    def stop_query(self, **params: Any) -> dict[str, Any]:
        self.check("StopQuery", params)
        self.stopped.append(params["queryId"])
        return {"success": True}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# -- query text ----------------------------------------------------------------------------------------------


def test_the_calls_query_keeps_to_the_applications_metric_documents():
    assert calls_query(query(route=ORDER, errors_only=True, limit=20)) == (
        'filter ispresent(status_code) and application_id = "7" and route = "PUT /v1/orders/{orderId}"'
        " and status_code >= 400\n"
        "| fields @timestamp, route, status_code, error_code, coalesce(`Latency.0`, Latency) as latency_ms,"
        " correlation_id\n"
        "| sort @timestamp desc\n"
        "| limit 20"
    )
    assert calls_query(query()).splitlines()[0] == 'filter ispresent(status_code) and application_id = "7"'


def test_the_health_queries_count_per_route_and_per_error():
    assert route_health_query(query()) == (
        'filter ispresent(status_code) and application_id = "7"\n'
        "| fields coalesce(`Latency.0`, Latency) as latency_ms\n"
        "| stats count(*) as requests, pct(latency_ms, 50) as p50, pct(latency_ms, 99) as p99 by route"
    )
    assert route_errors_query(query()) == (
        'filter ispresent(status_code) and application_id = "7" and status_code >= 400\n'
        "| stats count(*) as calls by route, status_code, error_code"
    )


def test_a_route_cannot_close_the_quoted_string():
    with pytest.raises(ValueError, match="quote"):
        calls_query(query(route='GET /x" or application_id = "8'))


# -- results -------------------------------------------------------------------------------------------------


def test_result_rows_become_calls():
    rows = [
        {
            "@timestamp": "2026-05-01 11:59:30.125",
            "route": ORDER,
            "status_code": "400",
            "error_code": "invalid_request",
            "latency_ms": "12.345",
            "correlation_id": "req-2",
        },
        {"@timestamp": "2026-05-01 11:59:29.000", "route": ORDER, "status_code": "200", "correlation_id": "req-1"},
        {"@timestamp": "2026-05-01 11:59:28.000", "route": ORDER},  # not a metric document: no status
    ]
    assert calls_from_results(rows) == [
        Call("2026-05-01T11:59:30.125Z", ORDER, 400, "invalid_request", 12.345, "req-2"),
        Call("2026-05-01T11:59:29.000Z", ORDER, 200, None, None, "req-1"),
    ]


def test_result_rows_become_route_health():
    route_rows = [
        {"route": ORDER, "requests": "10", "p50": "12.5", "p99": "80.25"},
        {"route": PROFILE, "requests": "3", "p50": "4", "p99": "5"},
    ]
    error_rows = [
        {"route": ORDER, "status_code": "400", "error_code": "invalid_request", "calls": "2"},
        {"route": ORDER, "status_code": "404", "error_code": "order_not_found", "calls": "1"},
        {"route": ORDER, "status_code": "502", "error_code": "internal_error", "calls": "1"},
        {"route": ORDER, "status_code": "413", "calls": "1"},  # no code: counted, not named
    ]
    assert health_from_results(route_rows, error_rows) == [
        RouteHealth(PROFILE, 3, 0, 0, {}, 4.0, 5.0),
        RouteHealth(ORDER, 10, 4, 1, {"internal_error": 1, "invalid_request": 2, "order_not_found": 1}, 12.5, 80.25),
    ]


# -- running -------------------------------------------------------------------------------------------------

GROUPS = ["/aws/lambda/shop-OrdersFunction-AbC", "/aws/lambda/shop-AuthorizerFunction-DeF"]


def test_calls_poll_until_complete_over_the_whole_window():
    logs = FakeLogs(set(GROUPS), {"sort": [{"status_code": "404", "route": ORDER}]}, running=2)
    clock = Clock()
    calls = InsightsCallLog(logs, GROUPS, sleep=clock.sleep, clock=clock).calls(query())
    assert [(c.route, c.status) for c in calls] == [(ORDER, 404)]
    (started,) = logs.queries.values()
    assert started["logGroupNames"] == GROUPS
    # Seconds, rounded outwards: the window's first and last milliseconds are in.
    assert (started["startTime"], started["endTime"]) == (int(START.timestamp()), int(END.timestamp()) + 1)
    assert len(clock.slept) == 2


def test_health_runs_its_two_queries_together():
    logs = FakeLogs(
        set(GROUPS),
        {
            "pct(": [{"route": ORDER, "requests": "4", "p50": "10", "p99": "20"}],
            "error_code": [{"route": ORDER, "status_code": "404", "error_code": "order_not_found", "calls": "1"}],
        },
    )
    clock = Clock()
    health = InsightsCallLog(logs, GROUPS, sleep=clock.sleep, clock=clock).health(query())
    assert health == [RouteHealth(ORDER, 4, 1, 0, {"order_not_found": 1}, 10.0, 20.0)]
    assert [operation for operation, _ in logs.calls[:2]] == ["StartQuery", "StartQuery"]
    assert len(clock.slept) == 1  # one wait for both


def test_a_failed_query_is_an_error():
    logs = FakeLogs(set(GROUPS), status="Failed")
    clock = Clock()
    with pytest.raises(InsightsError, match="failed"):
        InsightsCallLog(logs, GROUPS, sleep=clock.sleep, clock=clock).calls(query())


def test_a_query_that_runs_too_long_is_stopped_within_the_bound():
    logs = FakeLogs(set(GROUPS), running=10_000)
    clock = Clock()
    with pytest.raises(InsightsError, match="shorter --since"):
        InsightsCallLog(logs, GROUPS, sleep=clock.sleep, clock=clock).calls(query())
    assert 60 <= clock.now <= 61
    assert logs.stopped == ["q0"]


def test_no_log_group_yet_is_no_calls_and_no_query():
    logs = FakeLogs(set())
    assert InsightsCallLog(logs, []).calls(query()) == []
    assert InsightsCallLog(logs, []).health(query()) == []
    assert logs.calls == []


def test_the_stacks_functions_log_groups_are_found_across_pages():
    cloudformation = FakeCloudFormation(
        [
            [("AWS::Lambda::Function", "shop-OrdersFunction-AbC"), ("AWS::DynamoDB::Table", "shop-Orders")],
            [("AWS::Lambda::Permission", "perm"), ("AWS::Lambda::Function", "shop-AuthorizerFunction-DeF")],
        ]
    )
    assert function_log_groups(cloudformation, "shop") == GROUPS
    assert [params for _, params in cloudformation.calls] == [
        {"StackName": "shop"},
        {"StackName": "shop", "NextToken": "1"},
    ]


def test_only_existing_log_groups_are_queried():
    # Lambda creates a function's log group on its first invocation; StartQuery refuses a missing one.
    never_run = "/aws/lambda/shop-ImportsFunction-GhI"
    logs = FakeLogs(set(GROUPS))
    assert existing_log_groups(logs, [*GROUPS, never_run]) == GROUPS
    many = [f"/aws/lambda/f{n}" for n in range(60)]
    assert existing_log_groups(FakeLogs(set(many)), many) == many  # asked 50 at a time


# -- the command, on a stack ---------------------------------------------------------------------------------


class FakeSession:
    def __init__(self, cloudformation: FakeCloudFormation, logs: FakeLogs):
        self._clients = {"cloudformation": cloudformation, "logs": logs}

    def client(self, name: str) -> Any:
        return self._clients[name]


def test_patron_logs_on_a_stack(monkeypatch, capsys):
    cloudformation = FakeCloudFormation([[("AWS::Lambda::Function", "shop-OrdersFunction-AbC")]])
    row = {
        "@timestamp": "2026-05-01 11:59:30.125",
        "route": ORDER,
        "status_code": "404",
        "error_code": "order_not_found",
        "latency_ms": "3.5",
        "correlation_id": "req-1",
    }
    logs = FakeLogs({GROUPS[0]}, {"sort": [row]}, running=0)
    regions = []

    def session(region_name=None):
        regions.append(region_name)
        return FakeSession(cloudformation, logs)

    monkeypatch.setattr(boto3.session, "Session", session)
    assert main(["logs", "7", "--stack", "shop", "--region", "eu-west-1", "--since", "2d", "--errors", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "time": "2026-05-01T11:59:30.125Z",
            "route": ORDER,
            "status": 404,
            "code": "order_not_found",
            "latencyMs": 3.5,
            "requestId": "req-1",
        }
    ]
    (started,) = logs.queries.values()
    assert started["endTime"] - started["startTime"] in (2 * 86400, 2 * 86400 + 1)
    assert "status_code >= 400" in started["queryString"] and regions == ["eu-west-1"]


def test_a_missing_stack_is_a_target_error(monkeypatch, capsys):
    class NoStack(FakeCloudFormation):
        def list_stack_resources(self, **params: Any) -> dict[str, Any]:
            raise LookupError("Stack with id nope does not exist")

    monkeypatch.setattr(boto3.session, "Session", lambda region_name=None: FakeSession(NoStack([]), FakeLogs(set())))
    assert main(["health", "7", "--stack", "nope", "--json"]) == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "target_error"
