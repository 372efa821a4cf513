"""A member's points, transactions and expirations through the local runtime against DynamoDB Local: after real
closes, deductions, cancels and expiries, the routes list what the ledger holds (active, pending, expired), every
entry newest first (paged, by subledger, origin and dates) and every upcoming expiry; unknown programs, profiles
and another application's members are not found; bad query values are refused by name."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from patron.dynamo import codec
from patron.loyalty import items
from tests.conftest import Tenant, new_tenant
from tests.integration.rulesets import publish
from tests.integration.test_loyalty_management import management
from tests.integration.test_session_loyalty import EARN, PROGRAM, REDEEM, cancel, new_id, session

LATER_BEAUTY = {
    "id": 22,
    "name": "Beauty points, a month later",
    "features": ["loyalty"],
    "rules": [
        {
            "title": "Beauty points on big carts",
            "condition": "session.cartItemTotal >= 100",
            "effects": [
                {
                    "type": "addLoyaltyPoints",
                    "programId": 1,
                    "value": "5",
                    "subledger": "beauty",
                    "pending": "30D",
                    "name": "Beauty points",
                }
            ],
        }
    ],
}


def history_tenant(runtime: Any, **program: Any) -> Tenant:
    tenant = new_tenant(runtime)
    definition = {**PROGRAM, "subledgers": ["beauty"], "returnPolicy": "within_balance", **program}
    campaigns = [EARN, REDEEM, LATER_BEAUTY]
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [definition], "campaigns": campaigns})
    return tenant


def get(runtime: Any, tenant: Tenant, customer: str, route: str, program: Any = 1, **query: str) -> Any:
    path = f"/v1/loyalty_programs/{program}/profile/{customer}/{route}"
    return runtime.request("GET", path, headers=tenant.headers, query=query or None)


def listed(runtime: Any, tenant: Tenant, customer: str, route: str, **query: str) -> list[dict[str, Any]]:
    answer = get(runtime, tenant, customer, route, **query)
    assert answer.status == 200, answer.body
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def added(answer: dict[str, Any]) -> dict[str, str]:
    """The transaction ids of a close's points effects, by subledger."""
    return {
        effect["props"].get("subLedgerId", ""): effect["props"]["transactionUUID"]
        for effect in answer["effects"]
        if effect["effectType"] in ("addLoyaltyPoints", "deductLoyaltyPoints")
    }


