"""The local runtime enforces each function's IAM statements on its DynamoDB calls, as AWS would."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from patron.dynamo.client import dynamodb_client
from patron_local.functions import CURRENT_FUNCTION


def test_a_function_cannot_call_what_its_policy_does_not_grant(runtime):
    client = dynamodb_client()
    profiles = runtime.table_names["ProfilesTable"]
    config = runtime.table_names["ConfigTable"]
    token = CURRENT_FUNCTION.set("CustomerProfilesFunction")
    try:
        client.get_item(TableName=profiles, Key={"PK": {"S": "x"}, "SK": {"S": "y"}})  # granted
        with pytest.raises(ClientError) as denied:
            # It may read the status mapping in the config table, but never write there (keys live there).
            client.put_item(TableName=config, Item={"PK": {"S": "x"}, "SK": {"S": "y"}})
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
        with pytest.raises(ClientError):
            client.scan(TableName=profiles)  # an action it was never given
    finally:
        CURRENT_FUNCTION.reset(token)
    CURRENT_FUNCTION.set("AuthorizerFunction")
    try:
        with pytest.raises(ClientError):
            client.update_item(
                TableName=config,
                Key={"PK": {"S": "x"}, "SK": {"S": "y"}},
                UpdateExpression="SET a = :a",
                ExpressionAttributeValues={":a": {"S": "b"}},
            )  # the authorizer only reads keys
    finally:
        CURRENT_FUNCTION.set(None)


def test_outside_any_function_calls_pass(runtime):
    dynamodb_client().scan(TableName=runtime.table_names["ProfilesTable"], Limit=1)


def test_transactions_are_authorised_item_by_item(runtime):
    client = dynamodb_client()
    profiles = runtime.table_names["ProfilesTable"]
    token = CURRENT_FUNCTION.set("AuthorizerFunction")
    try:
        with pytest.raises(ClientError) as denied:
            client.transact_write_items(
                TransactItems=[{"Delete": {"TableName": profiles, "Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}}}]
            )
        assert "dynamodb:DeleteItem" in denied.value.response["Error"]["Message"]
    finally:
        CURRENT_FUNCTION.reset(token)


def test_partition_key_conditions_are_enforced(runtime):
    client = dynamodb_client()
    config = runtime.table_names["ConfigTable"]
    token = CURRENT_FUNCTION.set("AuthorizerFunction")
    try:
        client.get_item(TableName=config, Key={"PK": {"S": "KEY#abc"}, "SK": {"S": "KEY"}})  # its own prefix
        with pytest.raises(ClientError):
            client.get_item(TableName=config, Key={"PK": {"S": "APP#1"}, "SK": {"S": "APP"}})
    finally:
        CURRENT_FUNCTION.reset(token)
