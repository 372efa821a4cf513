"""Simulation: what a candidate ruleset would have done to an application's recent sessions, against the live one
(`POST /v1/management/rulesets/simulate`, `patron campaigns simulate`; docs/campaigns.md, "Simulate").

Each session is decided twice, by the same pure `decide` the sessions function runs: once with the live ruleset,
once with the candidate, each at the session's own `updated` instant (its campaigns' schedules and time rules
read that moment), on the cart as stored (remaining quantities), with its profile as it is now. Budget counters
are not read: both rulesets see every budget untouched, so the comparison shows what the definitions change, not
how much budget real traffic happened to leave (today's counters say nothing about the day a session closed, and a
closed session's own consumption is in them). Cancelled sessions are not evaluated (nothing of theirs applies).

`simulate` is pure and deterministic (the same sessions and rulesets, the same report); `SimulationService` reads
(the live pointer and version, the sessions) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from patron.promotions.decide import decide
from patron.promotions.definitions import Ruleset
from patron.promotions.effects import Effect
from patron.promotions.evaluator import Evaluation
from patron.promotions.loading import DefinitionError
from patron.promotions.management import RulesetInvalidError, RulesetService, plan
from patron.promotions.ruleset import CompiledRuleset
from patron.promotions.store import compile_version
from patron.sessions.cycle import Rulesets
from patron.sessions.model import SessionState
from patron.sessions.recent import RecentSessionRepository, RecordedSession
from patron.sessions.service import snapshot_of

DEFAULT_SESSIONS = 100
MAX_SESSIONS = 1000
MAX_EXAMPLES = 10  # session ids named per campaign
CANDIDATE_VERSION = 0  # the candidate's ruleset id in its effects (it has no version yet)
_ZERO = Decimal(0)


class CampaignImpact(msgspec.Struct, frozen=True):
    id: int
    name: str
    change: str  # the plan's: added | removed | changed | unchanged
    triggered_before: int  # sessions where it triggers under the live ruleset
    triggered_after: int  # ... under the candidate
    sessions_changed: int  # sessions where it triggers in one and not the other, or its effects differ
    discount_before: Decimal
    discount_after: Decimal
    changed_sessions: tuple[str, ...] = ()  # the first MAX_EXAMPLES of them (integration ids), newest first

    @property
    def discount_difference(self) -> Decimal:
        return self.discount_after - self.discount_before


class Simulation(msgspec.Struct, frozen=True):
    based_on: int | None  # the live version compared against (None: nothing is live)
    sessions: int  # sessions read
    evaluated: int
    skipped: int  # cancelled
    sessions_changed: int
    discount_before: Decimal
    discount_after: Decimal
    oldest: str | None  # the `updated` instants the evaluated sessions span
    newest: str | None
    # Campaigns that trigger on a session under either ruleset, or whose definition changed; by id.
    campaigns: tuple[CampaignImpact, ...] = ()

    @property
    def discount_difference(self) -> Decimal:
        return self.discount_after - self.discount_before


class _Tally(msgspec.Struct):
    triggered_before: int = 0
    triggered_after: int = 0
    changed: int = 0
    discount_before: Decimal = _ZERO
    discount_after: Decimal = _ZERO
    examples: list[str] = msgspec.field(default_factory=list)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _evaluate(ruleset: CompiledRuleset | None, recorded: RecordedSession, now: datetime) -> Evaluation | None:
    if ruleset is None:
        return None
    return decide(ruleset, snapshot_of(recorded.stored.session, recorded.profile, {}), now)


def _comparable(effect: Effect) -> tuple[str, Any]:
    """What a customer sees of an effect: its type and props (not the ruleset id, rule index or group id, which a
    republish renumbers). Decimals compare by value: 10 and 10.00 are the same discount."""
    return effect.effect_type, msgspec.to_builtins(effect.props, builtin_types=(Decimal,))


class _Outcome(msgspec.Struct, frozen=True):
    triggered: frozenset[int]
    effects: dict[int, list[tuple[str, Any]]]
    discounts: dict[int, Decimal]

    @classmethod
    def of(cls, evaluation: Evaluation | None) -> _Outcome:
        if evaluation is None:
            return cls(frozenset(), {}, {})
        effects: dict[int, list[tuple[str, Any]]] = {}
        discounts: dict[int, Decimal] = {}
        for effect in evaluation.effects:
            effects.setdefault(effect.campaign_id, []).append(_comparable(effect))
            discounts[effect.campaign_id] = discounts.get(effect.campaign_id, _ZERO) + effect.discount
        return cls(frozenset(campaign.id for campaign in evaluation.triggered), effects, discounts)


def simulate(
    live: CompiledRuleset | None, candidate: CompiledRuleset, sessions: Sequence[RecordedSession]
) -> Simulation:
    """Every session decided under both rulesets at its `updated` instant, compared per campaign. Pure."""
    changes = {
        c.id: c
        for c in plan(live.ruleset if live else None, live.version if live else None, candidate.ruleset).campaigns
    }
    tallies: dict[int, _Tally] = {}
    evaluated = changed_sessions = 0
    total_before = total_after = _ZERO
    instants: list[str] = []
    for recorded in sessions:
        session = recorded.stored.session
        if session.state is SessionState.CANCELLED:
            continue
        now = instant(session.updated)
        before = _Outcome.of(_evaluate(live, recorded, now))
        after = _Outcome.of(_evaluate(candidate, recorded, now))
        evaluated += 1
        instants.append(session.updated)
        session_changed = False
        touched = before.triggered | after.triggered | before.effects.keys() | after.effects.keys()
        for campaign_id in touched:
            tally = tallies.setdefault(campaign_id, _Tally())
            tally.triggered_before += campaign_id in before.triggered
            tally.triggered_after += campaign_id in after.triggered
            discount_before = before.discounts.get(campaign_id, _ZERO)
            discount_after = after.discounts.get(campaign_id, _ZERO)
            tally.discount_before += discount_before
            tally.discount_after += discount_after
            differs = (campaign_id in before.triggered) != (campaign_id in after.triggered) or before.effects.get(
                campaign_id, []
            ) != after.effects.get(campaign_id, [])
            if differs:
                session_changed = True
                tally.changed += 1
                if len(tally.examples) < MAX_EXAMPLES:
                    tally.examples.append(session.integration_id)
            total_before += discount_before
            total_after += discount_after
        changed_sessions += session_changed
    impacts = []
    for campaign_id in sorted(tallies.keys() | {i for i, c in changes.items() if c.change != "unchanged"}):
        tally = tallies.get(campaign_id, _Tally())
        change = changes.get(campaign_id)
        impacts.append(
            CampaignImpact(
                id=campaign_id,
                name=change.name if change else "",
                change=change.change if change else "unchanged",
                triggered_before=tally.triggered_before,
                triggered_after=tally.triggered_after,
                sessions_changed=tally.changed,
                discount_before=tally.discount_before,
                discount_after=tally.discount_after,
                changed_sessions=tuple(tally.examples),
            )
        )
    return Simulation(
        based_on=live.version if live else None,
        sessions=len(sessions),
        evaluated=evaluated,
        skipped=len(sessions) - evaluated,
        sessions_changed=changed_sessions,
        discount_before=total_before,
        discount_after=total_after,
        oldest=min(instants) if instants else None,
        newest=max(instants) if instants else None,
        campaigns=tuple(impacts),
    )


def compile_candidate(ruleset: Ruleset) -> CompiledRuleset:
    """The candidate compiled as a publish would (RulesetInvalidError with every fault otherwise)."""
    try:
        return compile_version(ruleset, CANDIDATE_VERSION)
    except DefinitionError as error:
        raise RulesetInvalidError(error.issues) from None


class SimulationService(msgspec.Struct):
    """Reads the live version and the application's newest sessions, then `simulate`; writes nothing."""

    rulesets: RulesetService
    compiled: Rulesets  # the live version compiled (and kept, per instance)
    sessions: RecentSessionRepository
    compile: Callable[[Ruleset], CompiledRuleset] = msgspec.field(default=compile_candidate)

    def simulate(self, application_id: int, ruleset: Ruleset, sessions: int = DEFAULT_SESSIONS) -> Simulation:
        candidate = self.compile(ruleset)
        pointer = self.rulesets.live(application_id)
        live = self.compiled.compiled(application_id, pointer.version) if pointer else None
        recorded = self.sessions.recent(application_id, max(1, min(sessions, MAX_SESSIONS)))
        return simulate(live, candidate, recorded)
