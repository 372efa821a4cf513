"""Audience memberships in the customer lifecycle (patron.customers.port): a merge moves the absorbed profile's
memberships to the survivor, an erasure removes them, an export lists them. The profile item records them, so the
person's memberships are read with the profile, never searched for."""

from __future__ import annotations

from typing import Any

from patron.audiences.model import MembershipPlan
from patron.audiences.repository import AudienceRepository
from patron.clock import Clock, SystemClock, iso
from patron.profiles.repository import ProfileRepository


class AudiencesPersonalData:
    section = "audiences"

    def __init__(self, repository: AudienceRepository, profiles: ProfileRepository, clock: Clock | None = None):
        self._repository = repository
        self._profiles = profiles
        self._clock = clock or SystemClock()

    def _memberships(self, application_id: int, integration_id: str) -> dict[int, int]:
        profile = self._profiles.get(application_id, integration_id)
        return dict(profile.audiences) if profile is not None else {}

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        held = self._memberships(application_id, absorbed_id)
        if not held:
            return
        # The survivor joins with the absorbed profile's generations: an emptying in flight removes them as it
        # would have removed the absorbed profile's.
        plan = MembershipPlan(joins={survivor_id: held}, leaves={absorbed_id: sorted(held)}, audiences=frozenset(held))
        self._repository.apply(application_id, plan, iso(self._clock.now()))

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        return None  # memberships moved in absorb; nothing else names the person

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return bool(self._memberships(application_id, integration_id))

    def forget(self, application_id: int, integration_id: str) -> int:
        held = self._memberships(application_id, integration_id)
        if held:
            plan = MembershipPlan(joins={}, leaves={integration_id: sorted(held)}, audiences=frozenset())
            self._repository.apply(application_id, plan, iso(self._clock.now()))
        return len(held)

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        # No application figure counts memberships: they go, as in an erasure.
        return self.forget(application_id, integration_id)

    def export(self, application_id: int, integration_id: str) -> Any:
        held = self._memberships(application_id, integration_id)
        audiences = self._repository.live(application_id, held)
        return [
            {"id": one.audience_id, "name": one.name} for one in sorted(audiences.values(), key=lambda a: a.audience_id)
        ]
