"""Storage of orders, and the transactions that keep customers' statistics exact.

An order write is one TransactWriteItems across two tables: the order (conditional on the version read), its
index item in the customer's partition (for listing, and for first/last order dates), and each affected
customer's statistics (absolute values computed from the version of the profile read, conditional on it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from patron.dynamo import codec, committer
from patron.dynamo import cursor as cursor_codec
from patron.dynamo.batch import write_all
from patron.orders.keys import CUSTOMER_ORDER_PREFIX, ORDER_SK, customer_order_sk, customer_orders_pk, order_pk
from patron.orders.model import Order, OrderState
from patron.profiles import items as profile_items
from patron.profiles.model import VersionConflictError
from patron.profiles.stats import CustomerStats

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_EXTREMES_PAGE = 50


class StatsUpdate(msgspec.Struct, frozen=True):
    """New statistics for one customer, valid only if the profile is still at `expected_version` (0: absent)."""

    customer_id: str
    expected_version: int
    stats: CustomerStats


class OrderSummary(msgspec.Struct, frozen=True):
    order_id: str
    created_at: str
    amount: Decimal
    state: OrderState
    status: str | None
    status_label: str | None
    currency: str | None
    deleted: bool


class OrderRepository(Protocol):
    def get(self, application_id: int, order_id: str) -> Order | None: ...

    def customer_stats(self, application_id: int, customer_id: str) -> tuple[int, CustomerStats]:
        """(profile version, statistics); (0, empty) when the customer has no profile yet."""
        ...

    def counted_extremes(
        self, application_id: int, customer_id: str, excluding_order_id: str, first: bool, last: bool
    ) -> tuple[str | None, str | None]:
        """The first and last dates of the customer's orders that count as sales, leaving one order out (each
        read only when asked for; None otherwise)."""
        ...

    def write(self, application_id: int, old: Order | None, new: Order, stats: list[StatsUpdate], now: str) -> None:
        """All of it or nothing; VersionConflictError when the order or a profile moved on."""
        ...

    def list_for_customer(
        self, application_id: int, customer_id: str, limit: int, cursor: str | None, consistent: bool = False
    ) -> tuple[list[OrderSummary], str | None]:
        """`consistent`: every index entry written before the call is seen (a recount needs it)."""
        ...

    def delete_for_customer(self, application_id: int, customer_id: str) -> list[str]:
        """Deletes every order of the customer (orders and index items); returns their ids."""
        ...

    def write_stats(self, application_id: int, update: StatsUpdate, now: str) -> None:
        """Stores one customer's statistics alone; VersionConflictError when the profile moved on."""
        ...

    def delete_index_entry(self, application_id: int, customer_id: str, created_at: str, order_id: str) -> None:
        """Removes one entry of a customer's order index (one left behind by an interrupted import)."""
        ...


