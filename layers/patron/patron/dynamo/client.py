"""The DynamoDB client, built lazily once per process (never at import time)."""

from __future__ import annotations

import gc
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Lambda is billed by the millisecond: fail fast and let the caller's retry policy decide.
# The pool holds a bulk request's concurrent calls (patron.profiles.repository.BULK_CONCURRENCY).
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, max_pool_connections=16
)


@cache
def dynamodb_client() -> DynamoDBClient:
    return _build(_CONFIG)


@cache
def bulk_dynamodb_client() -> DynamoDBClient:
    """The import worker's client for its batches. botocore's parameter validation walks every attribute value
    of every item before sending: a quarter of the worker's CPU for a batch of order items (bench/import_throughput,
    profiled), for requests the worker built itself from its own codec. DynamoDB validates each request anyway and
    refuses a malformed one (ValidationException), so the check is left to it."""
    return _build(_CONFIG.merge(Config(parameter_validation=False)))


def _build(config: Config) -> DynamoDBClient:
    # Building a client allocates many long-lived objects (the service model); collections during it are wasted
    # work on the cold-start path (about 15 ms measured), so the collector pauses while it is built.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # The endpoint comes from AWS_ENDPOINT_URL_DYNAMODB when set (the local runtime: DynamoDB Local).
        client: DynamoDBClient = boto3.client("dynamodb", config=config)
    finally:
        if collecting:
            gc.enable()
    return client
