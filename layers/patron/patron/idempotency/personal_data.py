"""Stored idempotent answers as personal data (patron.customers.port): they quote the person they answered
about, so they follow a merge and go with an erasure. They are copies of what the other sections export."""

from __future__ import annotations

from typing import Any

from patron.idempotency.service import IdempotencyStore


class StoredAnswersPersonalData:
    section = "storedAnswers"

    def __init__(self, store: IdempotencyStore):
        self._store = store

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        return None  # nothing to combine: refile moves them

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        self._store.refile_subject(application_id, from_id, to_id)

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return False  # an answer stored during a merge is filed under the survivor by the route that stores it

    def forget(self, application_id: int, integration_id: str) -> int:
        return self._store.forget_subject(application_id, integration_id)

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        return self.forget(application_id, integration_id)  # an answer has no figures to keep

    def export(self, application_id: int, integration_id: str) -> Any:
        return None  # answers kept a day at most, quoting what the profile and orders sections show
