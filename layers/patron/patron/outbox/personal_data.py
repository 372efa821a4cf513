"""Integration notifications as personal data (patron.customers.port): they name the person's ids, so they
follow a merge and go with an erasure."""

from __future__ import annotations

from typing import Any

from patron.outbox.repository import OutboxRepository


class NotificationsPersonalData:
    section = "notifications"

    def __init__(self, outbox: OutboxRepository):
        self._outbox = outbox

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        return None  # nothing to combine: refile moves them

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        self._outbox.refile_customer(application_id, from_id, to_id)

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return False

    def forget(self, application_id: int, integration_id: str) -> int:
        return self._outbox.forget_customer(application_id, integration_id)

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        return self.forget(application_id, integration_id)

    def export(self, application_id: int, integration_id: str) -> Any:
        return None  # pending notices that a customer or order changed: ids only, expiring with the TTL
