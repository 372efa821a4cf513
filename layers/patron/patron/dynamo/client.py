"""The DynamoDB client, built lazily once per process (never at import time)."""

from __future__ import annotations

import gc
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
import msgspec
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
    """The import worker's client for its batches, which it builds itself with its own codec. botocore's
    parameter validation walks every attribute value of every item before sending (a sixth of the worker's
    Python time, profiled with bench/import_throughput): DynamoDB validates each request anyway and refuses a
    malformed one (ValidationException), so the check is left to it. The batches' bodies are written by
    `WireJsonSerializer`."""
    client = _build(_CONFIG.merge(Config(parameter_validation=False)))
    # botocore offers no public way to replace a client's serializer; tests/unit/test_dynamo_client.py fails if
    # the client stops using this attribute or the serializer's contract changes.
    client._serializer = WireJsonSerializer(client._serializer)  # type: ignore[attr-defined]
    return client


class WireJsonSerializer:
    """Writes the bodies of DynamoDB's batch operations with one msgspec encode: their parameters are DynamoDB's
    wire JSON already (attribute values as {"S": ...}, {"N": "12.5"}...), and botocore's serializer walks every
    value against the service model to write the same JSON (about 11 % of an import's Python CPU, and as much
    wall time: bench/import_throughput at 5,000 customers). msgspec rather than json: a batch of 24 orders in
    19 µs against 212 µs. It writes binary values in base64, as botocore does; anything else it cannot write,
    and every other operation, goes to botocore's serializer."""

    OPERATIONS = frozenset({"BatchWriteItem", "BatchGetItem", "BatchExecuteStatement"})
    _ENCODER = msgspec.json.Encoder()

    def __init__(self, botocore_serializer: Any):
        self._botocore = botocore_serializer

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> dict[str, Any]:
        if operation_model.name in self.OPERATIONS:
            try:
                body = self._ENCODER.encode(parameters)
            except TypeError:
                pass  # not JSON: botocore's serializer says what is wrong with it
            else:
                metadata = operation_model.metadata
                return {
                    "url_path": "/",
                    "query_string": "",
                    "method": "POST",
                    "headers": {
                        "X-Amz-Target": f"{metadata['targetPrefix']}.{operation_model.name}",
                        "Content-Type": f"application/x-amz-json-{metadata['jsonVersion']}",
                    },
                    "body": body,
                }
        request: dict[str, Any] = self._botocore.serialize_to_request(parameters, operation_model)
        return request


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
