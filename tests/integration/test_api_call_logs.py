"""`patron logs` and `patron health` against the local runtime: an application's calls read back from the metric
documents its invocations wrote to the runtime's log file (as `make run` writes them for a CLI in another
terminal), only that application's, and with no DynamoDB write per request."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from patron_cli.calls import CallQuery, DocumentCallLog
from patron_cli.main import main
from patron_local.logstore import log_file, read_log_file

PROFILE_PUT = "PUT /v2/customer_profiles/{integrationId}"
INVENTORY = "GET /v1/customer_profiles/{integrationId}/inventory"
ORDER_PUT = "PUT /v1/orders/{orderId}"
# What DynamoDB charges as reads; anything else writes.
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable"}


@pytest.fixture
def log_path(runtime, tmp_path, monkeypatch):
    """The session's runtime keeps its logs in memory only; for this test they also go to a file next to the test's
    own state file, where the CLI looks (`make run` gives its runtime `.patron/logs.jsonl` from the start)."""
    monkeypatch.setenv("PATRON_LOCAL_STATE", str(tmp_path / "local.json"))
    path = log_file()
    runtime.logs.keep_in(path)
    yield path
    runtime.logs.keep_in(None)


def run_json(capsys, *argv: str):
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_logs_and_health_show_the_applications_calls_and_no_other(runtime, tenant, other_tenant, log_path, capsys):
    stored = runtime.request(
        "PUT", f"/v2/customer_profiles/{unique('p')}", headers=tenant.headers, body={"attributes": {"tier": "gold"}}
    )
    missing = runtime.request("GET", f"/v1/customer_profiles/{unique('p')}/inventory", headers=tenant.headers)
    invalid = runtime.request("PUT", f"/v1/orders/{unique('o')}", headers=tenant.headers, body={"amount": 1})
    theirs = runtime.request("GET", f"/v1/customer_profiles/{unique('p')}/inventory", headers=other_tenant.headers)
    assert (stored.status, missing.status, invalid.status, theirs.status) == (200, 404, 400, 404)
    invalid_code = invalid.json()["code"]

    application = str(tenant.application_id)
    calls = run_json(capsys, "logs", application)
    assert [(c["route"], c["status"], c["code"]) for c in calls] == [
        (ORDER_PUT, 400, invalid_code),
        (INVENTORY, 404, "profile_not_found"),
        (PROFILE_PUT, 200, None),
    ]
    # Each call once, by API Gateway's request id, and none of the other application's.
    documents = runtime.logs.metric_documents()
    ours = [d["correlation_id"] for d in documents if d.get("application_id") == application]
    others = {d["correlation_id"] for d in documents if d.get("application_id") == str(other_tenant.application_id)}
    assert sorted(c["requestId"] for c in calls) == sorted(ours) and len(set(ours)) == 3
    assert not others & set(ours)
    newest = datetime.fromisoformat(calls[0]["time"])
    assert datetime.now(UTC) - timedelta(minutes=1) < newest <= datetime.now(UTC)
    assert calls[0]["time"] >= calls[1]["time"] >= calls[2]["time"]
    assert all(c["latencyMs"] >= 0 for c in calls)

    assert [c["status"] for c in run_json(capsys, "logs", application, "--errors")] == [400, 404]
    assert [c["status"] for c in run_json(capsys, "logs", application, "--route", INVENTORY)] == [404]
    assert [c["status"] for c in run_json(capsys, "logs", application, "--limit", "1")] == [400]

    health = {route["route"]: route for route in run_json(capsys, "health", application)}
    assert sorted(health) == sorted([PROFILE_PUT, INVENTORY, ORDER_PUT])
    counts = {route: (h["requests"], h["4xx"], h["5xx"], h["errorCodes"]) for route, h in health.items()}
    assert counts == {
        PROFILE_PUT: (1, 0, 0, {}),
        INVENTORY: (1, 1, 0, {"profile_not_found": 1}),
        ORDER_PUT: (1, 1, 0, {invalid_code: 1}),
    }
    assert all(0 <= h["p50Ms"] <= h["p99Ms"] for h in health.values())

    their_health = run_json(capsys, "health", str(other_tenant.application_id))
    assert [(h["route"], h["requests"], h["errorCodes"]) for h in their_health] == [
        (INVENTORY, 1, {"profile_not_found": 1})
    ]

    assert main(["logs", application]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["time", "route", "status", "code", "latencyMs", "requestId"]
    newest_line = text.splitlines()[1]
    assert ORDER_PUT in newest_line and " 400 " in newest_line and invalid_code in newest_line


def test_a_call_is_logged_without_a_dynamodb_write(runtime, tenant, meter, log_path):
    # The first call reads the key into the authorizer's cache; the calls measured are then reads or nothing.
    runtime.request("GET", f"/v1/customer_profiles/{unique('p')}/inventory", headers=tenant.headers)
    mark = meter.mark()
    missing = runtime.request("GET", f"/v1/customer_profiles/{unique('p')}/inventory", headers=tenant.headers)
    invalid = runtime.request("PUT", f"/v1/orders/{unique('o')}", headers=tenant.headers, body={"amount": 1})
    operations = [call.operation for call in meter.since(mark)]
    assert (missing.status, invalid.status) == (404, 400)
    assert [operation for operation in operations if operation not in READS] == [], operations

    window = CallQuery(tenant.application_id, datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC))
    logged = DocumentCallLog(lambda: read_log_file(log_path)).calls(window)
    assert [(call.route, call.status) for call in logged[:2]] == [(ORDER_PUT, 400), (INVENTORY, 404)]
