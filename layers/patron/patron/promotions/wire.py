"""The management API's bodies (`/v1/management/rulesets...`): Patron's own shapes, JSON camelCase.

A publish, plan or simulate body is the merged definitions (a `Ruleset`: settings, evaluationGroups, campaigns,
loyaltyPrograms, as in a campaign file) plus `basedOn` and `note` (publish) or `sessions` (simulate). The
definitions are taken as JSON here and read by `loading.merge`, so a body with faults in several campaigns is
answered with every fault at once (docs/campaigns.md, "Errors").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from patron.promotions.definitions import Ruleset
from patron.promotions.loading import DefinitionError, merge
from patron.promotions.management import Plan, Published, RulesetInvalidError, VersionNotFoundError
from patron.promotions.simulation import DEFAULT_SESSIONS, MAX_SESSIONS, Simulation
from patron.promotions.store import StoredVersion, VersionInfo

Note = Annotated[str, msgspec.Meta(max_length=1000)]


class _Wire(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    pass


class RulesetRequest(_Wire, kw_only=True):
    """Definitions as in a campaign folder, merged (docs/campaigns.schema.json describes each member)."""

    settings: dict[str, Any] | None = None
    evaluation_groups: list[Any] = []
    campaigns: list[Any] = []
    loyalty_programs: list[Any] = []
    custom_events: list[Any] = []  # custom event definitions (docs/events.md)

    def definitions(self) -> Ruleset:
        """The Ruleset, or RulesetInvalidError naming every fault (path, code, message, campaign)."""
        document: dict[str, Any] = {
            "evaluationGroups": self.evaluation_groups,
            "campaigns": self.campaigns,
            "loyaltyPrograms": self.loyalty_programs,
            "customEvents": self.custom_events,
        }
        if self.settings is not None:
            document["settings"] = self.settings
        try:
            return merge([("", document)])
        except DefinitionError as error:
            raise RulesetInvalidError(error.issues) from None


class SimulateRulesetRequest(RulesetRequest, kw_only=True):
    # How many of the application's most recent sessions to re-evaluate.
    sessions: Annotated[int, msgspec.Meta(ge=1, le=MAX_SESSIONS)] = DEFAULT_SESSIONS


class PublishRulesetRequest(RulesetRequest, kw_only=True):
    # The live version the publisher planned against (null: none was live). Omitted: whatever is live now.
    based_on: Annotated[int, msgspec.Meta(ge=1)] | msgspec.UnsetType | None = msgspec.UNSET
    note: Note = ""


class RollbackRequest(_Wire, kw_only=True):
    based_on: Annotated[int, msgspec.Meta(ge=1)] | msgspec.UnsetType | None = msgspec.UNSET
    note: Note = ""


class RulesetVersionSummary(_Wire, kw_only=True):
    version: int
    created: str
    note: str
    source: str  # publish | rollback
    rolled_back_from: int | None = None
    campaigns: int
    published_by: str
    body_bytes: int


class RulesetVersionResponse(RulesetVersionSummary, kw_only=True):
    live: bool
    definitions: Ruleset


class RulesetHistoryResponse(_Wire, kw_only=True):
    live_version: int | None
    versions: list[RulesetVersionSummary]
    # Pass as `before` for the next (older) page; null: this was the last.
    next_before: int | None = None


class CampaignChangeView(_Wire, kw_only=True):
    id: int
    name: str
    change: str  # added | removed | changed | unchanged
    fields: list[str] = []


class GroupChangesView(_Wire, kw_only=True):
    added: list[str]
    removed: list[str]
    changed: list[str]
    reordered: bool


class ProgramChangeView(_Wire, kw_only=True):
    id: int
    name: str
    change: str  # added, removed, changed


class RulesetPlanResponse(_Wire, kw_only=True):
    based_on: int | None
    changed: bool
    settings: list[str]
    evaluation_groups: GroupChangesView
    campaigns: list[CampaignChangeView]
    added: int
    removed: int
    changed_campaigns: int
    unchanged: int
    loyalty_programs: list[ProgramChangeView] = []
    custom_events: list[ProgramChangeView] = []  # custom event definitions: id, type, change


class PublishedResponse(_Wire, kw_only=True):
    version: RulesetVersionSummary
    plan: RulesetPlanResponse


class CampaignSimulationView(_Wire, kw_only=True):
    id: int
    name: str
    change: str  # added | removed | changed | unchanged (as the plan says)
    triggered_before: int
    triggered_after: int
    sessions_changed: int
    discount_before: Decimal
    discount_after: Decimal
    discount_difference: Decimal
    # Up to 10 of the changed sessions' integration ids, newest first.
    changed_sessions: list[str] = []


class RulesetSimulationResponse(_Wire, kw_only=True):
    based_on: int | None
    sessions: int
    evaluated: int
    skipped: int
    sessions_changed: int
    discount_before: Decimal
    discount_after: Decimal
    discount_difference: Decimal
    oldest: str | None
    newest: str | None
    campaigns: list[CampaignSimulationView]


def parse_version(text: str) -> int:
    """A path's version number; anything that is not one names no version (404)."""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise VersionNotFoundError()
    return int(text)


