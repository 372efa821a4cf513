"""The benchmark's DynamoDB meter: item sizes and capacity units by AWS's documented rules.

Examples come from the DynamoDB developer guide: "DynamoDB item sizes and formats" (CapacityUnitCalculations)
and "DynamoDB read and write operations" (read-write-operations). Calls go through a real boto3 client with
botocore's Stubber, so the event hooks are exercised without any network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from bench.dynamo_meter import (
    DynamoMeter,
    item_size,
    number_size,
    read_units,
    totals,
    value_size,
    write_units,
)

KB = 1024
TABLE = "bench-table"


def item_of(size: int, key: str = "k") -> dict[str, Any]:
    """An item of exactly `size` bytes: PK (2 + len(key)) + "data" (4 + filler)."""
    filler = size - 2 - len(key) - 4
    assert filler >= 0
    item = {"PK": {"S": key}, "data": {"S": "x" * filler}}
    assert item_size(item) == size
    return item


# -- item sizes ------------------------------------------------------------------------------------------------


def test_string_size_is_utf8_bytes_of_name_and_value() -> None:
    assert item_size({"Name": {"S": "Alice"}}) == 4 + 5
    assert item_size({"né": {"S": "Zoë"}}) == 3 + 4


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("1", 2),  # one significant digit: 1 byte + 1
        ("12", 2),
        ("123", 3),
        ("1200", 2),  # trailing zeros trimmed: 12
        ("0.00123", 3),  # leading zeros trimmed: 123
        ("-12.5", 3),
        ("0", 1),
        ("1" * 38, 20),  # 38 significant digits: 19 bytes + 1
    ],
)
def test_number_size_is_one_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert number_size(number) == size
    assert item_size({"n": {"N": number}}) == 1 + size


def test_binary_size_is_raw_bytes_not_base64() -> None:
    assert value_size({"B": b"\x00\x01\x02"}) == 3
    assert value_size({"B": "AAEC"}) == 3  # the wire format's base64 text of the same bytes


def test_boolean_and_null_are_one_byte() -> None:
    assert item_size({"ok": {"BOOL": True}, "gone": {"NULL": True}}) == (2 + 1) + (4 + 1)


def test_list_and_map_cost_three_bytes_plus_one_per_element() -> None:
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"m": {"M": {}}}) == 1 + 3
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    # A map element counts its name too.
    assert value_size({"M": {"a": {"S": "xy"}}}) == 3 + (1 + 1 + 2)
    nested = {"M": {"tags": {"L": [{"S": "vip"}]}}}
    assert value_size(nested) == 3 + (1 + 4 + (3 + (1 + 3)))


def test_sets_are_the_sum_of_their_elements() -> None:
    assert value_size({"SS": ["a", "bc"]}) == 3
    assert value_size({"NS": ["1", "22"]}) == 2 + 2
    assert value_size({"BS": [b"\x00", b"\x00\x01"]}) == 3


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown attribute type"):
        value_size({"X": "1"})


# -- units -----------------------------------------------------------------------------------------------------


def test_read_of_a_3500_byte_item_costs_one_unit_strong_and_half_eventual() -> None:
    assert read_units(3500, consistent=True) == 1
    assert read_units(3500) == 0.5


def test_read_of_an_8_kb_item_costs_2_strong_1_eventual_4_transactional() -> None:
    assert read_units(8 * KB, consistent=True) == 2
    assert read_units(8 * KB) == 1
    assert read_units(8 * KB, transactional=True) == 4


def test_read_of_a_10_kb_item_rounds_up_to_12_kb() -> None:
    assert read_units(10 * KB, consistent=True) == 3


def test_read_of_a_missing_item_costs_the_minimum() -> None:
    assert read_units(0) == 0.5


def test_write_rounds_up_to_the_next_kilobyte() -> None:
    assert write_units(500) == 1
    assert write_units(1 * KB) == 1
    assert write_units(1 * KB + 1) == 2
    assert write_units(3500) == 4
    assert write_units(2 * KB, transactional=True) == 4


# -- the meter on a client ---------------------------------------------------------------------------------


@pytest.fixture
def metered() -> Iterator[tuple[Any, Stubber, DynamoMeter]]:
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")
    meter = DynamoMeter().attach(client)
    with Stubber(client) as stubber:
        yield client, stubber, meter


def test_batch_get_rounds_each_item_separately(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    # The guide: items of 1.5 KB and 6.5 KB are charged as 4 KB + 8 KB = 12 KB, not 8 KB.
    client, stubber, meter = metered
    items = [item_of(1536, "a"), item_of(6656, "b")]
    stubber.add_response("batch_get_item", {"Responses": {TABLE: items}})
    keys = [{"PK": {"S": "a"}}, {"PK": {"S": "b"}}]
    client.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}})
    assert meter.calls[0].read_units == 3


def test_query_sums_the_items_then_rounds_up_once(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    # The guide: 10 items of 40.8 KB together round up to 44 KB (11 strongly consistent units).
    client, stubber, meter = metered
    each = round(40.8 * KB / 10)
    stubber.add_response("query", {"Items": [item_of(each, f"k{i}") for i in range(10)], "Count": 10})
    client.query(TableName=TABLE, KeyConditionExpression="PK = :pk", ConsistentRead=True)
    stubber.add_response("query", {"Items": [item_of(each, f"k{i}") for i in range(10)], "Count": 10})
    client.query(TableName=TABLE, KeyConditionExpression="PK = :pk")
    assert [call.read_units for call in meter.calls] == [11, 5.5]


def test_query_of_1500_items_of_64_bytes_reads_96_kb(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    stubber.add_response("query", {"Items": [item_of(64, f"{i:04d}") for i in range(1500)], "Count": 1500})
    client.query(TableName=TABLE, KeyConditionExpression="PK = :pk", ConsistentRead=True)
    assert meter.calls[0].read_units == 24  # 96 KB / 4 KB


def test_batch_write_rounds_each_item_separately(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    # The guide: a 500-byte item and a 3.5 KB item cost 1 KB + 4 KB = 5 units, not 4.
    client, stubber, meter = metered
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}})
    requests = [{"PutRequest": {"Item": item_of(500, "a")}}, {"PutRequest": {"Item": item_of(3584, "b")}}]
    client.batch_write_item(RequestItems={TABLE: requests})
    assert meter.calls[0].write_units == 5


def test_binary_values_are_priced_by_their_bytes_not_their_base64(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    # 1,000 raw bytes (1,336 in base64) + "PK" (3) + "blob" (4): one unit; counted as base64 it would be two.
    client, stubber, meter = metered
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}})
    item = {"PK": {"S": "b"}, "blob": {"B": b"\xff" * 1000}}
    client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item}}]})
    assert meter.calls[0].write_units == 1


def test_batch_write_does_not_charge_unprocessed_items(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    second = {"PutRequest": {"Item": item_of(3584, "b")}}
    stubber.add_response("batch_write_item", {"UnprocessedItems": {TABLE: [second]}})
    client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item_of(500, "a")}}, second]})
    assert meter.calls[0].write_units == 1


def test_update_charges_the_larger_of_before_and_after(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    key = {"PK": {"S": "k"}}
    stubber.add_response("update_item", {"Attributes": item_of(1536)})
    client.update_item(TableName=TABLE, Key=key, UpdateExpression="SET a = :a", ReturnValues="ALL_NEW")
    # The second update shrinks the item to 900 bytes: the 1.5 KB before-image still sets the price.
    stubber.add_response("update_item", {"Attributes": item_of(900)})
    client.update_item(TableName=TABLE, Key=key, UpdateExpression="REMOVE a", ReturnValues="ALL_NEW")
    first, second = meter.calls
    assert (first.write_units, second.write_units) == (2, 2)
    assert "ALL_NEW" in first.charges[0].basis
    assert "earlier image" in second.charges[0].basis


def test_update_without_return_values_is_a_lower_bound_and_says_so(
    metered: tuple[Any, Stubber, DynamoMeter],
) -> None:
    client, stubber, meter = metered
    stubber.add_response("update_item", {})
    client.update_item(
        TableName=TABLE,
        Key={"PK": {"S": "k"}},
        UpdateExpression="SET #n = :v",
        ExpressionAttributeNames={"#n": "note"},
        ExpressionAttributeValues={":v": {"S": "x" * 2000}},
    )
    charge = meter.calls[0].charges[0]
    assert charge.item_bytes == (2 + 1) + 4 + 2000
    assert charge.write_units == 2
    assert "lower bound" in charge.basis


def test_put_replacing_a_larger_item_charges_the_old_size(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    stubber.add_response("put_item", {"Attributes": item_of(3000)})
    client.put_item(TableName=TABLE, Item=item_of(100), ReturnValues="ALL_OLD")
    assert meter.calls[0].write_units == 3


def test_failed_condition_still_charges_the_existing_item(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    stubber.add_client_error(
        "put_item", service_error_code="ConditionalCheckFailedException", modeled_fields={"Item": item_of(2500)}
    )
    with pytest.raises(ClientError):
        client.put_item(
            TableName=TABLE,
            Item=item_of(100),
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    call = meter.calls[0]
    assert (call.error, call.write_units) == ("ConditionalCheckFailedException", 3)


def test_failed_condition_of_unknown_size_charges_the_minimum(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    stubber.add_client_error("delete_item", service_error_code="ConditionalCheckFailedException")
    with pytest.raises(ClientError):
        client.delete_item(TableName=TABLE, Key={"PK": {"S": "k"}}, ConditionExpression="attribute_exists(PK)")
    assert meter.calls[0].write_units == 1


def test_throttled_calls_are_counted_but_not_charged(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    stubber.add_client_error("get_item", service_error_code="ProvisionedThroughputExceededException")
    with pytest.raises(ClientError):
        client.get_item(TableName=TABLE, Key={"PK": {"S": "k"}})
    assert totals(meter.calls)["GetItem"].calls == 1
    assert meter.calls[0].read_units == 0


def test_get_of_a_missing_item_costs_half_a_unit(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    stubber.add_response("get_item", {})
    client.get_item(TableName=TABLE, Key={"PK": {"S": "k"}})
    assert meter.calls[0].read_units == 0.5


def test_transactions_cost_double(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    stubber.add_response("transact_write_items", {})
    client.transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": item_of(500, key)}} for key in ("a", "b")]
    )
    stubber.add_response("transact_get_items", {"Responses": [{"Item": item_of(8 * KB)}]})
    client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": {"PK": {"S": "k"}}}}])
    writes, reads = meter.calls
    assert writes.write_units == 4  # 2 items x 1 KB x 2
    assert reads.read_units == 4  # 8 KB = 2 blocks x 2


def test_counts_per_operation_and_stops_when_detached(metered: tuple[Any, Stubber, DynamoMeter]) -> None:
    client, stubber, meter = metered
    for _ in range(2):
        stubber.add_response("get_item", {"Item": item_of(100)})
        client.get_item(TableName=TABLE, Key={"PK": {"S": "k"}})
    mark = meter.mark()
    meter.detach(client)
    stubber.add_response("get_item", {"Item": item_of(100)})
    client.get_item(TableName=TABLE, Key={"PK": {"S": "k"}})
    assert meter.since(mark) == []
    summary = totals(meter.calls)
    assert (summary["GetItem"].calls, summary["GetItem"].read_units) == (2, 1.0)
