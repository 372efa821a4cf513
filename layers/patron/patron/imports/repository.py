"""Storage of import processes: the process item, one item per finished chunk, and the rejected records.

A chunk finishes once: its item is put with `attribute_not_exists` in the same transaction that adds its
counts to the process, so a chunk delivered twice (SQS is at-least-once) never counts twice.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from patron.dynamo import codec, committer
from patron.dynamo import cursor as cursor_codec
from patron.dynamo.batch import write_all
from patron.dynamo.errors import is_condition_failure, translate
from patron.errors import ServiceUnavailableError
from patron.imports.keys import PROCESS_SK, REJECT_PREFIX, chunk_sk, counter_pk, process_pk, reject_sk
from patron.imports.model import ImportOptions, InputFormat, Process, ProcessStatus, Rejection

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class ProcessRepository(Protocol):
    def next_process_id(self, application_id: int) -> int: ...
    def create(self, process: Process, input_key: str) -> None: ...
    def get(self, application_id: int, process_id: int) -> Process | None: ...
    def input_key(self, application_id: int, process_id: int) -> str: ...
    def chunk_recorded(self, application_id: int, process_id: int, index: int) -> bool:
        """Whether the chunk's completion is recorded (everything it writes is written)."""
        ...

    def set_status(
        self, application_id: int, process_id: int, status: ProcessStatus, now: str, **fields: Any
    ) -> None: ...
    def transition(
        self,
        application_id: int,
        process_id: int,
        expected: ProcessStatus,
        status: ProcessStatus,
        now: str,
        **fields: Any,
    ) -> bool:
        """Sets the status only if the process is in `expected`; False when it was not (or does not exist)."""
        ...

    def complete_chunk(
        self,
        application_id: int,
        process_id: int,
        index: int,
        customers: int,
        orders: int,
        rejections: list[Rejection],
        failed: bool,
        now: str,
    ) -> bool:
        """Records a finished chunk once; False when it had already been recorded."""
        ...

    def rejections(
        self, application_id: int, process_id: int, limit: int, cursor: str | None
    ) -> tuple[list[Rejection], str | None]: ...


def _process_from(item: dict[str, Any]) -> Process:
    application_id, _, process_id = str(item["PK"]).removeprefix("APP#").partition("#PROCESS#")
    return Process(
        application_id=int(application_id),
        process_id=int(process_id),
        status=ProcessStatus(str(item["status"])),
        created=str(item["created"]),
        updated=str(item["updated"]),
        total_customers=int(item["totalCustomers"]),
        total_orders=int(item["totalOrders"]),
        processed_customers=int(item.get("processedCustomers", 0)),
        processed_orders=int(item.get("processedOrders", 0)),
        chunks_total=int(item.get("chunksTotal", 0)),
        chunks_done=int(item.get("chunksDone", 0)),
        chunks_failed=int(item.get("chunksFailed", 0)),
        rejected=int(item.get("rejected", 0)),
        failure=str(item["failure"]) if item.get("failure") else None,
        options=ImportOptions(
            overwrite_descriptors=bool(item.get("overwriteDescriptors", False)),
            trigger_integrations=bool(item.get("triggerIntegrations", False)),
            recalculate_stats=bool(item.get("recalculateStats", False)),
        ),
        input_key=str(item.get("inputKey", "")),
        input_format=InputFormat(str(item.get("format", InputFormat.JSON.value))),
        declared_bytes=int(item["declaredBytes"]) if "declaredBytes" in item else None,
        upload_expires=str(item["uploadExpiresAt"]) if "uploadExpiresAt" in item else None,
    )


