"""Publishing an application's campaigns: check (compile), plan (what changes against the live version), publish
(a new immutable version and the pointer, in one transaction), roll back (a copy of an earlier version published
as a new one, so the history only grows), and read the history. The management API and the CLI both use this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from patron.errors import FieldIssue, NotFoundError, ValidationError
from patron.promotions.definitions import Campaign, Ruleset
from patron.promotions.loading import DefinitionError, DefinitionIssue
from patron.promotions.store import (
    MAX_BODY_BYTES,
    LivePointer,
    RulesetRepository,
    RulesetTooLargeError,
    StoredVersion,
    VersionInfo,
    canonical,
    compile_version,
    encode_body,
)

MAX_NOTE = 1000
_RULE = re.compile(r"\.rules\[(\d+)\]")
# Campaign fields reported as one change: a schedule is its start and end.
_FIELD_NAMES = {"startTime": "schedule", "endTime": "schedule"}


class DefinitionFieldIssue(FieldIssue, frozen=True):
    """A fault in a ruleset body: the error envelope's `errors[]` entry, with its file, campaign, rule and column."""

    file: str = ""
    campaign: str | None = None
    rule: int | None = None
    column: int | None = None

    def as_dict(self, path_parameters: Any = ()) -> dict[str, Any]:
        view = super().as_dict(path_parameters)
        view.update(file=self.file, campaign=self.campaign, rule=self.rule, column=self.column)
        return view


def rule_index(path: str) -> int | None:
    found = _RULE.search(path)
    return int(found.group(1)) if found else None


def field_issue(issue: DefinitionIssue) -> DefinitionFieldIssue:
    return DefinitionFieldIssue(
        path=issue.path,
        code=issue.code,
        message=issue.message,
        file=issue.file,
        campaign=issue.campaign,
        rule=rule_index(issue.path),
        column=issue.column,
    )


class RulesetInvalidError(ValidationError):
    def __init__(self, issues: Sequence[DefinitionIssue]):
        details: list[FieldIssue] = [field_issue(issue) for issue in issues]
        super().__init__("The ruleset does not compile; nothing was published.", details, code="invalid_ruleset")
        self.issues = list(issues)


class VersionNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No ruleset version with this number.", code="ruleset_version_not_found")


class NoLiveRulesetError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("The application has no published ruleset.", code="no_live_ruleset")


# -- the plan --------------------------------------------------------------------------------------------------


class CampaignChange(msgspec.Struct, frozen=True):
    id: int
    name: str
    change: str  # added | removed | changed | unchanged
    fields: tuple[str, ...] = ()


class GroupChanges(msgspec.Struct, frozen=True):
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # the mode changed
    reordered: bool = False


class Plan(msgspec.Struct, frozen=True):
    based_on: int | None
    settings: tuple[str, ...]
    groups: GroupChanges
    campaigns: tuple[CampaignChange, ...]
    # Loyalty programs: (id, name, "added" | "removed" | "changed") of those that are not unchanged.
    programs: tuple[tuple[int, str, str], ...] = ()
    # Custom event definitions: (id, type, "added" | "removed" | "changed") of those that are not unchanged.
    custom_events: tuple[tuple[int, str, str], ...] = ()

    @property
    def changed(self) -> bool:
        groups = self.groups
        moved = groups.added or groups.removed or groups.changed or groups.reordered
        changed_campaigns = any(c.change != "unchanged" for c in self.campaigns)
        return bool(self.settings or moved or changed_campaigns or self.programs or self.custom_events)

    def count(self, change: str) -> int:
        return sum(1 for campaign in self.campaigns if campaign.change == change)


def _fields(struct: msgspec.Struct) -> dict[str, Any]:
    """A definition's members by their file names, defaults included, so an omitted default equals it written."""
    names = zip(struct.__struct_encode_fields__, struct.__struct_fields__, strict=True)
    return {name: msgspec.to_builtins(getattr(struct, attribute)) for name, attribute in names}


def _campaign_fields(before: Campaign, after: Campaign) -> tuple[str, ...]:
    old, new = _fields(before), _fields(after)
    changed = {_FIELD_NAMES.get(name, name) for name in new if old.get(name) != new.get(name)}
    return tuple(sorted(changed))


def plan(live: Ruleset | None, based_on: int | None, proposed: Ruleset) -> Plan:
    """What publishing `proposed` changes against `live` (None: nothing published yet)."""
    current = live or Ruleset()
    old_settings, new_settings = _fields(current.settings), _fields(proposed.settings)
    settings = tuple(sorted(name for name in new_settings if old_settings.get(name) != new_settings.get(name)))
    old_groups = {group.name: group for group in current.groups()}
    new_groups = {group.name: group for group in proposed.groups()}
    kept_old = [name for name in old_groups if name in new_groups]
    kept_new = [name for name in new_groups if name in old_groups]
    groups = GroupChanges(
        added=tuple(name for name in new_groups if name not in old_groups),
        removed=tuple(name for name in old_groups if name not in new_groups),
        changed=tuple(name for name in kept_new if old_groups[name].mode != new_groups[name].mode),
        reordered=kept_old != kept_new,
    )
    before = {campaign.id: campaign for campaign in current.campaigns}
    after = {campaign.id: campaign for campaign in proposed.campaigns}
    changes: list[CampaignChange] = []
    for campaign in proposed.campaigns:
        previous = before.get(campaign.id)
        if previous is None:
            changes.append(CampaignChange(campaign.id, campaign.name, "added"))
            continue
        fields = _campaign_fields(previous, campaign)
        changes.append(CampaignChange(campaign.id, campaign.name, "changed" if fields else "unchanged", fields))
    changes += [CampaignChange(c.id, c.name, "removed") for c in current.campaigns if c.id not in after]
    changes.sort(key=lambda change: change.id)
    return Plan(
        based_on,
        settings,
        groups,
        tuple(changes),
        _program_changes(current, proposed),
        _custom_event_changes(current, proposed),
    )


