"""Customer profile use cases: create-or-merge (one or many), read, erase."""

from __future__ import annotations

from typing import Any

from patron.clock import Clock, SystemClock, iso
from patron.errors import FieldIssue, NotFoundError, PatronError, ValidationError
from patron.profiles.model import CustomerProfile, attribute_issues, integration_id_issue
from patron.profiles.repository import ProfileRepository, ProfileUpdate

MAX_PROFILES_PER_BULK_UPDATE = 1000  # Talon.One's limit for PUT /v2/customer_profiles


def _issues(integration_id: str, attributes: dict[str, Any]) -> list[FieldIssue]:
    return [issue for issue in [integration_id_issue(integration_id)] if issue] + attribute_issues(attributes)


def _check_integration_id(integration_id: str) -> None:
    issue = integration_id_issue(integration_id)
    if issue:
        raise ValidationError("The integration id is invalid.", [issue])


def _as_update(integration_id: str, attributes: dict[str, Any]) -> ProfileUpdate:
    return ProfileUpdate(
        integration_id=integration_id,
        set_attributes={name: value for name, value in attributes.items() if value is not None},
        remove=[name for name, value in attributes.items() if value is None],
    )


class ProfileService:
    def __init__(self, repository: ProfileRepository, clock: Clock | None = None):
        self._repository = repository
        self._clock = clock or SystemClock()

    def update(self, application_id: int, integration_id: str, attributes: dict[str, Any]) -> CustomerProfile:
        """Creates the profile if new; merges `attributes` into it (a null value removes that attribute)."""
        issues = _issues(integration_id, attributes)
        if issues:
            raise ValidationError("The profile update is invalid.", issues)
        update = _as_update(integration_id, attributes)
        return self._repository.upsert(
            application_id, integration_id, update.set_attributes, update.remove, iso(self._clock.now())
        )

    def update_many(self, application_id: int, items: list[tuple[str, dict[str, Any]]]) -> list[CustomerProfile]:
        """Updates up to 1000 profiles. Every item is validated before anything is written; the same integration
        id twice merges in request order (later values win). Returns the resulting profile for each item."""
        if len(items) > MAX_PROFILES_PER_BULK_UPDATE:
            raise ValidationError(
                "Too many profiles in one request.",
                [FieldIssue("customerProfiles", "too_many", f"At most {MAX_PROFILES_PER_BULK_UPDATE} profiles.")],
            )
        issues = [
            issue.under(f"customerProfiles[{index}]")
            for index, (integration_id, attributes) in enumerate(items)
            for issue in _issues(integration_id, attributes)
        ]
        if issues:
            raise ValidationError("The profile update is invalid.", issues)
        merged: dict[str, dict[str, Any]] = {}
        for integration_id, attributes in items:
            merged.setdefault(integration_id, {}).update(attributes)
        updates = [_as_update(integration_id, attributes) for integration_id, attributes in merged.items()]
        outcomes = self._repository.upsert_many(application_id, updates, iso(self._clock.now()))
        by_id = {update.integration_id: outcome for update, outcome in zip(updates, outcomes, strict=True)}
        failed = [
            (index, outcome)
            for index, (integration_id, _) in enumerate(items)
            if isinstance(outcome := by_id[integration_id], PatronError)
        ]
        if failed:
            if any(not isinstance(error, ValidationError) for _, error in failed):
                raise next(error for _, error in failed if not isinstance(error, ValidationError))
            raise ValidationError(
                "Some profiles could not be updated; the others were.",
                [issue.under(f"customerProfiles[{index}]") for index, error in failed for issue in error.details],
            )
        return [outcome for integration_id, _ in items if isinstance(outcome := by_id[integration_id], CustomerProfile)]

    def get(self, application_id: int, integration_id: str) -> CustomerProfile:
        _check_integration_id(integration_id)
        profile = self._repository.get(application_id, integration_id)
        if profile is None:
            raise NotFoundError("No customer profile with this integration id.", code="profile_not_found")
        return profile

    def erase(self, application_id: int, integration_id: str) -> None:
        """Deletes the profile and everything stored about the person under it."""
        _check_integration_id(integration_id)
        if not self._repository.erase(application_id, integration_id):
            raise NotFoundError("No customer profile with this integration id.", code="profile_not_found")
