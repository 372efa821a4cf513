"""Storage of cart item catalogs: the interface, and its DynamoDB implementation on the config table (keys in
`patron.item_catalogs.keys`, items in `patron.item_catalogs.items`).

A sync's writes: `claim` (one conditional update: the catalog is at the version read and no other sync holds it),
`stage` (the items' new states, BatchWriteItem, several batches at once), `commit` (one conditional update: still
ours; the version moves and every staged state becomes visible at once). `release` gives the catalog back without
committing (the staged states stay void).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from patron.dynamo import codec
from patron.dynamo.batch import MAX_ITEMS, MAX_KEYS, read_batch, write_batch
from patron.dynamo.errors import is_condition_failure, translate
from patron.errors import ConflictError
from patron.item_catalogs import items, keys
from patron.item_catalogs.model import Catalog, Pending, StoredItem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Batches written (read) at once: 1,000 items are 40 BatchWriteItem calls, in the time of about 10.
PARALLEL_BATCHES = 4


class CatalogExistsError(ConflictError):
    def __init__(self) -> None:
        super().__init__("The application already has a cart item catalog.", code="catalog_exists")


class CatalogBusyError(ConflictError):
    """Another sync holds the catalog, or changed it since it was read (Talon.One: avoid concurrent syncs)."""

    def __init__(self) -> None:
        super().__init__("The catalog changed or is being synced meanwhile; try again.", code="catalog_sync_conflict")


class ItemCatalogRepository(Protocol):
    def catalog(self, application_id: int) -> Catalog | None:
        """The application's catalog as stored (a deleted one too), read consistently."""
        ...

    def create(self, application_id: int, catalog: Catalog) -> None:
        """Writes a new catalog unless one that is not deleted exists (CatalogExistsError)."""
        ...

    def delete(self, application_id: int, catalog: Catalog, now: str) -> None:
        """Marks the catalog deleted if it is still as read and no sync holds it (CatalogBusyError)."""
        ...

    def items(self, application_id: int, skus: Iterable[str]) -> dict[str, StoredItem]:
        """The stored items of these SKUs (those that exist), read consistently."""
        ...

    def pages(self, application_id: int, page_size: int) -> Iterator[list[StoredItem]]:
        """Every stored item of the application's catalog partition, a page at a time (consistent Query)."""
        ...

    def page(self, application_id: int, limit: int, after: str | None) -> tuple[list[StoredItem], str | None]:
        """Up to `limit` stored items in SKU order, after the SKU `after`, and the SKU to resume after (None: no
        more). One Query."""
        ...

    def claim(self, application_id: int, read: Catalog, pending: Pending, aborted: tuple[int, ...], now: str) -> None:
        """The catalog held for a sync if it is still as read and nobody holds it (else CatalogBusyError)."""
        ...

    def stage(self, application_id: int, staged: Sequence[StoredItem]) -> None: ...

    def commit(self, application_id: int, token: str, version: int, now: str) -> None:
        """The staged version made the catalog's, if the sync still holds it (else CatalogBusyError)."""
        ...

    def release(self, application_id: int, token: str, version: int) -> None:
        """Gives the catalog back uncommitted, `version` void (best effort: the hold expires anyway)."""
        ...


