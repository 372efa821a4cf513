"""Orders as the domain sees them, the states their raw statuses map to, and what each contributes to its
customer's statistics."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from patron.errors import FieldIssue

MAX_ORDER_ID_LENGTH = 255
MAX_ITEMS_PER_ORDER = 500
MAX_ORDER_JSON_BYTES = 300 * 1024  # an order item must stay under DynamoDB's 400 KB with our own fields


class OrderState(StrEnum):
    """What a raw status means for the statistics; the mapping is per application (statuses.py)."""

    SALE = "sale"  # counts in orders count, total sales, first and last order dates
    PENDING = "pending"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class Order(msgspec.Struct, frozen=True):
    application_id: int
    order_id: str
    customer_id: str
    created_at: str  # normalised UTC, sortable
    amount: Decimal
    state: OrderState
    status: str | None = None
    status_label: str | None = None
    currency: str | None = None
    updated_at: str | None = None
    deleted: bool = False
    default_state: OrderState | None = None  # the sending dialect's state for a status the mapping does not name
    items: list[dict[str, Any]] = msgspec.field(default_factory=list)
    # Everything else sent with the order (delivery, payment, custom fields), kept as sent.
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    version: int = 0
    written: str = ""

    @property
    def counts_as_sale(self) -> bool:
        return self.state is OrderState.SALE and not self.deleted

    def contribution(self) -> Contribution | None:
        if not self.counts_as_sale:
            return None
        return Contribution(customer_id=self.customer_id, amount=self.amount, date=self.created_at)

    def same_content(self, other: Order) -> bool:
        """Equal as far as a client can tell: a replay of the same request changes nothing."""
        mine = (
            self.customer_id,
            self.created_at,
            self.amount,
            self.state,
            self.status,
            self.status_label,
            self.currency,
            self.updated_at,
            self.deleted,
            self.items,
            self.extra,
        )
        theirs = (
            other.customer_id,
            other.created_at,
            other.amount,
            other.state,
            other.status,
            other.status_label,
            other.currency,
            other.updated_at,
            other.deleted,
            other.items,
            other.extra,
        )
        return mine == theirs


class Contribution(msgspec.Struct, frozen=True):
    """What one order adds to one customer's statistics."""

    customer_id: str
    amount: Decimal
    date: str


def order_id_issue(order_id: str, path: str = "orderId") -> FieldIssue | None:
    if not order_id.strip() or len(order_id) > MAX_ORDER_ID_LENGTH or not order_id.isprintable():
        return FieldIssue(path, "invalid_value", f"An order id has 1 to {MAX_ORDER_ID_LENGTH} printable characters.")
    return None