def _program_changes(current: Ruleset, proposed: Ruleset) -> tuple[tuple[int, str, str], ...]:
    before = {program.id: program for program in current.loyalty_programs}
    after = {program.id: program for program in proposed.loyalty_programs}
    changes = [
        (program.id, program.name, "added" if program.id not in before else "changed")
        for program in proposed.loyalty_programs
        if program.id not in before or _fields(before[program.id]) != _fields(program)
    ]
    changes += [
        (program.id, program.name, "removed") for program in current.loyalty_programs if program.id not in after
    ]
    return tuple(changes)


def _custom_event_changes(current: Ruleset, proposed: Ruleset) -> tuple[tuple[int, str, str], ...]:
    before = {definition.id: definition for definition in current.custom_events}
    after = {definition.id for definition in proposed.custom_events}
    changes = [
        (definition.id, definition.type, "added" if definition.id not in before else "changed")
        for definition in proposed.custom_events
        if definition.id not in before or _fields(before[definition.id]) != _fields(definition)
    ]
    changes += [(d.id, d.type, "removed") for d in current.custom_events if d.id not in after]
    return tuple(changes)


# -- the service -----------------------------------------------------------------------------------------------


class Published(msgspec.Struct, frozen=True):
    info: VersionInfo
    plan: Plan
    unchanged: bool = False  # publish_if_changed found nothing to publish


class Unset(msgspec.Struct, frozen=True):
    """`basedOn` not given: the publish is based on the live version read now."""


UNSET = Unset()
BasedOn = int | None | Unset


class RulesetService(msgspec.Struct):
    repository: RulesetRepository
    now: Callable[[], str]
    compile: Callable[[Ruleset, int], Any] = msgspec.field(default=compile_version)

    def check(self, ruleset: Ruleset) -> None:
        """Raises RulesetInvalidError with every fault (the same compile the sessions function runs)."""
        try:
            self.compile(ruleset, 0)
        except DefinitionError as error:
            raise RulesetInvalidError(error.issues) from None

    def live(self, application_id: int) -> LivePointer | None:
        return self.repository.live(application_id)

    def live_version(self, application_id: int) -> StoredVersion:
        pointer = self.repository.live(application_id)
        if pointer is None:
            raise NoLiveRulesetError()
        return self.version(application_id, pointer.version)

    def version(self, application_id: int, version: int) -> StoredVersion:
        stored = self.repository.version(application_id, version) if version >= 1 else None
        if stored is None:
            raise VersionNotFoundError()
        return stored

    def history(self, application_id: int, limit: int, before: int | None = None) -> list[VersionInfo]:
        return self.repository.history(application_id, limit, before)

    def plan(self, application_id: int, ruleset: Ruleset) -> Plan:
        """The check, then the changes against the live version; writes nothing."""
        self.check(ruleset)
        pointer = self.repository.live(application_id)
        live = self.version(application_id, pointer.version).ruleset if pointer else None
        return plan(live, pointer.version if pointer else None, ruleset)

    def publish(
        self,
        application_id: int,
        ruleset: Ruleset,
        *,
        based_on: BasedOn = UNSET,
        note: str = "",
        published_by: str = "",
        if_changed: bool = False,
    ) -> Published:
        """A new version holding `ruleset`, made live if the live version is still `based_on`. `if_changed`: when
        the live version holds the same definitions, nothing is written (`make run`'s demo, run at every start)."""
        self.check(ruleset)
        pointer = self.repository.live(application_id)
        live = self.version(application_id, pointer.version) if pointer else None
        seen = pointer.version if pointer else None
        expected = seen if isinstance(based_on, Unset) else based_on
        changes = plan(live.ruleset if live else None, seen, ruleset)
        if if_changed and live is not None and canonical(live.ruleset) == canonical(ruleset):
            return Published(live.info, changes, unchanged=True)
        return self._write(application_id, ruleset, expected, note, published_by, "publish", None, changes)

    def rollback(
        self,
        application_id: int,
        version: int,
        *,
        based_on: BasedOn = UNSET,
        note: str = "",
        published_by: str = "",
    ) -> Published:
        """Publishes a copy of `version` as a new version (history is append-only)."""
        earlier = self.version(application_id, version)
        pointer = self.repository.live(application_id)
        seen = pointer.version if pointer else None
        expected = seen if isinstance(based_on, Unset) else based_on
        live = self.version(application_id, pointer.version).ruleset if pointer else None
        changes = plan(live, seen, earlier.ruleset)
        note = note or f"Rollback to version {version}"
        return self._write(application_id, earlier.ruleset, expected, note, published_by, "rollback", version, changes)

    def _write(
        self,
        application_id: int,
        ruleset: Ruleset,
        based_on: int | None,
        note: str,
        published_by: str,
        source: str,
        rolled_back_from: int | None,
        changes: Plan,
    ) -> Published:
        body = encode_body(ruleset)
        if len(body) > MAX_BODY_BYTES:
            raise RulesetTooLargeError(len(body))
        info = VersionInfo(
            version=(based_on or 0) + 1,
            created=self.now(),
            note=note[:MAX_NOTE],
            source=source,
            rolled_back_from=rolled_back_from,
            campaigns=len(ruleset.campaigns),
            published_by=published_by,
            body_bytes=len(body),
        )
        self.repository.commit(self.repository.publish_writes(application_id, info, body, based_on))
        return Published(info, changes)
