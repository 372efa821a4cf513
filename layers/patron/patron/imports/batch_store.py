"""An import's batched DynamoDB reads and writes: many new customers and orders per round trip.

The per-record services spend a transaction per order (and twice the write units); an import of customers
that do not exist yet needs none of that. One consistent BatchGetItem per 100 keys says what exists; the
orders go out 25 per BatchWriteItem; the identifier claims and the profiles, 25 per BatchExecuteStatement of
PartiQL INSERTs, each of which fails alone if its key was taken meanwhile (a conditional put at the price of a
plain one). Calls of one phase run side by side.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec

from patron.dynamo import codec
from patron.dynamo.batch import (
    ATTEMPTS,
    MAX_ITEMS,
    MAX_KEYS,
    UnprocessedItemsError,
    backoff,
    read_batch,
    write_all,
    write_batch,
)
from patron.http import jsonbody
from patron.orders.keys import ORDER_SK, customer_order_sk, customer_orders_pk, order_pk
from patron.orders.model import Order
from patron.orders.repository import index_item, order_to_item
from patron.profiles.identifiers import IdentifierKind
from patron.profiles.keys import IDENTIFIER_SK, PROFILE_SK, identifier_pk, parse_profile_pk, profile_pk
from patron.profiles.model import CustomerProfile
from patron.profiles.repository import claim_item, profile_to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Claim = tuple[IdentifierKind, str]
T = TypeVar("T")
R = TypeVar("R")

STATEMENTS = 25  # BatchExecuteStatement's limit
CONCURRENCY = 8  # calls of one phase in flight (the DynamoDB client's pool holds 16)
# A statement that failed for these reasons will fail again: the record goes the per-record way.
_FINAL_STATEMENT_ERRORS = {
    "DuplicateItem",
    "ConditionalCheckFailed",
    "ValidationError",
    "ItemCollectionSizeLimitExceeded",
}


class Snapshot(msgspec.Struct):
    """What exists among the keys an import chunk is about to write."""

    profiles: set[str] = msgspec.field(default_factory=set)  # integration ids
    claims: dict[Claim, str] = msgspec.field(default_factory=dict)  # claim -> owner
    orders: dict[str, tuple[str, str]] = msgspec.field(default_factory=dict)  # order id -> (customer id, createdAt)


class BatchStore(Protocol):
    def read(
        self, application_id: int, customers: Collection[str], claims: Collection[Claim], orders: Collection[str]
    ) -> Snapshot:
        """Consistent reads: a write acknowledged before this call is seen."""
        ...

    def insert_claims(self, application_id: int, claims: Sequence[tuple[Claim, str]]) -> set[Claim]:
        """Claims each identifier for its owner unless it is held already; returns those not claimed."""
        ...

    def release_claims(self, application_id: int, claims: Sequence[Claim]) -> None:
        """Deletes claims this import made for a customer it then could not write."""
        ...

    def put_orders(self, orders: Sequence[Order], stale_index: Sequence[tuple[str, str, str]]) -> None:
        """Writes the orders and their index entries, and deletes index entries (customer id, createdAt, order
        id) a previous attempt left under another date."""
        ...

    def insert_profiles(self, profiles: Sequence[CustomerProfile]) -> set[str]:
        """Creates each profile unless it exists already; returns the integration ids not created."""
        ...


MAX_STATEMENT_CHARS = 8_000  # PartiQL's limit is 8,192 characters per statement (every attribute name is in it)
MAX_INSERT_BYTES = 350 * 1024  # well under DynamoDB's 400 KB item: names, values and their overhead


def insertable(item: dict[str, Any]) -> bool:
    """Whether a PartiQL INSERT can carry this item: its statement within PartiQL's length, the item well under
    DynamoDB's size limit. Others go the per-record way, which refuses a profile too large with its reason."""
    statement = sum(len(_literal(name)) + 4 for name in item) + 80
    size = jsonbody.encoded_size(item)
    return statement <= MAX_STATEMENT_CHARS and size <= MAX_INSERT_BYTES


