"""Audiences: create, rename, delete and empty them, and set attributes on every member (MembershipService,
below, changes memberships).

Each change is decided first (validated, every audience named checked live, the plan of memberships built), then
written by the repository; work on every member of an audience (removal, attributes) goes to the background job
(patron.audiences.jobs) and the call answers at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from patron.audiences.jobs import AudienceJob, JobKind, JobQueue
from patron.audiences.model import (
    MAX_ACTIONS,
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    Audience,
    AudienceNotFoundError,
    AudienceState,
    MembershipPlan,
    audience_id_issue,
    mirror_issues,
    profile_id_issue,
    text_issues,
)
from patron.audiences.repository import AudienceRepository
from patron.clock import Clock, SystemClock, iso
from patron.errors import FieldIssue, ValidationError
from patron.profiles.model import reserved_id_issue
from patron.profiles.service import ProfileService


class NewAudience(msgspec.Struct, frozen=True):
    name: str
    description: str | None = None
    integration: str | None = None
    integration_id: str | None = None


class MembershipAction(msgspec.Struct, frozen=True):
    add: bool  # False: delete
    integration_id: str
    audience_id: int


def _refuse(issues: list[FieldIssue], message: str = "The request is invalid.") -> None:
    if issues:
        raise ValidationError(message, issues)


class AudienceService:
    def __init__(
        self, repository: AudienceRepository, jobs: JobQueue, profiles: ProfileService, clock: Clock | None = None
    ):
        self._repository = repository
        self._jobs = jobs
        self._profiles = profiles
        self._clock = clock or SystemClock()

    def create(self, application_id: int, new: NewAudience) -> Audience:
        """A new audience; mirroring a third-party one (`integrationId`, with or without `integration`) that is already
        mirrored: AudienceExistsError (409), nothing written."""
        _refuse(
            text_issues(new.name, "name", MAX_NAME_LENGTH, required=True)
            + text_issues(new.description, "description", MAX_DESCRIPTION_LENGTH)
            + mirror_issues(new.integration, new.integration_id)
        )
        audience = Audience(
            application_id=application_id,
            audience_id=self._repository.next_id(application_id),
            name=new.name,
            created=iso(self._clock.now()),
            description=new.description,
            integration=new.integration,
            integration_id=new.integration_id,
        )
        self._repository.create(audience)
        return audience

    def rename(self, application_id: int, audience_id: int, name: str) -> Audience:
        """Only the name changes; no rule runs (Talon.One: renaming does not trigger the Rule Engine)."""
        _refuse(text_issues(name, "name", MAX_NAME_LENGTH, required=True))
        return self._repository.rename(application_id, audience_id, name)

    def delete(self, application_id: int, audience_id: int) -> None:
        """Invisible at once (reads, memberships, rules); its memberships are removed in the background, then its item.
        A repeated DELETE while that runs sends the job again (it is idempotent) and answers as the first did."""
        audience = self._repository.get(application_id, audience_id)
        if audience is None:
            raise AudienceNotFoundError()
        if audience.state is AudienceState.LIVE:
            self._repository.mark_deleted(audience)
        self._jobs.send(AudienceJob(JobKind.REMOVE, application_id, audience_id, below=None))

    def empty(self, application_id: int, audience_id: int) -> None:
        """Every current member leaves; profiles added from now on stay (they join the new generation)."""
        generation = self._repository.empty(application_id, audience_id, iso(self._clock.now()))
        self._jobs.send(AudienceJob(JobKind.REMOVE, application_id, audience_id, below=generation))

    def update_members(self, application_id: int, audience_id: int, attributes: dict[str, Any]) -> None:
        """Sets these attributes on every member, in the background: checked now (a 400 names the attribute) and the
        new ones registered in the catalog, so no member can refuse them later. The members at the time each page
        is done are the ones updated."""
        try:
            self._profiles.register_attributes(application_id, attributes)
        except ValidationError as error:
            # The body is the attribute map itself: its issues name the attribute, not `attributes.<name>`.
            error.details = [
                FieldIssue(issue.path.removeprefix("attributes."), issue.code, issue.message) for issue in error.details
            ]
            raise
        if not self._repository.live(application_id, [audience_id]):
            raise AudienceNotFoundError()
        if attributes:
            self._jobs.send(AudienceJob(JobKind.ATTRIBUTES, application_id, audience_id, attributes=attributes))


class MembershipService:
    """Memberships added and removed by name (customer_audiences, a profile update's audiencesChanges, the lifecycle),
    and a profile's memberships read: no background work, so no queue."""

    def __init__(self, repository: AudienceRepository, clock: Clock | None = None):
        self._repository = repository
        self._clock = clock or SystemClock()

    def change(self, application_id: int, actions: Sequence[MembershipAction], root: str = "data") -> MembershipPlan:
        """Adds and removes memberships (at most 1000 actions; adding creates the profile); every action is checked
        and every audience must exist before anything is written (an unknown one: 404, nothing written)."""
        issues: list[FieldIssue] = []
        if len(actions) > MAX_ACTIONS:
            issues.append(FieldIssue(root, "too_many", f"At most {MAX_ACTIONS} actions per request."))
        for index, action in enumerate(actions):
            path = f"{root}[{index}]"
            for issue in (
                profile_id_issue(action.integration_id, f"{path}.profileIntegrationId"),
                reserved_id_issue(action.integration_id, f"{path}.profileIntegrationId"),
                audience_id_issue(action.audience_id, f"{path}.audienceId"),
            ):
                if issue is not None:
                    issues.append(issue)
                    break
        _refuse(issues)
        plan = self._plan(application_id, actions)
        self.apply(application_id, plan)
        return plan

    def change_profile(
        self, application_id: int, integration_id: str, adds: Iterable[int], deletes: Iterable[int]
    ) -> None:
        """A profile update's audiencesChanges: joins first, then leaves (an id in both ends deleted)."""
        actions = [MembershipAction(True, integration_id, one) for one in adds]
        actions += [MembershipAction(False, integration_id, one) for one in deletes]
        issues = [
            issue
            for index, action in enumerate(actions)
            if (issue := audience_id_issue(action.audience_id, _changes_path(action.add, index, actions))) is not None
        ]
        if len(actions) > MAX_ACTIONS:
            issues.append(FieldIssue("audiencesChanges", "too_many", f"At most {MAX_ACTIONS} audiences per request."))
        _refuse(issues)
        self.apply(application_id, self._plan(application_id, actions))

    def check_profile_changes(self, application_id: int, adds: Iterable[int], deletes: Iterable[int]) -> None:
        """What change_profile would refuse, before the profile itself is written."""
        ids = [*adds, *deletes]
        issues = [issue for one in ids if (issue := audience_id_issue(one, "audiencesChanges")) is not None]
        if len(ids) > MAX_ACTIONS:
            issues.append(FieldIssue("audiencesChanges", "too_many", f"At most {MAX_ACTIONS} audiences per request."))
        _refuse(issues)
        if set(ids) - set(self._repository.live(application_id, ids)):
            raise AudienceNotFoundError()

    def apply(self, application_id: int, plan: MembershipPlan) -> None:
        if plan.empty:
            return
        now = iso(self._clock.now())
        self._repository.apply(application_id, plan, now)
        self._repository.touch(application_id, plan.audiences, now)

    def _plan(self, application_id: int, actions: Sequence[MembershipAction]) -> MembershipPlan:
        audiences = self._repository.live(application_id, {action.audience_id for action in actions})
        if any(action.audience_id not in audiences for action in actions):
            raise AudienceNotFoundError()
        final: dict[tuple[str, int], bool] = {}
        for action in actions:
            final[(action.integration_id, action.audience_id)] = action.add
        joins: dict[str, dict[int, int]] = {}
        leaves: dict[str, list[int]] = {}
        for (integration_id, audience_id), add in final.items():
            if add:
                joins.setdefault(integration_id, {})[audience_id] = audiences[audience_id].generation
            else:
                leaves.setdefault(integration_id, []).append(audience_id)
        return MembershipPlan(joins=joins, leaves=leaves, audiences=frozenset(audiences))

    def memberships(self, application_id: int, audience_ids: Iterable[int]) -> list[Audience]:
        """The live audiences among a profile's memberships (a deleted one may linger until its job has run)."""
        return list(self._repository.live(application_id, audience_ids).values())


def _changes_path(add: bool, index: int, actions: Sequence[MembershipAction]) -> str:
    adds = sum(1 for action in actions if action.add)
    return f"audiencesChanges.adds[{index}]" if add else f"audiencesChanges.deletes[{index - adds}]"
