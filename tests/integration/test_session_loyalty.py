"""Loyalty points in Talon.One customer sessions, through the local runtime against DynamoDB Local: an open session
answers the points it would add (nothing is written), its close adds them once (a replay adds nothing), a later
session deducts only what the balance holds, and the balances route answers what Talon.One's does, at any
instant, with tiers; another application's program and member are not found."""

from __future__ import annotations

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from patron.dynamo import codec
from patron.loyalty import items
from patron.promotions.management import RulesetInvalidError
from tests.conftest import Tenant, new_tenant
from tests.integration.rulesets import publish

PROGRAM = {
    "id": 1,
    "name": "main",
    "title": "Main program",
    "defaultValidity": "365D",
    "tiers": [{"name": "Silver", "minPoints": 0}, {"name": "Gold", "minPoints": 1000}],
    "timezone": "Europe/Rome",
}
EARN = {
    "id": 20,
    "name": "A point per euro",
    "features": ["loyalty"],
    "rules": [
        {
            "title": "Points on every purchase",
            "condition": "session.cartItemTotal >= 10",
            "effects": [{"type": "addLoyaltyPoints", "programId": 1, "value": "floor(session.total)"}],
        }
    ],
}
REDEEM = {
    "id": 21,
    "name": "Small carts pay with points",
    "features": ["loyalty"],
    "rules": [
        {
            "title": "Pay with points",
            "condition": "session.cartItemTotal < 10",
            "effects": [{"type": "deductLoyaltyPoints", "programId": 1, "value": "500", "name": "Paid with points"}],
        }
    ],
}


def loyalty_tenant(runtime: Any) -> Tenant:
    tenant = new_tenant(runtime)
    definitions = {"settings": {"currency": "EUR"}, "loyaltyPrograms": [PROGRAM], "campaigns": [EARN, REDEEM]}
    publish(runtime, tenant.application_id, definitions)
    return tenant


def session(runtime: Any, tenant: Tenant, session_id: str, customer: str, price: float, state: str = "open") -> Any:
    body = {
        "customerSession": {
            "profileId": customer,
            "state": state,
            "cartItems": [{"sku": "sku-1", "price": price, "quantity": 1}],
        }
    }
    answer = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    return answer.json()


def balances(runtime: Any, tenant: Tenant, customer: str, query: str = "", program: int = 1) -> Any:
    path = f"/v1/loyalty_programs/{program}/profile/{customer}/balances{query}"
    return runtime.request("GET", path, headers=tenant.headers)


def points_effects(answer: dict[str, Any]) -> list[dict[str, Any]]:
    kinds = ("addLoyaltyPoints", "deductLoyaltyPoints")
    return [effect for effect in answer["effects"] if effect["effectType"] in kinds]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_a_close_adds_the_points_an_open_session_announced_and_the_balance_shows_them(runtime):
    tenant, customer, session_id = loyalty_tenant(runtime), new_id("c"), new_id("s")
    opened = session(runtime, tenant, session_id, customer, 123.45)
    [announced] = points_effects(opened)
    assert announced["props"]["value"] == 123
    assert announced["props"]["programId"] == 1 and announced["props"]["recipientIntegrationId"] == customer
    assert announced["props"]["transactionUUID"]
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 0  # tentative only

    closed = session(runtime, tenant, session_id, customer, 123.45, state="closed")
    [added] = points_effects(closed)
    assert added["props"]["value"] == 123
    expiry = datetime.fromisoformat(added["props"]["expiryDate"])
    assert timedelta(days=364) < expiry - datetime.now(UTC) <= timedelta(days=365)
    balance = balances(runtime, tenant, customer, "?includeTiers=true").json()["balance"]
    assert balance["activePoints"] == 123 and balance["pendingPoints"] == 0
    tier = balance["currentTier"]
    assert (tier["id"], tier["name"]) == (1, "Silver")  # basic tiers: no expiry, no downgrade policy
    assert set(tier) == {"id", "name", "startDate"}
    assert timedelta(0) <= datetime.now(UTC) - datetime.fromisoformat(tier["startDate"]) < timedelta(minutes=1)
    assert balance["nextTierName"] == "Gold" and balance["pointsToNextTier"] == 877

    # The entry is keyed by its transaction id: written once.
    entry = runtime.dynamodb_client().get_item(
        TableName=runtime.table_names["LedgersTable"],
        Key=codec.to_item(
            {
                "PK": items.member_pk(tenant.application_id, 1, customer),
                "SK": items.ENTRY_PREFIX + added["props"]["transactionUUID"],
            }
        ),
        ConsistentRead=True,
    )
    assert codec.from_item(entry["Item"])["amount"] == 123

    # A year on, the points have expired, whether or not anything ran meanwhile.
    later = (datetime.now(UTC) + timedelta(days=366)).strftime("%Y-%m-%dT%H:%M:%SZ")
    projected = balances(runtime, tenant, customer, f"?endDate={later}").json()["balance"]
    assert projected["activePoints"] == 0 and projected["expiredPoints"] == 123