def test_points_transactions_and_expirations_of_a_member_after_earning_and_spending(runtime):
    tenant, customer = history_tenant(runtime), new_id("c")
    first, second, third = new_id("s1"), new_id("s2"), new_id("s3")
    session(runtime, tenant, first, customer, 100, state="closed")  # 100 points, and 5 beauty points in 30 days
    earning = session(runtime, tenant, second, customer, 600, state="closed")  # 600, and 5 more beauty points
    session(runtime, tenant, third, customer, 5, state="closed")  # pays 500: the 100 expiring first, then 400

    log = listed(runtime, tenant, customer, "transactions")
    assert [(e["type"], e["amount"], e["subledgerId"]) for e in log[:1]] == [("subtraction", 500, "")]
    assert log[0]["customerSessionId"] == third and log[0]["name"] == "Paid with points"
    assert (log[0]["startDate"], log[0]["expiryDate"]) == ("immediate", "unlimited") and "flags" not in log[0]
    assert sorted((e["customerSessionId"], e["subledgerId"], e["amount"]) for e in log[1:]) == sorted(
        [(first, "", 100), (first, "beauty", 5), (second, "", 600), (second, "beauty", 5)]
    )
    created = [datetime.fromisoformat(e["created"]) for e in log]
    assert created == sorted(created, reverse=True)
    assert len({e["id"] for e in log}) == len(log) == 5 and all(isinstance(e["id"], int) for e in log)
    beauty = [e for e in log if e["subledgerId"] == "beauty"]
    assert all(e["type"] == "addition" and e["startDate"] > e["created"] for e in beauty)

    # Paging, subledger, origin and dates.
    pages = [listed(runtime, tenant, customer, "transactions", pageSize="2", skip=str(n)) for n in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 2, 1] and [e for p in pages for e in p] == log
    assert get(runtime, tenant, customer, "transactions", pageSize="2").json()["hasMore"] is True
    assert get(runtime, tenant, customer, "transactions", pageSize="2", skip="3").json()["hasMore"] is False
    assert listed(runtime, tenant, customer, "transactions", subledgerId="beauty") == beauty
    assert listed(runtime, tenant, customer, "transactions", subledgerId="") == [e for e in log if e not in beauty]
    assert listed(runtime, tenant, customer, "transactions", loyaltyTransactionType="session") == log
    assert listed(runtime, tenant, customer, "transactions", loyaltyTransactionType="manual") == []
    of_second = [e for e in log if e["customerSessionId"] == second]
    since = listed(runtime, tenant, customer, "transactions", startDate=of_second[0]["created"])
    assert [e["customerSessionId"] for e in since] == [third, second, second]
    until = listed(runtime, tenant, customer, "transactions", endDate=of_second[0]["created"])
    assert {e["customerSessionId"] for e in until} == {first, second}

    # Points: what is left of each addition, by status.
    [active] = listed(runtime, tenant, customer, "points")
    assert active["transactionUUID"] == added(earning)[""] and active["amount"] == 200
    assert (active["customerSessionId"], active["subledgerId"], active["programId"]) == (second, "", 1)
    assert active["name"] == "Points on every purchase" and active["id"] == of_second_main_id(log, second)
    pending = listed(runtime, tenant, customer, "points", status="pending")
    assert [(p["customerSessionId"], p["amount"], p["subledgerId"]) for p in pending] == [
        (first, 5, "beauty"),
        (second, 5, "beauty"),
    ]
    assert listed(runtime, tenant, customer, "points", subledgerId="beauty") == []
    assert listed(runtime, tenant, customer, "points", status="pending", subledgerId="beauty", skip="1") == pending[1:]
    assert listed(runtime, tenant, customer, "points", status="expired") == []

    # Every upcoming expiry, soonest first: the main lot, then each beauty lot (a month later, then a year).
    expirations = listed(runtime, tenant, customer, "expirations")
    assert [(e["subledgerId"], e["points"]) for e in expirations] == [("", 200), ("beauty", 5), ("beauty", 5)]
    assert expirations[0]["expiryDate"] == active["expiryDate"]
    assert [e["expiryDate"] for e in expirations] == sorted(e["expiryDate"] for e in expirations)
    assert listed(runtime, tenant, customer, "expirations", subledgerId="beauty") == expirations[1:]


def of_second_main_id(log: list[dict[str, Any]], session_id: str) -> int:
    [entry] = [e for e in log if e["customerSessionId"] == session_id and e["subledgerId"] == ""]
    number: int = entry["id"]
    return number


def test_points_that_expired_are_listed_with_what_was_left_of_them(runtime):
    tenant, customer = history_tenant(runtime, defaultValidity="4s"), new_id("c")
    earning = session(runtime, tenant, new_id("s"), customer, 600, state="closed")
    session(runtime, tenant, new_id("s"), customer, 5, state="closed")  # pays 500 of the 600
    [expiry] = [e["props"]["expiryDate"] for e in earning["effects"] if e["effectType"] == "addLoyaltyPoints"][:1]
    time.sleep(max(0.0, (datetime.fromisoformat(expiry) - datetime.now(UTC)).total_seconds()) + 0.3)

    [gone] = listed(runtime, tenant, customer, "points", status="expired")
    assert gone["transactionUUID"] == added(earning)[""] and gone["amount"] == 100
    assert datetime.fromisoformat(gone["expiryDate"]) == datetime.fromisoformat(expiry)
    assert listed(runtime, tenant, customer, "points") == []
    assert [e["subledgerId"] for e in listed(runtime, tenant, customer, "expirations")] == ["beauty"]
    balance = get(runtime, tenant, customer, "balances").json()["balance"]
    assert balance["expiredPoints"] == 100


