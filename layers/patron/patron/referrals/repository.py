"""Referral creation in the ledgers table: the repository `ReferralService` writes through (docs/data-model.md,
"LedgersTable — referrals").

A referral and its entries (the advocate's, a named friend's) are written by one TransactWriteItems, the referral
conditional on its code being free: a referral is never stored without the entries that let its advocate's
inventory, export and erasure find it. Many referrals share a transaction up to DynamoDB's 100 items (50 referrals
without a friend); a taken code cancels its transaction, whose cancellation reasons name it, and the others of that
transaction are sent again with it (its code replaced). Transactions go out side by side (`CONCURRENCY`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from patron.dynamo import codec
from patron.dynamo.batch import ATTEMPTS, MAX_ITEMS, backoff, write_batch
from patron.dynamo.committer import MAX_ITEMS as MAX_TRANSACTION_ITEMS
from patron.dynamo.errors import error_code, translate
from patron.dynamo.ids import allocate_ids
from patron.referrals import items
from patron.referrals.model import Referral
from patron.referrals.service import InsertInterruptedError, Stored

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
R = TypeVar("R")

CONCURRENCY = 8  # transactions in flight (the DynamoDB client's pool holds 16)
_RETRIED = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


class DynamoReferralRepository:
    def __init__(self, client: DynamoDBClient, table: str, *, concurrency: int = CONCURRENCY):
        self._client = client
        self._table = table
        self._concurrency = concurrency

    def _side_by_side(self, work: Callable[[T], R], batches: Sequence[T]) -> list[R]:
        # Each call runs in a copy of the caller's context (logging, the local runtime's per-function IAM check).
        if len(batches) <= 1:
            return [work(batch) for batch in batches]
        contexts = [contextvars.copy_context() for _ in batches]
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(batches))) as pool:
            return list(pool.map(lambda context, batch: context.run(work, batch), contexts, batches))

    def allocate_ids(self, application_id: int, count: int) -> int:
        return allocate_ids(self._client, self._table, items.ids_key(application_id), count)

    # -- creation --------------------------------------------------------------------------------------------

    def insert(self, application_id: int, referrals: Sequence[Referral]) -> list[Stored]:
        plans = [items.create(self._table, application_id, referral) for referral in referrals]
        chunks: list[list[int]] = []  # referral indices per transaction
        size = 0
        for index, writes in enumerate(plans):
            if not chunks or size + len(writes) > MAX_TRANSACTION_ITEMS:
                chunks.append([])
                size = 0
            chunks[-1].append(index)
            size += len(writes)
        outcomes = [Stored.NOT_WRITTEN] * len(referrals)
        failures: list[Exception] = []

        def run(chunk: list[int]) -> None:
            try:
                stored = self._transact([plans[i] for i in chunk])
            except Exception as exc:  # the other transactions finish; the caller removes what they wrote
                failures.append(exc)
                return
            for index, outcome in zip(chunk, stored, strict=True):
                outcomes[index] = outcome

        self._side_by_side(run, chunks)
        if failures:
            raise InsertInterruptedError(outcomes, failures[0])
        return outcomes

    def _transact(self, plans: Sequence[Sequence[Any]]) -> list[Stored]:
        """One transaction of whole referrals; throttling and conflicts retried with backoff."""
        owners = [number for number, writes in enumerate(plans) for _ in writes]
        transact: Any = [{write.action: dict(write.request)} for writes in plans for write in writes]
        for attempt in range(ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=transact)
                return [Stored.WRITTEN] * len(plans)
            except ClientError as exc:
                code = error_code(exc)
                reasons = [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons") or []]
                if code == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                    taken = {owners[i] for i, reason in enumerate(reasons) if reason == "ConditionalCheckFailed"}
                    return [Stored.TAKEN if number in taken else Stored.NOT_WRITTEN for number in range(len(plans))]
                retried = code in ("TransactionConflictException", "ThrottlingException") or (
                    code == "TransactionCanceledException" and _RETRIED & set(reasons)
                )
                if not retried or attempt == ATTEMPTS - 1:
                    raise translate(exc) from exc
                backoff(attempt)
        raise AssertionError("unreachable")

    def remove(self, application_id: int, referrals: Sequence[Referral]) -> None:
        keys: list[dict[str, str]] = []
        for referral in referrals:
            keys.append(items.referral_key(application_id, referral.code))
            keys.append(items.advocate_key(application_id, referral.advocate_integration_id, referral.code))
            named = items.named_entry_item(application_id, referral)
            if named is not None:
                keys.append(named)
        requests = [{"DeleteRequest": {"Key": codec.to_item(key)}} for key in keys]
        batches = [requests[i : i + MAX_ITEMS] for i in range(0, len(requests), MAX_ITEMS)]
        self._side_by_side(lambda batch: write_batch(self._client, self._table, batch), batches)
