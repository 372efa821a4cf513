"""Storage of attribute descriptors: the interface, and its DynamoDB implementation on the config table.

Key design in `patron.catalog.keys` (docs/data-model.md). Items carry only what the key does not: the name is
the sort key, the application and kind are the partition key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from patron.catalog import keys
from patron.catalog.model import AttributeDescriptor, AttributeType, EntityKind
from patron.dynamo import codec, committer
from patron.dynamo.committer import Failure, Write
from patron.dynamo.errors import is_condition_failure, translate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class CatalogRepository(Protocol):
    def load(self, application_id: int, kind: EntityKind) -> list[AttributeDescriptor]:
        """Every descriptor of this catalog, read consistently (one Query; another per 1 MB page)."""
        ...

    def add_if_absent(
        self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor
    ) -> AttributeDescriptor | None:
        """Writes the descriptor unless its name is taken (one conditional write): None when written, else the
        descriptor that was already there, whose type wins."""
        ...

    def replace(self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor) -> None:
        """Writes the descriptor whether or not one exists (overwriteDescriptors): one write."""
        ...

    def addition(
        self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor, failed: Failure
    ) -> Write:
        """The descriptor as an item of another context's transaction (built here, sent by the committer): written
        only if its name is free; a name taken cancels the transaction, with `failed`."""
        ...


def descriptor_from(item: dict[str, Any]) -> AttributeDescriptor:
    return AttributeDescriptor(
        name=keys.attribute_name(str(item["SK"])),
        type=AttributeType(str(item["type"])),
        first_seen=str(item["firstSeen"]),
    )


class DynamoCatalogRepository:
    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def load(self, application_id: int, kind: EntityKind) -> list[AttributeDescriptor]:
        descriptors: list[AttributeDescriptor] = []
        paginator = self._client.get_paginator("query")
        try:
            for page in paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                ExpressionAttributeValues=codec.to_item(
                    {":pk": keys.catalog_pk(application_id, kind), ":prefix": keys.ATTRIBUTE_SK_PREFIX}
                ),
                # A type overwritten a moment ago must be seen: refusals are decided on this read.
                ConsistentRead=True,
            ):
                descriptors.extend(descriptor_from(codec.from_item(item)) for item in page.get("Items", []))
        except ClientError as exc:
            raise translate(exc) from exc
        return descriptors

    def add_if_absent(
        self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor
    ) -> AttributeDescriptor | None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._item(application_id, kind, descriptor),
                ConditionExpression="attribute_not_exists(PK)",
                # The loser of a race learns the winner's type in the same round trip.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise translate(exc) from exc
            existing = exc.response.get("Item")  # present with ReturnValuesOnConditionCheckFailure
            if isinstance(existing, dict) and existing:
                return descriptor_from(codec.from_item(existing))
            # Only an emulator without ReturnValuesOnConditionCheckFailure gets here: read the winner.
            winner = next((d for d in self.load(application_id, kind) if d.name == descriptor.name), None)
            if winner is None:  # the winner's item vanished meanwhile; descriptors are never deleted
                raise translate(exc) from exc
            return winner
        return None

    def replace(self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor) -> None:
        try:
            self._client.put_item(TableName=self._table, Item=self._item(application_id, kind, descriptor))
        except ClientError as exc:
            raise translate(exc) from exc

    def addition(
        self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor, failed: Failure
    ) -> Write:
        item = _stored(application_id, kind, descriptor)
        return committer.put(self._table, item, condition="attribute_not_exists(PK)", failed=failed)

    @staticmethod
    def _item(application_id: int, kind: EntityKind, descriptor: AttributeDescriptor) -> dict[str, Any]:
        return codec.to_item(_stored(application_id, kind, descriptor))


def _stored(application_id: int, kind: EntityKind, descriptor: AttributeDescriptor) -> dict[str, Any]:
    """The item a descriptor is stored as (the inverse of descriptor_from)."""
    return {
        "PK": keys.catalog_pk(application_id, kind),
        "SK": keys.attribute_sk(descriptor.name),
        "type": descriptor.type.value,
        "firstSeen": descriptor.first_seen,
    }