def test_rollbacks_are_logged_and_points_given_back_last_as_long_as_their_lots(runtime):
    tenant, customer, earning, spending = history_tenant(runtime), new_id("c"), new_id("s"), new_id("s")
    session(runtime, tenant, earning, customer, 50, state="closed")
    session(runtime, tenant, spending, customer, 5, state="closed")  # pays 50
    cancel(runtime, tenant, spending)  # gives the 50 back
    cancel(runtime, tenant, earning)  # takes the 50 back (within_balance)
    log = listed(runtime, tenant, customer, "transactions")
    assert [(e["type"], e["amount"], e["customerSessionId"]) for e in log] == [
        ("subtraction", 50, earning),
        ("addition", 50, spending),
        ("subtraction", 50, spending),
        ("addition", 50, earning),
    ]
    assert log[0]["name"] == "Rollback: Points on every purchase"
    assert (log[1]["startDate"], log[1]["expiryDate"]) == ("immediate", log[3]["expiryDate"])
    assert listed(runtime, tenant, customer, "points") == []


def test_a_member_without_points_has_empty_listings(runtime):
    tenant, customer = history_tenant(runtime), new_id("c")
    session(runtime, tenant, new_id("s"), customer, 5, state="closed")  # the profile, and nothing to deduct
    for route in ("points", "transactions", "expirations"):
        answer = get(runtime, tenant, customer, route)
        assert answer.status == 200 and answer.json()["data"] == [], route
    assert get(runtime, tenant, customer, "points").json()["hasMore"] is False


def test_unknown_programs_and_profiles_and_another_applications_are_not_found(runtime):
    tenant, other, customer = history_tenant(runtime), history_tenant(runtime), new_id("c")
    session(runtime, tenant, new_id("s"), customer, 50, state="closed")
    for route in ("points", "transactions", "expirations"):
        assert get(runtime, tenant, customer, route).status == 200
        assert get(runtime, tenant, customer, route, program=2).json()["code"] == "loyalty_program_not_found"
        assert get(runtime, tenant, customer, route, program="x").status == 404
        assert get(runtime, tenant, "nobody", route).json()["code"] == "profile_not_found"
        assert get(runtime, other, customer, route).json()["code"] == "profile_not_found"  # the other's program
        assert get(runtime, new_tenant(runtime), customer, route).json()["code"] == "loyalty_program_not_found"


def test_bad_query_values_are_refused_naming_the_parameter(runtime):
    tenant, customer = history_tenant(runtime), new_id("c")
    session(runtime, tenant, new_id("s"), customer, 50, state="closed")
    refused = [
        ("points", {"status": "spent"}, "status"),
        ("points", {"pageSize": "0"}, "pageSize"),
        ("points", {"pageSize": "51"}, "pageSize"),
        ("points", {"skip": "-1"}, "skip"),
        ("points", {"subledgerId": "shoes"}, "subledgerId"),
        ("transactions", {"loyaltyTransactionType": "gift"}, "loyaltyTransactionType"),
        ("transactions", {"startDate": "yesterday"}, "startDate"),
        ("transactions", {"startDate": "2026-12-02", "endDate": "2026-12-01"}, "endDate"),
        ("transactions", {"pageSize": "1.5"}, "pageSize"),
        ("expirations", {"subledgerId": "shoes"}, "subledgerId"),
        ("points", {"sort": "-name"}, "sort"),
        ("transactions", {"awaitsActivation": "false"}, "awaitsActivation"),  # Talon.One's: true only
    ]
    for route, query, name in refused:
        answer = get(runtime, tenant, customer, route, **query)
        assert answer.status == 400, (route, query)
        assert [error["path"] for error in answer.json()["errors"]] == [f"query.{name}"], (route, query)


