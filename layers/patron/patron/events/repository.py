"""A customer's stored events and day counts, for the customer lifecycle (export, erasure, merge): one partition per
profile, paged by Query so memory stays bounded by a page (1 MB) whatever the person holds. The tracking path
writes through the call's own transaction (patron.events.service), not through here."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from patron.dynamo import codec
from patron.dynamo.batch import write_all
from patron.dynamo.errors import error_code
from patron.events import counts
from patron.events.keys import COUNT_PREFIX, EVENT_PREFIX, EXPIRES_AT, events_pk
from patron.events.records import StoredEvent, event_from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class EventRepository(Protocol):
    def events(self, application_id: int, profile_id: str) -> Iterator[StoredEvent]:
        """The customer's events not yet expired, oldest first."""
        ...

    def day_counts(self, application_id: int, profile_id: str) -> dict[str, dict[str, int]]:
        """The customer's counts by event type and UTC day (ISO date)."""
        ...

    def holds(self, application_id: int, profile_id: str) -> bool: ...

    def forget(self, application_id: int, profile_id: str) -> int:
        """Deletes every event and count of the customer; returns how many items went."""
        ...

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        """The absorbed customer's events become the survivor's, and its counts are added to the survivor's."""
        ...


class DynamoEventRepository:
    def __init__(self, client: DynamoDBClient, table: str):
        self._client = client
        self._table = table

    def _pages(
        self, application_id: int, profile_id: str, prefix: str = "", keys_only: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk" + (" AND begins_with(SK, :prefix)" if prefix else ""),
            "ExpressionAttributeValues": codec.to_item(
                {":pk": events_pk(application_id, profile_id), **({":prefix": prefix} if prefix else {})}
            ),
            "ConsistentRead": True,
        }
        if keys_only:
            request["ProjectionExpression"] = "PK, SK"
        while True:
            answer = self._client.query(**request)
            yield [codec.from_item(item) for item in answer.get("Items", [])]
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def events(self, application_id: int, profile_id: str) -> Iterator[StoredEvent]:
        now = int(time.time())  # TTL deletes lazily (within days): an expired event is already gone to readers
        for page in self._pages(application_id, profile_id, EVENT_PREFIX):
            for item in page:
                if int(item.get(EXPIRES_AT, 0)) > now:
                    yield event_from_item(profile_id, item)

    def day_counts(self, application_id: int, profile_id: str) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for page in self._pages(application_id, profile_id, COUNT_PREFIX):
            for item in page:
                by_day = counts.days_of(item)
                if by_day:
                    kind = str(item["SK"])[len(COUNT_PREFIX) :]
                    found[kind] = {day.isoformat(): count for day, count in sorted(by_day.items())}
        return found

    def holds(self, application_id: int, profile_id: str) -> bool:
        answer = self._client.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues=codec.to_item({":pk": events_pk(application_id, profile_id)}),
            ProjectionExpression="PK",
            Limit=1,
            ConsistentRead=True,
        )
        return bool(answer.get("Items"))

    def forget(self, application_id: int, profile_id: str) -> int:
        gone = 0
        for page in self._pages(application_id, profile_id, keys_only=True):
            deletes = [{"DeleteRequest": {"Key": codec.to_item({"PK": i["PK"], "SK": i["SK"]})}} for i in page]
            write_all(self._client, self._table, deletes)
            gone += len(deletes)
        return gone

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        """Events are copied to the survivor's partition, then deleted (a retry copies the same items again); each
        count item is added to the survivor's and deleted in one transaction, conditional on it still existing, so
        a retried merge adds it once."""
        survivor_pk = events_pk(application_id, survivor_id)
        for page in self._pages(application_id, absorbed_id):
            moves: list[dict[str, Any]] = []
            for item in page:
                if str(item["SK"]).startswith(COUNT_PREFIX):
                    self._add_counts(survivor_pk, item)
                    continue
                moves.append({"PutRequest": {"Item": codec.to_item({**item, "PK": survivor_pk})}})
            write_all(self._client, self._table, moves)
            deletes = [
                {"DeleteRequest": {"Key": codec.to_item({"PK": i["PK"], "SK": i["SK"]})}}
                for i in page
                if str(i["SK"]).startswith(EVENT_PREFIX)
            ]
            write_all(self._client, self._table, deletes)

    def _add_counts(self, survivor_pk: str, item: Mapping[str, Any]) -> None:
        by_day = counts.days_of(item)
        key = {"PK": item["PK"], "SK": item["SK"]}
        gone = {
            "Delete": {
                "TableName": self._table,
                "Key": codec.to_item(key),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }
        if not by_day:
            self._client.delete_item(TableName=self._table, Key=codec.to_item(key))
            return
        names = {f"#d{index}": counts.bucket_name(day) for index, day in enumerate(sorted(by_day))}
        values: dict[str, Any] = {f":d{index}": by_day[day] for index, day in enumerate(sorted(by_day))}
        values[":expires"] = int(item.get(EXPIRES_AT, 0))
        names["#expires"] = EXPIRES_AT
        adds = ", ".join(f"#d{index} :d{index}" for index in range(len(by_day)))
        added = {
            "Update": {
                "TableName": self._table,
                "Key": codec.to_item({"PK": survivor_pk, "SK": item["SK"]}),
                # The later expiry of the two items: the survivor's may be the one with newer buckets.
                "UpdateExpression": f"ADD {adds} SET #expires = if_not_exists(#expires, :expires)",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": codec.to_item(values),
            }
        }
        try:
            self._client.transact_write_items(TransactItems=[added, gone])  # type: ignore[list-item]
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            # The absorbed item went meanwhile (a retried merge already added it): nothing more to add.
