"""The committer against DynamoDB Local: all or nothing, and the failed condition named by its builder."""

from __future__ import annotations

import uuid

import pytest

from patron.dynamo import codec, committer


class Exhausted(Exception):
    pass


def test_a_failed_condition_writes_nothing_and_names_its_item(runtime):
    client, table = runtime.dynamodb_client(), runtime.table_names["ProfilesTable"]
    run = uuid.uuid4().hex
    counter = {"PK": f"TEST#{run}#counter", "SK": "S"}
    client.put_item(TableName=table, Item=codec.to_item({**counter, "left": 1}))
    spend = committer.update(
        table,
        counter,
        "ADD #left :minus",
        condition="#left >= :one",
        names={"#left": "left"},
        values={":minus": -1, ":one": 1},
        failed=Exhausted,
    )
    entry = committer.put(table, {"PK": f"TEST#{run}#entry", "SK": "1"}, condition="attribute_not_exists(PK)")
    committer.Committer(client).commit([entry, spend])
    second = committer.put(table, {"PK": f"TEST#{run}#entry", "SK": "2"}, condition="attribute_not_exists(PK)")
    with pytest.raises(Exhausted):
        committer.Committer(client).commit([second, spend])
    # The first write of the failed plan did not happen.
    assert "Item" not in client.get_item(TableName=table, Key=codec.to_item({"PK": f"TEST#{run}#entry", "SK": "2"}))
    left = client.get_item(TableName=table, Key=codec.to_item(counter), ConsistentRead=True)["Item"]["left"]
    assert left == {"N": "0"}
