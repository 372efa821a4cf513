"""Every feature a session reads before deciding, in one campaign: a catalog item's attribute, a count of past
events, an audience its effect joins and a loyalty ledger its effect credits. Each feature's keys ride in the same
BatchGetItem (under one IAM statement per table, as AWS authorises a batch), so an update is still one read and one
write, and the close one read and one transaction that writes the membership and the points together."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import new_tenant
from tests.integration.item_catalogs import add, create_catalog, sync
from tests.integration.rulesets import SETTINGS, publish

PROGRAM = {"id": 1, "name": "main", "title": "Main program", "defaultValidity": "365D", "timezone": "Europe/Rome"}


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def campaign(audience_id: int) -> dict[str, Any]:
    condition = 'count(items, item.attributes.color == "red") >= 1 and eventCount("review_written", 7) >= 1'
    effects = [
        {"type": "setDiscount", "name": "reviewer", "value": "5"},
        {"type": "addToAudience", "audienceId": audience_id},
        {"type": "addLoyaltyPoints", "programId": 1, "value": "10"},
    ]
    return {
        "id": 1,
        "name": "Red reviewers",
        "features": ["loyalty"],
        "rules": [{"title": "r", "condition": condition, "effects": effects}],
    }


def put(runtime: Any, headers: dict[str, str], session_id: str, session: dict[str, Any]) -> dict[str, Any]:
    answer = runtime.request(
        "PUT", f"/v2/customer_sessions/{session_id}", headers=headers, body={"customerSession": session}
    )
    assert answer.status == 200, answer.body
    return answer.json()


def test_catalog_event_counts_audiences_and_ledgers_share_the_sessions_one_read(runtime, meter):
    tenant = new_tenant(runtime)
    catalog = create_catalog(runtime, tenant)
    assert sync(runtime, tenant, catalog, add("RED-1", 40, attributes={"color": "red"})).status == 200
    created = runtime.request("POST", "/v2/audiences", headers=tenant.headers, body={"name": "Reviewers"})
    assert created.status == 201, created.body
    audience = int(created.json()["id"])
    definitions = {"settings": SETTINGS, "loyaltyPrograms": [PROGRAM], "campaigns": [campaign(audience)]}
    publish(runtime, tenant.application_id, definitions)
    customer, session_id = uid("c"), uid("s")
    review = {"type": "review_written", "profileId": customer, "attributes": {}}
    assert runtime.request("POST", "/v2/events", headers=tenant.headers, body=review).status == 200
    cart = [{"sku": "RED-1", "quantity": 1}]
    put(runtime, tenant.headers, uid("warm"), {"profileId": uid("w"), "cartItems": cart})  # the instance knows it

    mark = meter.mark()
    opened = put(runtime, tenant.headers, session_id, {"profileId": customer, "cartItems": cart})
    calls = [call for call in meter.since(mark) if meter.function_of(call) == "SessionsFunction"]
    assert [call.operation for call in calls] == ["BatchGetItem", "PutItem"]
    kinds = sorted(effect["effectType"] for effect in opened["effects"])
    assert kinds == ["addLoyaltyPoints", "addToAudience", "setDiscount"]

    mark = meter.mark()
    put(runtime, tenant.headers, session_id, {"state": "closed"})
    calls = [call for call in meter.since(mark) if meter.function_of(call) == "SessionsFunction"]
    assert [call.operation for call in calls] == ["BatchGetItem", "TransactWriteItems"]

    inventory = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory", headers=tenant.headers, query={"profile": "true"}
    ).json()
    assert [one["id"] for one in inventory["profile"]["audienceMemberships"]] == [audience]
    balance = runtime.request(
        "GET", f"/v1/loyalty_programs/1/profile/{customer}/balances", headers=tenant.headers
    ).json()["balance"]
    assert balance["activePoints"] == 10
