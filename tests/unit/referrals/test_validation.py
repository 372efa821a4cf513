from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from msgspec.structs import replace

from patron.referrals.model import NOT_REFERRED, FriendRecord, Referral
from patron.referrals.validation import ReferralRejection, rejection

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
BASE = Referral("FRIEND-10", campaign_id=7, advocate_integration_id="adv", id=1, created=NOW - timedelta(days=30))


def check(referral, profile_id="p-1", running=True, friend=NOT_REFERRED, advocate_found=True):
    return rejection(
        referral,
        now=NOW,
        profile_id=profile_id,
        campaign_running=running,
        friend=friend,
        advocate_found=advocate_found,
    )


def test_a_plain_referral_is_accepted_for_a_new_friend():
    assert check(BASE) is None


def test_a_friend_referred_in_another_campaign_may_be_referred_in_this_one():
    assert check(BASE, friend=FriendRecord({8: "OTHER-1"})) is None


@pytest.mark.parametrize(
    ("referral", "profile_id", "friend", "reason"),
    [
        (None, "p-1", NOT_REFERRED, ReferralRejection.NOT_FOUND),
        (BASE, "adv", NOT_REFERRED, ReferralRejection.SAME_AS_ADVOCATE),
        (replace(BASE, friend_integration_id="p-2"), "p-1", NOT_REFERRED, ReferralRejection.RECIPIENT_DOES_NOT_MATCH),
        (replace(BASE, friend_integration_id="p-2"), None, NOT_REFERRED, ReferralRejection.RECIPIENT_DOES_NOT_MATCH),
        (
            replace(BASE, start_date=NOW + timedelta(seconds=1)),
            "p-1",
            NOT_REFERRED,
            ReferralRejection.START_DATE_IN_FUTURE,
        ),
        (replace(BASE, expiry_date=NOW), "p-1", NOT_REFERRED, ReferralRejection.EXPIRED),
        (BASE, None, NOT_REFERRED, ReferralRejection.PROFILE_REQUIRED),
        (BASE, "p-1", FriendRecord({7: "OTHER-1"}), ReferralRejection.ALREADY_REFERRED),
        (BASE, "p-1", FriendRecord({7: "FRIEND-10"}), ReferralRejection.ALREADY_REFERRED),
        (replace(BASE, usage_limit=2, usage_counter=2), "p-1", NOT_REFERRED, ReferralRejection.LIMIT_REACHED),
    ],
)
def test_each_reason_alone(referral, profile_id, friend, reason):
    assert check(referral, profile_id, friend=friend) is reason


def test_a_referral_of_a_campaign_not_running_is_rejected_before_anything_else():
    expired = replace(BASE, expiry_date=NOW - timedelta(days=1))
    assert check(expired, "adv", running=False, advocate_found=False) is ReferralRejection.CAMPAIGN_NOT_RUNNING


def test_an_advocate_gone_is_reported_when_the_caller_knows_it():
    assert check(BASE, advocate_found=False) is ReferralRejection.ADVOCATE_NOT_FOUND


def test_boundaries_start_is_inclusive_expiry_exclusive():
    assert check(replace(BASE, start_date=NOW)) is None
    assert check(replace(BASE, expiry_date=NOW + timedelta(microseconds=1))) is None


def test_the_named_friend_may_use_their_code():
    assert check(replace(BASE, friend_integration_id="p-1")) is None


def test_a_partly_used_code_is_accepted():
    assert check(replace(BASE, usage_limit=3, usage_counter=2)) is None


def test_the_documented_order():
    """Each fix reveals the next reason: the advocate's own code, then the recipient, the dates, the profile, the
    friend's mark, the code's counter."""
    worst = replace(
        BASE,
        advocate_integration_id="p-1",
        friend_integration_id="p-2",
        start_date=NOW + timedelta(days=1),
        expiry_date=NOW - timedelta(days=1),
        usage_limit=1,
        usage_counter=1,
    )
    steps: list[tuple[dict[str, Any], ReferralRejection]] = [
        ({"advocate_found": False}, ReferralRejection.ADVOCATE_NOT_FOUND),
        ({}, ReferralRejection.SAME_AS_ADVOCATE),
        ({"advocate_integration_id": "adv"}, ReferralRejection.RECIPIENT_DOES_NOT_MATCH),
        ({"friend_integration_id": None}, ReferralRejection.START_DATE_IN_FUTURE),
        ({"start_date": None}, ReferralRejection.EXPIRED),
        ({"expiry_date": None}, ReferralRejection.ALREADY_REFERRED),
    ]
    referral, friend = worst, FriendRecord({7: "OTHER-1"})
    for fix, reason in steps:
        advocate_found = fix.pop("advocate_found", True)
        referral = replace(referral, **fix)
        assert check(referral, "p-1", friend=friend, advocate_found=advocate_found) is reason
    assert check(referral, None, friend=friend) is ReferralRejection.PROFILE_REQUIRED
    assert check(referral, "p-1") is ReferralRejection.LIMIT_REACHED
    assert check(replace(referral, usage_counter=0), "p-1") is None


def test_the_reasons_are_talon_ones_wire_names():
    from talon_one.models.referral_rejection_reason import ReferralRejectionReason
    from talon_one.models.reject_referral_effect_props import RejectReferralEffectProps

    # ReferralCustomerAlreadyReferred and AdvocateNotFound are documented with RejectReferralEffectProps'
    # rejectionReason, not in this enum; ProfileRequired is the coupons' reason, borrowed (validation's docstring).
    outside = {
        ReferralRejection.ALREADY_REFERRED,
        ReferralRejection.ADVOCATE_NOT_FOUND,
        ReferralRejection.PROFILE_REQUIRED,
    }
    for reason in set(ReferralRejection) - outside:
        assert ReferralRejectionReason(campaignId=7, referralId=1, reason=reason.value).reason == reason.value
    for reason in ReferralRejection:
        props = RejectReferralEffectProps.from_dict({"value": "FRIEND-10", "rejectionReason": reason.value})
        assert props is not None and props.rejection_reason == reason.value