def test_a_replayed_close_adds_the_points_once(runtime):
    tenant, customer, session_id = loyalty_tenant(runtime), new_id("c"), new_id("s")
    body = {
        "customerSession": {
            "profileId": customer,
            "state": "closed",
            "cartItems": [{"sku": "sku-1", "price": 40, "quantity": 1}],
        }
    }
    headers = {**tenant.headers, "Idempotency-Key": new_id("k")}
    path = f"/v2/customer_sessions/{session_id}"
    first = runtime.request("PUT", path, headers=headers, body=body)
    replayed = runtime.request("PUT", path, headers=headers, body=body)
    assert first.status == replayed.status == 200
    again = runtime.request("PUT", path, headers=tenant.headers, body=body)  # a second close: refused
    assert again.status == 400
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 40


def test_a_deduction_takes_only_what_the_balance_holds(runtime):
    tenant, customer = loyalty_tenant(runtime), new_id("c")
    session(runtime, tenant, new_id("s"), customer, 300, state="closed")
    spent = session(runtime, tenant, new_id("s"), customer, 5, state="closed")
    [deducted] = points_effects(spent)
    assert deducted["effectType"] == "deductLoyaltyPoints"
    assert deducted["props"]["value"] == 300 and deducted["props"]["name"] == "Paid with points"
    balance = balances(runtime, tenant, customer).json()["balance"]
    assert balance["activePoints"] == 0 and balance["spentPoints"] == 300 and balance["negativePoints"] == 0
    # Nothing left: a deduction takes nothing and answers no effect.
    assert points_effects(session(runtime, tenant, new_id("s"), customer, 5, state="closed")) == []


def test_concurrent_closes_of_one_member_add_exactly_the_points_of_those_that_closed(runtime):
    """Closes racing on one member's ledger: each either closes with its points or answers 409 (nothing
    written); the balance is exactly the points of those that closed."""
    tenant = loyalty_tenant(runtime)
    for _ in range(ROUNDS):
        customer = new_id("c")
        closed = _race(runtime, tenant, customer)
        assert closed >= 1
        assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 10 * closed


ROUNDS = 4


def _race(runtime: Any, tenant: Tenant, customer: str) -> int:
    def close(number: int) -> int:
        body = {
            "customerSession": {
                "profileId": customer,
                "state": "closed",
                "cartItems": [{"sku": "sku-1", "price": 10, "quantity": 1}],
            }
        }
        answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id('s')}", headers=tenant.headers, body=body)
        assert answer.status in (200, 409), answer.body
        return 1 if answer.status == 200 else 0

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(close, range(8)))


def test_an_unknown_program_member_or_another_applications_are_not_found(runtime):
    tenant, other, customer = loyalty_tenant(runtime), loyalty_tenant(runtime), new_id("c")
    session(runtime, tenant, new_id("s"), customer, 50, state="closed")
    assert balances(runtime, tenant, customer, program=2).status == 404
    assert balances(runtime, tenant, "nobody").json()["code"] == "profile_not_found"
    assert balances(runtime, other, customer).status == 404  # the member is the other application's
    assert balances(runtime, tenant, customer, program=0).status in (400, 404)
    bad = balances(runtime, tenant, customer, "?endDate=yesterday")
    assert bad.status == 400 and "query.endDate" in bad.body.decode()


