"""Orders as personal data (patron.customers.port): they move with a merge, go or stay anonymously with an
erasure, and are listed whole in an export."""

from __future__ import annotations

from typing import Any

from patron.orders import wire
from patron.orders.repository import OrderRepository
from patron.orders.service import OrderService

_PAGE = 100


class OrdersPersonalData:
    section = "orders"

    def __init__(self, orders: OrderRepository, service: OrderService):
        self._orders = orders
        self._service = service

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        while True:
            # Each moved order leaves the absorbed customer's list, so the first page is always the next one.
            page, _ = self._orders.list_for_customer(application_id, absorbed_id, _PAGE, None)
            if not page:
                return
            for summary in page:
                self._service.move_to_customer(application_id, summary.order_id, survivor_id)

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        return None  # absorb moved them, figures and all

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        page, _ = self._orders.list_for_customer(application_id, integration_id, 1, None)
        return bool(page)

    def forget(self, application_id: int, integration_id: str) -> int:
        return len(self._orders.delete_for_customer(application_id, integration_id))

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        """Orders stay (amounts, dates, statuses, items) under the tombstone customer, so application-wide figures
        do not change; their free fields (delivery, ...) go."""
        moved = 0
        while True:
            page, _ = self._orders.list_for_customer(application_id, integration_id, _PAGE, None)
            if not page:
                return moved
            for summary in page:
                self._service.anonymise(application_id, summary.order_id, tombstone_id)
                moved += 1

    def export(self, application_id: int, integration_id: str) -> Any:
        orders: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self._orders.list_for_customer(application_id, integration_id, _PAGE, cursor)
            for summary in page:
                order = self._orders.get(application_id, summary.order_id)
                if order is not None:
                    orders.append(wire.order_document(order))
            if cursor is None:
                return orders
