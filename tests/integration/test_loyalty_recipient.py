"""Points for another profile than the session's (`addLoyaltyPoints`'s `recipient`), through the local runtime
against DynamoDB Local: a friend's close rewards the advocate of the referral code she presents, once, in the
same transaction as her own points; a cancel takes them back from the advocate; a recipient without a profile
gets nothing and the effect fails; a card-based program refuses a recipient at publish. A recipient costs one
more read only on the session's first call that names them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from patron.promotions.management import RulesetInvalidError
from tests.conftest import Tenant, new_tenant
from tests.integration.referrals import add_referral
from tests.integration.rulesets import publish

PROGRAM = {
    "id": 1,
    "name": "main",
    "title": "Main program",
    "defaultValidity": "365D",
    "returnPolicy": "within_balance",
}
CARDS = {"id": 2, "name": "cards", "title": "Card program", "cardBased": True}
REFERRAL_REWARD = {
    "id": 20,
    "name": "Refer a friend",
    "features": ["referrals", "loyalty"],
    "rules": [
        {
            "title": "The advocate earns 100 on a friend's purchase",
            "condition": "referral.valid and referral.advocateIntegrationId != profile.integrationId",
            "effects": [
                {
                    "type": "addLoyaltyPoints",
                    "programId": 1,
                    "value": 100,
                    "name": "Referral reward",
                    "recipient": "referral.advocateIntegrationId",
                }
            ],
        }
    ],
}
EARN = {
    "id": 21,
    "name": "A point per euro",
    "features": ["loyalty"],
    "rules": [
        {
            "title": "Points on every purchase",
            "condition": "session.total > 0",
            "effects": [{"type": "addLoyaltyPoints", "programId": 1, "value": "floor(session.total)"}],
        }
    ],
}


def tenant_with(runtime: Any, *campaigns: dict[str, Any], policy: str = "within_balance") -> Tenant:
    tenant = new_tenant(runtime)
    program = {**PROGRAM, "returnPolicy": policy}
    definitions = {"settings": {"currency": "EUR"}, "loyaltyPrograms": [program], "campaigns": list(campaigns)}
    publish(runtime, tenant.application_id, definitions)
    return tenant


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_profile(runtime: Any, tenant: Tenant, integration_id: str) -> None:
    path = f"/v2/customer_profiles/{integration_id}"
    answer = runtime.request("PUT", path, headers=tenant.headers, body={"attributes": {}})
    assert answer.status in (200, 201), answer.body


def put(runtime: Any, tenant: Tenant, session_id: str, session: dict[str, Any]) -> Any:
    body = {"customerSession": session, "responseContent": ["loyalty", "ruleFailureReasons"]}
    answer = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    return answer.json()


def active(runtime: Any, tenant: Tenant, customer: str) -> Any:
    path = f"/v1/loyalty_programs/1/profile/{customer}/balances"
    answer = runtime.request("GET", path, headers=tenant.headers)
    return answer.json()["balance"]["activePoints"] if answer.status == 200 else answer.status


def earned(answer: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (effect["props"]["recipientIntegrationId"], effect["props"]["value"])
        for effect in answer["effects"]
        if effect["effectType"] in ("addLoyaltyPoints", "rollbackAddedLoyaltyPoints")
    ]


CART = [{"sku": "s", "price": 40, "quantity": 1}]


def test_a_friends_close_rewards_the_advocate_once_and_her_cancel_takes_it_back(runtime):
    tenant = tenant_with(runtime, REFERRAL_REWARD, EARN)
    advocate, friend, session_id = new_id("adam"), new_id("fran"), new_id("s")
    create_profile(runtime, tenant, advocate)
    add_referral(runtime, tenant, "ADAM-REF", advocate=advocate, usage_limit=5)
    session = {"profileId": friend, "cartItems": CART, "referralCode": "ADAM-REF"}

    opened = put(runtime, tenant, session_id, session)
    assert sorted(earned(opened)) == sorted([(advocate, 100), (friend, 40)])
    # The answer's `loyalty` is the session's customer's: the advocate's points are not hers.
    assert opened["loyalty"]["programs"]["1"]["ledger"]["tentativeCurrentBalance"] == 40
    assert active(runtime, tenant, advocate) == 0  # tentative only

    closed = put(runtime, tenant, session_id, {"state": "closed"})
    assert sorted(earned(closed)) == sorted([(advocate, 100), (friend, 40)])
    assert (active(runtime, tenant, advocate), active(runtime, tenant, friend)) == (100, 40)
    again = {"customerSession": {"state": "closed"}}  # a second close is refused and adds nothing
    refused = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=again)
    assert refused.status == 400
    assert (active(runtime, tenant, advocate), active(runtime, tenant, friend)) == (100, 40)
    path = f"/v1/loyalty_programs/1/profile/{advocate}/transactions"
    [entry] = runtime.request("GET", path, headers=tenant.headers).json()["data"]
    assert (entry["name"], entry["amount"], entry["customerSessionId"]) == ("Referral reward", 100, session_id)

    cancelled = put(runtime, tenant, session_id, {"state": "cancelled"})
    assert sorted(earned(cancelled)) == sorted([(advocate, 100), (friend, 40)])
    assert (active(runtime, tenant, advocate), active(runtime, tenant, friend)) == (0, 0)


def test_a_recipient_without_a_profile_gets_nothing_and_the_effect_fails(runtime):
    tenant = tenant_with(runtime, REFERRAL_REWARD)
    ghost, friend, session_id = new_id("ghost"), new_id("fran"), new_id("s")
    add_referral(runtime, tenant, "GHOST-REF", advocate=ghost, usage_limit=5)
    session = {"profileId": friend, "cartItems": CART, "referralCode": "GHOST-REF", "state": "closed"}
    closed = put(runtime, tenant, session_id, session)
    assert earned(closed) == []
    [failure] = closed["ruleFailureReasons"]
    assert (failure["campaignID"], failure["details"]) == (20, "EffectCouldNotBeApplied")
    assert active(runtime, tenant, ghost) == 404  # no ledger was made for nobody


def test_an_anonymous_session_can_reward_a_named_recipient(runtime):
    ambassador = new_id("amb")
    rule = {
        "title": "Every purchase in the shop-in-shop rewards its ambassador",
        "condition": "session.total > 0",
        "effects": [
            {"type": "addLoyaltyPoints", "programId": 1, "value": "session.total", "recipient": f'"{ambassador}"'}
        ],
    }
    campaign = {"id": 22, "name": "Ambassador", "features": ["loyalty"], "rules": [rule]}
    tenant = tenant_with(runtime, campaign)
    create_profile(runtime, tenant, ambassador)
    closed = put(runtime, tenant, new_id("s"), {"cartItems": CART, "state": "closed"})
    assert earned(closed) == [(ambassador, 40)]
    assert active(runtime, tenant, ambassador) == 40


def test_a_recipient_costs_one_more_read_only_on_the_first_call_that_names_them(runtime, meter):
    tenant = tenant_with(runtime, REFERRAL_REWARD, EARN)
    advocate, friend, session_id = new_id("adam"), new_id("fran"), new_id("s")
    create_profile(runtime, tenant, advocate)
    add_referral(runtime, tenant, "ADAM-REF", advocate=advocate, usage_limit=5)
    put(
        runtime, tenant, new_id("s"), {"profileId": new_id("warm"), "cartItems": CART}
    )  # the instance knows the ruleset
    session = {"profileId": friend, "cartItems": CART, "referralCode": "ADAM-REF"}

    mark = meter.mark()
    put(runtime, tenant, session_id, session)
    first = [call.operation for call in meter.since(mark)]
    assert first == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]  # the session and its new profile
    mark = meter.mark()
    put(runtime, tenant, session_id, {"state": "closed"})
    assert [call.operation for call in meter.since(mark)] == ["BatchGetItem", "TransactWriteItems"]


def test_a_recipient_is_refused_at_publish_on_a_card_based_program_or_when_it_is_not_text(runtime):
    tenant = new_tenant(runtime)
    to_card = {"type": "addLoyaltyPoints", "programId": 2, "value": 5, "recipient": "profile.integrationId"}
    numeric = {"type": "addLoyaltyPoints", "programId": 1, "value": 5, "recipient": "session.total"}
    for effect, code in ((to_card, "recipient_card_based"), (numeric, "type_mismatch")):
        rule = {"title": "r", "condition": "true", "effects": [effect]}
        campaign = {"id": 23, "name": "c", "features": ["loyalty"], "rules": [rule]}
        with pytest.raises(RulesetInvalidError) as refused:
            publish(runtime, tenant.application_id, {"loyaltyPrograms": [PROGRAM, CARDS], "campaigns": [campaign]})
        [issue] = refused.value.issues
        assert (issue.code, issue.path.endswith(".recipient")) == (code, True), issue


def test_an_event_rewards_the_profile_it_names_at_once(runtime):
    """A reader marks a review helpful: its author earns (the event's own profile earns nothing)."""
    rule = {
        "title": "Helpful review",
        "condition": 'event.type == "review_helpful"',
        "effects": [
            {"type": "addLoyaltyPoints", "programId": 1, "value": 5, "recipient": "event.attributes.author"},
        ],
    }
    campaign = {"id": 24, "name": "Helpful reviews", "features": ["loyalty"], "rules": [rule]}
    tenant = tenant_with(runtime, campaign)
    author, reader = new_id("author"), new_id("reader")
    create_profile(runtime, tenant, author)
    body = {"type": "review_helpful", "profileId": reader, "attributes": {"author": author}}
    for _ in range(2):
        answer = runtime.request("POST", "/v2/events", headers=tenant.headers, body=body)
        assert answer.status == 200, answer.body
        assert earned(answer.json()) == [(author, 5)]
    assert (active(runtime, tenant, author), active(runtime, tenant, reader)) == (10, 0)
    body = {"type": "review_helpful", "profileId": reader, "attributes": {"author": new_id("nobody")}}
    answer = runtime.request("POST", "/v2/events", headers=tenant.headers, body=body)
    assert answer.status == 200 and earned(answer.json()) == []


def test_a_cancel_after_the_recipients_erasure_takes_back_only_the_customers_points(runtime):
    """Under `unlimited`, taking the advocate's 100 back from no ledger would make one, 100 in debt."""
    tenant = tenant_with(runtime, REFERRAL_REWARD, EARN, policy="unlimited")
    advocate, friend, session_id = new_id("adam"), new_id("fran"), new_id("s")
    create_profile(runtime, tenant, advocate)
    add_referral(runtime, tenant, "ADAM-REF", advocate=advocate, usage_limit=5)
    session = {"profileId": friend, "cartItems": CART, "referralCode": "ADAM-REF", "state": "closed"}
    put(runtime, tenant, session_id, session)
    assert runtime.request("DELETE", f"/v1/customer_data/{advocate}", headers=tenant.headers).status == 204
    cancelled = put(runtime, tenant, session_id, {"state": "cancelled"})
    assert earned(cancelled) == [(friend, 40)]
    assert active(runtime, tenant, advocate) == 404  # no ledger remade for the erased person
