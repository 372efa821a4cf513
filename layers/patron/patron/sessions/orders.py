"""A closed session is one of its customer's orders (one domain: order statistics, ExpertSender's and Rfmcube's
views, the customer's order list see it). The order has the session's id, is written in the session's own
transaction with the customer's statistics, and follows the session: closed is a sale of what the customer paid,
a return lowers it (all units returned: returned), cancel cancels it, reopen makes it pending again.

A shop that also sends the same order through the orders routes keeps its own: an order of that id not written
by a session is left alone, so the sale counts once. Anonymous sessions (no profileId) are not orders: an order
needs its customer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from patron.orders.model import Order, OrderState, order_id_issue
from patron.sessions.model import Session

SOURCE = "customerSession"  # extra.source of an order a session wrote


def owned(session: Session, existing: Order | None) -> bool:
    """Whether this session's order is (or may be) the session's to write."""
    if session.profile_id is None or order_id_issue(session.integration_id) is not None:
        return False
    return existing is None or existing.extra.get("source") == SOURCE


def _items(session: Session) -> list[dict[str, Any]]:
    items = []
    for position, item in enumerate(session.cart_items):
        entry: dict[str, Any] = {"sku": item.sku, "quantity": item.quantity, "price": item.price, "position": position}
        if item.name is not None:
            entry["name"] = item.name
        if item.category is not None:
            entry["category"] = item.category
        if item.returned_quantity:
            entry["returnedQuantity"] = item.returned_quantity
        items.append(entry)
    return items


def session_order(
    application_id: int,
    session: Session,
    existing: Order | None,
    state: OrderState,
    amount: Decimal,
    currency: str | None,
    stamp: str,
) -> Order:
    """The order as the session now makes it (created at the first close; its date kept afterwards)."""
    status = {OrderState.SALE: "closed", OrderState.CANCELLED: "cancelled", OrderState.PENDING: "open"}.get(
        state, "partially_returned"
    )
    if session.state.value == "partially_returned" and state is OrderState.SALE:
        status = "partially_returned"
    return Order(
        application_id=application_id,
        order_id=session.integration_id,
        customer_id=str(session.profile_id),
        created_at=existing.created_at if existing is not None else stamp,
        amount=amount,
        state=state,
        status=status,
        currency=currency if currency is not None else (existing.currency if existing else None),
        updated_at=stamp,
        items=_items(session),
        extra={"source": SOURCE},
        version=(existing.version if existing is not None else 0) + 1,
        written=stamp,
    )
