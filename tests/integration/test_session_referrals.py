"""Referral codes in Talon.One customer sessions, through the local runtime against DynamoDB Local: a valid code is
accepted and redeemed once at close for its friend, rejected with Talon.One's reasons otherwise, a friend is
referred once per campaign, and cancel gives the redemption back."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Tenant, new_tenant
from tests.integration.referrals import CAMPAIGN, add_referral, stored
from tests.integration.rulesets import publish, tenant_with


def put(runtime: Any, tenant: Tenant, session_id: str, session: dict[str, Any]) -> list[tuple[str, Any]]:
    body = {"customerSession": session}
    answer = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    return [
        (e["effectType"], e["props"].get("rejectionReason") or e["props"]["value"]) for e in answer.json()["effects"]
    ]


CART = [{"sku": "s", "price": 40, "quantity": 1}]


def new_id() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def test_a_friend_redeems_a_code_once_and_a_cancel_gives_it_back(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_referral(runtime, tenant, "ADAM-REF", usage_limit=5)
    session_id = new_id()
    opened = put(runtime, tenant, session_id, {"profileId": "fran", "cartItems": CART, "referralCode": "ADAM-REF"})
    assert opened == [("acceptReferral", "ADAM-REF"), ("setDiscount", 5)]
    assert put(runtime, tenant, session_id, {"state": "closed"})[0] == ("acceptReferral", "ADAM-REF")
    assert stored(runtime, tenant, "ADAM-REF").usage_counter == 1
    # Once per friend and campaign: another session of hers is refused.
    again = put(runtime, tenant, new_id(), {"profileId": "fran", "cartItems": CART, "referralCode": "ADAM-REF"})
    assert again == [("rejectReferral", "ReferralCustomerAlreadyReferred")]
    # The cancel gives the use and the mark back.
    assert put(runtime, tenant, session_id, {"state": "cancelled"})[0] == ("rollbackReferral", "ADAM-REF")
    assert stored(runtime, tenant, "ADAM-REF").usage_counter == 0
    third = put(runtime, tenant, new_id(), {"profileId": "fran", "cartItems": CART, "referralCode": "ADAM-REF"})
    assert third[0] == ("acceptReferral", "ADAM-REF")


def test_referral_codes_are_rejected_with_talons_reasons(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_referral(runtime, tenant, "FOR-GINA", friend_integration_id="gina")
    add_referral(runtime, tenant, "USED-UP", usage_limit=1, usage_counter=1)
    add_referral(runtime, tenant, "ADAMS-OWN")

    def presented(profile: str | None, code: str) -> list[tuple[str, Any]]:
        session: dict[str, Any] = {"cartItems": CART, "referralCode": code}
        if profile:
            session["profileId"] = profile
        return put(runtime, tenant, new_id(), session)

    assert presented("fran", "NOPE") == [("rejectReferral", "ReferralNotFound")]
    assert presented("fran", "FOR-GINA") == [("rejectReferral", "ReferralRecipientDoesNotMatch")]
    assert presented("fran", "USED-UP") == [("rejectReferral", "ReferralLimitReached")]
    assert presented("adam", "ADAMS-OWN") == [("rejectReferral", "ReferralRecipientIdSameAsAdvocate")]
    assert presented(None, "ADAMS-OWN") == [("rejectReferral", "ProfileRequired")]
    assert presented("gina", "FOR-GINA")[0] == ("acceptReferral", "FOR-GINA")


def test_sixteen_friends_closing_at_once_honour_a_codes_limit(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_referral(runtime, tenant, "THREE-USES", usage_limit=3)

    def close(n: int) -> Any:
        body = {
            "customerSession": {
                "profileId": f"f{n}",
                "cartItems": CART,
                "referralCode": "THREE-USES",
                "state": "closed",
            }
        }
        return runtime.request("PUT", f"/v2/customer_sessions/{new_id()}", headers=tenant.headers, body=body)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(close, range(16)))
    assert all(a.status in (200, 409) for a in answers), [a.body for a in answers]
    accepted = [a for a in answers if a.status == 200 and a.json()["effects"][0]["effectType"] == "acceptReferral"]
    # Never past the limit, never a use counted without its answer; all three taken unless a close gave up (409).
    assert len(accepted) == stored(runtime, tenant, "THREE-USES").usage_counter <= 3
    assert len(accepted) == 3 or any(a.status == 409 for a in answers)


def test_the_referral_response_content_answers_the_named_code(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_referral(runtime, tenant, "SHOWN-REF", usage_limit=2)
    body = {
        "customerSession": {"profileId": "fran", "cartItems": CART, "referralCode": "SHOWN-REF"},
        "responseContent": ["referral"],
    }
    answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id()}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    referral = answer.json()["referral"]
    assert (referral["code"], referral["advocateProfileIntegrationId"], referral["usageLimit"]) == (
        "SHOWN-REF",
        "adam",
        2,
    )


def test_a_rule_creates_a_referral_code_for_the_customer_that_a_friend_then_redeems(runtime):
    create = {
        "type": "createReferral",
        "prefix": "ref-",
        "usageLimit": 3,
        "validDays": 30,
        "attributes": {"via": "rule"},
    }
    advocates = {"title": "Big spenders advocate", "condition": "session.total >= 100", "effects": [create]}
    campaign = {**CAMPAIGN, "rules": [*CAMPAIGN["rules"], advocates]}
    tenant = tenant_with(runtime, campaign, caseSensitiveCodes=False)
    session_id, big = new_id(), [{"sku": "s", "price": 100, "quantity": 1}]
    assert put(runtime, tenant, session_id, {"profileId": "adam", "cartItems": big}) == []  # created at close only
    body = {"customerSession": {"state": "closed"}}
    closed = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
    assert closed.status == 200, closed.body
    ((effect,),) = [closed.json()["effects"]]
    code = effect["props"]["value"]
    assert (effect["effectType"], effect["campaignId"]) == ("referralCreated", 20)
    assert code.startswith("REF-") and len(code) == 12  # upper-cased: the application's codes are
    (created,) = closed.json()["createdReferrals"]
    assert (created["code"], created["advocateProfileIntegrationId"], created["usageLimit"]) == (code, "adam", 3)
    assert (created["campaignId"], created["attributes"], created["usageCounter"]) == (20, {"via": "rule"}, 0)
    # Stored as POST /v1/referrals stores one: readable, in its advocate's inventory.
    referral = stored(runtime, tenant, code)
    assert (referral.advocate_integration_id, referral.id, referral.expiry_date is not None) == (
        "adam",
        created["id"],
        True,
    )
    path = "/v1/customer_profiles/adam/inventory?referrals=true"
    assert [r["code"] for r in runtime.request("GET", path, headers=tenant.headers).json()["referrals"]] == [code]
    # A friend presents it (in any case) in a later session and redeems it at close.
    friend = new_id()
    opened = put(runtime, tenant, friend, {"profileId": "fran", "cartItems": CART, "referralCode": code.lower()})
    assert opened == [("acceptReferral", code), ("setDiscount", 5)]
    assert put(runtime, tenant, friend, {"state": "closed"})[0] == ("acceptReferral", code)
    assert stored(runtime, tenant, code).usage_counter == 1
    # Cancelling the session that created it leaves the code (as coupons a session created stay).
    put(runtime, tenant, session_id, {"state": "cancelled"})
    assert stored(runtime, tenant, code).advocate_integration_id == "adam"


def test_an_anonymous_close_creates_no_referral_code(runtime):
    tenant = new_tenant(runtime)
    create = {"type": "createReferral"}
    campaign = {**CAMPAIGN, "rules": [{"title": "Everyone advocates", "condition": "true", "effects": [create]}]}
    publish(runtime, tenant.application_id, {"settings": {"currency": "EUR"}, "campaigns": [campaign]})
    body = {"customerSession": {"state": "closed", "cartItems": CART}, "responseContent": ["ruleFailureReasons"]}
    answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id()}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    assert (answer.json()["effects"], answer.json()["createdReferrals"]) == ([], [])
    assert [f["details"] for f in answer.json()["ruleFailureReasons"]] == ["EffectCouldNotBeApplied"]