def test_an_event_adds_its_points_at_once(runtime):
    tenant, customer = new_tenant(runtime), new_id("c")
    review = {
        "id": 30,
        "name": "Points for a review",
        "features": ["loyalty"],
        "rules": [
            {
                "title": "A review",
                "condition": 'event.type == "review_written"',
                "effects": [{"type": "addLoyaltyPoints", "programId": 1, "value": "50", "name": "Review"}],
            }
        ],
    }
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [PROGRAM], "campaigns": [review]})
    body = {"type": "review_written", "profileId": customer, "attributes": {}}
    answer = runtime.request("POST", "/v2/events", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    [added] = points_effects(answer.json())
    assert added["props"]["value"] == 50 and added["props"]["transactionUUID"]
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 50


def cancel(runtime: Any, tenant: Tenant, session_id: str) -> Any:
    body = {"customerSession": {"state": "cancelled"}}
    answer = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    return answer.json()


def rollbacks(answer: dict[str, Any]) -> list[tuple[str, Any]]:
    kinds = ("rollbackAddedLoyaltyPoints", "rollbackDeductedLoyaltyPoints")
    return [(e["effectType"], e["props"]["value"]) for e in answer["effects"] if e["effectType"] in kinds]


def tenant_with_policy(runtime: Any, policy: str) -> Tenant:
    tenant = new_tenant(runtime)
    program = {**PROGRAM, "returnPolicy": policy}
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [program], "campaigns": [EARN, REDEEM]})
    return tenant


def test_a_cancel_takes_back_the_points_as_the_return_policy_allows(runtime):
    within, only_pending = tenant_with_policy(runtime, "within_balance"), loyalty_tenant(runtime)
    for tenant, expected, left in ((within, [("rollbackAddedLoyaltyPoints", 100)], 0), (only_pending, [], 100)):
        customer, session_id = new_id("c"), new_id("s")
        session(runtime, tenant, session_id, customer, 100, state="closed")
        assert rollbacks(cancel(runtime, tenant, session_id)) == expected
        assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == left


def test_within_balance_takes_back_only_what_is_left_after_spending(runtime):
    tenant, customer, earning = tenant_with_policy(runtime, "within_balance"), new_id("c"), new_id("s")
    session(runtime, tenant, earning, customer, 800, state="closed")
    session(runtime, tenant, new_id("s"), customer, 5, state="closed")  # spends 500
    assert rollbacks(cancel(runtime, tenant, earning)) == [("rollbackAddedLoyaltyPoints", 300)]
    balance = balances(runtime, tenant, customer).json()["balance"]
    assert balance["activePoints"] == 0 and balance["spentPoints"] == 500


def test_a_cancelled_deduction_gives_the_points_back_and_a_reopened_close_earns_once(runtime):
    tenant, customer, earning, spending = (
        tenant_with_policy(runtime, "within_balance"),
        new_id("c"),
        *(new_id("s") for _ in range(2)),
    )
    session(runtime, tenant, earning, customer, 600, state="closed")
    session(runtime, tenant, spending, customer, 5, state="closed")
    assert rollbacks(cancel(runtime, tenant, spending)) == [("rollbackDeductedLoyaltyPoints", 500)]
    balance = balances(runtime, tenant, customer).json()["balance"]
    assert balance["activePoints"] == 600 and balance["spentPoints"] == 0

    reopened = runtime.request("PUT", f"/v2/customer_sessions/{earning}/reopen", headers=tenant.headers)
    assert reopened.status == 200, reopened.body
    assert rollbacks(reopened.json()) == [("rollbackAddedLoyaltyPoints", 600)]
    session(runtime, tenant, earning, customer, 600, state="closed")
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 600


