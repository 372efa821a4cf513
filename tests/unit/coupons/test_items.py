from datetime import UTC, datetime
from decimal import Decimal

import pytest

from patron.coupons import items
from patron.coupons.model import Coupon, Holding
from patron.dynamo import codec

NOW = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
FULL = Coupon(
    value="SUMMER#25%OFF",
    campaign_id=7,
    id=42,
    created=NOW,
    usage_limit=5,
    usage_counter=2,
    discount_limit=Decimal("50.00"),
    discount_counter=Decimal("12.34"),
    reservation_limit=3,
    reservation_counter=1,
    profile_limit=1,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    expiry_date=datetime(2027, 1, 1, tzinfo=UTC),
    recipient_integration_id="p-1",
    reservation_mandatory=True,
    attributes={"channel": "mail", "weight": Decimal("1.5")},
    batch_id="b-1",
    imported=True,
)


def stored(item):
    """As DynamoDB hands the item back: through the wire format and back."""
    return codec.from_item(codec.to_item(item))


def test_a_coupon_survives_the_table_unchanged():
    assert items.coupon_from_item(stored(items.coupon_item(1, FULL))) == FULL
    plain = Coupon("WELCOME10", 3, 1, NOW)
    assert items.coupon_from_item(stored(items.coupon_item(1, plain))) == plain


def test_a_plain_coupon_item_holds_only_what_the_conditions_compare():
    item = items.coupon_item(9, Coupon("WELCOME10", 3, 1, NOW))
    assert item == {
        "PK": "APP#9#COUPON#WELCOME10",
        "SK": "COUPON",
        "id": 1,
        "campaignId": 3,
        "created": "2026-06-01T12:30:00.000Z",
        "usageLimit": 0,
        "usageCounter": 0,
        "discountCounter": Decimal(0),
        "reservationLimit": 0,
        "reservationCounter": 0,
    }
    assert len(str(codec.to_item(item))) < 400  # one write unit per coupon, with room to spare


def test_a_code_holding_hashes_is_read_back_from_its_key():
    assert items.code_of(items.coupon_pk(12, "A#B#C")) == "A#B#C"


def test_keys_of_the_three_items():
    assert items.holding_key(1, "p#1", "X") == {"PK": "APP#1#HOLDER#p#1", "SK": "COUPON#X"}
    assert items.reservation_key(1, "X", "p-1") == {"PK": "APP#1#RESERVATIONS#X", "SK": "p-1"}


def test_attributes_a_rule_computed_are_stored_in_storable_form():
    coupon = Coupon("X", 1, 1, NOW, attributes={"ratio": 0.5, "when": NOW, "gone": None})
    assert items.coupon_item(1, coupon)["attributes"] == {"ratio": Decimal("0.5"), "when": "2026-06-01T12:30:00Z"}


def test_holdings():
    assert items.holding_from_item(None) == Holding()
    read = stored({**items.holding_key(1, "p-1", "X"), "used": 2, "reservedAt": "2026-06-01T12:30:00.000Z"})
    assert items.holding_from_item(read) == Holding(used=2, reserved_at=NOW)
    assert items.recipient_holding_item(1, FULL) == {**items.holding_key(1, "p-1", FULL.value), "recipient": True}
    with pytest.raises(ValueError):
        items.recipient_holding_item(1, Coupon("X", 1, 1, NOW))


def values(write):
    return codec.from_item(write.request.get("ExpressionAttributeValues", {}))


def test_a_redemption_is_conditional_on_the_room_left_from_the_limit_read():
    write = items.redeem("Ledgers", 1, FULL, Decimal("7.50"))
    assert write.action == "Update"
    assert write.request["Key"] == codec.to_item(items.coupon_key(1, FULL.value))
    assert values(write)[":room"] == Decimal("42.50")
    assert values(write)[":discountLimit"] == Decimal("50.00")
    assert "#discountLimit = :discountLimit" in write.request["ConditionExpression"]
    assert isinstance(write.failed and write.failed(), items.CouponExhaustedError)


def test_a_redemption_without_a_discount_limit_requires_there_still_be_none():
    write = items.redeem("Ledgers", 1, Coupon("X", 1, 1, NOW), Decimal(5))
    assert "attribute_not_exists(#discountLimit)" in write.request["ConditionExpression"]
    assert ":room" not in values(write)


def test_a_profile_is_counted_even_without_a_per_profile_limit():
    unlimited = items.redeem_for_profile("Ledgers", 1, Coupon("X", 1, 1, NOW), "p-1")
    assert "ConditionExpression" not in unlimited.request
    limited = items.redeem_for_profile("Ledgers", 1, FULL, "p-1")
    assert values(limited)[":limit"] == 1


def test_a_reservation_names_the_profile_first_so_a_second_one_reports_it():
    writes = items.reserve("Ledgers", 1, "X", "p-1", NOW)
    assert [write.action for write in writes] == ["Update", "Update", "Put"]
    assert isinstance(writes[0].failed and writes[0].failed(), items.AlreadyReservedError)
    assert isinstance(writes[1].failed and writes[1].failed(), items.ReservationLimitReachedError)
    undo = items.unreserve("Ledgers", 1, "X", "p-1")
    assert [write.action for write in undo] == ["Update", "Update", "Delete"]
