"""Coupons in Talon.One customer sessions, through the local runtime against DynamoDB Local: a valid coupon is
accepted and redeemed exactly once at close, every other code is rejected with Talon.One's reason, cancel and
reopen give the redemption back, a gift card never gives more than its value, and 16 concurrent closes redeem a
single-use coupon once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from patron.coupons import items
from patron.dynamo import codec
from tests.conftest import Tenant
from tests.integration.coupons import add_coupon, coupon_campaign, stored
from tests.integration.rulesets import tenant_with

NOW = datetime.now(UTC)


def put(runtime: Any, tenant: Tenant, session_id: str, session: dict[str, Any]) -> Any:
    body = {"customerSession": session, "responseContent": ["customerSession"]}
    return runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)


def effects(answer: Any) -> list[tuple[str, Any]]:
    assert answer.status == 200, answer.body
    found = []
    for effect in answer.json()["effects"]:
        props = effect["props"]
        found.append(
            (effect["effectType"], props.get("rejectionReason") or props.get("value", props.get("couponValue")))
        )
    return found


def cart(price: int = 100) -> list[dict[str, Any]]:
    return [{"sku": "sku-1", "price": price, "quantity": 1}]


def new_id() -> str:
    return f"s-{uuid.uuid4().hex[:12]}"


def test_a_valid_coupon_is_accepted_redeemed_once_at_close_and_given_back_on_cancel(runtime):
    tenant = tenant_with(runtime, coupon_campaign())
    add_coupon(runtime, tenant, "WELCOME10", usage_limit=5)
    session_id = new_id()
    opened = put(runtime, tenant, session_id, {"profileId": "ann", "cartItems": cart(), "couponCodes": ["WELCOME10"]})
    assert effects(opened) == [("acceptCoupon", "WELCOME10"), ("setDiscount", 10)]
    assert stored(runtime, tenant, "WELCOME10").usage_counter == 0  # an open session redeems nothing

    closed = put(runtime, tenant, session_id, {"state": "closed"})  # the codes are kept when omitted
    assert effects(closed) == [("acceptCoupon", "WELCOME10"), ("setDiscount", 10)]
    assert stored(runtime, tenant, "WELCOME10").usage_counter == 1
    again = put(runtime, tenant, session_id, {"state": "closed"})  # closed twice: refused, nothing redeemed again
    assert again.status == 400 and stored(runtime, tenant, "WELCOME10").usage_counter == 1

    cancelled = put(runtime, tenant, session_id, {"state": "cancelled"})
    assert effects(cancelled) == [("rollbackCoupon", "WELCOME10"), ("rollbackDiscount", 10)]
    assert stored(runtime, tenant, "WELCOME10").usage_counter == 0


def test_codes_are_rejected_with_talons_reasons(runtime):
    tenant = tenant_with(runtime, coupon_campaign(), coupon_campaign(11, "coupon.valid and session.total > 500"))
    add_coupon(runtime, tenant, "OLD", expiry_date=NOW - timedelta(days=1))
    add_coupon(runtime, tenant, "LATER", start_date=NOW + timedelta(days=1))
    add_coupon(runtime, tenant, "USED", usage_limit=1, usage_counter=1)
    add_coupon(runtime, tenant, "BOB-ONLY", recipient_integration_id="bob")
    add_coupon(runtime, tenant, "BIG", campaign_id=11)
    codes = ["NOPE", "OLD", "LATER", "USED", "BOB-ONLY", "BIG"]
    answer = put(runtime, tenant, new_id(), {"profileId": "ann", "cartItems": cart(), "couponCodes": codes})
    assert effects(answer) == [
        ("rejectCoupon", "CouponNotFound"),
        ("rejectCoupon", "CouponExpired"),
        ("rejectCoupon", "CouponStartDateInFuture"),
        ("rejectCoupon", "CouponLimitReached"),
        ("rejectCoupon", "CouponRecipientDoesNotMatch"),
        ("rejectCoupon", "CouponRejectedByCondition"),
    ]


def test_a_personal_code_and_a_per_profile_limit(runtime):
    tenant = tenant_with(runtime, coupon_campaign())
    add_coupon(runtime, tenant, "ONCE-EACH", profile_limit=1)
    first = new_id()
    put(runtime, tenant, first, {"profileId": "ann", "cartItems": cart(), "couponCodes": ["ONCE-EACH"]})
    assert effects(put(runtime, tenant, first, {"state": "closed"}))[0] == ("acceptCoupon", "ONCE-EACH")
    second = {"profileId": "ann", "cartItems": cart(), "couponCodes": ["ONCE-EACH"]}
    assert effects(put(runtime, tenant, new_id(), second)) == [("rejectCoupon", "ProfileLimitReached")]
    third = {"profileId": "carl", "cartItems": cart(), "couponCodes": ["ONCE-EACH"]}
    assert effects(put(runtime, tenant, new_id(), third))[0] == ("acceptCoupon", "ONCE-EACH")
    anonymous = {"cartItems": cart(), "couponCodes": ["ONCE-EACH"]}
    assert effects(put(runtime, tenant, new_id(), anonymous)) == [("rejectCoupon", "ProfileRequired")]


def test_a_gift_card_gives_at_most_what_is_left_and_a_case_insensitive_application_finds_codes(runtime):
    tenant = tenant_with(runtime, coupon_campaign(), caseSensitiveCodes=False)
    add_coupon(runtime, tenant, "GIFT-25", discount_limit=Decimal(25), discount_counter=Decimal(20))
    session_id = new_id()
    put(runtime, tenant, session_id, {"profileId": "ann", "cartItems": cart(), "couponCodes": ["gift-25"]})
    closed = put(runtime, tenant, session_id, {"state": "closed"})
    assert effects(closed) == [("acceptCoupon", "GIFT-25"), ("setDiscount", 5)]
    assert closed.json()["effects"][1]["props"]["desiredValue"] == 10
    after = stored(runtime, tenant, "GIFT-25")
    assert (after.discount_counter, after.usage_counter) == (Decimal(25), 1)
    # Used up: the next session is refused before evaluating.
    next_one = {"profileId": "bob", "cartItems": cart(), "couponCodes": ["GIFT-25"]}
    assert effects(put(runtime, tenant, new_id(), next_one)) == [("rejectCoupon", "CouponLimitReached")]


def test_reopen_gives_the_redemption_back_and_a_new_close_redeems_again(runtime):
    tenant = tenant_with(runtime, coupon_campaign())
    add_coupon(runtime, tenant, "REOPEN", usage_limit=1)
    session_id = new_id()
    put(runtime, tenant, session_id, {"profileId": "ann", "cartItems": cart(), "couponCodes": ["REOPEN"]})
    put(runtime, tenant, session_id, {"state": "closed"})
    reopened = runtime.request("PUT", f"/v2/customer_sessions/{session_id}/reopen", headers=tenant.headers)
    assert effects(reopened) == [("rollbackCoupon", "REOPEN"), ("rollbackDiscount", 10)]
    assert stored(runtime, tenant, "REOPEN").usage_counter == 0
    assert effects(put(runtime, tenant, session_id, {"state": "closed"}))[0] == ("acceptCoupon", "REOPEN")
    assert stored(runtime, tenant, "REOPEN").usage_counter == 1


def test_another_applications_coupon_is_not_found(runtime):
    owner = tenant_with(runtime, coupon_campaign())
    add_coupon(runtime, owner, "MINE")
    other = tenant_with(runtime, coupon_campaign())
    answer = put(runtime, other, new_id(), {"cartItems": cart(), "couponCodes": ["MINE"]})
    assert effects(answer) == [("rejectCoupon", "CouponNotFound")]


ROUNDS = 30


def test_sixteen_closes_redeem_a_single_use_coupon_exactly_once(runtime):
    for round_number in range(ROUNDS):
        tenant = tenant_with(runtime, coupon_campaign())
        add_coupon(runtime, tenant, "SINGLE", usage_limit=1)

        def close(n: int, tenant: Tenant = tenant) -> Any:
            session = {"profileId": f"p{n}", "cartItems": cart(), "couponCodes": ["SINGLE"], "state": "closed"}
            return put(runtime, tenant, new_id(), session)

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(close, range(16)))
        assert all(answer.status in (200, 409) for answer in answers), [a.body for a in answers]
        accepted = [a for a in answers if a.status == 200 and effects(a)[0] == ("acceptCoupon", "SINGLE")]
        assert len(accepted) == 1, round_number
        assert stored(runtime, tenant, "SINGLE").usage_counter == 1
        refused = [a for a in answers if a.status == 200 and a not in accepted]
        assert all(effects(a) == [("rejectCoupon", "CouponLimitReached")] for a in refused)


def test_sixteen_closes_never_take_a_gift_card_past_its_value(runtime):
    tenant = tenant_with(runtime, coupon_campaign())
    add_coupon(runtime, tenant, "GIFT-50", discount_limit=Decimal(50))

    def close(n: int) -> Any:
        session = {"profileId": f"p{n}", "cartItems": cart(), "couponCodes": ["GIFT-50"], "state": "closed"}
        return put(runtime, tenant, new_id(), session)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(close, range(16)))
    assert all(answer.status in (200, 409) for answer in answers), [a.body for a in answers]
    given = sum(
        (
            Decimal(str(e["props"]["value"]))
            for a in answers
            if a.status == 200
            for e in a.json()["effects"]
            if e["effectType"] == "setDiscount"
        ),
        Decimal(0),
    )
    after = stored(runtime, tenant, "GIFT-50")
    assert after.discount_counter == given == Decimal(50)


def test_a_checkout_hold_keeps_the_last_use_for_its_session_until_it_ends(runtime):
    tenant = tenant_with(runtime, coupon_campaign(), couponHoldSeconds=600)
    add_coupon(runtime, tenant, "LAST-ONE", usage_limit=1)
    holder, other = new_id(), new_id()
    held = put(runtime, tenant, holder, {"profileId": "ann", "cartItems": cart(), "couponCodes": ["LAST-ONE"]})
    assert effects(held)[0] == ("acceptCoupon", "LAST-ONE")
    # Another customer cannot take the held use, open or closing.
    refused = {"profileId": "bob", "cartItems": cart(), "couponCodes": ["LAST-ONE"], "state": "closed"}
    assert effects(put(runtime, tenant, other, refused)) == [("rejectCoupon", "CouponLimitReached")]
    assert stored(runtime, tenant, "LAST-ONE").usage_counter == 0
    # The holder's close turns its hold into the use.
    assert effects(put(runtime, tenant, holder, {"state": "closed"}))[0] == ("acceptCoupon", "LAST-ONE")
    assert stored(runtime, tenant, "LAST-ONE").usage_counter == 1


def test_a_cancelled_or_expired_hold_frees_the_use(runtime):
    tenant = tenant_with(runtime, coupon_campaign(), couponHoldSeconds=600)
    add_coupon(runtime, tenant, "FREED", usage_limit=1)
    holder = new_id()
    put(runtime, tenant, holder, {"profileId": "ann", "cartItems": cart(), "couponCodes": ["FREED"]})
    put(runtime, tenant, holder, {"state": "cancelled"})
    closing = {"profileId": "bob", "cartItems": cart(), "couponCodes": ["FREED"], "state": "closed"}
    assert effects(put(runtime, tenant, new_id(), closing))[0] == ("acceptCoupon", "FREED")

    # A hold that nobody renews ends by itself: here one whose end has passed, as a crashed checkout leaves it.
    add_coupon(runtime, tenant, "STALE", usage_limit=1)
    runtime.dynamodb_client().update_item(
        TableName=runtime.table_names["LedgersTable"],
        Key={"PK": {"S": f"APP#{tenant.application_id}#COUPON#STALE"}, "SK": {"S": "COUPON"}},
        UpdateExpression="SET #h = :until, holdVersion = :one",
        ExpressionAttributeNames={"#h": "hold#crashed-session"},
        ExpressionAttributeValues={":until": {"S": "2020-01-01T00:00:00.000Z"}, ":one": {"N": "1"}},
    )
    closing["couponCodes"] = ["STALE"]
    assert effects(put(runtime, tenant, new_id(), closing))[0] == ("acceptCoupon", "STALE")


def test_sixteen_closes_against_a_held_last_use_take_none_of_it(runtime):
    tenant = tenant_with(runtime, coupon_campaign(), couponHoldSeconds=600)
    add_coupon(runtime, tenant, "HELD", usage_limit=2)
    holder = new_id()
    put(runtime, tenant, holder, {"profileId": "ann", "cartItems": cart(), "couponCodes": ["HELD"]})

    def close(n: int) -> Any:
        session = {"profileId": f"p{n}", "cartItems": cart(), "couponCodes": ["HELD"], "state": "closed"}
        return put(runtime, tenant, new_id(), session)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(close, range(16)))
    assert all(answer.status in (200, 409) for answer in answers), [a.body for a in answers]
    taken = [a for a in answers if a.status == 200 and effects(a)[0] == ("acceptCoupon", "HELD")]
    assert len(taken) == 1  # the one free use; the held one stays for its session
    assert effects(put(runtime, tenant, holder, {"state": "closed"}))[0] == ("acceptCoupon", "HELD")
    assert stored(runtime, tenant, "HELD").usage_counter == 2


def test_the_coupons_response_content_answers_the_named_coupons(runtime):
    tenant = tenant_with(runtime, coupon_campaign())
    add_coupon(runtime, tenant, "SHOWN", usage_limit=3)
    body = {
        "customerSession": {"cartItems": cart(), "couponCodes": ["SHOWN", "NOPE"]},
        "responseContent": ["coupons"],
    }
    answer = runtime.request("PUT", f"/v2/customer_sessions/{new_id()}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    assert [(c["value"], c["usageLimit"], c["campaignId"]) for c in answer.json()["coupons"]] == [("SHOWN", 3, 10)]


def test_a_rule_creates_a_coupon_for_the_next_purchase_at_close(runtime):
    campaign = coupon_campaign(12, "coupon.valid")
    effect = {"type": "createCoupon", "prefix": "NEXT-", "usageLimit": 1, "validDays": 30, "discountLimit": "10"}
    campaign["rules"].append(
        {"title": "Spent 50: a coupon for next time", "condition": "session.total >= 50", "effects": [effect]}
    )
    tenant = tenant_with(runtime, campaign)
    session_id = new_id()
    opened = put(runtime, tenant, session_id, {"profileId": "ann", "cartItems": cart()})
    assert effects(opened) == []  # an open session creates nothing
    closed = put(runtime, tenant, session_id, {"state": "closed"})
    ((kind, code),) = effects(closed)
    assert kind == "couponCreated" and code.startswith("NEXT-") and len(code) == 13
    (created,) = closed.json()["createdCoupons"]
    assert (created["value"], created["recipientIntegrationId"], created["usageLimit"]) == (code, "ann", 1)
    # Ann's next session redeems it; it is hers only.
    nxt = {"profileId": "ann", "cartItems": cart(), "couponCodes": [code]}
    assert effects(put(runtime, tenant, new_id(), nxt))[0] == ("acceptCoupon", code)
    nxt["profileId"] = "bob"
    assert effects(put(runtime, tenant, new_id(), nxt)) == [("rejectCoupon", "CouponRecipientDoesNotMatch")]
    # Cancelling the session that created it leaves the coupon (as Talon.One does).
    put(runtime, tenant, session_id, {"state": "cancelled"})
    assert stored(runtime, tenant, code).recipient_integration_id == "ann"


def reserved_customers(runtime: Any, tenant: Tenant, code: str) -> list[str]:
    answer = runtime.request("GET", f"/v1/coupon_reservations/customerprofiles/{code}", headers=tenant.headers)
    assert answer.status == 200, answer.body
    return sorted(profile["integrationId"] for profile in answer.json()["data"])


def wallet(runtime: Any, tenant: Tenant, profile: str) -> dict[str, dict[str, Any]]:
    path = f"/v1/customer_profiles/{profile}/inventory?coupons=true"
    answer = runtime.request("GET", path, headers=tenant.headers)
    assert answer.status == 200, answer.body
    return {coupon["value"]: coupon for coupon in answer.json()["coupons"]}


def ledger_item(runtime: Any, tenant: Tenant, key: dict[str, str]) -> dict[str, Any]:
    answer = runtime.dynamodb_client().get_item(
        TableName=runtime.table_names["LedgersTable"], Key=codec.to_item(key), ConsistentRead=True
    )
    return codec.from_item(answer["Item"])


def reservations(answer: Any) -> list[tuple[str, str, bool]]:
    return [
        (e["props"]["couponValue"], e["props"]["profileIntegrationId"], e["props"]["isNewReservation"])
        for e in answer.json()["effects"]
        if e["effectType"] == "reserveCoupon"
    ]


def test_a_rule_creates_a_coupon_and_reserves_it_for_the_customer_once(runtime):
    campaign = coupon_campaign(12)
    effects_ = [{"type": "createCoupon", "prefix": "NEXT-", "validDays": 30}, {"type": "reserveCoupon"}]
    campaign["rules"].append({"title": "A wallet coupon", "condition": "session.total >= 50", "effects": effects_})
    tenant = tenant_with(runtime, campaign)
    session_id = new_id()
    put(runtime, tenant, session_id, {"profileId": "ann", "cartItems": cart()})
    key = {**tenant.headers, "Idempotency-Key": f"close-{session_id}"}
    body = {"customerSession": {"state": "closed"}}
    closed = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=key, body=body)
    ((kind, code), _) = effects(closed)
    assert kind == "couponCreated" and reservations(closed) == [(code, "ann", True)]
    assert closed.json()["createdCoupons"][0]["reservationCounter"] == 1
    # Stored as the reservations route stores one: counted, the holding marked, the coupon's list naming ann.
    assert stored(runtime, tenant, code).reservation_counter == 1
    assert "reservedAt" in ledger_item(runtime, tenant, items.holding_key(tenant.application_id, "ann", code))
    assert reserved_customers(runtime, tenant, code) == ["ann"]
    assert wallet(runtime, tenant, "ann")[code]["reservationCounter"] == 1
    # A replayed close (same Idempotency-Key) answers the same and writes nothing; a second close is refused.
    replayed = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=key, body=body)
    assert replayed.header("Idempotent-Replayed") == "true" and replayed.json() == closed.json()
    assert put(runtime, tenant, session_id, {"state": "closed"}).status == 400
    assert list(wallet(runtime, tenant, "ann")) == [code] and stored(runtime, tenant, code).reservation_counter == 1
    # A cancel leaves the coupon and its reservation (as Talon.One leaves what a session created).
    assert put(runtime, tenant, session_id, {"state": "cancelled"}).status == 200
    assert reserved_customers(runtime, tenant, code) == ["ann"]


def test_a_presented_coupon_is_reserved_by_the_rule_it_triggers_within_its_reservation_limit(runtime):
    campaign = coupon_campaign(10)
    campaign["rules"][0]["effects"].append({"type": "reserveCoupon"})
    tenant = tenant_with(runtime, campaign)
    add_coupon(runtime, tenant, "WALLET", usage_limit=10, reservation_limit=2)
    bob = runtime.request("PUT", "/v2/customer_profiles/bob", headers=tenant.headers, body={"attributes": {}})
    assert bob.status == 200, bob.body  # the reserved customers listed are profiles that exist
    assert (
        runtime.request(
            "POST", "/v1/coupon_reservations/WALLET", headers=tenant.headers, body={"integrationIDs": ["bob"]}
        ).json()["reservationCounter"]
        == 1
    )

    def close(profile: str, session_id: str | None = None) -> Any:
        session_id = session_id or new_id()
        put(runtime, tenant, session_id, {"profileId": profile, "cartItems": cart(), "couponCodes": ["WALLET"]})
        body = {"customerSession": {"state": "closed"}, "responseContent": ["ruleFailureReasons"]}
        answer = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)
        assert answer.status == 200, answer.body
        return answer

    first = new_id()
    closed = close("ann", first)
    assert effects(closed)[:2] == [("acceptCoupon", "WALLET"), ("setDiscount", 10)]
    assert reservations(closed) == [("WALLET", "ann", True)]
    coupon = stored(runtime, tenant, "WALLET")
    assert (coupon.usage_counter, coupon.reservation_counter) == (1, 2)  # redeemed and reserved in one close
    assert reserved_customers(runtime, tenant, "WALLET") == ["ann", "bob"]
    assert wallet(runtime, tenant, "ann")["WALLET"]["profileRedemptionCount"] == 1
    # Indistinguishable from the route's reservation (bob's), but for who, when, and ann's redemption.
    anns = ledger_item(runtime, tenant, items.holding_key(tenant.application_id, "ann", "WALLET"))
    bobs = ledger_item(runtime, tenant, items.holding_key(tenant.application_id, "bob", "WALLET"))
    assert set(anns) - {"used"} == set(bobs) == {"PK", "SK", "reservedAt"}
    entry = ledger_item(runtime, tenant, items.reservation_key(tenant.application_id, "WALLET", "ann"))
    assert set(entry) == set(
        ledger_item(runtime, tenant, items.reservation_key(tenant.application_id, "WALLET", "bob"))
    )
    # Closed again after a reopen: the reservation is ann's already.
    assert runtime.request("PUT", f"/v2/customer_sessions/{first}/reopen", headers=tenant.headers).status == 200
    again = put(runtime, tenant, first, {"state": "closed"})
    assert reservations(again) == [("WALLET", "ann", False)]
    assert stored(runtime, tenant, "WALLET").reservation_counter == 2
    # The limit reached: carl redeems the coupon, the effect fails and nothing of a reservation is written.
    refused = close("carl")
    assert effects(refused)[0] == ("acceptCoupon", "WALLET") and reservations(refused) == []
    failure = refused.json()["ruleFailureReasons"][0]
    assert (failure["details"], failure["couponValue"], failure["effectIndex"]) == (
        "CouponReservationLimitReached",
        "WALLET",
        1,
    )
    coupon = stored(runtime, tenant, "WALLET")
    assert (coupon.usage_counter, coupon.reservation_counter) == (2, 2)
    assert reserved_customers(runtime, tenant, "WALLET") == ["ann", "bob"]
