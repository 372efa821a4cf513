"""What a close writes for `createCoupon`, `reserveCoupon` and `createReferral`: every item once (TransactWriteItems
refuses two operations on one item), a reservation as the reservations route stores it, codes filled into the
effects."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from patron.coupons import items
from patron.coupons.holds import Holds
from patron.coupons.model import Coupon
from patron.dynamo import codec, committer
from patron.promotions.budgets import coupon_discount_key, coupon_usage_key
from patron.promotions.effects import CouponCreatedProps, Effect, ReferralCreatedProps, ReserveCouponProps
from patron.promotions.evaluator import CouponToCreate, CouponToReserve, Evaluation, ReferralToCreate
from patron.referrals import items as referral_items
from patron.sessions import coupons, referrals
from patron.sessions.store import Read

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)
TABLE = "ledgers"


def evaluation(**fields: Any) -> Evaluation:
    return Evaluation([], [], [], {}, {}, {}, [], **fields)


def effect(kind: str, props: Any) -> Effect:
    return Effect(10, 3, 0, "rule", kind, props)


def keys(writes: list[committer.Write]) -> list[tuple[str, str]]:
    found = []
    for write in writes:
        key = codec.from_item(write.request.get("Key") or write.request["Item"])
        found.append((str(key["PK"]), str(key["SK"])))
    return found


def item(write: committer.Write) -> dict[str, Any]:
    return codec.from_item(write.request["Item"])


def test_a_created_and_reserved_coupon_is_put_once_reserved_with_its_holding_and_entry() -> None:
    request = CouponToCreate(10, "ann", "next-", 1, None, 30, {}, rule_index=0, reserved=True)
    plain = CouponToCreate(10, "ann", "OTHER-", 1, None, None, {}, rule_index=1)
    answered = [
        effect("couponCreated", CouponCreatedProps("", "ann")),
        effect("reserveCoupon", ReserveCouponProps("", "ann", True)),
        effect("couponCreated", CouponCreatedProps("", "ann")),
    ]
    made, writes, filled = coupons.created(
        TABLE, 1, evaluation(coupons_to_create=[request, plain]), answered, NOW, case_sensitive=False
    )
    code = made[0].value
    assert code.startswith("NEXT-") and code == code.upper()  # stored as a case-insensitive application's codes
    assert len(set(keys(writes))) == len(writes) == 5
    assert keys(writes)[:3] == [
        (f"APP#1#COUPON#{code}", "COUPON"),
        ("APP#1#HOLDER#ann", f"COUPON#{code}"),
        (f"APP#1#RESERVATIONS#{code}", "ann"),
    ]
    coupon, holding, entry = (item(write) for write in writes[:3])
    assert coupon["reservationCounter"] == 1 and coupon["recipientIntegrationId"] == "ann"
    assert holding == {**items.holding_key(1, "ann", code), "recipient": True, "reservedAt": "2026-12-04T10:00:00.000Z"}
    assert entry == {**items.reservation_key(1, code, "ann"), "reservedAt": "2026-12-04T10:00:00.000Z"}
    assert item(writes[3])["reservationCounter"] == 0 and "reservedAt" not in item(writes[4])
    assert [getattr(e.props, "value", None) or e.props.coupon_value for e in filled] == [code, code, made[1].value]


def test_a_redeemed_coupon_reserved_by_the_close_is_updated_once_with_both() -> None:
    coupon = Coupon("WALLET-1", 10, 77, NOW, usage_limit=5, reservation_limit=3, reservation_counter=1)
    read = Read(None, None, None, 3, {}, "ann", frozenset(), coupons={"WALLET-1": coupon}, holder_read="ann")
    consumed = {coupon_usage_key(10, "WALLET-1"): Decimal(1), coupon_discount_key(10, "WALLET-1"): Decimal(5)}
    plain = coupons.redemption_writes(TABLE, 1, consumed, read, "ann", "s-1", NOW)
    writes = coupons.redemption_writes(TABLE, 1, consumed, read, "ann", "s-1", NOW, reserving=frozenset({"WALLET-1"}))
    assert len(plain) == 2 and len(writes) == 3 and len(set(keys(writes))) == 3
    redeem, holding, entry = writes
    assert "#reservationCounter = #reservationCounter + :one" in redeem.request["UpdateExpression"]
    assert redeem.request["ConditionExpression"].endswith(
        "AND (#reservationLimit = :zero OR #reservationCounter < #reservationLimit)"
    )
    assert "#reservedAt = :now" in holding.request["UpdateExpression"]
    assert holding.request["ConditionExpression"] == "attribute_not_exists(#reservedAt)"
    assert item(entry) == {**items.reservation_key(1, "WALLET-1", "ann"), "reservedAt": "2026-12-04T10:00:00.000Z"}


def test_a_held_coupon_with_a_profile_limit_folds_the_reservation_into_the_held_redemption() -> None:
    coupon = Coupon("WALLET-1", 10, 77, NOW, usage_limit=5, profile_limit=2)
    held = Holds(1, {"s-1": NOW})
    read = Read(
        None, None, None, 3, {}, "ann", frozenset(), coupons={"WALLET-1": coupon}, coupon_holds={"WALLET-1": held}
    )
    consumed = {coupon_usage_key(10, "WALLET-1"): Decimal(1)}
    writes = coupons.redemption_writes(TABLE, 1, consumed, read, "ann", "s-1", NOW, True, frozenset({"WALLET-1"}))
    assert len(set(keys(writes))) == len(writes) == 3
    redeem, holding, _ = writes
    assert "#reservationCounter = #reservationCounter + :one" in redeem.request["UpdateExpression"]
    assert "#version = :next" in redeem.request["UpdateExpression"]
    assert holding.request["ConditionExpression"] == (
        "(attribute_not_exists(#used) OR #used < :limit) AND attribute_not_exists(#reservedAt)"
    )


def test_reservations_come_from_the_evaluation_for_the_sessions_profile_only() -> None:
    decided = evaluation(coupons_to_reserve=[CouponToReserve(10, "A", "ann"), CouponToReserve(11, "B", "bob")])
    assert coupons.reserved(decided, "ann") == frozenset({"A"})
    assert coupons.reserved(decided, None) == frozenset()


def test_a_created_referral_is_written_as_the_route_writes_it_and_its_code_answered() -> None:
    request = ReferralToCreate(20, "ann", "ref-", 5, 10, {"tier": "gold"})
    answered = [effect("setDiscount", None), effect("referralCreated", ReferralCreatedProps(""))]
    made, writes, filled = referrals.created(
        TABLE, 1, evaluation(referrals_to_create=[request]), answered, NOW, case_sensitive=True
    )
    (referral,) = made
    assert referral.code.startswith("ref-") and len(referral.code) == 12  # as written: a case-sensitive application
    assert (referral.advocate_integration_id, referral.usage_limit, referral.campaign_id) == ("ann", 5, 20)
    assert referral.expiry_date == datetime(2026, 12, 14, 10, tzinfo=UTC) and referral.friend_integration_id is None
    assert [w.request for w in writes] == [w.request for w in referral_items.create(TABLE, 1, referral)]
    assert writes[0].request["ConditionExpression"] == "attribute_not_exists(PK)"
    assert filled[0] is answered[0] and filled[1].props == ReferralCreatedProps(referral.code)
