"""Builder of the outbox, for the functions that accept triggerIntegrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.outbox.repository import DynamoOutboxRepository
from patron.settings import Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def outbox(client: DynamoDBClient, tables: Tables) -> DynamoOutboxRepository:
    return DynamoOutboxRepository(client, tables.outbox, tables.outbox_ttl)