def _status_update(status: ProcessStatus, now: str, fields: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem arguments that set the status, `updated` and any other fields."""
    names = {"#status": "status", "#updated": "updated"}
    values: dict[str, Any] = {":status": status.value, ":now": now}
    sets = ["#status = :status", "#updated = :now"]
    for index, (name, value) in enumerate(fields.items()):
        names[f"#f{index}"] = name
        values[f":f{index}"] = value
        sets.append(f"#f{index} = :f{index}")
    return {
        "UpdateExpression": "SET " + ", ".join(sets),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": codec.to_item(values),
    }


class _ChunkRecorded(Exception):
    """The chunk's marker exists: it was recorded before."""


class _CountersBusy(Exception):
    """A parallel transaction held the process's item (another chunk recording itself)."""


_COMPLETE_ATTEMPTS = 5


class DynamoProcessRepository:
    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name
        self._committer = committer.Committer(client)

    def next_process_id(self, application_id: int) -> int:
        result = self._client.update_item(
            TableName=self._table,
            Key=codec.to_item({"PK": counter_pk(application_id), "SK": "COUNTER"}),
            UpdateExpression="ADD #v :one",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(codec.from_item(result["Attributes"])["value"])

    def create(self, process: Process, input_key: str) -> None:
        item = {
            "PK": process_pk(process.application_id, process.process_id),
            "SK": PROCESS_SK,
            "status": process.status.value,
            "created": process.created,
            "updated": process.updated,
            "totalCustomers": process.total_customers,
            "totalOrders": process.total_orders,
            "inputKey": input_key,
            "overwriteDescriptors": process.options.overwrite_descriptors,
            "triggerIntegrations": process.options.trigger_integrations,
            "recalculateStats": process.options.recalculate_stats,
            "format": process.input_format.value,
        }
        if process.declared_bytes is not None:
            item["declaredBytes"] = process.declared_bytes
        if process.upload_expires is not None:
            item["uploadExpiresAt"] = process.upload_expires
        self._client.put_item(
            TableName=self._table, Item=codec.to_item(item), ConditionExpression="attribute_not_exists(PK)"
        )

    def _get_item(self, application_id: int, process_id: int) -> dict[str, Any] | None:
        result = self._client.get_item(
            TableName=self._table,
            Key=codec.to_item({"PK": process_pk(application_id, process_id), "SK": PROCESS_SK}),
            ConsistentRead=True,
        )
        return codec.from_item(result["Item"]) if "Item" in result else None

    def get(self, application_id: int, process_id: int) -> Process | None:
        item = self._get_item(application_id, process_id)
        return _process_from(item) if item else None

    def chunk_recorded(self, application_id: int, process_id: int, index: int) -> bool:
        key = {"PK": process_pk(application_id, process_id), "SK": chunk_sk(index)}
        found = self._client.get_item(TableName=self._table, Key=codec.to_item(key), ConsistentRead=True)
        return "Item" in found

    def input_key(self, application_id: int, process_id: int) -> str:
        item = self._get_item(application_id, process_id)
        if item is None:
            raise LookupError(f"process {process_id} not found")
        return str(item["inputKey"])

    def set_status(self, application_id: int, process_id: int, status: ProcessStatus, now: str, **fields: Any) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=codec.to_item({"PK": process_pk(application_id, process_id), "SK": PROCESS_SK}),
            **_status_update(status, now, fields),
        )

    def transition(
        self,
        application_id: int,
        process_id: int,
        expected: ProcessStatus,
        status: ProcessStatus,
        now: str,
        **fields: Any,
    ) -> bool:
        update = _status_update(status, now, fields)
        update["ExpressionAttributeValues"].update(codec.to_item({":expected": expected.value}))
        try:
            # One conditional write: of two deliveries of the same event, exactly one moves the process.
            self._client.update_item(
                TableName=self._table,
                Key=codec.to_item({"PK": process_pk(application_id, process_id), "SK": PROCESS_SK}),
                ConditionExpression="#status = :expected",
                **update,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise translate(exc) from exc
        return True

    def complete_chunk(
        self,
        application_id: int,
        process_id: int,
        index: int,
        customers: int,
        orders: int,
        rejections: list[Rejection],
        failed: bool,
        now: str,
    ) -> bool:
        pk = process_pk(application_id, process_id)
        # Rejections first, under keys of their own: written again by a redelivery, they are the same items.
        requests = [
            {
                "PutRequest": {
                    "Item": codec.to_item(
                        {
                            "PK": pk,
                            "SK": reject_sk(index, position),
                            "index": r.index,
                            "path": r.path,
                            "reason": r.reason,
                        }
                    )
                }
            }
            for position, r in enumerate(rejections)
        ]
        write_all(self._client, self._table, requests)
        plan = [
            committer.put(
                self._table,
                {"PK": pk, "SK": chunk_sk(index), "failed": failed},
                condition="attribute_not_exists(PK)",
                failed=_ChunkRecorded,
            ),
            committer.update(
                self._table,
                {"PK": pk, "SK": PROCESS_SK},
                "ADD processedCustomers :c, processedOrders :o, chunksDone :one, chunksFailed :failed, rejected :r "
                "SET updated = :now",
                values={
                    ":c": customers,
                    ":o": orders,
                    ":one": 1,
                    ":failed": 1 if failed else 0,
                    ":r": len(rejections),
                    ":now": now,
                },
            ),
        ]
        for attempt in range(_COMPLETE_ATTEMPTS):
            try:
                self._committer.commit(plan, conflict=_CountersBusy)
                return True
            except _ChunkRecorded:
                return False  # this chunk was already recorded: a redelivery
            except _CountersBusy:
                # Another chunk of the process was recording itself at that moment (both update its counters):
                # not a redelivery, so try again; after the last attempt the message fails and SQS brings it back.
                if attempt + 1 == _COMPLETE_ATTEMPTS:
                    raise ServiceUnavailableError("The process's counters stayed busy; retry later.") from None
                time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))  # noqa: S311 - jitter, not secrecy
        return False  # unreachable: the loop returns or raises

    def rejections(
        self, application_id: int, process_id: int, limit: int, cursor: str | None
    ) -> tuple[list[Rejection], str | None]:
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": codec.to_item(
                {":pk": process_pk(application_id, process_id), ":prefix": REJECT_PREFIX}
            ),
            "Limit": limit,
        }
        if cursor:
            arguments["ExclusiveStartKey"] = codec.to_item(
                {"PK": process_pk(application_id, process_id), "SK": cursor_codec.decode(cursor, REJECT_PREFIX)}
            )
        page = self._client.query(**arguments)
        rejected = [
            Rejection(index=str(i["index"]), path=str(i["path"]), reason=str(i["reason"]))
            for i in (codec.from_item(item) for item in page.get("Items", []))
        ]
        last = page.get("LastEvaluatedKey")
        return rejected, cursor_codec.encode(str(last["SK"]["S"])) if last else None