def test_an_open_session_answers_its_customers_tentative_balances(runtime):
    tenant, customer = loyalty_tenant(runtime), new_id("c")
    session(runtime, tenant, new_id("s"), customer, 200, state="closed")
    body = {
        "customerSession": {"profileId": customer, "cartItems": [{"sku": "sku-1", "price": 50, "quantity": 1}]},
        "responseContent": ["loyalty"],
    }
    answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id('s')}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    program = answer.json()["loyalty"]["programs"]["1"]
    assert (program["id"], program["name"]) == (1, "main")
    ledger = program["ledger"]
    assert ledger["currentBalance"] == 200 and ledger["tentativeCurrentBalance"] == 250
    assert ledger["currentTier"]["name"] == "Silver" and ledger["pointsToNextTier"] == 800
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 200  # nothing written


def test_points_awaiting_an_action_become_active_by_session_or_by_transaction(runtime):
    tenant = new_tenant(runtime)
    program = {**PROGRAM, "defaultPending": "on_action", "defaultValidity": "30D"}
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [program], "campaigns": [EARN]})
    customer, first, second = new_id("c"), new_id("s"), new_id("s")
    session(runtime, tenant, first, customer, 100, state="closed")
    [earned] = points_effects(session(runtime, tenant, second, customer, 50, state="closed"))
    assert earned["props"]["awaitsActivation"] is True and "startDate" not in earned["props"]
    balance = balances(runtime, tenant, customer).json()["balance"]
    assert (balance["activePoints"], balance["pendingPoints"]) == (0, 150)

    path = "/v1/loyalty_programs/1/activate_points"
    by_session = runtime.request("POST", path, headers=tenant.headers, body={"sessionId": first})
    assert by_session.status == 200, by_session.body
    [entry] = by_session.json()["ledgerEntries"]
    assert (entry["amount"], entry["customerProfileID"]) == (100, customer)
    assert entry["expiryDate"] and entry["startDate"]
    again = runtime.request("POST", path, headers=tenant.headers, body={"sessionId": first})
    assert again.json()["ledgerEntries"] == []  # active already: nothing to do

    txn = earned["props"]["transactionUUID"]
    by_transaction = runtime.request("POST", path, headers=tenant.headers, body={"transactionUUIDs": [txn]})
    assert [e["amount"] for e in by_transaction.json()["ledgerEntries"]] == [50]
    balance = balances(runtime, tenant, customer).json()["balance"]
    assert (balance["activePoints"], balance["pendingPoints"]) == (150, 0)

    neither = runtime.request("POST", path, headers=tenant.headers, body={})
    assert neither.status == 400
    unknown = runtime.request("POST", path, headers=tenant.headers, body={"sessionId": "no-such-session"})
    assert unknown.status == 404


def test_a_return_takes_back_the_returned_units_share_and_a_cancel_the_rest(runtime):
    tenant, customer, session_id = tenant_with_policy(runtime, "within_balance"), new_id("c"), new_id("s")
    body = {
        "customerSession": {
            "profileId": customer,
            "state": "closed",
            "cartItems": [{"sku": "sku-1", "price": 25, "quantity": 4}],
        }
    }
    closed = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
    assert [e["props"]["value"] for e in points_effects(closed.json())] == [100]
    path = f"/v2/customer_sessions/{session_id}/returns"
    returned = runtime.request(
        "POST", path, headers=tenant.headers, body={"return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}}
    )
    assert returned.status == 200, returned.body
    assert rollbacks(returned.json()) == [("rollbackAddedLoyaltyPoints", 25)]
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 75
    again = runtime.request(
        "POST", path, headers=tenant.headers, body={"return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}}
    )
    assert rollbacks(again.json()) == [("rollbackAddedLoyaltyPoints", 25)]
    assert rollbacks(cancel(runtime, tenant, session_id)) == [("rollbackAddedLoyaltyPoints", 50)]
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 0


def test_a_profile_update_running_the_rule_engine_reads_and_writes_points(runtime):
    tenant = new_tenant(runtime)
    joined = {
        "id": 31,
        "name": "Points for joining",
        "features": ["loyalty"],
        "rules": [
            {
                "title": "A new profile",
                "condition": 'event.type == "talon_profile_created"',
                "effects": [{"type": "addLoyaltyPoints", "programId": 1, "value": "25", "name": "Welcome"}],
            }
        ],
    }
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [PROGRAM], "campaigns": [EARN, joined]})
    customer = new_id("c")
    path = f"/v2/customer_profiles/{customer}?runRuleEngine=true"
    answer = runtime.request(
        "PUT", path, headers=tenant.headers, body={"attributes": {}, "responseContent": ["loyalty"]}
    )
    assert answer.status == 200, answer.body
    assert [e["props"]["value"] for e in points_effects(answer.json())] == [25]
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 25
    # The answer's `loyalty`: the ledger before the update and with its points (written at once).
    ledger = answer.json()["loyalty"]["programs"]["1"]["ledger"]
    assert (ledger["currentBalance"], ledger["tentativeCurrentBalance"]) == (0, 25)

    event = {"profileId": customer, "type": "visit", "attributes": {}, "responseContent": ["loyalty"]}
    tracked = runtime.request("POST", "/v2/events", headers=tenant.headers, body=event)
    assert tracked.status == 200, tracked.body
    assert tracked.json()["loyalty"]["programs"]["1"]["ledger"]["currentBalance"] == 25


