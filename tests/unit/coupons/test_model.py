from datetime import UTC, datetime
from decimal import Decimal

from patron.coupons.model import MAX_CODE_BYTES, Coupon, code_issue, normalise_code

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def test_codes_are_kept_as_sent_when_the_application_is_case_sensitive():
    assert normalise_code("Summer25", case_sensitive=True) == "Summer25"


def test_codes_are_upper_cased_when_the_application_is_case_insensitive():
    assert {normalise_code(code, case_sensitive=False) for code in ("summer25", "Summer25", "SUMMER25")} == {"SUMMER25"}
    assert normalise_code("straße", case_sensitive=False) == "STRASSE"
    assert normalise_code(" a ", case_sensitive=False) == " A "  # no trimming


def test_code_issue_refuses_empty_too_long_and_broken_text():
    assert code_issue("SUMMER25%OFF") is None
    assert code_issue("") is not None
    assert code_issue("é" * (MAX_CODE_BYTES // 2)) is None
    assert code_issue("é" * (MAX_CODE_BYTES // 2 + 1)) is not None
    assert code_issue("\ud800") is not None


def test_discount_remainder_is_exact_and_never_negative():
    coupon = Coupon("GIFT", 1, 1, CREATED, discount_limit=Decimal("50.00"), discount_counter=Decimal("19.99"))
    assert coupon.discount_remainder == Decimal("30.01")
    lowered = Coupon("GIFT", 1, 1, CREATED, discount_limit=Decimal(10), discount_counter=Decimal("19.99"))
    assert lowered.discount_remainder == 0
    assert Coupon("FREE", 1, 1, CREATED).discount_remainder is None


def test_zero_limits_mean_unlimited():
    coupon = Coupon("FREE", 1, 1, CREATED, usage_counter=10**6, reservation_counter=5)
    assert coupon.uses_left is None
    assert coupon.reservations_left is None
    assert Coupon("ONCE", 1, 1, CREATED, usage_limit=1, usage_counter=1).uses_left == 0
