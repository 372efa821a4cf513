"""BatchWriteItem until every request is processed: DynamoDB hands back what it throttled as unprocessed items,
which are sent again with jittered exponential backoff; after ATTEMPTS calls the write fails (the caller's
retry, a redelivered message, takes over: every batch Patron writes is idempotent)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_ITEMS = 25  # BatchWriteItem's limit per call
# Up to 2 s between calls: about 15 s at worst, inside any of the functions' timeouts.
ATTEMPTS = 12


class UnprocessedItemsError(RuntimeError):
    """DynamoDB kept refusing part of a batch (throttling)."""


def backoff(attempt: int) -> None:
    time.sleep(min(2.0, 0.025 * 2**attempt) * random.random())  # noqa: S311 - jitter, not a secret


def write_batch(client: DynamoDBClient, table: str, requests: Sequence[dict[str, Any]]) -> None:
    """One call's worth (at most MAX_ITEMS put or delete requests), retried until all are processed."""
    pending: Any = {table: list(requests)}
    for attempt in range(ATTEMPTS):
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
        if not pending:
            return
        backoff(attempt)
    raise UnprocessedItemsError(f"DynamoDB kept some items of a batch write to {table} unprocessed.")


def write_all(client: DynamoDBClient, table: str, requests: Sequence[dict[str, Any]]) -> None:
    """Any number of requests, MAX_ITEMS per call, one call at a time."""
    for start in range(0, len(requests), MAX_ITEMS):
        write_batch(client, table, requests[start : start + MAX_ITEMS])
