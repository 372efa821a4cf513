"""Cached factory of the outbox (functions that accept triggerIntegrations)."""

from __future__ import annotations

from functools import cache
from typing import Annotated

import msgspec

from patron.dynamo.client import dynamodb_client
from patron.outbox.repository import DynamoOutboxRepository
from patron.settings import Settings, TableName


class OutboxSettings(Settings, frozen=True):
    outbox_table_name: TableName
    outbox_ttl_seconds: Annotated[int, msgspec.Meta(ge=3600, le=90 * 86400)]


@cache
def outbox() -> DynamoOutboxRepository:
    settings = OutboxSettings.from_environ()
    return DynamoOutboxRepository(dynamodb_client(), settings.outbox_table_name, settings.outbox_ttl_seconds)