def version_summary(info: VersionInfo) -> RulesetVersionSummary:
    return RulesetVersionSummary(
        version=info.version,
        created=info.created,
        note=info.note,
        source=info.source,
        rolled_back_from=info.rolled_back_from,
        campaigns=info.campaigns,
        published_by=info.published_by,
        body_bytes=info.body_bytes,
    )


def version_response(stored: StoredVersion, live: int | None) -> RulesetVersionResponse:
    info = stored.info
    return RulesetVersionResponse(
        **msgspec.structs.asdict(version_summary(info)), live=info.version == live, definitions=stored.ruleset
    )


def plan_response(plan: Plan) -> RulesetPlanResponse:
    groups = plan.groups
    return RulesetPlanResponse(
        based_on=plan.based_on,
        changed=plan.changed,
        settings=list(plan.settings),
        evaluation_groups=GroupChangesView(
            added=list(groups.added),
            removed=list(groups.removed),
            changed=list(groups.changed),
            reordered=groups.reordered,
        ),
        campaigns=[
            CampaignChangeView(id=c.id, name=c.name, change=c.change, fields=list(c.fields)) for c in plan.campaigns
        ],
        added=plan.count("added"),
        removed=plan.count("removed"),
        changed_campaigns=plan.count("changed"),
        unchanged=plan.count("unchanged"),
        loyalty_programs=[ProgramChangeView(id=id_, name=name, change=change) for id_, name, change in plan.programs],
        custom_events=[ProgramChangeView(id=id_, name=name, change=change) for id_, name, change in plan.custom_events],
    )


def published_response(published: Published) -> PublishedResponse:
    return PublishedResponse(version=version_summary(published.info), plan=plan_response(published.plan))


def simulation_response(simulation: Simulation) -> RulesetSimulationResponse:
    return RulesetSimulationResponse(
        based_on=simulation.based_on,
        sessions=simulation.sessions,
        evaluated=simulation.evaluated,
        skipped=simulation.skipped,
        sessions_changed=simulation.sessions_changed,
        discount_before=simulation.discount_before,
        discount_after=simulation.discount_after,
        discount_difference=simulation.discount_difference,
        oldest=simulation.oldest,
        newest=simulation.newest,
        campaigns=[
            CampaignSimulationView(
                id=c.id,
                name=c.name,
                change=c.change,
                triggered_before=c.triggered_before,
                triggered_after=c.triggered_after,
                sessions_changed=c.sessions_changed,
                discount_before=c.discount_before,
                discount_after=c.discount_after,
                discount_difference=c.discount_difference,
                changed_sessions=list(c.changed_sessions),
            )
            for c in simulation.campaigns
        ],
    )
