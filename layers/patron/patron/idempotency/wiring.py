"""Cached factories of the idempotency store: built on first use, once per process."""

from __future__ import annotations

from functools import cache

from patron.dynamo.client import dynamodb_client
from patron.idempotency.repository import DynamoIdempotencyRepository
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.settings import IdempotencySettings


@cache
def idempotency_settings() -> IdempotencySettings:
    return IdempotencySettings.from_environ()


@cache
def idempotency_store() -> IdempotencyStore:
    settings = idempotency_settings()
    return IdempotencyStore(
        DynamoIdempotencyRepository(dynamodb_client(), settings.idempotency_table_name),
        ttl_seconds=settings.idempotency_ttl_seconds,
    )
