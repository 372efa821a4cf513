"""Storage of idempotency records: the interface, and its DynamoDB implementation on the idempotency table.

Key design (see docs/data-model.md and patron.idempotency.keys):
  record    PK=APP#<id>#IDEM#<key>          SK=IDEM        fingerprint, owner, startedAt, lockedUntil, expiresAt;
                                                           once complete: status, headers, body | bodyZ
  subject   PK=APP#<id>#SUBJECT#<subject>   SK=IDEM#<key>  expiresAt (the record's)
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, cast

from botocore.exceptions import ClientError

from patron.dynamo import codec
from patron.dynamo.errors import is_condition_failure, translate
from patron.errors import ServiceUnavailableError
from patron.idempotency import keys
from patron.idempotency.model import (
    MAX_STORED_BYTES,
    IdempotencyRecord,
    ResponseTooLargeToStoreError,
    StoredResponse,
    decode_body,
    encode_body,
    stored_size,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

BATCH_SIZE = 25  # BatchWriteItem's limit
BATCH_CONCURRENCY = 8
_BATCH_ATTEMPTS = 6


class IdempotencyRepository(Protocol):
    def claim(self, record: IdempotencyRecord, now_ms: int) -> IdempotencyRecord | None:
        """Writes `record` (in flight) unless a live record holds the key; returns None when written, else the live
        record. Absent, expired (`expiresAt` passed) and abandoned (in flight past `lockedUntil`) records are
        replaced, atomically: of two concurrent claims exactly one wins."""
        ...

    def add_subjects(self, application_id: int, key: str, subjects: Sequence[str], expires_at: int) -> None:
        """One reference item per subject, so erasure finds the record without a scan."""
        ...

    def complete(self, application_id: int, key: str, owner: str, response: StoredResponse) -> bool:
        """Stores the response if `owner` still holds the key in flight (False otherwise: taken over or erased).
        Raises ResponseTooLargeToStoreError when it cannot fit an item."""
        ...

    def release(self, application_id: int, key: str, owner: str) -> None:
        """Deletes the record if `owner` still holds it in flight, so a retry can run."""
        ...

    def forget_subject(self, application_id: int, subject: str) -> int:
        """Deletes every record that concerns `subject`, and the subject's reference items; the number of records."""
        ...

    def refile_subject(self, application_id: int, subject: str, new_subject: str) -> int:
        """Files every record about `subject` under `new_subject` instead (a profile merged into another);
        idempotent; the number of references moved."""
        ...


