"""The audience entity, the membership changes a request asks for, and the errors and limits of both."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from patron.errors import ConflictError, FieldIssue, NotFoundError, ValidationError
from patron.profiles.model import integration_id_issue

MAX_NAME_LENGTH = 1000  # Talon.One sets no maximum; a name is shown in lists, 1000 characters is generous
MAX_DESCRIPTION_LENGTH = 10_000
# A mirror's integration and integrationId form a partition key (2048 bytes at most, with our prefix).
MAX_INTEGRATION_LENGTH = 100
MAX_ACTIONS = 1000  # POST /v2/customer_audiences, as Talon.One documents; also a profile update's audiencesChanges
MAX_AUDIENCE_ID = 2**31 - 1  # Talon.One's ids are int32 in its Go SDK


class AudienceState(StrEnum):
    LIVE = "live"
    DELETED = "deleted"  # invisible at once; its memberships are removed in the background, then its item


class Audience(msgspec.Struct, frozen=True):
    application_id: int
    audience_id: int
    name: str
    created: str
    # Bumped when the audience is emptied (DELETE …/memberships): memberships of an older generation are removed by
    # the background job, those added meanwhile stay.
    generation: int = 1
    state: AudienceState = AudienceState.LIVE
    description: str | None = None
    integration: str | None = None
    integration_id: str | None = None
    last_update: str | None = None  # when its memberships last changed through the API

    @property
    def mirrored(self) -> bool:
        return self.integration_id is not None


class MembershipPlan(msgspec.Struct, frozen=True):
    """What a request changes, decided before anything is written: per profile, the audiences it joins (audience id
    -> generation) and those it leaves. A pair named twice ends as its last action says."""

    joins: dict[str, dict[int, int]]
    leaves: dict[str, list[int]]
    audiences: frozenset[int]  # the audiences touched (their lastUpdate moves)

    @property
    def empty(self) -> bool:
        return not self.joins and not self.leaves


class AudienceNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No audience with this id.", code="audience_not_found")


class AudienceChangedError(Exception):
    """An audience a rule's membership change names was deleted or emptied since the session read it: read again,
    decide again (patron.sessions.cycle)."""


class AudienceExistsError(ConflictError):
    """A third-party audience (`integration`, `integrationId`) already mirrored: Talon.One's 409."""

    def __init__(self) -> None:
        super().__init__("An audience with this integration and integrationId already exists.", "audience_exists")


def audience_id_from_path(value: str) -> int:
    """The path's audienceId: a positive integer (else 400 naming it)."""
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_AUDIENCE_ID:
        return int(value)
    issue = FieldIssue("audienceId", "invalid_value", "The audience id is a positive integer.")
    raise ValidationError("The request is invalid.", [issue])


def text_issues(value: str | None, path: str, maximum: int, required: bool = False) -> list[FieldIssue]:
    if value is None:
        return []
    if required and not value.strip():
        return [FieldIssue(path, "invalid_value", "Must not be empty.")]
    if len(value) > maximum:
        return [FieldIssue(path, "too_long", f"At most {maximum} characters.")]
    return []


def mirror_issues(integration: str | None, integration_id: str | None) -> list[FieldIssue]:
    issues = text_issues(integration, "integration", MAX_INTEGRATION_LENGTH, required=True)
    if integration is not None and integration_id is None:
        issues.append(FieldIssue("integrationId", "required", "A third-party audience needs its integrationId."))
    if integration_id is not None and (issue := integration_id_issue(integration_id)) is not None:
        issues.append(FieldIssue("integrationId", issue.code, issue.message))
    return issues


def profile_id_issue(integration_id: str, path: str) -> FieldIssue | None:
    issue = integration_id_issue(integration_id)
    return FieldIssue(path, issue.code, issue.message) if issue is not None else None


def audience_id_issue(audience_id: int, path: str) -> FieldIssue | None:
    if 0 < audience_id <= MAX_AUDIENCE_ID:
        return None
    return FieldIssue(path, "invalid_value", "An audience id is a positive integer.")
