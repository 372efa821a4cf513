"""Session states move only as Talon.One documents; an update keeps what it omits and discards what it empties."""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest

from patron.errors import ValidationError
from patron.sessions.model import (
    CartItem,
    SessionChange,
    SessionState,
    Via,
    apply_change,
    check_cart,
    check_transition,
    new_session,
)

ALLOWED = {
    (None, "open", "update"),
    (None, "closed", "update"),
    ("open", "open", "update"),
    ("open", "closed", "update"),
    ("open", "cancelled", "update"),
    ("closed", "cancelled", "update"),
    ("closed", "partially_returned", "return"),
    ("partially_returned", "partially_returned", "return"),
    ("closed", "open", "reopen"),
    ("partially_returned", "cancelled", "update"),
}


@pytest.mark.parametrize(
    ("current", "wanted", "via"), list(product([None, *SessionState], list(SessionState), list(Via)))
)
def test_only_the_documented_transitions_are_allowed(current, wanted, via):
    key = (current.value if current else None, wanted.value, via.value)
    if key in ALLOWED:
        check_transition(current, wanted, via)
        return
    with pytest.raises(ValidationError) as refused:
        check_transition(current, wanted, via)
    assert refused.value.details[0].code == "invalid_state_transition"


def test_an_update_keeps_omitted_fields_and_discards_emptied_ones():
    item = CartItem(sku="a", quantity=2, price=Decimal("9.99"))
    first = new_session(
        "s1",
        1,
        SessionChange(coupon_codes=("SUMMER",), referral_code="REF", cart_items=(item,), attributes={"city": "Rome"}),
        "2026-12-03T10:00:00Z",
        first=True,
    )
    assert (first.update_count, first.total, first.first_session) == (1, Decimal("19.98"), True)
    kept = apply_change(first, SessionChange(attributes={"gift": True}), "2026-12-03T10:01:00Z")
    assert kept.coupon_codes == ("SUMMER",) and kept.referral_code == "REF" and kept.cart_items == (item,)
    assert kept.attributes == {"city": "Rome", "gift": True} and kept.update_count == 2
    emptied = apply_change(kept, SessionChange(coupon_codes=(), referral_code="", attributes={"city": None}), "t")
    assert emptied.coupon_codes == () and emptied.referral_code is None and emptied.attributes == {"gift": True}


def test_carts_are_bounded():
    check_cart([CartItem(sku="a", quantity=10, price=Decimal(1))] * 1000)
    with pytest.raises(ValidationError) as too_many:
        check_cart([CartItem(sku="a", quantity=1, price=Decimal(1))] * 1001)
    assert too_many.value.details[0].code == "too_many_items"
    with pytest.raises(ValidationError) as too_much:
        check_cart([CartItem(sku="a", quantity=5001, price=Decimal(1))] * 2)
    assert too_much.value.details[0].code == "quantity_too_large"
