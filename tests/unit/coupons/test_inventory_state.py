"""The customer inventory's coupon states (patron.coupons.inventory.coupon_state): the first rule that holds of
disabled, pending, used, expired, active; and which holdings the inventory lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from patron.coupons.inventory import CampaignSchedule, coupon_state, inventory_coupon, listed
from patron.coupons.model import Coupon, Holding

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
RUNNING = CampaignSchedule(accepts_coupons=True)


def coupon(**fields: object) -> Coupon:
    return Coupon("CODE-1", 10, 1, NOW - 10 * DAY, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("campaign", "expected"),
    [
        (None, "disabled"),  # not in the live ruleset
        (CampaignSchedule(accepts_coupons=False), "disabled"),  # disabled, archived, or without coupons
        (CampaignSchedule(True, end=NOW), "disabled"),  # ended
        (CampaignSchedule(True, start=NOW + DAY), "active"),  # scheduled: Talon.One answers active
        (CampaignSchedule(True, start=NOW - DAY, end=NOW + DAY), "active"),
    ],
)
def test_the_campaign_decides_first(campaign, expected):
    assert coupon_state(coupon(), Holding(), campaign, NOW) == expected
    used_up = coupon_state(coupon(usage_limit=1, usage_counter=1), Holding(used=1), campaign, NOW)
    assert used_up == ("disabled" if expected == "disabled" else "used")  # a disabled campaign wins over counters


def test_a_coupon_not_started_is_pending_even_if_used_up():
    assert coupon_state(coupon(start_date=NOW + DAY, usage_limit=1, usage_counter=1), Holding(), RUNNING, NOW) == (
        "pending"
    )


@pytest.mark.parametrize(
    ("fields", "holding"),
    [
        ({"usage_limit": 2, "usage_counter": 2}, Holding()),  # its uses are gone, whoever took them
        ({"discount_limit": Decimal(50), "discount_counter": Decimal(50)}, Holding()),  # a spent gift card
        ({"profile_limit": 1}, Holding(used=1)),  # this profile's redemptions are used up
        ({"expiry_date": NOW - DAY}, Holding(used=1)),  # redeemed by the profile, then expired
    ],
)
def test_used(fields, holding):
    assert coupon_state(coupon(**fields), holding, RUNNING, NOW) == "used"


def test_expired_when_never_redeemed_by_the_profile():
    assert coupon_state(coupon(expiry_date=NOW), Holding(reserved_at=NOW - DAY), RUNNING, NOW) == "expired"


def test_active_while_it_can_be_used_again():
    assert coupon_state(coupon(profile_limit=2, usage_limit=5, usage_counter=4), Holding(used=1), RUNNING, NOW) == (
        "active"
    )
    assert coupon_state(coupon(expiry_date=NOW + DAY), Holding(used=3), RUNNING, NOW) == "active"


def test_the_inventory_lists_reservations_and_personal_codes_only():
    assert listed(coupon(), Holding(reserved_at=NOW), "ann")
    assert listed(coupon(recipient_integration_id="ann"), Holding(recipient=True), "ann")
    assert not listed(coupon(), Holding(used=3), "ann")  # a public code the profile redeemed
    assert not listed(None, Holding(reserved_at=NOW), "ann")  # deleted since


def test_the_inventory_coupon_is_talon_ones_shape():
    personal = coupon(recipient_integration_id="ann", profile_limit=1, discount_limit=Decimal(20))
    answered = inventory_coupon(personal, Holding(used=1), "used")
    assert (answered.reservation, answered.profile_redemption_count, answered.state) == (False, 1, "used")
    assert answered.discount_remainder == Decimal(20) and answered.limits is not None
    assert inventory_coupon(coupon(), Holding(), "active").reservation is True
