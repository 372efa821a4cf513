"""Builder of the idempotency store, for the composition root of any function serving idempotent routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.idempotency.repository import DynamoIdempotencyRepository
from patron.idempotency.service import IdempotencyStore
from patron.settings import Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def idempotency_store(client: DynamoDBClient, tables: Tables) -> IdempotencyStore:
    return IdempotencyStore(DynamoIdempotencyRepository(client, tables.idempotency), ttl_seconds=tables.idempotency_ttl)