def order_to_item(order: Order) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": order_pk(order.application_id, order.order_id),
        "SK": ORDER_SK,
        "customerId": order.customer_id,
        "createdAt": order.created_at,
        "amount": order.amount,
        "state": order.state.value,
        "deleted": order.deleted,
        "version": order.version,
        "written": order.written,
    }
    optional = {
        "status": order.status,
        "statusLabel": order.status_label,
        "currency": order.currency,
        "updatedAt": order.updated_at,
        "defaultState": order.default_state.value if order.default_state is not None else None,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    if order.items:
        item["items"] = order.items
    if order.extra:
        item["extra"] = order.extra
    return item


def order_from_item(application_id: int, order_id: str, item: dict[str, Any]) -> Order:
    return Order(
        application_id=application_id,
        order_id=order_id,
        customer_id=str(item["customerId"]),
        created_at=str(item["createdAt"]),
        amount=Decimal(item["amount"]),
        state=OrderState(str(item["state"])),
        status=str(item["status"]) if "status" in item else None,
        status_label=str(item["statusLabel"]) if "statusLabel" in item else None,
        currency=str(item["currency"]) if "currency" in item else None,
        updated_at=str(item["updatedAt"]) if "updatedAt" in item else None,
        deleted=bool(item.get("deleted", False)),
        default_state=OrderState(str(item["defaultState"])) if "defaultState" in item else None,
        items=list(item.get("items", [])),
        extra=dict(item.get("extra", {})),
        version=int(item["version"]),
        written=str(item.get("written", "")),
    )


def index_item(order: Order) -> dict[str, Any]:
    """The order's entry in its customer's partition (listing, first and last order dates)."""
    item: dict[str, Any] = {
        "PK": customer_orders_pk(order.application_id, order.customer_id),
        "SK": customer_order_sk(order.created_at, order.order_id),
        "orderId": order.order_id,
        "createdAt": order.created_at,
        "amount": order.amount,
        "state": order.state.value,
        "deleted": order.deleted,
        "counted": order.counts_as_sale,
    }
    for name, value in (("status", order.status), ("statusLabel", order.status_label), ("currency", order.currency)):
        if value is not None:
            item[name] = value
    return item


def _summary(item: dict[str, Any]) -> OrderSummary:
    return OrderSummary(
        order_id=str(item["orderId"]),
        created_at=str(item["createdAt"]),
        amount=Decimal(item["amount"]),
        state=OrderState(str(item["state"])),
        status=str(item["status"]) if "status" in item else None,
        status_label=str(item["statusLabel"]) if "statusLabel" in item else None,
        currency=str(item["currency"]) if "currency" in item else None,
        deleted=bool(item.get("deleted", False)),
    )


class DynamoOrderRepository:
    def __init__(self, client: DynamoDBClient, orders_table: str, profiles_table: str):
        self._client = client
        self._orders = orders_table
        self._profiles = profiles_table
        self._committer = committer.Committer(client)

    def get(self, application_id: int, order_id: str) -> Order | None:
        result = self._client.get_item(
            TableName=self._orders,
            Key=codec.to_item({"PK": order_pk(application_id, order_id), "SK": ORDER_SK}),
            ConsistentRead=True,
        )
        return order_from_item(application_id, order_id, codec.from_item(result["Item"])) if "Item" in result else None

    def customer_stats(self, application_id: int, customer_id: str) -> tuple[int, CustomerStats]:
        return profile_items.stats_from(
            self._client.get_item(**profile_items.stats_read(self._profiles, application_id, customer_id))
        )

    def counted_extremes(
        self, application_id: int, customer_id: str, excluding_order_id: str, first: bool, last: bool
    ) -> tuple[str | None, str | None]:
        return (
            self._first_counted(application_id, customer_id, excluding_order_id, forward=True) if first else None,
            self._first_counted(application_id, customer_id, excluding_order_id, forward=False) if last else None,
        )

    def _first_counted(self, application_id: int, customer_id: str, excluding: str, forward: bool) -> str | None:
        arguments: dict[str, Any] = {
            "TableName": self._orders,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "FilterExpression": "#counted = :yes AND #order <> :excluded",
            "ExpressionAttributeNames": {"#counted": "counted", "#order": "orderId"},
            "ExpressionAttributeValues": codec.to_item(
                {
                    ":pk": customer_orders_pk(application_id, customer_id),
                    ":prefix": CUSTOMER_ORDER_PREFIX,
                    ":yes": True,
                    ":excluded": excluding,
                }
            ),
            "ScanIndexForward": forward,
            "ConsistentRead": True,
            "Limit": _EXTREMES_PAGE,
        }
        while True:
            page = self._client.query(**arguments)
            for item in page.get("Items", []):
                return str(codec.from_item(item)["createdAt"])
            if "LastEvaluatedKey" not in page:
                return None
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def write(self, application_id: int, old: Order | None, new: Order, stats: list[StatsUpdate], now: str) -> None:
        conflict = VersionConflictError  # the order or a customer changed since it was read: the caller reads again
        plan = [
            committer.put(
                self._orders,
                order_to_item(new),
                condition="attribute_not_exists(PK)" if old is None else "#version = :version",
                names=None if old is None else {"#version": "version"},
                values=None if old is None else {":version": old.version},
                failed=conflict,
            ),
            committer.put(self._orders, index_item(new)),
        ]
        if old is not None and (old.customer_id, old.created_at) != (new.customer_id, new.created_at):
            old_entry = {
                "PK": customer_orders_pk(application_id, old.customer_id),
                "SK": customer_order_sk(old.created_at, old.order_id),
            }
            plan.append(committer.delete(self._orders, old_entry))
        plan += [self._stats_write(application_id, update, now) for update in stats]
        self._committer.commit(plan, conflict=conflict)

    def write_stats(self, application_id: int, update: StatsUpdate, now: str) -> None:
        self._committer.commit([self._stats_write(application_id, update, now)], conflict=VersionConflictError)

    def _stats_write(self, application_id: int, update: StatsUpdate, now: str) -> committer.Write:
        return profile_items.stats_write(
            self._profiles, application_id, update.customer_id, update.expected_version, update.stats, now
        )

    def delete_index_entry(self, application_id: int, customer_id: str, created_at: str, order_id: str) -> None:
        key = {"PK": customer_orders_pk(application_id, customer_id), "SK": customer_order_sk(created_at, order_id)}
        self._client.delete_item(TableName=self._orders, Key=codec.to_item(key))

    def list_for_customer(
        self, application_id: int, customer_id: str, limit: int, cursor: str | None, consistent: bool = False
    ) -> tuple[list[OrderSummary], str | None]:
        arguments: dict[str, Any] = {
            "ConsistentRead": consistent,
            "TableName": self._orders,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": codec.to_item(
                {":pk": customer_orders_pk(application_id, customer_id), ":prefix": CUSTOMER_ORDER_PREFIX}
            ),
            "ScanIndexForward": False,  # newest first
            "Limit": limit,
        }
        if cursor:
            arguments["ExclusiveStartKey"] = codec.to_item(
                {
                    "PK": customer_orders_pk(application_id, customer_id),
                    "SK": cursor_codec.decode(cursor, CUSTOMER_ORDER_PREFIX),
                }
            )
        page = self._client.query(**arguments)
        summaries = [_summary(codec.from_item(item)) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return summaries, cursor_codec.encode(str(last["SK"]["S"])) if last else None

    def delete_for_customer(self, application_id: int, customer_id: str) -> list[str]:
        keys: list[dict[str, Any]] = []
        order_ids: list[str] = []
        arguments: dict[str, Any] = {
            "TableName": self._orders,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": codec.to_item({":pk": customer_orders_pk(application_id, customer_id)}),
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**arguments)
            for raw in page.get("Items", []):
                item = codec.from_item(raw)
                keys.append({"PK": item["PK"], "SK": item["SK"]})
                if "orderId" in item:
                    order_ids.append(str(item["orderId"]))
                    keys.append({"PK": order_pk(application_id, str(item["orderId"])), "SK": ORDER_SK})
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        write_all(self._client, self._orders, [{"DeleteRequest": {"Key": codec.to_item(key)}} for key in keys])
        return order_ids
