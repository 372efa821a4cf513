"""Erasing a person: every order (and its index items), then the profile with its identifier claims.

Orders go first: if the profile erasure then fails, a retry finds the profile and finishes; the other way round
would leave orders nobody can reach by the customer's identifiers.
"""

from __future__ import annotations

from patron.errors import NotFoundError
from patron.orders.repository import OrderRepository
from patron.profiles.service import ProfileService


class CustomerEraser:
    def __init__(self, profiles: ProfileService, orders: OrderRepository):
        self._profiles = profiles
        self._orders = orders

    def erase(self, application_id: int, integration_id: str) -> int:
        """Returns how many orders were deleted; NotFoundError when there was nothing at all."""
        deleted = self._orders.delete_for_customer(application_id, integration_id)
        try:
            self._profiles.erase(application_id, integration_id)
        except NotFoundError:
            if not deleted:
                raise
        return deleted
