"""Talon.One customer sessions through the local runtime: effects of the live ruleset, close consuming budgets
exactly once, cancel and reopen giving back exactly what the close took, the documented transitions, 409 on
concurrent writes, tenants apart, and the DynamoDB calls per update."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Tenant, new_tenant
from tests.integration.rulesets import publish

SETTINGS = {"settings": {"currency": "EUR", "timezone": "Europe/Rome"}}
TEN_PERCENT = {
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


def limited(redemptions: int) -> dict[str, Any]:
    """5 off a cart holding the LIMITED item, `redemptions` closed sessions in all."""
    return {
        "id": 2,
        "name": "Limited five off",
        "limits": [{"action": "setDiscountEffect", "limit": redemptions}],
        "rules": [
            {
                "title": "Holds the limited item",
                "condition": 'any(items, item.sku == "LIMITED")',
                "effects": [{"type": "setDiscount", "name": "5 off", "value": 5}],
            }
        ],
    }


def cart(*items: tuple[str, int, int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "price": price, "quantity": quantity} for sku, price, quantity in items]


def put(runtime: Any, tenant: Tenant, session_id: str, session: dict[str, Any], **query: str) -> Any:
    body = {"customerSession": session, "responseContent": ["customerSession", "customerProfile", "ruleFailureReasons"]}
    return runtime.request(
        "PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body, query=query or None
    )


def discounts(answer: Any) -> list[tuple[int, str, Decimal]]:
    return [
        (effect["campaignId"], effect["effectType"], Decimal(str(effect["props"]["value"])))
        for effect in answer.json()["effects"]
        if effect["effectType"] in ("setDiscount", "rollbackDiscount")
    ]


def new_id() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def test_a_session_gets_the_live_campaigns_effects_and_is_stored_with_them(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [TEN_PERCENT]})
    session_id = new_id()
    answer = put(runtime, tenant, session_id, {"profileId": "p-1", "cartItems": cart(("shoe", 60, 2))})
    assert answer.status == 200, answer.body
    assert discounts(answer) == [(1, "setDiscount", Decimal("12"))]
    state = answer.json()["customerSession"]
    assert (state["state"], state["total"], state["cartItemTotal"], state["updateCount"]) == ("open", 120, 120, 1)
    assert state["firstSession"] is True
    assert answer.json()["customerProfile"]["integrationId"] == "p-1"

    read = runtime.request("GET", f"/v2/customer_sessions/{session_id}", headers=tenant.headers)
    assert read.status == 200
    assert read.json()["customerSession"]["cartItems"][0]["sku"] == "shoe"
    assert discounts(read) == [(1, "setDiscount", Decimal("12"))]

    smaller = put(runtime, tenant, session_id, {"cartItems": cart(("shoe", 60, 1))})
    assert discounts(smaller) == []
    assert smaller.json()["customerSession"]["updateCount"] == 2
    assert smaller.json()["customerSession"]["profileId"] == "p-1"  # omitted: kept


def test_without_a_published_ruleset_a_session_is_stored_and_has_no_effects(runtime, tenant):
    session_id = new_id()
    answer = put(runtime, tenant, session_id, {"cartItems": cart(("shoe", 60, 2))})
    assert answer.status == 200, answer.body
    assert answer.json()["effects"] == []
    assert runtime.request("GET", f"/v2/customer_sessions/{session_id}", headers=tenant.headers).status == 200


def test_a_dry_update_decides_and_writes_nothing(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [TEN_PERCENT]})
    session_id = new_id()
    answer = put(runtime, tenant, session_id, {"cartItems": cart(("shoe", 60, 2)), "state": "closed"}, dry="true")
    assert answer.status == 200, answer.body
    assert discounts(answer) == [(1, "setDiscount", Decimal("12"))]
    assert runtime.request("GET", f"/v2/customer_sessions/{session_id}", headers=tenant.headers).status == 404


def test_close_consumes_the_budget_and_cancel_gives_it_back(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [limited(1)]})
    first, second = new_id(), new_id()
    closed = put(runtime, tenant, first, {"cartItems": cart(("LIMITED", 20, 1)), "state": "closed"})
    assert discounts(closed) == [(2, "setDiscount", Decimal("5"))]

    refused = put(runtime, tenant, second, {"cartItems": cart(("LIMITED", 20, 1))})
    assert discounts(refused) == []
    reasons = refused.json()["ruleFailureReasons"]
    assert [(r["campaignID"], r["details"]) for r in reasons] == [(2, "CampaignLimitReached")]

    cancelled = put(runtime, tenant, first, {"state": "cancelled"})
    assert cancelled.status == 200, cancelled.body
    assert discounts(cancelled) == [(2, "rollbackDiscount", Decimal("5"))]
    read = runtime.request("GET", f"/v2/customer_sessions/{first}", headers=tenant.headers).json()
    assert read["customerSession"]["state"] == "cancelled" and read["effects"] == []

    again = put(runtime, tenant, second, {"cartItems": cart(("LIMITED", 20, 1)), "state": "closed"})
    assert discounts(again) == [(2, "setDiscount", Decimal("5"))]


def test_closing_counts_on_the_profile_and_reopening_takes_it_back(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [TEN_PERCENT]})
    session_id, profile_id = new_id(), f"p-{uuid.uuid4().hex[:8]}"
    closed = put(
        runtime, tenant, session_id, {"profileId": profile_id, "cartItems": cart(("shoe", 60, 2)), "state": "closed"}
    )
    assert closed.status == 200, closed.body
    profile = closed.json()["customerProfile"]
    assert (profile["closedSessions"], Decimal(str(profile["totalSales"]))) == (1, Decimal("108"))

    reopened = runtime.request("PUT", f"/v2/customer_sessions/{session_id}/reopen", headers=tenant.headers)
    assert reopened.status == 200, reopened.body
    assert [(e["effectType"], e["props"]["value"]) for e in reopened.json()["effects"]] == [("rollbackDiscount", 12)]
    inventory = runtime.request(
        "GET", f"/v1/customer_profiles/{profile_id}/inventory", headers=tenant.headers, query={"profile": "true"}
    ).json()["profile"]
    assert (inventory["closedSessions"], inventory["totalSales"]) == (0, 0)

    # Open again: it evaluates and may close again, counted once more.
    closed_again = put(runtime, tenant, session_id, {"state": "closed"})
    assert discounts(closed_again) == [(1, "setDiscount", Decimal("12"))]
    assert closed_again.json()["customerProfile"]["closedSessions"] == 1


@pytest.mark.parametrize(
    ("steps", "wanted"),
    [
        (["closed"], "open"),
        (["closed", "cancelled"], "closed"),
        (["open", "cancelled"], "open"),
        (["closed", "cancelled"], "cancelled"),
    ],
)
def test_only_the_documented_transitions(runtime, tenant, steps, wanted):
    session_id = new_id()
    for state in steps:
        assert put(runtime, tenant, session_id, {"cartItems": cart(("a", 1, 1)), "state": state}).status == 200
    refused = put(runtime, tenant, session_id, {"state": wanted})
    assert refused.status == 400, refused.body
    assert [(e["path"], e["code"]) for e in refused.json()["errors"]] == [
        ("customerSession.state", "invalid_state_transition")
    ]


def test_an_open_session_does_not_reopen(runtime, tenant):
    session_id = new_id()
    put(runtime, tenant, session_id, {"cartItems": cart(("a", 1, 1))})
    refused = runtime.request("PUT", f"/v2/customer_sessions/{session_id}/reopen", headers=tenant.headers)
    assert refused.status == 400
    missing = runtime.request("PUT", f"/v2/customer_sessions/{new_id()}/reopen", headers=tenant.headers)
    assert missing.status == 404


def test_another_applications_session_is_a_404(runtime, tenant, other_tenant):
    session_id = new_id()
    put(runtime, tenant, session_id, {"cartItems": cart(("a", 1, 1))})
    for method, path in (("GET", ""), ("PUT", "/reopen")):
        answer = runtime.request(method, f"/v2/customer_sessions/{session_id}{path}", headers=other_tenant.headers)
        assert answer.status == 404, (method, answer.body)
    # Its own session of the same id is another session.
    mine = put(runtime, other_tenant, session_id, {"cartItems": cart(("b", 2, 1))})
    assert mine.json()["customerSession"]["cartItems"][0]["sku"] == "b"


def test_hostile_bodies_answer_every_wrong_field_at_once(runtime, tenant):
    body = {
        "customerSession": {
            "state": "returned",
            "cartItems": [{"sku": "", "quantity": 0, "price": "12"}],
            "couponCodes": "SUMMER",
            "nope": 1,
        }
    }
    answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id()}", headers=tenant.headers, body=body)
    assert answer.status == 400, answer.body
    paths = {error["path"] for error in answer.json()["errors"]}
    assert {"customerSession.state", "customerSession.couponCodes", "customerSession.nope"} <= paths
    assert any(path.startswith("customerSession.cartItems[0]") for path in paths)


def test_too_many_units_are_refused(runtime, tenant):
    items = [{"sku": f"s{i}", "price": 1, "quantity": 10_000} for i in range(2)]
    answer = put(runtime, tenant, new_id(), {"cartItems": items})
    assert answer.status == 400
    assert answer.json()["errors"][0]["code"] == "quantity_too_large"


ROUNDS = 30  # the issue's figure; each round is a fresh application, so no round sees another's counters


def test_sixteen_sessions_closing_at_once_honour_a_budget_of_five_redemptions(runtime):
    for _ in range(ROUNDS):
        tenant = new_tenant(runtime)
        publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [limited(5)]})
        ids = [new_id() for _ in range(16)]

        def close(session_id: str, tenant: Tenant = tenant) -> Any:
            return put(runtime, tenant, session_id, {"cartItems": cart(("LIMITED", 20, 1)), "state": "closed"})

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(close, ids))
        assert all(answer.status in (200, 409) for answer in answers), [a.body for a in answers]
        honoured = [answer for answer in answers if answer.status == 200 and discounts(answer)]
        assert len(honoured) == 5
        # Every closed session's stored effects agree with what it was answered.
        closed = [a for a in answers if a.status == 200]
        assert all(a.json()["customerSession"]["state"] == "closed" for a in closed)


def test_sixteen_updates_of_one_session_lose_nothing(runtime, tenant):
    session_id = new_id()
    put(runtime, tenant, session_id, {"cartItems": cart(("a", 1, 1))})

    def update(n: int) -> Any:
        return put(runtime, tenant, session_id, {"attributes": {f"k{n}": n}})

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(update, range(16)))
    assert {answer.status for answer in answers} <= {200, 409}
    won = [n for n, answer in enumerate(answers) if answer.status == 200]
    assert won
    final = runtime.request("GET", f"/v2/customer_sessions/{session_id}", headers=tenant.headers).json()
    assert final["customerSession"]["updateCount"] == 1 + len(won)
    assert final["customerSession"]["attributes"] == {f"k{n}": n for n in won}
    for answer in answers:
        if answer.status == 409:
            assert answer.json()["code"] == "session_conflict"


def test_an_update_is_one_batch_read_and_one_write(runtime, tenant, meter):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [TEN_PERCENT, limited(100)]})
    session_id = new_id()
    put(runtime, tenant, session_id, {"profileId": "p-meter", "cartItems": cart(("LIMITED", 60, 2))})
    meter.reset()
    answer = put(runtime, tenant, session_id, {"cartItems": cart(("LIMITED", 60, 3))})
    assert answer.status == 200
    assert [call.operation for call in meter.calls] == ["BatchGetItem", "PutItem"]
    meter.reset()
    closed = put(runtime, tenant, session_id, {"state": "closed", "cartItems": cart(("LIMITED", 60, 3))})
    assert closed.status == 200
    assert [call.operation for call in meter.calls] == ["BatchGetItem", "TransactWriteItems"]


PER_SHOE = {
    "id": 3,
    "name": "Shoes three off",
    "limits": [{"action": "setDiscount", "limit": 100}],
    "rules": [
        {
            "title": "Three off each pair",
            "condition": 'any(items, item.category == "shoes")',
            "effects": [
                {
                    "type": "setDiscountPerItem",
                    "name": "3 off",
                    "amount": "3 * item.quantity",
                    "filter": 'item.category == "shoes"',
                }
            ],
        }
    ],
}


def test_a_return_rolls_back_the_returned_units_discount_and_gives_its_budget_back(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [PER_SHOE]})
    session_id, profile_id = new_id(), f"p-{uuid.uuid4().hex[:8]}"
    items = [
        {"sku": "RUN", "price": 50, "quantity": 3, "category": "shoes"},
        {"sku": "SOCK", "price": 5, "quantity": 1},
    ]
    closed = put(runtime, tenant, session_id, {"profileId": profile_id, "cartItems": items, "state": "closed"})
    assert [(e["effectType"], e["props"]["value"]) for e in closed.json()["effects"]] == [("setDiscountPerItem", 9)]
    assert closed.json()["customerProfile"]["totalSales"] == 146

    body = {"return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}, "responseContent": ["customerSession"]}
    headers = {**tenant.headers, "Idempotency-Key": uuid.uuid4().hex}
    returned = runtime.request("POST", f"/v2/customer_sessions/{session_id}/returns", headers=headers, body=body)
    assert returned.status == 200, returned.body
    assert [(e["effectType"], e["props"]["value"]) for e in returned.json()["effects"]] == [("rollbackDiscount", 3)]
    state = returned.json()["customerSession"]
    assert state["state"] == "partially_returned"
    assert (state["cartItems"][0]["returnedQuantity"], state["cartItems"][0]["remainingQuantity"]) == (1, 2)
    # A retry under the same key answers the same and returns nothing more.
    again = runtime.request("POST", f"/v2/customer_sessions/{session_id}/returns", headers=headers, body=body)
    assert again.json() == returned.json()
    read = runtime.request("GET", f"/v2/customer_sessions/{session_id}", headers=tenant.headers).json()
    assert [(e["effectType"], e["props"]["value"]) for e in read["effects"]] == [("setDiscountPerItem", 6)]
    inventory = runtime.request(
        "GET", f"/v1/customer_profiles/{profile_id}/inventory", headers=tenant.headers, query={"profile": "true"}
    ).json()["profile"]
    assert inventory["totalSales"] == 99  # 146 - (50 - 3)

    too_many = {"return": {"returnedCartItems": [{"position": 0, "quantity": 3}]}}
    refused = runtime.request(
        "POST", f"/v2/customer_sessions/{session_id}/returns", headers=tenant.headers, body=too_many
    )
    assert refused.status == 400
    assert refused.json()["errors"][0]["code"] == "too_many_units"

    cancelled = put(runtime, tenant, session_id, {"state": "cancelled"})
    assert [(e["effectType"], e["props"]["value"]) for e in cancelled.json()["effects"]] == [("rollbackDiscount", 6)]


def test_a_closed_session_is_one_of_the_customers_orders(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [TEN_PERCENT]})
    session_id, profile_id = new_id(), f"p-{uuid.uuid4().hex[:8]}"
    put(runtime, tenant, session_id, {"profileId": profile_id, "cartItems": cart(("shoe", 60, 2)), "state": "closed"})
    order = runtime.request("GET", f"/v1/orders/{session_id}", headers=tenant.headers)
    assert order.status == 200, order.body
    body = order.json()
    assert (body["customerId"], body["amount"], body["currency"], body["state"]) == (profile_id, 108, "EUR", "sale")
    customer = runtime.request("GET", f"/v1/customers/{profile_id}", headers=tenant.headers).json()
    assert (customer["stats"]["ordersCount"], customer["stats"]["totalSales"]) == (1, 108)

    put(runtime, tenant, session_id, {"state": "cancelled"})
    assert runtime.request("GET", f"/v1/orders/{session_id}", headers=tenant.headers).json()["state"] == "cancelled"
    customer = runtime.request("GET", f"/v1/customers/{profile_id}", headers=tenant.headers).json()
    assert (customer["stats"]["ordersCount"], customer["stats"]["totalSales"]) == (0, 0)
    assert customer["stats"]["lastOrderAt"] is None


def test_an_order_the_shop_sent_itself_is_left_alone(runtime, tenant):
    session_id, profile_id = new_id(), f"p-{uuid.uuid4().hex[:8]}"
    sent = {"customerId": profile_id, "amount": 99, "createdAt": "2026-12-01T10:00:00Z", "status": "paid"}
    assert runtime.request("PUT", f"/v1/orders/{session_id}", headers=tenant.headers, body=sent).status == 200
    closed = put(
        runtime, tenant, session_id, {"profileId": profile_id, "cartItems": cart(("a", 10, 1)), "state": "closed"}
    )
    assert closed.status == 200, closed.body
    order = runtime.request("GET", f"/v1/orders/{session_id}", headers=tenant.headers).json()
    assert order["amount"] == 99
    customer = runtime.request("GET", f"/v1/customers/{profile_id}", headers=tenant.headers).json()
    assert customer["stats"]["ordersCount"] == 1


BIG_SPENDER = {
    "id": 7,
    "name": "Big spender",
    "tags": ["vip"],
    "rules": [
        {
            "title": "Carts of 200 or more",
            "condition": "session.cartItemTotal >= 200",
            "effects": [
                {"type": "updateAttribute", "target": "profile", "attribute": "bigSpender", "value": "true"},
                {"type": "updateAttribute", "target": "session", "attribute": "flaggedAt", "value": "time.instant"},
                {
                    "type": "triggerWebhook",
                    "webhookId": 9,
                    "webhookName": "notify-crm",
                    "payload": {"session": "${session.integrationId}", "total": "${session.total}"},
                },
            ],
        }
    ],
}


def outbox_webhooks(runtime: Any, application_id: int) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    items = runtime.dynamodb_client().scan(TableName=runtime.table_names["OutboxTable"]).get("Items", [])
    records = [{name: TypeDeserializer().deserialize(value) for name, value in item.items()} for item in items]
    return [r for r in records if r["kind"] == "webhook" and r["PK"].startswith(f"APP#{application_id}#")]


def test_profile_attributes_and_webhooks_of_rules_become_real_at_close(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [BIG_SPENDER]})
    session_id, customer = new_id(), f"p-{uuid.uuid4().hex[:8]}"
    opened = put(runtime, tenant, session_id, {"profileId": customer, "cartItems": cart(("tv", 250, 1))})
    assert [e["effectType"] for e in opened.json()["effects"]] == [
        "updateAttribute",
        "updateAttribute",
        "triggerWebhook",
    ]
    # Open: the session's own attribute is set (a time, stored as its ISO text); the profile and outbox wait.
    assert opened.json()["customerSession"]["attributes"]["flaggedAt"].endswith("Z")
    assert "bigSpender" not in opened.json()["customerProfile"]["attributes"]
    assert outbox_webhooks(runtime, tenant.application_id) == []

    closed = put(runtime, tenant, session_id, {"state": "closed"})
    assert closed.status == 200, closed.body
    assert closed.json()["customerProfile"]["attributes"]["bigSpender"] is True
    (record,) = outbox_webhooks(runtime, tenant.application_id)
    assert record["customerId"] == customer
    assert record["payload"]["body"] == {"session": session_id, "total": Decimal(250)}
    assert record["payload"]["webhookName"] == "notify-crm"


def test_triggered_campaigns_are_answered_in_talon_ones_shape(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [TEN_PERCENT, BIG_SPENDER]})
    body = {"customerSession": {"cartItems": cart(("shoe", 60, 2))}, "responseContent": ["triggeredCampaigns"]}
    answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id()}", headers=tenant.headers, body=body)
    (campaign,) = answer.json()["triggeredCampaigns"]
    assert (campaign["id"], campaign["name"], campaign["state"], campaign["applicationId"]) == (
        1,
        "Ten percent over 100",
        "enabled",
        tenant.application_id,
    )
    assert campaign["frontendState"] == "running" and campaign["type"] == "advanced"


def test_campaign_eligibility_says_why_each_campaign_did_or_did_not_apply(runtime, tenant):
    first = {**TEN_PERCENT, "id": 3, "evaluationGroup": "one"}
    second = {**TEN_PERCENT, "id": 4, "name": "Also ten percent", "evaluationGroup": "one"}
    disabled = {**BIG_SPENDER, "state": "disabled"}
    groups = [{"name": "one", "mode": "listOrder"}]
    campaigns = [first, second, limited(0), disabled, BIG_SPENDER | {"id": 8}]
    publish(runtime, tenant.application_id, {**SETTINGS, "evaluationGroups": groups, "campaigns": campaigns})
    session = {"cartItems": cart(("LIMITED", 60, 2))}
    body = {"customerSession": session, "responseContent": ["campaignEligibility"]}
    path = f"/v2/customer_sessions/{new_id()}"
    refused = runtime.request("PUT", path, headers=tenant.headers, body=body)
    assert refused.status == 400 and refused.json()["errors"][0]["path"] == "responseContent"
    answer = runtime.request("PUT", path, headers=tenant.headers, body=body, query={"dry": "true"})
    assert answer.status == 200, answer.body
    statuses = {
        entry["campaignId"]: (entry["status"], entry["eligible"]) for entry in answer.json()["campaignEligibility"]
    }
    assert statuses == {
        3: ("applied", True),
        4: ("notChosen", True),
        2: ("limitReached", False),
        7: ("disabled", False),
        8: ("conditionsNotMet", False),
    }


def test_values_dynamodb_cannot_hold_are_400_with_their_paths_and_nothing_is_written(runtime, tenant):
    session_id = new_id()
    huge = {"cartItems": [{"sku": "a", "quantity": 1, "price": 1e200}], "attributes": {"n": 1e300}}
    answer = put(runtime, tenant, session_id, huge)
    assert answer.status == 400
    paths = {issue["path"] for issue in answer.json()["errors"]}
    assert paths == {"customerSession.cartItems[0].price", "customerSession.attributes.n"}
    # Each price fits, but their exact total needs more than 28 significant digits.
    items = [{"sku": "a", "quantity": 1, "price": 1e40}, {"sku": "b", "quantity": 1, "price": 0.01}]
    mixed = put(runtime, tenant, session_id, {"cartItems": items})
    assert mixed.status == 400 and mixed.json()["errors"][0]["code"] == "total_out_of_range"
    assert runtime.request("GET", f"/v2/customer_sessions/{session_id}", headers=tenant.headers).status == 404


def test_each_call_answers_talon_ones_built_in_event_and_the_returns(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [TEN_PERCENT]})
    session_id, path = new_id(), "/v2/customer_sessions/{}"
    content = ["event", "previousReturns"]

    def update(session: dict[str, Any]) -> Any:
        body = {"customerSession": session, "responseContent": content}
        return runtime.request("PUT", path.format(session_id), headers=tenant.headers, body=body)

    created = update({"profileId": "p-events", "cartItems": cart(("shoe", 60, 2))})
    assert created.json()["event"]["type"] == "talon_session_created"
    assert created.json()["event"]["sessionId"] == session_id
    assert [e["effectType"] for e in created.json()["event"]["effects"]] == ["setDiscount"]
    assert update({"attributes": {"a": 1}}).json()["event"]["type"] == "talon_session_updated"
    assert update({"state": "closed"}).json()["event"]["type"] == "talon_session_closed"
    returned = runtime.request(
        "POST",
        path.format(session_id) + "/returns",
        headers=tenant.headers,
        body={"return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}, "responseContent": content},
    )
    state = returned.json()
    assert state["event"]["type"] == "talon_session_partially_returned"
    assert state["return"]["returnedCartItems"] == [{"position": 0, "quantity": 1}]
    assert state["return"]["sessionIntegrationId"] == session_id and state["previousReturns"] == []
    revoked = update({"state": "cancelled"}).json()
    assert revoked["event"]["type"] == "talon_session_revoked"
    assert [r["id"] for r in revoked["previousReturns"]] == [state["return"]["id"]]