def test_a_history_longer_than_one_listing_reads_is_refused_not_misordered(runtime):
    tenant, customer = history_tenant(runtime), new_id("c")
    session(runtime, tenant, new_id("s"), customer, 50, state="closed")
    client, table = runtime.dynamodb_client(), runtime.table_names["LedgersTable"]
    pk = items.member_pk(tenant.application_id, 1, customer)
    entries = [
        {"PK": pk, "SK": f"{items.ENTRY_PREFIX}old-{n:04}", "type": "addition", "subledger": "", "amount": 1}
        | {"name": "Old", "created": "2020-01-01T00:00:00+00:00", "startDate": "on_action", "expiryDate": "unlimited"}
        for n in range(1000)
    ]
    for start in range(0, len(entries), 25):
        batch = [{"PutRequest": {"Item": codec.to_item(item)}} for item in entries[start : start + 25]]
        client.batch_write_item(RequestItems={table: batch})
    for route, query in (("transactions", {}), ("points", {"status": "expired"})):
        answer = get(runtime, tenant, customer, route, **query)
        assert answer.status == 400 and answer.json()["code"] == "loyalty_history_too_long", route
    assert get(runtime, tenant, customer, "points").status == 200  # the page's entries only


def test_points_added_by_hand_are_manual_and_a_returns_rollback_is_a_session_transaction(runtime):
    tenant, customer, earning = history_tenant(runtime), new_id("c"), new_id("s")
    body = {
        "customerSession": {
            "profileId": customer,
            "state": "closed",
            "cartItems": [{"sku": "sku-1", "price": 100, "quantity": 2}],
        }
    }
    closed = runtime.request("PUT", f"/v2/customer_sessions/{earning}", headers=tenant.headers, body=body)
    assert closed.status == 200, closed.body  # 200 points (and 5 beauty points pending)
    returned = {"return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}}
    answer = runtime.request("POST", f"/v2/customer_sessions/{earning}/returns", headers=tenant.headers, body=returned)
    assert answer.status == 200, answer.body  # half the cart: 100 points and 2.5 beauty points back
    added = runtime.request(
        "POST",
        f"/v1/management/loyalty_programs/1/profile/{customer}/add_points",
        headers=management(runtime, tenant),
        body={"points": 30, "name": "Apology"},
    )
    assert added.status == 201, added.body

    [manual] = listed(runtime, tenant, customer, "transactions", loyaltyTransactionType="manual")
    assert (manual["type"], manual["amount"], manual["name"]) == ("addition", 30, "Apology")
    assert "customerSessionId" not in manual
    session_log = listed(runtime, tenant, customer, "transactions", loyaltyTransactionType="session")
    assert sorted((e["type"], e["amount"], e["subledgerId"]) for e in session_log) == [
        ("addition", 5, "beauty"),
        ("addition", 200, ""),
        ("subtraction", 2.5, "beauty"),
        ("subtraction", 100, ""),
    ]
    assert all(e["customerSessionId"] == earning for e in session_log)
    points = listed(runtime, tenant, customer, "points")
    assert sorted((p["amount"], p["name"]) for p in points) == [(30, "Apology"), (100, "Points on every purchase")]


def test_a_balance_at_a_past_instant_is_what_was_read_then(runtime):
    """`endDate` before the member's last change: the ledger is replayed from its entries. Read after each of a
    run of closes, spendings and a cancel, each balance is answered again, later, for its instant."""
    from tests.integration.test_session_loyalty import cancel

    tenant, customer = history_tenant(runtime), new_id("c")
    first = new_id("s1")
    steps = [
        lambda: session(runtime, tenant, first, customer, 100, state="closed"),
        lambda: session(runtime, tenant, new_id("s2"), customer, 1100, state="closed"),
        lambda: session(runtime, tenant, new_id("s3"), customer, 5, state="closed"),  # pays 500
        lambda: cancel(runtime, tenant, first),
        lambda: session(runtime, tenant, new_id("s4"), customer, 5, state="closed"),  # pays 500 more
    ]
    seen: list[tuple[str, Any]] = []
    for step in steps:
        step()
        time.sleep(0.01)
        instant = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        answer = get(runtime, tenant, customer, "balances", includeTiers="true", endDate=instant)
        assert answer.status == 200, answer.body
        seen.append((instant, answer.json()))
        time.sleep(0.01)
    for instant, then in seen:
        again = get(runtime, tenant, customer, "balances", includeTiers="true", endDate=instant)
        assert again.status == 200, again.body
        replayed = again.json()
        assert replayed["balance"] == then["balance"], instant
        assert replayed["subledgerBalances"] == then["subledgerBalances"], instant
    before = get(runtime, tenant, customer, "balances", endDate="2020-01-01T00:00:00Z").json()["balance"]
    assert (before["activePoints"], before["spentPoints"], before["pendingPoints"]) == (0, 0, 0)


def test_listings_filter_by_sessions_and_transactions_sort_by_dates_and_find_points_awaiting_an_action(runtime):
    """`customerSessionIDs` and `transactionUUIDs` (each repeated for several), `sort` of points by start or
    expiry, and `awaitsActivation=true`: only what was asked, in the order asked."""
    tenant, customer = history_tenant(runtime, defaultValidity="365D"), new_id("c")
    first, second, third = new_id("s1"), new_id("s2"), new_id("s3")
    earned = {
        one: added(session(runtime, tenant, one, customer, price, state="closed"))
        for one, price in ((first, 100), (second, 600), (third, 300))
    }
    path = f"/v1/loyalty_programs/1/profile/{customer}"

    def listed_path(query: str) -> list[dict[str, Any]]:
        answer = runtime.request("GET", f"{path}/{query}", headers=tenant.headers)
        assert answer.status == 200, answer.body
        data: list[dict[str, Any]] = answer.json()["data"]
        return data

    both = listed_path(f"transactions?customerSessionIDs={first}&customerSessionIDs={third}")
    assert {entry["customerSessionId"] for entry in both} == {first, third} and len(both) == 4  # points + beauty
    [one] = listed_path(f"transactions?transactionUUIDs={earned[second]['']}")
    assert (one["customerSessionId"], one["amount"]) == (second, 600)
    assert listed_path(f"transactions?transactionUUIDs={earned[second]['']}&customerSessionIDs={first}") == []

    [lot] = listed_path(f"points?customerSessionIDs={second}")
    assert (lot["amount"], lot["customerSessionId"]) == (600, second)
    pending = listed_path("points?status=pending&sort=-startDate")  # the beauty points, 30 days off
    assert [p["customerSessionId"] for p in pending] == [third, second, first]
    ascending = listed_path("points?status=pending&sort=startDate")
    assert [p["customerSessionId"] for p in ascending] == [first, second, third]
    assert listed_path("transactions?awaitsActivation=true") == []  # nothing awaits an action here

    waiting_tenant, member = history_tenant(runtime, defaultPending="on_action"), new_id("c")
    close = session(runtime, waiting_tenant, new_id("s"), member, 50, state="closed")
    answer = get(runtime, waiting_tenant, member, "transactions", awaitsActivation="true")
    assert [entry["transactionUUID"] for entry in answer.json()["data"]] == [added(close)[""]]

    many = "&".join(f"customerSessionIDs=s{n}" for n in range(101))
    refused = runtime.request("GET", f"{path}/transactions?{many}", headers=tenant.headers)
    assert refused.status == 400 and refused.json()["errors"][0]["path"] == "query.customerSessionIDs"
