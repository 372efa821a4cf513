from datetime import UTC, datetime

from patron.coupons.model import MAX_CODE_BYTES
from patron.referrals.model import NOT_REFERRED, FriendRecord, Referral, code_issue

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def test_code_issue_refuses_short_long_and_broken_codes():
    assert code_issue("REF1") is None
    assert code_issue("") is not None
    assert code_issue("ABC") is not None  # Talon.One's Referral.code has minLength 4
    assert code_issue("é" * (MAX_CODE_BYTES // 2)) is None
    assert code_issue("é" * (MAX_CODE_BYTES // 2 + 1)) is not None
    assert code_issue("REF\ud800") is not None


def test_zero_usage_limit_means_unlimited_and_uses_left_never_goes_negative():
    assert Referral("REF1", 7, "adv", 1, CREATED, usage_counter=10**6).uses_left is None
    assert Referral("REF1", 7, "adv", 1, CREATED, usage_limit=3, usage_counter=1).uses_left == 2
    assert Referral("REF1", 7, "adv", 1, CREATED, usage_limit=1, usage_counter=4).uses_left == 0


def test_a_friend_record_is_per_campaign():
    record = FriendRecord({7: "REF1"})
    assert record.referred_in(7)
    assert not record.referred_in(8)
    assert not NOT_REFERRED.referred_in(7)
