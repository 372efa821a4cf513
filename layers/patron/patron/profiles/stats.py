"""A customer's order statistics, as stored on the profile (the orders context keeps them exact)."""

from __future__ import annotations

from decimal import Context, Decimal, localcontext
from typing import Any

import msgspec

from patron.profiles.keys import FIRST_ORDER_AT, LAST_ORDER_AT, ORDERS_COUNT, SALES_TOTAL


class CustomerStats(msgspec.Struct, frozen=True):
    orders_count: int = 0
    sales_total: Decimal = Decimal(0)
    first_order_at: str | None = None
    last_order_at: str | None = None

    @property
    def average_order_value(self) -> Decimal | None:
        if not self.orders_count:
            return None
        with localcontext(Context(prec=38)):
            return (self.sales_total / self.orders_count).quantize(Decimal("0.01"))

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> CustomerStats:
        return cls(
            orders_count=int(item.get(ORDERS_COUNT, 0)),
            sales_total=Decimal(item.get(SALES_TOTAL, 0)),
            first_order_at=str(item[FIRST_ORDER_AT]) if item.get(FIRST_ORDER_AT) else None,
            last_order_at=str(item[LAST_ORDER_AT]) if item.get(LAST_ORDER_AT) else None,
        )

    def as_response(self) -> dict[str, Any]:
        return {
            "ordersCount": self.orders_count,
            "totalSales": self.sales_total,
            "averageOrderValue": self.average_order_value,
            "firstOrderAt": self.first_order_at,
            "lastOrderAt": self.last_order_at,
        }
