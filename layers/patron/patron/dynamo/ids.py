"""Talon.One's integer ids from a counter item: one UpdateItem (ADD) hands out a block of consecutive ids, so a batch
of `count` records is numbered first .. first + count - 1."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from patron.dynamo import codec
from patron.dynamo.errors import translate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def allocate_ids(client: DynamoDBClient, table: str, counter: Mapping[str, str], count: int) -> int:
    """Reserves `count` consecutive ids of the counter item at key `counter` (`value`: the last id handed out, 0 when
    absent); returns the first."""
    try:
        answer = client.update_item(
            TableName=table,
            Key=codec.to_item(counter),
            UpdateExpression="ADD #value :count",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues=codec.to_item({":count": count}),
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as exc:
        raise translate(exc) from exc
    return int(answer["Attributes"]["value"]["N"]) - count + 1
