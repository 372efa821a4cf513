"""Outbox records: one per change a client asked integrations to hear about.

Key design (docs/data-model.md): PK=`APP#<id>#OUTBOX#<yyyy-mm-ddThh>` (an hour's bucket, so a busy application
spreads its writes), SK=`<recorded>#<kind>#<entity id>`; GSI1 by customer (`APP#<id>#CUSTOMER#<integration id>`)
so that erasing a person finds their records. Records carry the entity's and the customer's ids; a webhook a
campaign triggered (kind `webhook`) also carries its payload, rendered when the rule fired (it cannot be rendered
again later), and goes with the customer's other records on erasure. Records expire after `OUTBOX_TTL_SECONDS`
(DynamoDB TTL on `expiresAt`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from patron.dynamo import codec, committer
from patron.dynamo.batch import write_all

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class OutboxRecord(msgspec.Struct, frozen=True):
    application_id: int
    kind: str  # "customer", "order" or "webhook"
    entity_id: str
    customer_id: str
    recorded: str  # UTC timestamp (patron.clock.iso)
    payload: Mapping[str, Any] | None = None  # a webhook's body


def record_item(entry: OutboxRecord, ttl_seconds: int) -> dict[str, Any]:
    item = {
        "PK": f"APP#{entry.application_id}#OUTBOX#{entry.recorded[:13]}",
        "SK": f"{entry.recorded}#{entry.kind}#{entry.entity_id}",
        "GSI1PK": _customer_key(entry.application_id, entry.customer_id),
        "GSI1SK": f"{entry.recorded}#{entry.kind}#{entry.entity_id}",
        "kind": entry.kind,
        "entityId": entry.entity_id,
        "customerId": entry.customer_id,
        "recorded": entry.recorded,
        "expiresAt": int(time.time()) + ttl_seconds,
    }
    if entry.payload is not None:
        item["payload"] = dict(entry.payload)
    return item


def record_write(table: str, ttl_seconds: int, entry: OutboxRecord) -> committer.Write:
    """The record as part of another change's transaction (a closed session's webhooks)."""
    return committer.put(table, record_item(entry, ttl_seconds))


class OutboxRepository(Protocol):
    def record(self, entry: OutboxRecord) -> None: ...

    def record_many(self, entries: list[OutboxRecord]) -> None:
        """Many records, 25 per round trip (an import's)."""
        ...

    def forget_customer(self, application_id: int, customer_id: str) -> int:
        """Deletes the customer's records (an erasure); returns how many."""
        ...

    def refile_customer(self, application_id: int, customer_id: str, new_customer_id: str) -> int:
        """The records about one customer now concern another (a merge); returns how many."""
        ...


class DynamoOutboxRepository:
    def __init__(self, client: DynamoDBClient, table_name: str, ttl_seconds: int):
        self._client = client
        self._table = table_name
        self._ttl = ttl_seconds

    def record(self, entry: OutboxRecord) -> None:
        # The same change recorded twice (a retried request) is the same item: SK repeats only if `recorded`
        # does, and a delivery worker must be idempotent per entity anyway.
        self._client.put_item(TableName=self._table, Item=codec.to_item(self._item(entry)))

    def record_many(self, entries: list[OutboxRecord]) -> None:
        entries = list({(e.recorded, e.kind, e.entity_id): e for e in entries}.values())  # one item per key
        write_all(self._client, self._table, [{"PutRequest": {"Item": codec.to_item(self._item(e))}} for e in entries])

    def _item(self, entry: OutboxRecord) -> dict[str, Any]:
        return record_item(entry, self._ttl)

    def refile_customer(self, application_id: int, customer_id: str, new_customer_id: str) -> int:
        moved = 0
        for key in self._customer_records(application_id, customer_id):
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET GSI1PK = :pk, customerId = :customer",
                ExpressionAttributeValues=codec.to_item(
                    {":pk": _customer_key(application_id, new_customer_id), ":customer": new_customer_id}
                ),
            )
            moved += 1
        return moved

    def _customer_records(self, application_id: int, customer_id: str) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": codec.to_item({":pk": _customer_key(application_id, customer_id)}),
            "ProjectionExpression": "PK, SK",
        }
        while True:
            page = self._client.query(**arguments)
            keys.extend({"PK": item["PK"], "SK": item["SK"]} for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return keys
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def forget_customer(self, application_id: int, customer_id: str) -> int:
        # GSI1 is eventually consistent: a record written a moment before the erasure may be missed here; it
        # names only ids and expires with the TTL.
        keys = self._customer_records(application_id, customer_id)
        for key in keys:
            self._client.delete_item(TableName=self._table, Key=key)
        return len(keys)


def _customer_key(application_id: int, customer_id: str) -> str:
    return f"APP#{application_id}#CUSTOMER#{customer_id}"
