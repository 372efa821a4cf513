"""Loyalty cards of a card-based program, through the local runtime against DynamoDB Local: a card generated (its
identifier given or drawn) and linked to profiles up to the users-per-card limit, also under concurrent links; its
balances, points and transactions; a blocked card; another application's card is not found; a profile-based
program's card routes, and a card-based program's profile routes, are refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Tenant, new_tenant
from tests.integration.rulesets import publish
from tests.integration.test_loyalty_management import management
from tests.integration.test_session_loyalty import EARN, PROGRAM, REDEEM, new_id, session

CARD_PROGRAM = {
    "id": 2,
    "name": "cards",
    "title": "Card program",
    "cardBased": True,
    "usersPerCard": 2,
    "defaultValidity": "365D",
    "returnPolicy": "within_balance",
    "subledgers": ["fuel"],
    "timezone": "Europe/Rome",
}
CARD_EARN = {
    "id": 30,
    "name": "A point per euro on the card",
    "features": ["loyalty"],
    "rules": [
        {
            "title": "Card points on every purchase",
            "condition": "session.cartItemTotal >= 10",
            "effects": [{"type": "addLoyaltyPoints", "programId": 2, "value": "floor(session.total)"}],
        }
    ],
}
CARD_REDEEM = {
    "id": 31,
    "name": "Small carts pay with card points",
    "features": ["loyalty"],
    "rules": [
        {
            "title": "Pay with card points",
            "condition": "session.cartItemTotal < 10",
            "effects": [{"type": "deductLoyaltyPoints", "programId": 2, "value": "50", "name": "Paid with the card"}],
        }
    ],
}


def card_tenant(runtime: Any, campaigns: list[dict[str, Any]] | None = None) -> Tenant:
    tenant = new_tenant(runtime)
    definitions = {
        "settings": {"currency": "EUR"},
        "loyaltyPrograms": [PROGRAM, CARD_PROGRAM],
        "campaigns": campaigns if campaigns is not None else [EARN, REDEEM, CARD_EARN, CARD_REDEEM],
    }
    publish(runtime, tenant.application_id, definitions)
    return tenant


def profile(runtime: Any, tenant: Tenant) -> str:
    person = new_id("p")
    answer = runtime.request("PUT", f"/v1/customers/{person}", headers=tenant.headers, body={})
    assert answer.status == 200, answer.body
    return person


def generate(runtime: Any, tenant: Tenant, body: dict[str, Any] | None = None, program: int = 2) -> Any:
    return runtime.request("POST", f"/v1/loyalty_programs/{program}/cards", headers=tenant.headers, body=body or {})


def link(runtime: Any, tenant: Tenant, card: str, person: str, program: int = 2) -> Any:
    path = f"/v2/loyalty_programs/{program}/cards/{card}/link_profile"
    return runtime.request("POST", path, headers=tenant.headers, body={"integrationId": person})


def card_get(runtime: Any, tenant: Tenant, card: str, what: str, query: str = "", program: int = 2) -> Any:
    path = f"/v1/loyalty_programs/{program}/cards/{card}/{what}{query}"
    return runtime.request("GET", path, headers=tenant.headers)


def test_a_card_is_generated_linked_up_to_its_limit_and_answers_its_balances(runtime):
    tenant = card_tenant(runtime)
    alice, bob, carol = (profile(runtime, tenant) for _ in range(3))

    drawn = generate(runtime, tenant, {"customerProfileIds": [alice]})
    assert drawn.status == 200, drawn.body
    card = drawn.json()
    assert card["status"] == "active" and card["programID"] == 2 and card["usersPerCardLimit"] == 2
    assert len(card["identifier"]) == 16 and card["identifier"].isalnum()
    assert [one["integrationId"] for one in card["profiles"]] == [alice]

    given = generate(runtime, tenant, {"cardIdentifier": "Card-0001", "status": "active"})
    assert given.status == 200 and given.json()["identifier"] == "Card-0001"
    again = generate(runtime, tenant, {"cardIdentifier": "Card-0001"})
    assert again.status == 409 and again.json()["code"] == "loyalty_card_exists"
    # Identifiers are exact: another case is another card.
    assert generate(runtime, tenant, {"cardIdentifier": "CARD-0001"}).status == 200

    linked = link(runtime, tenant, "Card-0001", alice)
    assert linked.status == 200, linked.body
    assert link(runtime, tenant, "Card-0001", alice).json()["profiles"] == linked.json()["profiles"]  # once
    assert link(runtime, tenant, "Card-0001", bob).status == 200
    full = link(runtime, tenant, "Card-0001", carol)
    assert full.status == 400 and full.json()["code"] == "users_per_card_limit_reached"

    balances = card_get(runtime, tenant, "Card-0001", "balances")
    assert balances.status == 200, balances.body
    body = balances.json()
    assert body["balance"]["activePoints"] == 0 and set(body["subledgerBalances"]) == {"fuel"}
    assert [one["integrationId"] for one in body["profiles"]] == [alice, bob]
    assert card_get(runtime, tenant, "Card-0001", "points").json() == {"hasMore": False, "data": []}
    assert card_get(runtime, tenant, "Card-0001", "transactions").json() == {"hasMore": False, "data": []}


def test_bad_cards_and_links_are_refused(runtime):
    tenant = card_tenant(runtime)
    person = profile(runtime, tenant)
    for body, field in (
        ({"cardIdentifier": "abc"}, "cardIdentifier"),
        ({"cardIdentifier": "has space"}, "cardIdentifier"),
        ({"cardIdentifier": "x" * 109}, "cardIdentifier"),
        ({"status": "blocked"}, "status"),
        ({"customerProfileIds": [person, profile(runtime, tenant), profile(runtime, tenant)]}, "customerProfileIds"),
        ({"surprise": 1}, "surprise"),
    ):
        answer = generate(runtime, tenant, body)
        assert answer.status == 400, (body, answer.body)
        assert field in answer.body.decode(), (body, answer.body)
    assert generate(runtime, tenant, {"customerProfileIds": [new_id("nobody")]}).json()["code"] == "profile_not_found"
    card = generate(runtime, tenant).json()["identifier"]
    assert link(runtime, tenant, card, new_id("nobody")).status == 404
    assert link(runtime, tenant, "NOSUCHCARD", person).json()["code"] == "loyalty_card_not_found"
    assert card_get(runtime, tenant, "a%20b", "balances").status == 404
    assert card_get(runtime, tenant, "NOSUCHCARD", "points").status == 404


def test_the_users_per_card_limit_holds_under_concurrent_links(runtime):
    tenant = card_tenant(runtime)
    people = [profile(runtime, tenant) for _ in range(6)]
    card = generate(runtime, tenant).json()["identifier"]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda person: link(runtime, tenant, card, person), people))
    statuses = sorted(answer.status for answer in answers)
    assert statuses.count(200) == 2 and all(status in (400, 409) for status in statuses[2:]), statuses
    linked = card_get(runtime, tenant, card, "balances").json()["profiles"]
    assert len(linked) == 2


def test_another_applications_card_and_the_other_kind_of_program_are_refused(runtime):
    tenant, other = card_tenant(runtime), card_tenant(runtime)
    card = generate(runtime, tenant).json()["identifier"]
    assert card_get(runtime, other, card, "balances").status == 404
    assert card_get(runtime, other, card, "transactions").status == 404
    assert link(runtime, other, card, profile(runtime, other)).status == 404

    person = profile(runtime, tenant)
    not_cards = generate(runtime, tenant, program=1)
    assert not_cards.status == 400 and not_cards.json()["code"] == "loyalty_program_not_card_based"
    assert card_get(runtime, tenant, card, "balances", program=1).json()["code"] == "loyalty_program_not_card_based"
    path = f"/v1/loyalty_programs/2/profile/{person}/balances"
    refused = runtime.request("GET", path, headers=tenant.headers)
    assert refused.status == 400 and refused.json()["code"] == "loyalty_program_card_based"
    assert generate(runtime, tenant, program=9).json()["code"] == "loyalty_program_not_found"


def test_an_inactive_card_takes_no_new_profile_and_is_read(runtime):
    tenant = card_tenant(runtime)
    person = profile(runtime, tenant)
    card = generate(runtime, tenant, {"status": "inactive"}).json()
    assert card["status"] == "inactive"
    refused = link(runtime, tenant, card["identifier"], person)
    assert refused.status == 400 and refused.json()["code"] == "loyalty_card_inactive"
    assert card_get(runtime, tenant, card["identifier"], "balances").status == 200
    assert session(runtime, tenant, new_id("s"), person, 5)["effects"] == []


def test_a_merge_relinks_the_card_an_erasure_unlinks_it_and_the_export_lists_it(runtime):
    tenant = card_tenant(runtime)
    device = new_id("dev")
    anonymous_id = runtime.request("PUT", f"/v1/devices/{device}", headers=tenant.headers, body={}).json()[
        "integrationId"
    ]
    card = generate(runtime, tenant, {"customerProfileIds": [anonymous_id]}).json()["identifier"]
    person = profile(runtime, tenant)
    claimed = runtime.request("PUT", f"/v1/customers/{person}", headers=tenant.headers, body={"deviceIds": [device]})
    assert claimed.status == 200, claimed.body
    linked = card_get(runtime, tenant, card, "balances").json()["profiles"]
    assert [one["integrationId"] for one in linked] == [person]

    exported = runtime.request("GET", f"/v1/customer_data/{person}", headers=tenant.headers).json()["loyalty"]
    assert [(one["programId"], one["identifier"], one["status"]) for one in exported["cards"]] == [(2, card, "active")]

    assert runtime.request("DELETE", f"/v1/customer_data/{person}", headers=tenant.headers).status == 204
    assert "profiles" not in card_get(runtime, tenant, card, "balances").json()  # none linked
    assert link(runtime, tenant, card, profile(runtime, tenant)).status == 200  # the place is free again


def card_session(
    runtime: Any, tenant: Tenant, session_id: str, customer: str | None, card: str, price: float, state: str = "open"
) -> Any:
    body: dict[str, Any] = {
        "customerSession": {
            "state": state,
            "loyaltyCards": [card],
            "cartItems": [{"sku": "sku-1", "price": price, "quantity": 1}],
        },
        "responseContent": ["ruleFailureReasons", "loyalty"],
    }
    if customer is not None:
        body["customerSession"]["profileId"] = customer
    answer = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    return answer.json()


def card_effects(answer: dict[str, Any]) -> list[dict[str, Any]]:
    kinds = ("addLoyaltyPoints", "deductLoyaltyPoints", "rollbackAddedLoyaltyPoints", "rollbackDeductedLoyaltyPoints")
    return [e for e in answer["effects"] if e["effectType"] in kinds and e["props"]["programId"] == 2]


def test_a_card_session_earns_and_spends_on_the_card_and_a_cancel_rolls_back(runtime):
    tenant = card_tenant(runtime)
    person = profile(runtime, tenant)
    card = generate(runtime, tenant, {"customerProfileIds": [person]}).json()["identifier"]

    opened = card_session(runtime, tenant, new_id("s"), person, card, 120)
    [announced] = card_effects(opened)
    assert announced["props"]["cardIdentifier"] == card and announced["props"]["value"] == 120
    [shown] = opened["loyalty"]["cards"]  # the card's ledger, tentatively with the session's points
    assert (shown["identifier"], shown["ledger"]["tentativeCurrentBalance"]) == (card, 120)
    assert set(opened["loyalty"]["programs"]) == {"1"}  # the profile's own program
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 0

    earned = new_id("s")
    closed = card_session(runtime, tenant, earned, person, card, 120, state="closed")
    assert [e["effectType"] for e in card_effects(closed)] == ["addLoyaltyPoints"]
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 120
    # The profile's own (profile-based) program earned too; the card's program is not the profile's.
    path = f"/v1/loyalty_programs/1/profile/{person}/balances"
    assert runtime.request("GET", path, headers=tenant.headers).json()["balance"]["activePoints"] == 120

    anonymous = card_session(runtime, tenant, new_id("s"), None, card, 5, state="closed")  # no profile: the card
    [spent] = card_effects(anonymous)
    assert spent["effectType"] == "deductLoyaltyPoints" and spent["props"]["value"] == 50
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 70

    points = card_get(runtime, tenant, card, "points").json()["data"]
    assert [(one["amount"], one["customerSessionId"]) for one in points] == [(70, earned)]
    logged = card_get(runtime, tenant, card, "transactions").json()["data"]
    assert sorted((one["type"], one["amount"]) for one in logged) == [("addition", 120), ("subtraction", 50)]
    assert {one["cardIdentifier"] for one in logged} == {card}

    cancel = {"customerSession": {"state": "cancelled", "loyaltyCards": [card], "profileId": person}}
    cancelled = runtime.request("PUT", f"/v2/customer_sessions/{earned}", headers=tenant.headers, body=cancel)
    assert cancelled.status == 200, cancelled.body
    taken = [
        (e["effectType"], e["props"]["value"], e["props"]["cardIdentifier"]) for e in card_effects(cancelled.json())
    ]
    assert taken == [("rollbackAddedLoyaltyPoints", 70, card)]  # within the balance: 50 were spent
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 0


def test_an_unknown_or_blocked_card_earns_nothing_and_says_why(runtime):
    tenant = card_tenant(runtime)
    person = profile(runtime, tenant)
    card = generate(runtime, tenant, {"status": "inactive"}).json()["identifier"]
    for identifier in (card, "UNKNOWNCARD"):
        answer = card_session(runtime, tenant, new_id("s"), person, identifier, 50, state="closed")
        assert card_effects(answer) == []
        reasons = [r for r in answer["ruleFailureReasons"] if r["campaignID"] == 30]
        assert [r["details"] for r in reasons] == ["EffectCouldNotBeApplied"], answer["ruleFailureReasons"]
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 0


def test_an_event_with_a_card_earns_on_it(runtime):
    event_campaign = {
        "id": 32,
        "name": "Points for a review",
        "features": ["loyalty"],
        "rules": [
            {
                "title": "Review",
                "condition": 'event.type == "review"',
                "effects": [{"type": "addLoyaltyPoints", "programId": 2, "value": "15"}],
            }
        ],
    }
    tenant = card_tenant(runtime, [event_campaign])
    person = profile(runtime, tenant)
    card = generate(runtime, tenant).json()["identifier"]
    body = {"type": "review", "profileId": person, "loyaltyCards": [card], "attributes": {}}
    answer = runtime.request("POST", "/v2/events", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 15


def test_a_card_is_blocked_and_unblocked_and_changed_by_hand_through_the_management_api(runtime):
    tenant = card_tenant(runtime)
    desk = management(runtime, tenant)
    person = profile(runtime, tenant)
    card = generate(runtime, tenant, {"customerProfileIds": [person]}).json()["identifier"]
    base = f"/v1/management/loyalty_programs/2/cards/{card}"

    added = runtime.request("POST", f"{base}/add_points", headers=desk, body={"points": 40, "reference": "r-1"})
    assert added.status == 201, added.body
    [entry] = added.json()["entries"]
    assert entry["cardIdentifier"] == card and "integrationId" not in entry
    again = runtime.request("POST", f"{base}/add_points", headers=desk, body={"points": 40, "reference": "r-1"})
    assert again.status == 200 and again.json()["replayed"] is True
    taken = runtime.request("POST", f"{base}/deduct_points", headers=desk, body={"points": 15})
    assert taken.status == 201, taken.body
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 25
    manual = card_get(runtime, tenant, card, "transactions", "?loyaltyTransactionType=manual").json()["data"]
    assert len(manual) == 2

    blocked = runtime.request("PUT", base, headers=desk, body={"status": "inactive", "blockReason": "lost"})
    assert blocked.status == 200, blocked.body
    assert (blocked.json()["status"], blocked.json()["blockReason"]) == ("inactive", "lost")
    refused = runtime.request("POST", f"{base}/add_points", headers=desk, body={"points": 1})
    assert refused.status == 400 and refused.json()["code"] == "loyalty_card_inactive"
    spent = card_session(runtime, tenant, new_id("s"), person, card, 5, state="closed")
    assert card_effects(spent) == []  # a blocked card spends nothing
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 25  # and is read

    unblocked = runtime.request("PUT", base, headers=desk, body={"status": "active"})
    assert unblocked.status == 200 and "blockReason" not in unblocked.json()
    assert runtime.request("PUT", base, headers=tenant.headers, body={"status": "active"}).status == 403
    other = management(runtime, card_tenant(runtime))
    assert runtime.request("PUT", base, headers=other, body={"status": "active"}).status == 404
    assert runtime.request("PUT", base, headers=desk, body={"status": "gone"}).status == 400
    profile_program = f"/v1/management/loyalty_programs/1/cards/{card}/add_points"
    assert runtime.request("POST", profile_program, headers=desk, body={"points": 1}).status == 400


def test_the_inventory_lists_the_cards_a_person_is_linked_to_with_their_ledgers(runtime):
    tenant = card_tenant(runtime)
    person = profile(runtime, tenant)
    card = generate(runtime, tenant, {"customerProfileIds": [person]}).json()["identifier"]
    desk = management(runtime, tenant)
    path = f"/v1/management/loyalty_programs/2/cards/{card}/add_points"
    assert runtime.request("POST", path, headers=desk, body={"points": 12}).status == 201
    session(runtime, tenant, new_id("s"), person, 30, state="closed")  # a profile-based ledger too
    answer = runtime.request("GET", f"/v1/customer_profiles/{person}/inventory?loyalty=true", headers=tenant.headers)
    assert answer.status == 200, answer.body
    loyalty = answer.json()["loyalty"]
    assert loyalty["programs"]["1"]["ledger"]["currentBalance"] == 30
    [listed] = loyalty["cards"]
    assert (listed["identifier"], listed["programID"], listed["ledger"]["currentBalance"]) == (card, 2, 12)
    assert set(listed["subledgers"]) == {"fuel"}


def test_points_awaiting_an_action_on_a_card_are_activated_by_transaction(runtime):
    tenant = card_tenant(runtime)
    card = generate(runtime, tenant).json()["identifier"]
    desk = management(runtime, tenant)
    path = f"/v1/management/loyalty_programs/2/cards/{card}/add_points"
    added = runtime.request("POST", path, headers=desk, body={"points": 8, "pendingDuration": "on_action"})
    assert added.status == 201, added.body
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["pendingPoints"] == 8
    txn = added.json()["transactionUUID"]
    body = {"transactionUUIDs": [txn]}
    answer = runtime.request("POST", "/v1/loyalty_programs/2/activate_points", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    [entry] = answer.json()["ledgerEntries"]
    assert entry["amount"] == 8 and "customerProfileID" not in entry and entry["cardID"] > 0
    assert card_get(runtime, tenant, card, "balances").json()["balance"]["activePoints"] == 8


def test_a_card_session_keeps_one_batch_read_and_one_transaction(runtime, meter):
    tenant = card_tenant(runtime)
    person = profile(runtime, tenant)
    card = generate(runtime, tenant, {"customerProfileIds": [person]}).json()["identifier"]
    session_id = new_id("s")
    card_session(runtime, tenant, session_id, person, card, 120)  # the instance now knows the ruleset and the card
    mark = meter.mark()
    closed = card_session(runtime, tenant, session_id, person, card, 120, state="closed")
    assert [e["effectType"] for e in card_effects(closed)] == ["addLoyaltyPoints"]
    assert [call.operation for call in meter.since(mark)] == ["BatchGetItem", "TransactWriteItems"]


def test_every_card_route_answers_404_for_another_applications_card_and_leaves_it_as_it_was(runtime):
    """B's card through A's integration and management keys: 404 everywhere; A's session presenting B's card
    earns nothing on it (an unknown card: the effect fails); A's card of the same identifier is A's own."""
    a, b = card_tenant(runtime), card_tenant(runtime)
    person = profile(runtime, b)
    card = generate(runtime, b, {"customerProfileIds": [person]}).json()["identifier"]
    desk_b = management(runtime, b)
    added = f"/v1/management/loyalty_programs/2/cards/{card}/add_points"
    assert runtime.request("POST", added, headers=desk_b, body={"points": 30}).status == 201
    before = card_get(runtime, b, card, "balances").json()

    desk_a, stranger = management(runtime, a), profile(runtime, a)
    base, desk = f"/v1/loyalty_programs/2/cards/{card}", f"/v1/management/loyalty_programs/2/cards/{card}"
    for method, path, headers, body in (
        ("GET", f"{base}/balances", a.headers, None),
        ("GET", f"{base}/points", a.headers, None),
        ("GET", f"{base}/transactions", a.headers, None),
        ("POST", f"/v2/loyalty_programs/2/cards/{card}/link_profile", a.headers, {"integrationId": stranger}),
        ("PUT", desk, desk_a, {"status": "inactive", "blockReason": "theft"}),
        ("POST", f"{desk}/add_points", desk_a, {"points": 5}),
        ("POST", f"{desk}/deduct_points", desk_a, {"points": 5}),
    ):
        answer = runtime.request(method, path, headers=headers, body=body)
        assert answer.status == 404, (method, path, answer.status, answer.body)

    spent = card_session(runtime, a, new_id("s"), stranger, card, 5, state="closed")
    assert card_effects(spent) == []
    assert card_get(runtime, b, card, "balances").json() == before

    mine = generate(runtime, a, {"cardIdentifier": card})  # the same identifier, A's own card
    assert mine.status == 200 and "profiles" not in mine.json()
    assert card_get(runtime, b, card, "balances").json() == before
