"""Customer profile use cases: create-or-merge, read."""

from __future__ import annotations

from typing import Any

from patron.clock import Clock, SystemClock, iso
from patron.errors import NotFoundError, ValidationError
from patron.profiles.model import CustomerProfile, attribute_issues, integration_id_issue
from patron.profiles.repository import ProfileRepository


class ProfileService:
    def __init__(self, repository: ProfileRepository, clock: Clock | None = None):
        self._repository = repository
        self._clock = clock or SystemClock()

    def update(self, application_id: int, integration_id: str, attributes: dict[str, Any]) -> CustomerProfile:
        """Creates the profile if new; merges `attributes` into it (a null value removes that attribute)."""
        issues = [issue for issue in [integration_id_issue(integration_id)] if issue] + attribute_issues(attributes)
        if issues:
            raise ValidationError("The profile update is invalid.", issues)
        to_set = {name: value for name, value in attributes.items() if value is not None}
        to_remove = [name for name, value in attributes.items() if value is None]
        return self._repository.upsert(application_id, integration_id, to_set, to_remove, iso(self._clock.now()))

    def get(self, application_id: int, integration_id: str) -> CustomerProfile:
        profile = self._repository.get(application_id, integration_id)
        if profile is None:
            raise NotFoundError("No customer profile with this integration id.", code="profile_not_found")
        return profile
