"""The codec writes every value exactly as boto3's serializer would, and refuses what it refuses."""

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeSerializer

from patron.dynamo import codec

VALUES: list[Any] = [
    "",
    "Ada",
    "ünïcode ✓",
    0,
    -7,
    10**37,
    True,
    False,
    None,
    Decimal("19.90"),
    Decimal("-0.000001"),
    Decimal("1E+5"),
    Decimal("12345678901234567890.123456789"),
    [],
    {},
    [1, "a", None, [Decimal("2.5")], {"k": True}],
    {"items": [{"item_id": 1001, "price": Decimal("19.9"), "tags": {"x", "y"}}], "nested": {"deep": {"n": 1}}},
    {"a", "b"},
    {1, Decimal("2.5")},
    b"bytes",
    Binary(b"\x00\x01"),
    ("tuple", 1),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_are_written_as_boto3_writes_them(value: Any) -> None:
    assert codec.to_attribute(value) == TypeSerializer().serialize(value)


UNSTORABLE = [1.5, Decimal("NaN"), Decimal("Infinity"), Decimal("1E+200"), Decimal("1." + "1" * 40)]


@pytest.mark.parametrize("value", UNSTORABLE)
def test_numbers_dynamodb_cannot_hold_are_refused_as_boto3_refuses_them(value: Any) -> None:
    with pytest.raises(Exception) as boto3_error:
        TypeSerializer().serialize(value)
    with pytest.raises(boto3_error.type):
        codec.to_attribute(value)
    with pytest.raises(boto3_error.type):
        codec.to_attribute({"nested": [value]})


def test_items_round_trip() -> None:
    item = {"PK": "APP#1#ORDER#o1", "amount": Decimal("12.34"), "items": [{"price": Decimal("5"), "n": 2}]}
    assert codec.from_item(codec.to_item(item)) == item
