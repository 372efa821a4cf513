"""`patron logs` / `patron health` arguments, and calls and health read from metric documents as the local runtime
keeps them (patron_cli.calls), down to the documents `emit_route_metrics` really writes."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.errors import NotFoundError
from patron.http.api import Request, Response, RestApi
from patron.logs import send_lines_to
from patron.observability import api_handler
from patron_cli.calls import (
    MAX_SINCE,
    Call,
    CallQuery,
    DocumentCallLog,
    parse_limit,
    parse_route,
    parse_since,
    percentile,
)
from patron_local.logstore import LogStore, read_log_file

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


# -- arguments -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        (" 2d ", timedelta(days=2)),
        ("3650d", MAX_SINCE),
    ],
)
def test_since_reads_a_count_and_a_unit(text, expected):
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "0m", "-1h", "1.5h", "1w", "1H", "1h30m", "3651d", "1234567890s"])
def test_since_refuses_anything_else(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_since(text)


@given(st.integers(min_value=0, max_value=999_999_999), st.sampled_from("smhd"))
def test_since_is_exact_or_refused_never_an_overflow(count, unit):
    expected = timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: count})
    if timedelta(0) < expected <= MAX_SINCE:
        assert parse_since(f"{count}{unit}") == expected
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            parse_since(f"{count}{unit}")


@pytest.mark.parametrize(
    "text", ["PUT /v1/orders/{orderId}", "GET /v1/customers", "POST /v1/import/uploads", "ANY /{proxy+}"]
)
def test_a_route_is_taken_as_the_template_writes_it(text):
    assert parse_route(text) == text


@pytest.mark.parametrize(
    "text",
    ['PUT /v1/orders/{orderId}" or route = "x', "put /v1/orders", "PUT v1/orders", "PUT /a | stats", "/v1/orders"],
)
def test_a_route_that_could_change_a_query_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_route(text)


@pytest.mark.parametrize("text", ["0", "10001", "ten", "-5"])
def test_limit_is_between_1_and_10000(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_limit(text)


def test_percentiles_are_measured_values():
    values = [float(n) for n in range(100, 0, -1)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([7.5], 99) == 7.5
    assert percentile([], 50) is None


# -- from metric documents -----------------------------------------------------------------------------------


def document(
    application: str, route: str, status: int, code: str | None = None, *, age_s: float = 1, latency: float = 10
) -> dict[str, Any]:
    """A metric document of the shape emit_route_metrics writes."""
    doc: dict[str, Any] = {
        "_aws": {"Timestamp": int((NOW - timedelta(seconds=age_s)).timestamp() * 1000), "CloudWatchMetrics": []},
        "route": route,
        "service": "patron",
        "application_id": application,
        "correlation_id": f"req-{uuid.uuid4().hex[:8]}",
        "status_code": status,
        "Requests": [1.0],
        "Latency": [latency],
        "4XXError": [float(400 <= status < 500)],
        "5XXError": [float(status >= 500)],
    }
    if code is not None:
        doc["error_code"] = code
    return doc


ORDER = "PUT /v1/orders/{orderId}"
PROFILE = "GET /v1/customer_profiles/{integrationId}/inventory"


def query(**options: Any) -> CallQuery:
    return CallQuery(7, NOW - timedelta(hours=1), NOW, **options)


def test_calls_are_the_applications_own_newest_first():
    documents = [
        document("7", ORDER, 200, age_s=30, latency=12.5),
        document("8", ORDER, 404, "order_not_found", age_s=20),
        {"level": "INFO", "message": "order stored", "application_id": "7", "route": ORDER},  # a log line
        document("7", PROFILE, 404, "profile_not_found", age_s=10),
        document("7", ORDER, 400, "invalid_request", age_s=2 * 3600),  # before the window
    ]
    calls = DocumentCallLog(lambda: documents).calls(query())
    assert [(c.route, c.status, c.code) for c in calls] == [(PROFILE, 404, "profile_not_found"), (ORDER, 200, None)]
    assert calls[1] == Call(
        time="2026-05-01T11:59:30.000Z",
        route=ORDER,
        status=200,
        code=None,
        latency_ms=12.5,
        request_id=documents[0]["correlation_id"],
    )


def test_calls_are_filtered_by_route_and_errors_and_limited():
    documents = [document("7", ORDER, status, age_s=age) for age, status in enumerate([200, 400, 500, 404, 200])]
    documents.append(document("7", PROFILE, 404, "profile_not_found"))
    log = DocumentCallLog(lambda: documents)
    assert [c.status for c in log.calls(query(route=ORDER, errors_only=True))] == [400, 500, 404]
    assert [c.status for c in log.calls(query(route=ORDER, limit=2))] == [200, 400]
    assert log.calls(query(route="DELETE /v1/orders/{orderId}")) == []


def test_health_counts_errors_by_class_and_code_with_latency_percentiles():
    documents = [document("7", ORDER, 200, latency=float(n)) for n in range(1, 98)]
    documents += [
        document("7", ORDER, 400, "invalid_request", latency=500),
        document("7", ORDER, 400, "invalid_request", latency=600),
        document("7", ORDER, 502, "internal_error", latency=900),
        document("7", PROFILE, 404, "profile_not_found"),
        document("8", PROFILE, 500, "internal_error"),
    ]
    health = {route.route: route.view() for route in DocumentCallLog(lambda: documents).health(query())}
    assert health[ORDER] == {
        "route": ORDER,
        "requests": 100,
        "4xx": 2,
        "5xx": 1,
        "errorCodes": {"internal_error": 1, "invalid_request": 2},
        "p50Ms": 50.0,
        "p99Ms": 600.0,
    }
    assert health[PROFILE]["requests"] == 1 and health[PROFILE]["errorCodes"] == {"profile_not_found": 1}


def test_what_the_api_decorator_writes_is_read_back_from_the_log_file(tmp_path):
    api = RestApi(max_body_bytes=lambda: 10_000)

    @api.route("GET", "/things/{id}")
    def get_thing(request: Request) -> Response:
        if request.path_params["id"] == "missing":
            raise NotFoundError("No such thing.", code="thing_not_found")
        return Response.json({"id": request.path_params["id"]})

    handler = api_handler(api.resolve)
    store = LogStore(file=tmp_path / "logs.jsonl")
    send_lines_to(store.append)
    try:
        for thing, request_id in (("1", "gw-1"), ("missing", "gw-2")):
            event = {
                "httpMethod": "GET",
                "resource": "/things/{id}",
                "path": f"/things/{thing}",
                "pathParameters": {"id": thing},
                "headers": {},
                "body": None,
                "isBase64Encoded": False,
                "requestContext": {
                    "requestId": request_id,
                    "authorizer": {"applicationId": "7", "scope": "integration", "keyId": "k"},
                },
            }
            handler(event, None)
    finally:
        send_lines_to(None)
        store.close()
    log = DocumentCallLog(lambda: read_log_file(tmp_path / "logs.jsonl"))
    window = CallQuery(7, datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC))
    calls = log.calls(window)
    assert [(c.route, c.status, c.code, c.request_id) for c in calls] == [
        ("GET /things/{id}", 404, "thing_not_found", "gw-2"),
        ("GET /things/{id}", 200, None, "gw-1"),
    ]
    assert all(c.latency_ms is not None and c.latency_ms >= 0 for c in calls)
    assert json.dumps([c.view() for c in calls])  # plain JSON for --json
    assert [h.requests for h in log.health(window)] == [2]