def _chunks(values: Sequence[T], size: int) -> list[Sequence[T]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _literal(name: str) -> str:
    """An attribute name as a PartiQL string literal."""
    return "'" + name.replace("'", "''") + "'"


class DynamoBatchStore:
    def __init__(self, client: DynamoDBClient, profiles_table: str, orders_table: str):
        self._client = client
        self._profiles = profiles_table
        self._orders = orders_table

    def _side_by_side(self, work: Callable[[T], R], batches: Iterable[T]) -> list[R]:
        # Each call runs in a copy of the caller's context (logging, the local runtime's per-function IAM check).
        batches = list(batches)
        if len(batches) <= 1:
            return [work(batch) for batch in batches]
        contexts = [contextvars.copy_context() for _ in batches]
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            return list(pool.map(lambda context, batch: context.run(work, batch), contexts, batches))

    # -- reads -----------------------------------------------------------------------------------------------

    def read(
        self, application_id: int, customers: Collection[str], claims: Collection[Claim], orders: Collection[str]
    ) -> Snapshot:
        keys: list[tuple[str, str, str]] = [
            *((self._profiles, profile_pk(application_id, c), PROFILE_SK) for c in customers),
            *((self._profiles, identifier_pk(application_id, kind, value), IDENTIFIER_SK) for kind, value in claims),
            *((self._orders, order_pk(application_id, o), ORDER_SK) for o in orders),
        ]
        snapshot = Snapshot()
        for items in self._side_by_side(self._get, _chunks(keys, MAX_KEYS)):
            for table, item in items:
                pk = str(item["PK"])
                if table == self._orders:
                    order_id = pk.split("#", 3)[3]
                    snapshot.orders[order_id] = (str(item["customerId"]), str(item["createdAt"]))
                elif item["SK"] == PROFILE_SK:
                    snapshot.profiles.add(parse_profile_pk(pk)[1])
                else:
                    _, _, _, kind, value = pk.split("#", 4)
                    snapshot.claims[(IdentifierKind(kind), value)] = str(item["owner"])
        return snapshot

    def _get(self, keys: Sequence[tuple[str, str, str]]) -> list[tuple[str, dict[str, Any]]]:
        request: dict[str, Any] = {}
        for table, pk, sk in keys:
            entry = request.setdefault(
                table,
                {
                    "Keys": [],
                    "ConsistentRead": True,
                    "ProjectionExpression": "PK, SK, #owner, customerId, createdAt",
                    "ExpressionAttributeNames": {"#owner": "owner"},
                },
            )
            entry["Keys"].append(codec.to_item({"PK": pk, "SK": sk}))
        return read_batch(self._client, request)

    # -- writes ----------------------------------------------------------------------------------------------

    def put_orders(self, orders: Sequence[Order], stale_index: Sequence[tuple[str, str, str]]) -> None:
        requests: list[dict[str, Any]] = []
        for order in orders:
            requests.append({"PutRequest": {"Item": codec.to_item(order_to_item(order))}})
            requests.append({"PutRequest": {"Item": codec.to_item(index_item(order))}})
        for customer_id, created_at, order_id in stale_index:
            application_id = orders[0].application_id
            key = {"PK": customer_orders_pk(application_id, customer_id), "SK": customer_order_sk(created_at, order_id)}
            requests.append({"DeleteRequest": {"Key": codec.to_item(key)}})
        # 24 per call: an order and its index entry (adjacent) always go out together.
        self._side_by_side(partial(write_batch, self._client, self._orders), _chunks(requests, MAX_ITEMS - 1))

    def insert_claims(self, application_id: int, claims: Sequence[tuple[Claim, str]]) -> set[Claim]:
        items = [claim_item(application_id, kind, value, owner) for (kind, value), owner in claims]
        failed = self._insert(self._profiles, items)
        return {claim for (claim, _), refused in zip(claims, failed, strict=True) if refused}

    def release_claims(self, application_id: int, claims: Sequence[Claim]) -> None:
        requests = [
            {"DeleteRequest": {"Key": codec.to_item({"PK": identifier_pk(application_id, k, v), "SK": IDENTIFIER_SK})}}
            for k, v in claims
        ]
        write_all(self._client, self._profiles, requests)

    def insert_profiles(self, profiles: Sequence[CustomerProfile]) -> set[str]:
        failed = self._insert(self._profiles, [profile_to_item(profile) for profile in profiles])
        return {profile.integration_id for profile, refused in zip(profiles, failed, strict=True) if refused}

    def _insert(self, table: str, items: Sequence[dict[str, Any]]) -> list[bool]:
        """PartiQL INSERTs, 25 per call: for each item, whether it was refused (its key exists, or it cannot be
        stored as it is); a throttled statement is sent again."""
        statements = [
            {
                "Statement": f'INSERT INTO "{table}" VALUE {{'
                + ", ".join(f"{_literal(name)}: ?" for name in item)
                + "}",
                "Parameters": list(codec.to_item(item).values()),
            }
            for item in items
        ]
        refused: list[bool] = []
        for outcome in self._side_by_side(self._execute, _chunks(statements, STATEMENTS)):
            refused += outcome
        return refused

    def _execute(self, statements: Sequence[dict[str, Any]]) -> list[bool]:
        refused = [False] * len(statements)
        pending = list(range(len(statements)))
        for attempt in range(ATTEMPTS):
            answer = self._client.batch_execute_statement(Statements=[statements[i] for i in pending])  # type: ignore[misc]
            retry = []
            for index, response in zip(pending, answer["Responses"], strict=True):
                code = (response.get("Error") or {}).get("Code")
                if code is None:
                    continue
                if code in _FINAL_STATEMENT_ERRORS:
                    refused[index] = True
                else:
                    retry.append(index)
            if not retry:
                return refused
            pending = retry
            backoff(attempt)
        raise UnprocessedItemsError("DynamoDB kept refusing some statements of a batch.")
