"""Erasing a person: everything every context holds about them (through the port, patron.customers.port), or,
anonymising, what the application's figures need kept under a tombstone id with no personal data; then the
profile with its identifier claims.

The contexts go first: if a later step fails, a retry finds the profile and finishes; the other way round would
leave orders nobody can reach by the customer's identifiers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from patron.customers.port import PersonalData
from patron.errors import NotFoundError
from patron.profiles.model import CustomerProfile
from patron.profiles.service import ProfileService

ANONYMOUS_PREFIX = "anonymous-"


class CustomerEraser:
    def __init__(self, profiles: ProfileService, holders: Sequence[PersonalData]):
        self._profiles = profiles
        self._holders = holders

    def erase(
        self,
        application_id: int,
        integration_id: str,
        anonymise: bool = False,
        profile: CustomerProfile | None = None,
    ) -> dict[str, int]:
        """How many records of each section went (or, anonymising, were kept anonymously); NotFoundError when
        there was nothing at all.

        With `anonymise`, orders stay (amounts, dates, statuses, items) under a new tombstone customer with no
        personal data, so application-wide figures do not change; their free fields (delivery, ...) go."""
        profile = profile or self._profiles.find_by_id(application_id, integration_id)
        tombstone = f"{ANONYMOUS_PREFIX}{uuid.uuid4().hex}"
        counts = {
            holder.section: (
                holder.anonymise(application_id, integration_id, tombstone)
                if anonymise
                else holder.forget(application_id, integration_id)
            )
            for holder in self._holders
        }
        try:
            self._profiles.erase(application_id, integration_id, profile)
        except NotFoundError:
            if not any(counts.values()):
                raise
        return counts
