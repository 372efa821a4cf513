"""BatchWriteItem until every request is processed, BatchGetItem until every key is answered: DynamoDB hands back
what it throttled as unprocessed items (keys), which are sent again with jittered exponential backoff; after
ATTEMPTS calls the call fails (the caller's retry, a redelivered message, takes over: every batch Patron writes is
idempotent)."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from patron.dynamo import codec

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_ITEMS = 25  # BatchWriteItem's limit per call
MAX_KEYS = 100  # BatchGetItem's limit per call
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


def read_batch(client: DynamoDBClient, request: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One call's worth (BatchGetItem's `RequestItems`: at most MAX_KEYS keys, over any tables), retried until every
    key is answered: the items found, decoded, each with its table."""
    pending: Any = request
    found: list[tuple[str, dict[str, Any]]] = []
    for attempt in range(ATTEMPTS):
        answer = client.batch_get_item(RequestItems=pending)
        for table, items in answer.get("Responses", {}).items():
            found += [(table, codec.from_item(item)) for item in items]
        pending = dict(answer.get("UnprocessedKeys") or {})
        if not pending:
            return found
        backoff(attempt)
    raise UnprocessedItemsError("DynamoDB kept some keys of a batch read unprocessed.")


def read_all(
    client: DynamoDBClient,
    table: str,
    keys: Sequence[Mapping[str, Any]],
    *,
    consistent: bool = True,
    projection: str | None = None,
) -> list[dict[str, Any]]:
    """The items of one table by key (decoded), MAX_KEYS a call, one call at a time."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), MAX_KEYS):
        request: dict[str, Any] = {
            "Keys": [codec.to_item(key) for key in keys[start : start + MAX_KEYS]],
            "ConsistentRead": consistent,
        }
        if projection:
            request["ProjectionExpression"] = projection
        found += [item for _, item in read_batch(client, {table: request})]
    return found