def record_from_item(item: dict[str, Any]) -> IdempotencyRecord:
    response = None
    if "status" in item:
        compressed = "bodyZ" in item
        response = StoredResponse(
            status=int(item["status"]),
            headers={str(name): str(value) for name, value in (item.get("headers") or {}).items()},
            body=decode_body(str(item["bodyZ"] if compressed else item.get("body", "")), compressed),
        )
    application_id, _, key = str(item["PK"]).removeprefix("APP#").partition("#IDEM#")
    return IdempotencyRecord(
        application_id=int(application_id),
        key=key,
        fingerprint=str(item["fingerprint"]),
        owner=str(item.get("owner", "")),
        started_at_ms=int(item["startedAt"]),
        locked_until_ms=int(item.get("lockedUntil", 0)),
        expires_at=int(item["expiresAt"]),
        response=response,
    )


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class DynamoIdempotencyRepository:
    def __init__(self, client: DynamoDBClient, table_name: str, sleep: Callable[[float], None] = time.sleep):
        self._client = client
        self._table = table_name
        self._sleep = sleep

    def _key(self, application_id: int, key: str) -> dict[str, Any]:
        return codec.to_item({"PK": keys.record_pk(application_id, key), "SK": keys.RECORD_SK})

    def claim(self, record: IdempotencyRecord, now_ms: int) -> IdempotencyRecord | None:
        item = {
            "PK": keys.record_pk(record.application_id, record.key),
            "SK": keys.RECORD_SK,
            "fingerprint": record.fingerprint,
            "owner": record.owner,
            "startedAt": record.started_at_ms,
            "lockedUntil": record.locked_until_ms,
            "expiresAt": record.expires_at,
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=codec.to_item(item),
                # Absent, or expired but not yet swept by TTL (which may lag by days), or abandoned in flight.
                ConditionExpression=(
                    "attribute_not_exists(PK) OR #expires <= :nowS"
                    " OR (attribute_not_exists(#status) AND #locked <= :nowMs)"
                ),
                ExpressionAttributeNames={"#expires": "expiresAt", "#status": "status", "#locked": "lockedUntil"},
                ExpressionAttributeValues=codec.to_item({":nowS": now_ms // 1000, ":nowMs": now_ms}),
                # A live record comes back with the failure: a replay costs this one call, no extra read.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc) and "Item" in exc.response:
                return record_from_item(codec.from_item(exc.response["Item"]))  # type: ignore[typeddict-item]
            raise translate(exc) from exc
        return None

    def add_subjects(self, application_id: int, key: str, subjects: Sequence[str], expires_at: int) -> None:
        requests: list[WriteRequestTypeDef] = [
            {
                "PutRequest": {
                    "Item": codec.to_item(
                        {
                            "PK": keys.subject_pk(application_id, subject),
                            "SK": keys.subject_sk(key),
                            "expiresAt": expires_at,
                        }
                    )
                }
            }
            for subject in subjects
        ]
        self._write_batches(requests)

    def complete(self, application_id: int, key: str, owner: str, response: StoredResponse) -> bool:
        body, compressed = encode_body(response.body)
        if stored_size(response, body) > MAX_STORED_BYTES:
            raise ResponseTooLargeToStoreError()
        names = {"#owner": "owner", "#status": "status", "#headers": "headers", "#locked": "lockedUntil"}
        values: dict[str, Any] = {":me": owner, ":status": response.status, ":headers": response.headers}
        sets = ["#status = :status", "#headers = :headers"]
        if body:
            names["#body"] = "bodyZ" if compressed else "body"
            values[":body"] = body
            sets.append("#body = :body")
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(application_id, key),
                # The lock and its owner are spent once the response is stored: fewer bytes to pay on replays.
                UpdateExpression="SET " + ", ".join(sets) + " REMOVE #owner, #locked",
                ConditionExpression="#owner = :me AND attribute_not_exists(#status)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=codec.to_item(values),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise translate(exc) from exc
        return True

    def release(self, application_id: int, key: str, owner: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(application_id, key),
                ConditionExpression="#owner = :me AND attribute_not_exists(#status)",
                ExpressionAttributeNames={"#owner": "owner", "#status": "status"},
                ExpressionAttributeValues=codec.to_item({":me": owner}),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return
            raise translate(exc) from exc

    def refile_subject(self, application_id: int, subject: str, new_subject: str) -> int:
        partition = keys.subject_pk(application_id, subject)
        references: list[dict[str, Any]] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues=codec.to_item({":pk": partition, ":prefix": keys.SUBJECT_SK_PREFIX}),
            ConsistentRead=True,
        ):
            references.extend(codec.from_item(item) for item in page.get("Items", []))
        target = keys.subject_pk(application_id, new_subject)
        # New references first: if the deletes fail, the records are filed under both, never under neither.
        self._write_batches(
            [{"PutRequest": {"Item": codec.to_item({**reference, "PK": target})}} for reference in references]
        )
        self._write_batches(
            [{"DeleteRequest": {"Key": codec.to_item({"PK": partition, "SK": r["SK"]})}} for r in references]
        )
        return len(references)

    def forget_subject(self, application_id: int, subject: str) -> int:
        partition = keys.subject_pk(application_id, subject)
        references: list[str] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues=codec.to_item({":pk": partition, ":prefix": keys.SUBJECT_SK_PREFIX}),
            ProjectionExpression="SK",
            # An erasure must see a reference written a moment ago.
            ConsistentRead=True,
        ):
            references.extend(str(codec.from_item(item)["SK"]) for item in page.get("Items", []))
        record_keys = [keys.key_of_subject_sk(sk) for sk in references]
        # Records first, references after: if deleting a record fails, its reference is still there for the retry.
        self._write_batches([{"DeleteRequest": {"Key": self._key(application_id, key)}} for key in record_keys])
        self._write_batches(
            [{"DeleteRequest": {"Key": codec.to_item({"PK": partition, "SK": sk})}} for sk in references]
        )
        return len(record_keys)

    def _write_batches(self, requests: list[WriteRequestTypeDef]) -> None:
        batches = _chunks(requests, BATCH_SIZE)
        if len(batches) <= 1:
            for batch in batches:
                self._write_batch(list(batch))
            return
        # Each call runs in a copy of the caller's context (logging, the local runtime's per-function IAM check).
        contexts = [contextvars.copy_context() for _ in batches]
        with ThreadPoolExecutor(max_workers=min(BATCH_CONCURRENCY, len(batches))) as pool:
            list(pool.map(lambda context, batch: context.run(self._write_batch, list(batch)), contexts, batches))

    def _write_batch(self, requests: list[WriteRequestTypeDef]) -> None:
        pending = requests
        for attempt in range(_BATCH_ATTEMPTS):
            try:
                result = self._client.batch_write_item(RequestItems={self._table: pending})
            except ClientError as exc:
                raise translate(exc) from exc
            # The unprocessed requests come back in the shape they were sent.
            pending = cast("list[WriteRequestTypeDef]", result.get("UnprocessedItems", {}).get(self._table, []))
            if not pending:
                return
            # DynamoDB returns unprocessed items when throttled: back off before retrying them.
            self._sleep(min(1.0, 0.05 * 2**attempt))
        raise ServiceUnavailableError()