def test_sixteen_concurrent_deductions_never_take_a_balance_below_zero(runtime):
    """Sixteen closes racing to pay 500 points each from a balance of 1,200 (negative balances off): each closes
    with what it could take or answers 409 (nothing written); what was taken is exactly what the balance lost."""
    tenant, customer = loyalty_tenant(runtime), new_id("c")
    session(runtime, tenant, new_id("s"), customer, 1200, state="closed")

    def pay(_: int) -> Decimal:
        body = {
            "customerSession": {
                "profileId": customer,
                "state": "closed",
                "cartItems": [{"sku": "sku-1", "price": 5, "quantity": 1}],
            }
        }
        answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id('s')}", headers=tenant.headers, body=body)
        assert answer.status in (200, 409), answer.body
        if answer.status == 409:
            return Decimal(0)
        return sum((Decimal(str(e["props"]["value"])) for e in points_effects(answer.json())), Decimal(0))

    with ThreadPoolExecutor(16) as pool:
        taken = sum(pool.map(pay, range(16)), Decimal(0))
    balance = balances(runtime, tenant, customer).json()["balance"]
    assert 0 < taken <= 1200
    assert balance["negativePoints"] == 0 and balance["activePoints"] >= 0
    assert Decimal(str(balance["activePoints"])) == 1200 - taken
    assert Decimal(str(balance["spentPoints"])) == taken


GOLD_DISCOUNT = {
    "id": 23,
    "name": "Gold members save 10%",
    "rules": [
        {
            "title": "Gold tier",
            "condition": 'loyaltyTier(1) == "Gold" and loyaltyPoints(1) >= 100',
            "effects": [{"type": "setDiscount", "name": "Gold 10%", "value": "session.total * 0.1"}],
        }
    ],
}


def test_conditions_read_the_customers_points_and_tier(runtime):
    """A campaign for Gold members: it applies once the customer's closes made it Gold, not before, not to an
    anonymous session; a condition naming a program the ruleset lacks is refused when published."""
    tenant = new_tenant(runtime)
    definitions = {"loyaltyPrograms": [PROGRAM], "campaigns": [EARN, GOLD_DISCOUNT]}
    publish(runtime, tenant.application_id, definitions)
    customer = new_id("c")

    def discounts(answer: dict[str, Any]) -> list[Any]:
        return [e["props"]["value"] for e in answer["effects"] if e["effectType"] == "setDiscount"]

    assert discounts(session(runtime, tenant, new_id("s"), customer, 1200, state="closed")) == []  # Silver before
    assert discounts(session(runtime, tenant, new_id("s"), customer, 50)) == [5]  # Gold now
    assert discounts(session(runtime, tenant, new_id("s"), new_id("other"), 50)) == []
    anonymous = {"customerSession": {"cartItems": [{"sku": "sku-1", "price": 50, "quantity": 1}]}}
    answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id('s')}", headers=tenant.headers, body=anonymous)
    assert answer.status == 200 and discounts(answer.json()) == []

    unknown = {**GOLD_DISCOUNT, "rules": [{**GOLD_DISCOUNT["rules"][0], "condition": "loyaltyPoints(9) > 0"}]}  # type: ignore[index]
    with pytest.raises(RulesetInvalidError) as refused:
        publish(runtime, tenant.application_id, {"loyaltyPrograms": [PROGRAM], "campaigns": [unknown]})
    assert [issue.code for issue in refused.value.issues] == ["unknown_program"]


