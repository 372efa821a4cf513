"""Tracked events as personal data (patron.customers.port): a customer's events and day counts are exported with
the person, go with an erasure (anonymised or not: they describe what the person did, and no figure needs them),
and follow a merge to the survivor."""

from __future__ import annotations

from typing import Any

from patron.events.repository import EventRepository


class EventsPersonalData:
    section = "events"

    def __init__(self, events: EventRepository):
        self._events = events

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        self._events.absorb(application_id, survivor_id, absorbed_id)

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        return None  # absorb moved everything: events name the person only by their partition

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return self._events.holds(application_id, integration_id)

    def forget(self, application_id: int, integration_id: str) -> int:
        return self._events.forget(application_id, integration_id)

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        return self.forget(application_id, integration_id)

    def export(self, application_id: int, integration_id: str) -> Any:
        events = [
            {
                "id": event.id,
                "type": event.type,
                "created": event.created,
                "attributes": dict(event.attributes),
                "source": event.source,
                **({"definitionId": event.definition_id} if event.definition_id is not None else {}),
                **({"storeIntegrationId": event.store_integration_id} if event.store_integration_id else {}),
            }
            for event in self._events.events(application_id, integration_id)
        ]
        day_counts = self._events.day_counts(application_id, integration_id)
        if not events and not day_counts:
            return None
        return {"events": events, "dayCounts": day_counts}
