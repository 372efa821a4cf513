"""Everything Patron holds about a person, as one document (GDPR Art. 15, the right of access): the profile
with its identifiers, consents, attributes and statistics, then each context's own section (patron.customers.port).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from patron.clock import Clock, SystemClock, iso
from patron.customers.port import PersonalData
from patron.errors import NotFoundError
from patron.http.wire import to_builtins
from patron.profiles.customers import customer_response
from patron.profiles.service import ProfileService


class CustomerExporter:
    def __init__(self, profiles: ProfileService, holders: Sequence[PersonalData], clock: Clock | None = None):
        self._profiles = profiles
        self._holders = holders
        self._clock = clock or SystemClock()

    def export(self, application_id: int, integration_id: str) -> dict[str, Any]:
        """NotFoundError (404) for a person this application does not hold: another application's included.
        `profile` is null for a customer known only by orders that never counted as sales (they create none)."""
        profile = self._profiles.find_by_id(application_id, integration_id)
        if profile is None and not any(h.still_holds(application_id, integration_id) for h in self._holders):
            raise NotFoundError("No customer with this integration id.", code="customer_not_found")
        document: dict[str, Any] = {
            "integrationId": integration_id,
            "exportedAt": iso(self._clock.now()),
            "profile": to_builtins(customer_response(profile)) if profile is not None else None,
        }
        for holder in self._holders:
            section = holder.export(application_id, integration_id)
            if section is not None:
                document[holder.section] = section
        return document