GOLD_FOR_BIG_CARTS = {
    "id": 24,
    "name": "Gold for a month on a big cart",
    "features": ["loyalty"],
    "rules": [
        {
            "title": "Big cart, Gold tier",
            "condition": "session.cartItemTotal >= 500",
            "effects": [{"type": "changeLoyaltyTierLevel", "programId": 1, "tier": "Gold", "expiresIn": "30D"}],
        }
    ],
}


def test_a_rule_moves_a_customer_up_a_tier_at_close_and_only_once(runtime):
    """`changeLoyaltyTierLevel`: an open session announces it, its close gives the tier (held 30 days whatever the
    balance), a later close answers nothing (already Gold), a cancel leaves the tier."""
    tenant = new_tenant(runtime)
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [PROGRAM], "campaigns": [GOLD_FOR_BIG_CARTS]})
    customer, first = new_id("c"), new_id("s")

    def tier_effects(answer: dict[str, Any]) -> list[dict[str, Any]]:
        return [e["props"] for e in answer["effects"] if e["effectType"] == "changeLoyaltyTierLevel"]

    [announced] = tier_effects(session(runtime, tenant, first, customer, 600))
    assert (announced["newTierName"], announced["programId"]) == ("Gold", 1)
    assert balances(runtime, tenant, customer, "?includeTiers=true").json()["balance"]["currentTier"]["name"] == (
        "Silver"
    )
    [moved] = tier_effects(session(runtime, tenant, first, customer, 600, state="closed"))
    assert moved["previousTierName"] == "Silver" and moved["newTierName"] == "Gold"
    expiry = datetime.fromisoformat(moved["expiryDate"])
    assert timedelta(days=29) < expiry - datetime.now(UTC) <= timedelta(days=30)
    tier = balances(runtime, tenant, customer, "?includeTiers=true").json()["balance"]["currentTier"]
    assert tier["name"] == "Gold" and datetime.fromisoformat(tier["expiryDate"]) == expiry

    assert tier_effects(session(runtime, tenant, new_id("s"), customer, 700, state="closed")) == []
    cancel(runtime, tenant, first)
    assert balances(runtime, tenant, customer, "?includeTiers=true").json()["balance"]["currentTier"]["name"] == "Gold"
    later = (expiry + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    after = balances(runtime, tenant, customer, f"?includeTiers=true&endDate={later}").json()["balance"]
    assert after["currentTier"]["name"] == "Silver"


@pytest.mark.parametrize(
    "deliveries",
    sorted(set(itertools.permutations(["close", "close", "cancel", "cancel"]))),
    ids=lambda order: "-".join(order),
)
def test_a_close_and_its_cancel_delivered_twice_in_any_order_add_and_remove_the_points_once(runtime, deliveries):
    """At-least-once delivery: a close and its cancel, each sent twice (with their Idempotency-Keys), in every
    order. Whatever is refused is refused cleanly (4xx, nothing written); the points are added at most once,
    removed at most once, and the balance is what the session's final state says."""
    tenant, customer, session_id = tenant_with_policy(runtime, "unlimited"), new_id("c"), new_id("s")
    keys = {"close": new_id("k"), "cancel": new_id("k")}
    bodies = {
        "close": {
            "customerSession": {
                "profileId": customer,
                "state": "closed",
                "cartItems": [{"sku": "sku-1", "price": 70, "quantity": 1}],
            }
        },
        "cancel": {"customerSession": {"state": "cancelled"}},
    }
    path = f"/v2/customer_sessions/{session_id}"
    for delivery in deliveries:
        headers = {**tenant.headers, "Idempotency-Key": keys[delivery]}
        answer = runtime.request("PUT", path, headers=headers, body=bodies[delivery])
        assert answer.status in (200, 400, 404, 409), answer.body
    state = runtime.request("GET", f"/v1/customer_sessions/{session_id}", headers=tenant.headers)
    final = state.json()["customerSession"]["state"] if state.status == 200 else None
    log = (
        runtime.request(
            "GET", f"/v1/loyalty_programs/1/profile/{customer}/transactions", headers=tenant.headers
        ).json()["data"]
        if final is not None
        else []
    )
    additions = [entry for entry in log if entry["type"] == "addition"]
    subtractions = [entry for entry in log if entry["type"] == "subtraction"]
    assert len(additions) <= 1 and len(subtractions) <= 1
    active = balances(runtime, tenant, customer).json()["balance"]["activePoints"] if additions else 0
    assert active == (70 if final == "closed" else 0)
    assert len(subtractions) == (1 if final == "cancelled" and additions else 0)


def test_points_and_a_tier_change_in_one_close_each_settle_on_their_own(runtime):
    """A close earning points (campaign 20) and moving the customer up (campaign 24): both effects settle, in
    order, in the close's one transaction."""
    tenant = new_tenant(runtime)
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [PROGRAM], "campaigns": [EARN, GOLD_FOR_BIG_CARTS]})
    customer = new_id("c")
    closed = session(runtime, tenant, new_id("s"), customer, 600, state="closed")
    kinds = [(e["effectType"], e["props"].get("value"), e["props"].get("newTierName")) for e in closed["effects"]]
    assert ("addLoyaltyPoints", 600, None) in kinds and ("changeLoyaltyTierLevel", None, "Gold") in kinds
    balance = balances(runtime, tenant, customer, "?includeTiers=true").json()["balance"]
    assert balance["activePoints"] == 600 and balance["currentTier"]["name"] == "Gold"


