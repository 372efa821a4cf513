"""The management API through the local runtime: publish, live, history, rollback; concurrent publishes; a ruleset
that does not compile; key scopes; tenants; the DynamoDB calls of a publish."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from patron.applications.model import Scope
from tests.conftest import Tenant

RULESETS = "/v1/management/rulesets"

TEN_PERCENT: dict[str, Any] = {
    "id": 1,
    "name": "Ten percent over 100",
    "rules": [
        {
            "title": "Cart of 100 or more",
            "condition": "session.cartItemTotal >= 100",
            "effects": [{"type": "setDiscount", "name": "10% off", "value": "session.total * 0.1"}],
        }
    ],
}
FREE_SHIPPING: dict[str, Any] = {
    "id": 2,
    "name": "Free shipping",
    "rules": [
        {
            "title": "Over 50",
            "condition": "session.cartItemTotal >= 50",
            "effects": [
                {"type": "setDiscountPerAdditionalCost", "name": "free", "additionalCost": "shipping", "percent": 100}
            ],
        }
    ],
}
SETTINGS = {"currency": "EUR", "timezone": "Europe/Rome"}


def management(runtime: Any, tenant: Tenant) -> dict[str, str]:
    key = runtime.applications().create_key(tenant.application_id, Scope.MANAGEMENT, "ops").secret
    return {"Authorization": f"ApiKey-v1 {key}"}


@pytest.fixture
def ops(runtime, tenant) -> dict[str, str]:
    return management(runtime, tenant)


def body(*campaigns: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"settings": SETTINGS, "campaigns": [copy.deepcopy(c) for c in campaigns], **extra}


def test_publish_live_history_and_rollback(runtime, ops):
    first = runtime.request("POST", RULESETS, headers=ops, body=body(TEN_PERCENT, basedOn=None, note="first"))
    assert first.status == 201, first.body
    assert first.json()["version"]["version"] == 1
    assert first.header("Location") == f"{RULESETS}/1"
    assert [c["change"] for c in first.json()["plan"]["campaigns"]] == ["added"]

    changed = copy.deepcopy(TEN_PERCENT)
    changed["priority"] = 5
    changed["state"] = "disabled"
    planned = runtime.request("POST", f"{RULESETS}/plan", headers=ops, body=body(changed, FREE_SHIPPING))
    assert planned.status == 200, planned.body
    plan = planned.json()
    assert plan["basedOn"] == 1 and plan["changed"]
    assert [(c["id"], c["change"], c["fields"]) for c in plan["campaigns"]] == [
        (1, "changed", ["priority", "state"]),
        (2, "added", []),
    ]
    assert runtime.request("GET", f"{RULESETS}/live", headers=ops).json()["version"] == 1  # a plan writes nothing

    second = runtime.request("POST", RULESETS, headers=ops, body=body(changed, FREE_SHIPPING, basedOn=1))
    assert second.status == 201, second.body
    live = runtime.request("GET", f"{RULESETS}/live", headers=ops).json()
    assert live["version"] == 2 and live["live"] and len(live["definitions"]["campaigns"]) == 2

    rolled = runtime.request("POST", f"{RULESETS}/1/rollback", headers=ops, body={"basedOn": 2})
    assert rolled.status == 201, rolled.body
    assert rolled.json()["version"] == {
        **rolled.json()["version"],
        "version": 3,
        "source": "rollback",
        "rolledBackFrom": 1,
    }
    assert [(c["id"], c["change"]) for c in rolled.json()["plan"]["campaigns"]] == [(1, "changed"), (2, "removed")]

    history = runtime.request("GET", RULESETS, headers=ops).json()
    assert history["liveVersion"] == 3
    assert [(v["version"], v["source"]) for v in history["versions"]] == [
        (3, "rollback"),
        (2, "publish"),
        (1, "publish"),
    ]
    page = runtime.request("GET", RULESETS, headers=ops, query={"limit": "2"}).json()
    assert [v["version"] for v in page["versions"]] == [3, 2] and page["nextBefore"] == 2
    rest = runtime.request("GET", RULESETS, headers=ops, query={"limit": "2", "before": "2"}).json()
    assert [v["version"] for v in rest["versions"]] == [1] and rest["nextBefore"] is None

    three = runtime.request("GET", f"{RULESETS}/3", headers=ops).json()
    one = runtime.request("GET", f"{RULESETS}/1", headers=ops).json()
    assert three["definitions"] == one["definitions"] and three["live"] and not one["live"]


def test_a_publish_based_on_an_old_version_is_refused(runtime, ops):
    assert runtime.request("POST", RULESETS, headers=ops, body=body(TEN_PERCENT)).status == 201
    stale = runtime.request("POST", RULESETS, headers=ops, body=body(FREE_SHIPPING, basedOn=None))
    assert stale.status == 409 and stale.json()["code"] == "ruleset_changed"
    assert runtime.request("GET", f"{RULESETS}/live", headers=ops).json()["version"] == 1


def test_of_concurrent_publishes_exactly_one_wins(runtime, ops):
    assert runtime.request("POST", RULESETS, headers=ops, body=body(TEN_PERCENT)).status == 201
    for round_ in range(3):
        based_on = runtime.request("GET", f"{RULESETS}/live", headers=ops).json()["version"]

        def publish(n: int, based_on: int = based_on) -> int:
            campaign = {**copy.deepcopy(TEN_PERCENT), "priority": n}
            return int(runtime.request("POST", RULESETS, headers=ops, body=body(campaign, basedOn=based_on)).status)

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = sorted(pool.map(publish, range(6)))
        assert statuses == [201, 409, 409, 409, 409, 409], (round_, statuses)
    history = runtime.request("GET", RULESETS, headers=ops).json()
    assert [v["version"] for v in history["versions"]] == [4, 3, 2, 1]


def test_a_ruleset_that_does_not_compile_is_refused_with_every_fault_and_nothing_is_stored(runtime, ops):
    broken = copy.deepcopy(TEN_PERCENT)
    broken["rules"][0]["condition"] = "session.cartItemTotl >= 100"
    other = copy.deepcopy(FREE_SHIPPING)
    other["rules"][0]["effects"][0]["percent"] = '"all"'
    answer = runtime.request("POST", RULESETS, headers=ops, body=body(broken, other, {"id": 3, "name": "No rules"}))
    assert answer.status == 400, answer.body
    assert answer.json()["code"] == "invalid_ruleset"
    [shape] = answer.json()["errors"]  # a shape fault is found before compiling: the campaign without rules
    assert shape["path"].startswith("campaigns[2]") and shape["campaign"] == "No rules"

    answer = runtime.request("POST", RULESETS, headers=ops, body=body(broken, other))
    assert answer.status == 400, answer.body
    errors = answer.json()["errors"]
    assert {(e["campaign"], e["rule"], e["path"]) for e in errors} == {
        ("Ten percent over 100", 0, "campaigns[0].rules[0].condition"),
        ("Free shipping", 0, "campaigns[1].rules[0].effects[0].percent"),
    }
    assert all(e["code"] and e["message"] for e in errors)
    assert runtime.request("GET", RULESETS, headers=ops).json()["versions"] == []
    missing = runtime.request("GET", f"{RULESETS}/live", headers=ops)
    assert missing.status == 404 and missing.json()["code"] == "no_live_ruleset"


def test_a_management_key_is_refused_on_integration_routes(runtime, ops):
    answer = runtime.request("PUT", "/v2/customer_profiles/x", headers=ops, body={"attributes": {}})
    assert answer.status == 403 and answer.json()["code"] == "forbidden"
    assert runtime.request("GET", "/v1/attributes/customer", headers=ops).status == 403


@pytest.mark.parametrize("scope", [Scope.INTEGRATION, Scope.PUBLIC])
def test_other_keys_are_refused_on_management_routes(runtime, tenant, scope):
    key = runtime.applications().create_key(tenant.application_id, scope, "x").secret
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    for method, path, payload in [
        ("POST", RULESETS, body(TEN_PERCENT)),
        ("POST", f"{RULESETS}/plan", body(TEN_PERCENT)),
        ("GET", RULESETS, None),
        ("GET", f"{RULESETS}/live", None),
        ("GET", f"{RULESETS}/1", None),
        ("POST", f"{RULESETS}/1/rollback", {}),
    ]:
        answer = runtime.request(method, path, headers=headers, body=payload)
        assert answer.status == 403 and answer.json()["code"] == "forbidden", (method, path, answer.body)


def test_another_applications_version_is_not_found(runtime, ops, other_tenant):
    assert runtime.request("POST", RULESETS, headers=ops, body=body(TEN_PERCENT)).status == 201
    theirs = management(runtime, other_tenant)
    for path in (f"{RULESETS}/1", f"{RULESETS}/live"):
        assert runtime.request("GET", path, headers=theirs).status == 404
    rollback = runtime.request("POST", f"{RULESETS}/1/rollback", headers=theirs, body={})
    assert rollback.status == 404 and rollback.json()["code"] == "ruleset_version_not_found"
    assert runtime.request("GET", RULESETS, headers=theirs).json()["versions"] == []
    assert runtime.request("GET", f"{RULESETS}/abc", headers=ops).status == 404


def test_a_publish_is_one_transaction_after_two_reads(runtime, ops, meter):
    assert runtime.request("POST", RULESETS, headers=ops, body=body(TEN_PERCENT)).status == 201
    mark = meter.mark()
    answer = runtime.request("POST", RULESETS, headers=ops, body=body(TEN_PERCENT, FREE_SHIPPING, basedOn=1))
    assert answer.status == 201, answer.body
    calls = [call for call in meter.since(mark) if call.tables == {runtime.table_names["ConfigTable"]}]
    # The pointer, the live version (for the plan), then the version and the pointer in one transaction.
    assert [call.operation for call in calls] == ["GetItem", "GetItem", "TransactWriteItems"]
    assert sum(call.write_units for call in calls) == 4  # two items of at most 1 KB, doubled for a transaction
