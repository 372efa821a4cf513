"""What rules compute is stored as DynamoDB and JSON both hold it, and what neither can hold is absent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from patron.dynamo import codec
from patron.promotions.stored import storable, storable_attributes


def test_times_dates_lists_and_floats_become_storable():
    rome = timezone(timedelta(hours=1))
    assert storable(datetime(2026, 12, 4, 10, 0, tzinfo=rome)) == "2026-12-04T09:00:00Z"
    assert storable(date(2026, 12, 4)) == "2026-12-04"
    assert storable((Decimal(1), "a")) == [Decimal(1), "a"]
    assert storable(0.1) == Decimal("0.1")
    assert storable(float("nan")) is None
    assert storable({"at": datetime(2026, 1, 1, tzinfo=UTC)}) == {"at": "2026-01-01T00:00:00Z"}


def test_numbers_past_dynamodbs_range_are_absent_and_not_written():
    assert storable(Decimal("1e200")) is None
    assert storable(Decimal("1" * 39)) is None
    assert storable_attributes({"big": Decimal("1e200"), "ok": Decimal("12.5")}) == {"ok": Decimal("12.5")}


@given(st.decimals(allow_nan=False, allow_infinity=False) | st.integers() | st.floats() | st.text(max_size=5))
def test_whatever_a_rule_computes_encodes_as_a_dynamodb_attribute(value):
    codec.to_attribute(storable(value))  # never raises