PER_ITEM = {
    "id": 25,
    "name": "Points per item, gifts aside",
    "features": ["loyalty"],
    "rules": [
        {
            "title": "A point per euro of each line",
            "condition": "session.cartItemTotal > 0",
            "effects": [
                {
                    "type": "addLoyaltyPoints",
                    "programId": 1,
                    "perItem": True,
                    "value": "floor(item.price * item.quantity)",
                    "filter": 'item.sku != "GIFT"',
                }
            ],
        }
    ],
}


def test_points_per_item_are_answered_line_by_line_and_returned_line_by_line(runtime):
    """`perItem`: one addition whose effects name each line's points (`cartItemPosition`); a return takes back the
    returned units of their line only, a cancel the rest."""
    tenant = new_tenant(runtime)
    definition = {**PROGRAM, "returnPolicy": "within_balance"}
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [definition], "campaigns": [PER_ITEM]})
    customer, session_id = new_id("c"), new_id("s")
    cart = [
        {"sku": "SHOE", "price": 10, "quantity": 3},
        {"sku": "BAG", "price": 25.5, "quantity": 1},
        {"sku": "GIFT", "price": 5, "quantity": 1},
    ]
    body = {"customerSession": {"profileId": customer, "state": "closed", "cartItems": cart}}
    closed = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
    assert closed.status == 200, closed.body
    lines = [(e["props"]["cartItemPosition"], e["props"]["value"]) for e in points_effects(closed.json())]
    assert lines == [(0, 30), (1, 25)]
    assert len({e["props"]["transactionUUID"] for e in points_effects(closed.json())}) == 1  # one addition
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 55

    path = f"/v2/customer_sessions/{session_id}/returns"

    def give_back(position: int, quantity: int) -> Any:
        body = {"return": {"returnedCartItems": [{"position": position, "quantity": quantity}]}}
        answer = runtime.request("POST", path, headers=tenant.headers, body=body)
        assert answer.status == 200, answer.body
        return answer.json()

    assert rollbacks(give_back(0, 1)) == [("rollbackAddedLoyaltyPoints", 10)]  # a third of the shoes' 30
    assert rollbacks(give_back(2, 1)) == []  # the gift earned nothing
    assert rollbacks(give_back(1, 1)) == [("rollbackAddedLoyaltyPoints", 25)]
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 20
    assert rollbacks(cancel(runtime, tenant, session_id)) == [("rollbackAddedLoyaltyPoints", 20)]
    assert balances(runtime, tenant, customer).json()["balance"]["activePoints"] == 0
