from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from msgspec.structs import replace

from patron.coupons.model import Coupon, Holding
from patron.coupons.validation import NO_HOLDING, CouponRejection, rejection

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
BASE = Coupon("SUMMER25", campaign_id=7, id=1, created=NOW - timedelta(days=30))


def check(coupon, profile_id="p-1", running=True, holding=NO_HOLDING):
    return rejection(coupon, now=NOW, profile_id=profile_id, campaign_running=running, holding=holding)


def test_a_plain_coupon_is_accepted_anonymously():
    assert check(BASE, profile_id=None) is None


@pytest.mark.parametrize(
    ("coupon", "profile_id", "holding", "reason"),
    [
        (None, "p-1", Holding(), CouponRejection.NOT_FOUND),
        (replace(BASE, recipient_integration_id="p-2"), "p-1", Holding(), CouponRejection.RECIPIENT_DOES_NOT_MATCH),
        (replace(BASE, recipient_integration_id="p-2"), None, Holding(), CouponRejection.RECIPIENT_DOES_NOT_MATCH),
        (replace(BASE, start_date=NOW + timedelta(seconds=1)), "p-1", Holding(), CouponRejection.START_DATE_IN_FUTURE),
        (replace(BASE, expiry_date=NOW), "p-1", Holding(), CouponRejection.EXPIRED),
        (replace(BASE, profile_limit=1), None, Holding(), CouponRejection.PROFILE_REQUIRED),
        (replace(BASE, reservation_mandatory=True), None, Holding(), CouponRejection.PROFILE_REQUIRED),
        (replace(BASE, reservation_mandatory=True), "p-1", Holding(), CouponRejection.RESERVATION_REQUIRED),
        (replace(BASE, usage_limit=3, usage_counter=3), "p-1", Holding(), CouponRejection.LIMIT_REACHED),
        (
            replace(BASE, discount_limit=Decimal("20.00"), discount_counter=Decimal("20.00")),
            "p-1",
            Holding(),
            CouponRejection.LIMIT_REACHED,
        ),
        (replace(BASE, profile_limit=2), "p-1", Holding(used=2), CouponRejection.PROFILE_LIMIT_REACHED),
    ],
)
def test_each_reason_alone(coupon, profile_id, holding, reason):
    assert check(coupon, profile_id, holding=holding) is reason


def test_a_coupon_of_a_campaign_not_running_is_rejected_before_anything_else():
    assert check(replace(BASE, expiry_date=NOW - timedelta(days=1)), running=False) is (
        CouponRejection.CAMPAIGN_NOT_RUNNING
    )


def test_boundaries_start_is_inclusive_expiry_exclusive():
    assert check(replace(BASE, start_date=NOW)) is None
    assert check(replace(BASE, expiry_date=NOW + timedelta(microseconds=1))) is None


def test_the_recipient_may_use_a_personal_code_that_must_be_reserved_without_reserving_it():
    personal = replace(BASE, recipient_integration_id="p-1", reservation_mandatory=True)
    assert check(personal, "p-1") is None


def test_a_reservation_satisfies_a_mandatory_reservation():
    coupon = replace(BASE, reservation_mandatory=True)
    assert check(coupon, "p-1", holding=Holding(reserved_at=NOW)) is None


def test_a_partly_used_gift_card_is_accepted():
    coupon = replace(BASE, discount_limit=Decimal("20.00"), discount_counter=Decimal("19.99"))
    assert check(coupon) is None


def test_fixed_facts_are_reported_before_counters():
    """The documented order: a stranger learns nothing of a personal code, an expired and used-up coupon is
    reported expired, a used-up coupon the profile also used up is reported as the coupon's limit."""
    worst = replace(
        BASE,
        recipient_integration_id="p-2",
        expiry_date=NOW - timedelta(days=1),
        usage_limit=1,
        usage_counter=1,
        profile_limit=1,
        reservation_mandatory=True,
    )
    expected = [
        CouponRejection.RECIPIENT_DOES_NOT_MATCH,
        CouponRejection.EXPIRED,
        CouponRejection.RESERVATION_REQUIRED,
        CouponRejection.LIMIT_REACHED,
        CouponRejection.PROFILE_LIMIT_REACHED,
    ]
    coupon, reasons = worst, []
    fixes: list[dict[str, Any]] = [
        {"recipient_integration_id": None},
        {"expiry_date": None},
        {"reservation_mandatory": False},
        {"usage_counter": 0},
        {"profile_limit": 0},
    ]
    for fix in fixes:
        reasons.append(check(coupon, "p-1", holding=Holding(used=1)))
        coupon = replace(coupon, **fix)
    assert reasons == expected
    assert check(coupon, "p-1", holding=Holding(used=1)) is None


def test_the_reasons_are_talon_ones_wire_names():
    from talon_one.models.coupon_rejection_reason import CouponRejectionReason

    # CouponLimitReached is documented with RejectCouponEffectProps.rejectionReason, not in this model's enum.
    for reason in set(CouponRejection) - {CouponRejection.LIMIT_REACHED}:
        assert CouponRejectionReason(campaignId=7, couponId=1, reason=reason.value).reason == reason.value
