"""Erasing a person: their orders (deleted, or kept anonymously), idempotency records that quote them, then
the profile with its identifier claims.

Orders go first: if a later step fails, a retry finds the profile and finishes; the other way round would leave
orders nobody can reach by the customer's identifiers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from patron.errors import NotFoundError
from patron.orders.repository import OrderRepository
from patron.orders.service import OrderService
from patron.profiles.model import CustomerProfile
from patron.profiles.service import ProfileService

ANONYMOUS_PREFIX = "anonymous-"
_PAGE = 100

Forget = Callable[[int, str], int]


class CustomerEraser:
    def __init__(
        self,
        profiles: ProfileService,
        orders: OrderRepository,
        order_service: OrderService,
        forget: Forget | None = None,
        forget_outbox: Forget | None = None,
    ):
        self._profiles = profiles
        self._orders = orders
        self._order_service = order_service
        self._forget = forget
        self._forget_outbox = forget_outbox

    def erase(
        self,
        application_id: int,
        integration_id: str,
        anonymise: bool = False,
        profile: CustomerProfile | None = None,
    ) -> int:
        """Returns how many orders were deleted or anonymised; NotFoundError when there was nothing at all.

        With `anonymise`, orders stay (amounts, dates, statuses, items) under a new tombstone customer with no
        personal data, so application-wide figures do not change; their free fields (delivery, ...) go."""
        profile = profile or self._profiles.find_by_id(application_id, integration_id)
        if anonymise:
            order_ids = self._anonymise_orders(application_id, integration_id)
        else:
            order_ids = self._orders.delete_for_customer(application_id, integration_id)
        if self._forget is not None:
            # Stored answers are filed under the customer who answered (those given to a device or a guest before
            # a merge were refiled under the customer then).
            self._forget(application_id, integration_id)
        if self._forget_outbox is not None:
            self._forget_outbox(application_id, integration_id)
        try:
            self._profiles.erase(application_id, integration_id, profile)
        except NotFoundError:
            if not order_ids:
                raise
        return len(order_ids)

    def _anonymise_orders(self, application_id: int, integration_id: str) -> list[str]:
        tombstone = f"{ANONYMOUS_PREFIX}{uuid.uuid4().hex}"
        moved: list[str] = []
        while True:
            # Each moved order leaves this customer's list, so the first page is always the next one.
            page, _ = self._orders.list_for_customer(application_id, integration_id, _PAGE, None)
            if not page:
                return moved
            for summary in page:
                self._order_service.anonymise(application_id, summary.order_id, tombstone)
                moved.append(summary.order_id)