class DynamoItemCatalogRepository:
    def __init__(self, client: DynamoDBClient, table: str):
        self._client = client
        self._table = table

    def catalog(self, application_id: int) -> Catalog | None:
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=codec.to_item(keys.catalog_key(application_id)), ConsistentRead=True
            )
        except ClientError as exc:
            raise translate(exc) from exc
        found = answer.get("Item")
        return items.catalog_from_item(codec.from_item(found)) if found else None

    def create(self, application_id: int, catalog: Catalog) -> None:
        self._conditional(
            "put_item",
            CatalogExistsError,
            Item=codec.to_item(items.catalog_to_item(application_id, catalog)),
            ConditionExpression="attribute_not_exists(PK) OR deleted = :yes",
            ExpressionAttributeValues=codec.to_item({":yes": True}),
        )

    def delete(self, application_id: int, catalog: Catalog, now: str) -> None:
        self._conditional(
            "update_item",
            CatalogBusyError,
            Key=codec.to_item(keys.catalog_key(application_id)),
            UpdateExpression="SET deleted = :yes, modified = :now",
            ConditionExpression=(
                "id = :id AND deleted = :no AND version = :version AND "
                "(attribute_not_exists(pending) OR pending.#until < :now)"
            ),
            ExpressionAttributeNames={"#until": "until"},
            ExpressionAttributeValues=codec.to_item(
                {":yes": True, ":no": False, ":id": catalog.id, ":version": catalog.version, ":now": now}
            ),
        )

    def items(self, application_id: int, skus: Iterable[str]) -> dict[str, StoredItem]:
        wanted = [codec.to_item(keys.item_key(application_id, sku)) for sku in sorted(set(skus))]
        chunks = [wanted[start : start + MAX_KEYS] for start in range(0, len(wanted), MAX_KEYS)]
        requests = [{self._table: {"Keys": chunk, "ConsistentRead": True}} for chunk in chunks]
        found = self._in_parallel(lambda request: read_batch(self._client, request), requests)
        stored = [items.stored_item_from_item(item) for part in found for _, item in part]
        return {item.sku: item for item in stored}

    def pages(self, application_id: int, page_size: int) -> Iterator[list[StoredItem]]:
        start: dict[str, Any] | None = None
        while True:
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                "ExpressionAttributeValues": codec.to_item(
                    {":pk": keys.catalog_pk(application_id), ":prefix": keys.ITEM_SK_PREFIX}
                ),
                "ConsistentRead": True,
                "Limit": page_size,
            }
            if start is not None:
                request["ExclusiveStartKey"] = start
            try:
                answer = self._client.query(**request)
            except ClientError as exc:
                raise translate(exc) from exc
            yield [items.stored_item_from_item(codec.from_item(item)) for item in answer.get("Items", [])]
            start = answer.get("LastEvaluatedKey")
            if not start:
                return

    def page(self, application_id: int, limit: int, after: str | None) -> tuple[list[StoredItem], str | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": codec.to_item(
                {":pk": keys.catalog_pk(application_id), ":prefix": keys.ITEM_SK_PREFIX}
            ),
            "ConsistentRead": True,  # a sync answered a moment ago shows
            "Limit": limit,
        }
        if after is not None:
            request["ExclusiveStartKey"] = codec.to_item(keys.item_key(application_id, after))
        try:
            answer = self._client.query(**request)
        except ClientError as exc:
            raise translate(exc) from exc
        found = [items.stored_item_from_item(codec.from_item(item)) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return found, keys.sku_of(str(codec.from_item(last)["SK"])) if last else None

    def claim(self, application_id: int, read: Catalog, pending: Pending, aborted: tuple[int, ...], now: str) -> None:
        values: dict[str, Any] = {
            ":pending": {"version": pending.version, "token": pending.token, "until": pending.until},
            ":claimed": pending.version,
            ":read_claimed": read.claimed,
            ":version": read.version,
            ":no": False,
            ":now": now,
        }
        expression = "SET pending = :pending, claimed = :claimed"
        if aborted != read.aborted:
            expression += ", aborted = :aborted"
            values[":aborted"] = list(aborted)
        self._conditional(
            "update_item",
            CatalogBusyError,
            Key=codec.to_item(keys.catalog_key(application_id)),
            UpdateExpression=expression,
            ConditionExpression=(
                "attribute_exists(PK) AND deleted = :no AND version = :version AND claimed = :read_claimed AND "
                "(attribute_not_exists(pending) OR pending.#until < :now)"
            ),
            ExpressionAttributeNames={"#until": "until"},
            ExpressionAttributeValues=codec.to_item(values),
        )

    def stage(self, application_id: int, staged: Sequence[StoredItem]) -> None:
        puts = [{"PutRequest": {"Item": codec.to_item(items.stored_item_to_item(application_id, s))}} for s in staged]
        batches = [puts[start : start + MAX_ITEMS] for start in range(0, len(puts), MAX_ITEMS)]
        self._in_parallel(lambda batch: write_batch(self._client, self._table, batch), batches)

    def commit(self, application_id: int, token: str, version: int, now: str) -> None:
        self._conditional(
            "update_item",
            CatalogBusyError,
            Key=codec.to_item(keys.catalog_key(application_id)),
            UpdateExpression="SET version = :version, modified = :now REMOVE pending",
            ConditionExpression="pending.#token = :token",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues=codec.to_item({":version": version, ":now": now, ":token": token}),
        )

    def release(self, application_id: int, token: str, version: int) -> None:
        with contextlib.suppress(CatalogBusyError):  # another sync took the expired hold over, voiding this version
            self._conditional(
                "update_item",
                CatalogBusyError,
                Key=codec.to_item(keys.catalog_key(application_id)),
                UpdateExpression="SET aborted = list_append(if_not_exists(aborted, :none), :mine) REMOVE pending",
                ConditionExpression="pending.#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues=codec.to_item({":none": [], ":mine": [version], ":token": token}),
            )

    def _conditional(self, call: str, failed: type[Exception], **request: Any) -> None:
        try:
            getattr(self._client, call)(TableName=self._table, **request)
        except ClientError as exc:
            if is_condition_failure(exc):
                raise failed() from None
            raise translate(exc) from exc

    @staticmethod
    def _in_parallel(work: Any, parts: Sequence[Any]) -> list[Any]:
        """Each part in a copy of the caller's context: request-scoped context (logging, the local runtime's
        per-function IAM check) follows it into the pool's threads."""
        if len(parts) <= 1:
            return [work(part) for part in parts]
        contexts = [contextvars.copy_context() for _ in parts]
        with ThreadPoolExecutor(min(PARALLEL_BATCHES, len(parts))) as pool:
            return list(pool.map(lambda context, part: context.run(work, part), contexts, parts))
