"""Coupons and their batches in the ledgers table: the repository the creation service writes and reads through
(docs/data-model.md, "LedgersTable — coupons" and "coupon batches").

Many coupons go out as PartiQL INSERTs, 25 per BatchExecuteStatement, calls side by side: an INSERT fails alone
when its key exists (`DuplicateItem`), so it is a conditional put at a plain put's price, one write unit for a
coupon under 1 KB. `method="put"` sends conditional PutItems from a thread pool instead (bench/coupons.py measures
both: the same units, more round trips).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from botocore.exceptions import ClientError

from patron.clock import iso
from patron.coupons.batches import (
    BatchStatus,
    CouponBatch,
    batch_from_item,
    batch_item,
    batch_key,
    counter_key,
    decode_part,
    encode_part,
    part_key,
)
from patron.coupons.items import coupon_from_item, coupon_item, coupon_key, recipient_holding_item
from patron.coupons.model import Coupon
from patron.dynamo import codec
from patron.dynamo.batch import ATTEMPTS, MAX_KEYS, UnprocessedItemsError, backoff, read_all, write_all
from patron.dynamo.committer import Committer, put
from patron.dynamo.errors import error_code, translate
from patron.dynamo.ids import allocate_ids
from patron.errors import ConflictError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
R = TypeVar("R")

STATEMENTS = 25  # BatchExecuteStatement's limit
CONCURRENCY = 8  # calls in flight (the DynamoDB client's pool holds 16)
_EXISTS = {"DuplicateItem", "ConditionalCheckFailed"}


class CouponExistsError(ConflictError):
    def __init__(self) -> None:
        super().__init__("A coupon with this code exists already.", code="coupon_exists")


class CouponWriteRefusedError(RuntimeError):
    """DynamoDB refused to store a coupon for another reason than its code existing (never for items built here)."""


class CouponRepository(Protocol):
    def allocate_ids(self, application_id: int, count: int) -> int:
        """Reserves `count` consecutive coupon ids; returns the first."""
        ...

    def put_coupon(self, application_id: int, coupon: Coupon) -> None:
        """Writes one coupon (and a personal code's holding) unless its code exists (CouponExistsError)."""
        ...

    def insert_coupons(self, application_id: int, coupons: Sequence[Coupon]) -> list[bool]:
        """Writes each coupon unless its code exists; for each, whether it existed (and was not written)."""
        ...

    def put_holdings(self, application_id: int, coupons: Sequence[Coupon]) -> None:
        """The personal codes' entries in their recipients' holdings."""
        ...

    def existing(self, application_id: int, codes: Sequence[str]) -> set[str]:
        """Which of `codes` are held by a coupon (consistent reads)."""
        ...

    def coupon(self, application_id: int, code: str) -> Coupon | None: ...

    def coupons(self, application_id: int, codes: Sequence[str]) -> dict[str, Coupon]: ...

    def put_batch(self, batch: CouponBatch) -> None: ...

    def finish_batch(self, application_id: int, batch_id: str, consumed: int, finished: datetime) -> None: ...

    def batch(self, application_id: int, batch_id: str) -> CouponBatch | None: ...

    def put_part(self, application_id: int, batch_id: str, part: int, codes: Sequence[str]) -> None: ...

    def part(self, application_id: int, batch_id: str, part: int) -> list[str]: ...


def _chunks(values: Sequence[T], size: int) -> list[Sequence[T]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class DynamoCouponRepository:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        method: Literal["partiql", "put"] = "partiql",
        concurrency: int = CONCURRENCY,
    ):
        self._client = client
        self._table = table
        self._method = method
        self._concurrency = concurrency
        self._committer = Committer(client)

    def _side_by_side(self, work: Callable[[T], R], batches: Iterable[T]) -> list[R]:
        # Each call runs in a copy of the caller's context (logging, the local runtime's per-function IAM check).
        batches = list(batches)
        if len(batches) <= 1:
            return [work(batch) for batch in batches]
        contexts = [contextvars.copy_context() for _ in batches]
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(batches))) as pool:
            return list(pool.map(lambda context, batch: context.run(work, batch), contexts, batches))

    # -- ids -------------------------------------------------------------------------------------------------

    def allocate_ids(self, application_id: int, count: int) -> int:
        return allocate_ids(self._client, self._table, counter_key(application_id), count)

    # -- coupons ---------------------------------------------------------------------------------------------

    def put_coupon(self, application_id: int, coupon: Coupon) -> None:
        writes = [
            put(
                self._table,
                coupon_item(application_id, coupon),
                condition="attribute_not_exists(PK)",
                failed=CouponExistsError,
            )
        ]
        if coupon.recipient_integration_id is not None:
            # One transaction: the recipient holds the code only if the code is theirs.
            writes.append(put(self._table, recipient_holding_item(application_id, coupon)))
        self._committer.commit(writes)

    def insert_coupons(self, application_id: int, coupons: Sequence[Coupon]) -> list[bool]:
        items = [coupon_item(application_id, coupon) for coupon in coupons]
        if self._method == "put":
            return self._side_by_side(self._put_one, items)
        statements = [
            {
                "Statement": f'INSERT INTO "{self._table}" VALUE {{'
                + ", ".join(f"{_literal(name)}: ?" for name in item)
                + "}",
                "Parameters": list(codec.to_item(item).values()),
            }
            for item in items
        ]
        existed: list[bool] = []
        for outcome in self._side_by_side(self._execute, _chunks(statements, STATEMENTS)):
            existed += outcome
        return existed

    def _put_one(self, item: dict[str, Any]) -> bool:
        for attempt in range(ATTEMPTS):
            try:
                self._client.put_item(
                    TableName=self._table, Item=codec.to_item(item), ConditionExpression="attribute_not_exists(PK)"
                )
                return False
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return True
                translated = translate(exc)
                if translated is exc or attempt == ATTEMPTS - 1:
                    raise translated from exc
                backoff(attempt)
        raise UnprocessedItemsError("DynamoDB kept refusing a coupon write.")

    def _execute(self, statements: Sequence[dict[str, Any]]) -> list[bool]:
        existed = [False] * len(statements)
        pending = list(range(len(statements)))
        for attempt in range(ATTEMPTS):
            answer = self._client.batch_execute_statement(Statements=[statements[i] for i in pending])  # type: ignore[misc]
            retry = []
            for index, response in zip(pending, answer["Responses"], strict=True):
                code = (response.get("Error") or {}).get("Code")
                if code is None:
                    continue
                if code in _EXISTS:
                    existed[index] = True
                elif code == "ValidationError":
                    raise CouponWriteRefusedError("DynamoDB refused a coupon item.")
                else:
                    retry.append(index)
            if not retry:
                return existed
            pending = retry
            backoff(attempt)
        raise UnprocessedItemsError("DynamoDB kept refusing some coupon writes.")

    def put_holdings(self, application_id: int, coupons: Sequence[Coupon]) -> None:
        requests = [
            {"PutRequest": {"Item": codec.to_item(recipient_holding_item(application_id, coupon))}}
            for coupon in coupons
            if coupon.recipient_integration_id is not None
        ]
        write_all(self._client, self._table, requests)

    def existing(self, application_id: int, codes: Sequence[str]) -> set[str]:
        keys = [coupon_key(application_id, code) for code in dict.fromkeys(codes)]
        found: set[str] = set()
        read = partial(read_all, self._client, self._table, projection="PK")
        for items in self._side_by_side(read, _chunks(keys, MAX_KEYS)):
            found |= {str(item["PK"]).split("#", 3)[3] for item in items}
        return found

    def coupon(self, application_id: int, code: str) -> Coupon | None:
        answer = self._client.get_item(
            TableName=self._table, Key=codec.to_item(coupon_key(application_id, code)), ConsistentRead=True
        )
        item = answer.get("Item")
        return coupon_from_item(codec.from_item(item)) if item else None

    def coupons(self, application_id: int, codes: Sequence[str]) -> dict[str, Coupon]:
        keys = [coupon_key(application_id, code) for code in dict.fromkeys(codes)]
        found: dict[str, Coupon] = {}
        read = partial(read_all, self._client, self._table, consistent=False)
        for items in self._side_by_side(read, _chunks(keys, MAX_KEYS)):
            for item in items:
                coupon = coupon_from_item(item)
                found[coupon.value] = coupon
        return found

    # -- batches ---------------------------------------------------------------------------------------------

    def put_batch(self, batch: CouponBatch) -> None:
        self._committer.commit(
            [
                put(
                    self._table,
                    batch_item(batch),
                    condition="attribute_not_exists(PK)",
                    failed=lambda: ConflictError("The batch exists already.", code="batch_exists"),
                )
            ]
        )

    def finish_batch(self, application_id: int, batch_id: str, consumed: int, finished: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=codec.to_item(batch_key(application_id, batch_id)),
            UpdateExpression="SET #status = :created, #consumed = :consumed, #finished = :finished",
            ExpressionAttributeNames={"#status": "status", "#consumed": "consumed", "#finished": "finished"},
            ExpressionAttributeValues=codec.to_item(
                {":created": BatchStatus.CREATED.value, ":consumed": consumed, ":finished": iso(finished)}
            ),
        )

    def batch(self, application_id: int, batch_id: str) -> CouponBatch | None:
        answer = self._client.get_item(
            TableName=self._table, Key=codec.to_item(batch_key(application_id, batch_id)), ConsistentRead=True
        )
        item = answer.get("Item")
        return batch_from_item(application_id, codec.from_item(item)) if item else None

    def put_part(self, application_id: int, batch_id: str, part: int, codes: Sequence[str]) -> None:
        item = {**part_key(application_id, batch_id, part), "codes": encode_part(codes)}
        self._client.put_item(TableName=self._table, Item=codec.to_item(item))

    def part(self, application_id: int, batch_id: str, part: int) -> list[str]:
        answer = self._client.get_item(
            TableName=self._table, Key=codec.to_item(part_key(application_id, batch_id, part)), ConsistentRead=True
        )
        item = answer.get("Item")
        return decode_part(bytes(codec.from_item(item)["codes"])) if item else []
