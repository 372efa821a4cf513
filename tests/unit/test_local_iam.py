"""The local runtime's IAM check reads a batch as AWS does: once per table, every partition key of its items in
`dynamodb:LeadingKeys`, so a single statement must allow them all (two statements allowing half each do not)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from patron_local.functions import CURRENT_FUNCTION
from patron_local.iam import DynamoDBPolicyEnforcer, Grant

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Ledgers"


def enforcer(*grants: Grant) -> DynamoDBPolicyEnforcer:
    checker = DynamoDBPolicyEnforcer.__new__(DynamoDBPolicyEnforcer)
    checker._grants = {"Fn": list(grants)}
    checker._table_arns = {"Ledgers": ARN}
    checker._reaching = {}
    return checker


def batch(*partition_keys: str) -> dict:
    return {"RequestItems": {"Ledgers": {"Keys": [{"PK": {"S": pk}, "SK": {"S": "X"}} for pk in partition_keys]}}}


def check(checker: DynamoDBPolicyEnforcer, operation: str, params: dict) -> None:
    token = CURRENT_FUNCTION.set("Fn")
    try:
        checker._check(SimpleNamespace(name=operation), params)
    finally:
        CURRENT_FUNCTION.reset(token)


def test_a_batch_across_two_statements_is_refused_and_one_statement_covering_it_allows_it():
    budgets = Grant(("dynamodb:BatchGetItem",), (ARN,), ("APP#*#BUDGET#*",))
    loyalty = Grant(("dynamodb:BatchGetItem",), (ARN,), ("APP#*#LOYALTY#*",))
    split = enforcer(budgets, loyalty)
    check(split, "BatchGetItem", batch("APP#1#BUDGET#a"))
    check(split, "BatchGetItem", batch("APP#1#LOYALTY#1#PROFILE#x"))
    with pytest.raises(ClientError):
        check(split, "BatchGetItem", batch("APP#1#BUDGET#a", "APP#1#LOYALTY#1#PROFILE#x"))
    both = Grant(("dynamodb:BatchGetItem",), (ARN,), ("APP#*#BUDGET#*", "APP#*#LOYALTY#*"))
    check(enforcer(both), "BatchGetItem", batch("APP#1#BUDGET#a", "APP#1#LOYALTY#1#PROFILE#x"))


def test_a_transaction_is_still_authorised_item_by_item():
    budgets = Grant(("dynamodb:UpdateItem",), (ARN,), ("APP#*#BUDGET#*",))
    loyalty = Grant(("dynamodb:PutItem",), (ARN,), ("APP#*#LOYALTY#*",))
    items = [
        {"Update": {"TableName": "Ledgers", "Key": {"PK": {"S": "APP#1#BUDGET#a"}}}},
        {"Put": {"TableName": "Ledgers", "Item": {"PK": {"S": "APP#1#LOYALTY#1"}}}},
    ]
    check(enforcer(budgets, loyalty), "TransactWriteItems", {"TransactItems": items})
