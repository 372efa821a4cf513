"""Keys of the orders table (docs/data-model.md). Every partition key begins with the application id."""

from __future__ import annotations

ORDER_SK = "ORDER"
CUSTOMER_ORDER_PREFIX = "ORDER#"


def order_pk(application_id: int, order_id: str) -> str:
    return f"APP#{application_id}#ORDER#{order_id}"


def customer_orders_pk(application_id: int, customer_id: str) -> str:
    """The partition listing one customer's orders: one small index item per order, newest last."""
    return f"APP#{application_id}#CUSTOMER#{customer_id}"


def customer_order_sk(created_at: str, order_id: str) -> str:
    return f"{CUSTOMER_ORDER_PREFIX}{created_at}#{order_id}"
