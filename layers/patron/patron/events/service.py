"""Campaigns on events: Talon.One's `POST /v2/events` (a custom event) and `PUT /v2/customer_profiles/{id}` with
`runRuleEngine=true` (the built-in `talon_profile_created` / `talon_profile_updated`). Read once, decide, write
once, as sessions do (patron.sessions.service):

  1. read    one BatchGetItem: the profile, the live-ruleset pointer, the budget counters the candidate campaigns
             bind (predicted from the ruleset this instance last saw; read again only when the prediction missed)
  2. decide  the engine's evaluation (pure) of the event with the profile; the event has no cart
  3. commit  one TransactWriteItems: the budget counters (conditional on their limits), the profile (created when
             unknown, with what `updateAttribute` effects set), the webhooks the campaigns triggered (outbox), and
             a customer's custom event itself: its record (kept for the retention period) and one more in its
             type's day count (patron.events.counts, read in step 1 with the counts `eventCount` rules read)

An event is final at once: what it consumes is not given back (no state to cancel). Each event is its own
"session" for budgets per session. A counter or the profile moved meanwhile is read and decided again, a few
times; `dry` stops after step 2. A retried event without an Idempotency-Key counts again, as Talon.One's does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from patron.clock import Clock, iso
from patron.dynamo import committer
from patron.errors import ConflictError
from patron.events import counts, definitions, records
from patron.events.model import EventOutcome, TrackedEvent
from patron.events.records import StoredEvent
from patron.loyalty.ledger import Ledger
from patron.profiles import items as profile_items
from patron.profiles.model import CustomerProfile, new_profile_id
from patron.promotions import counters
from patron.promotions.budgets import CounterKey
from patron.promotions.decide import Snapshot, counters_to_read, decide_on_read
from patron.promotions.definitions import CustomEventDefinition
from patron.promotions.evaluator import Evaluation
from patron.promotions.rules import EventFacts, LoyaltyFacts
from patron.promotions.ruleset import CompiledRuleset
from patron.promotions.stored import storable_attributes
from patron.promotions.webhooks import webhook_records
from patron.sessions import cycle, loyalty, memberships, past_events
from patron.sessions.service import profile_facts
from patron.sessions.store import LedgerRef, Read, SessionStore

_REMEMBERED_VERSIONS = 64  # per instance: which campaigns of a ruleset version run on events


class _Decision(msgspec.Struct):
    outcome: EventOutcome
    plan: list[committer.Write] = msgspec.field(default_factory=list)
    missing_event_counts: frozenset[str] = frozenset()  # the customer's event count items to read
    missing_counters: frozenset[CounterKey] = frozenset()  # read these and decide again
    missing_profile: str | None = None  # (the event names its profile: always read at once)
    missing_coupons: frozenset[str] = frozenset()  # (an event presents no coupon)
    missing_referral: frozenset[str] = frozenset()  # (nor a referral code)
    missing_ledgers: frozenset[LedgerRef] = frozenset()  # loyalty ledgers (program, holder) to read
    missing_audiences: frozenset[int] = frozenset()  # audiences the ruleset's membership effects name
    missing_skus: frozenset[str] = frozenset()  # (an event has no cart)


def event_conflict() -> ConflictError:
    return ConflictError("The customer profile was updated by other requests meanwhile.", code="event_conflict")


class EventService:
    def __init__(self, store: SessionStore, rulesets: cycle.Rulesets, clock: Clock, retention_days: int):
        """`retention_days`: how long a stored event is kept (EVENT_RETENTION_DAYS)."""
        self._store = store
        self._retention_days = retention_days
        self._rulesets = cycle.SeenRulesets(rulesets)
        self._clock = clock
        self._for_events: dict[tuple[int, int], frozenset[int]] = {}

    def track(
        self,
        application_id: int,
        event: TrackedEvent,
        *,
        dry: bool = False,
        at: datetime | None = None,
        only: frozenset[int] | None = None,
        seen_as: CustomerProfile | None = None,
    ) -> EventOutcome:
        """`seen_as`: the profile the rules see instead of the stored one (a dry profile update's, never written)."""
        now = at or self._clock.now()
        event_id = new_profile_id()  # the same time-ordered numeric ids, as Talon.One's Event.id is an integer
        profile_id = event.profile_id
        keys = self._predicted_counters(application_id, event_id, event, now, only)

        def decide_on(read: Read) -> _Decision:
            if seen_as is not None and dry:
                read = msgspec.structs.replace(read, profile=seen_as)
            return self._decide(application_id, event_id, event, read, now, only)

        last = self._rulesets.last_seen(application_id) if profile_id or event.loyalty_card else None
        decision, _ = cycle.run(
            self._store,
            application_id,
            None,
            profile_id,
            keys,
            decide_on,
            dry=dry,
            conflict=event_conflict,
            ledgers=loyalty.refs(last, profile_id, event.loyalty_card),
            event_types=past_events.predicted(last, profile_id, event.type if event.stored else None),
            audiences=memberships.refs(last, profile_id),
        )
        return decision.outcome

    def _event_campaigns(
        self, application_id: int, ruleset: CompiledRuleset, only: frozenset[int] | None
    ) -> frozenset[int]:
        """The campaigns an event evaluates: those whose every rule requires an event type (`event.type == "…"`).
        The others are written for carts and run on sessions only, so a cart campaign on a profile attribute
        does not fire when the profile is updated. `only` (a dry request's): of those, the ones it names,
        disabled ones included."""
        key = (application_id, ruleset.version)
        found = self._for_events.get(key)
        if found is None:
            found = frozenset(
                campaign_id
                for campaign_id, indexed in ruleset.campaigns.items()
                if indexed.requires is not None and indexed.requires.event_types is not None
            )
            if len(self._for_events) >= _REMEMBERED_VERSIONS:
                self._for_events.clear()
            self._for_events[key] = found
        if only is not None:
            return found & only
        return frozenset(campaign_id for campaign_id in found if ruleset.campaigns[campaign_id].enabled)

    def _snapshot(
        self,
        event_id: int,
        event: TrackedEvent,
        profile: CustomerProfile | None,
        used: Mapping[CounterKey, Decimal],
        standing: Mapping[int, LoyaltyFacts] | None = None,
        event_counts: Mapping[str, Mapping[date, int]] | None = None,
    ) -> Snapshot:
        # An event has no session: an empty one, in no state and never a first session, so campaigns written for
        # carts (`session.firstSession`, `session.state == "open"`) do not trigger on events.
        return Snapshot(
            session_id=f"event:{event_id}",
            state="",
            first_session=False,
            store_integration_id=event.store_integration_id,
            profile=profile_facts(profile, event.profile_id),
            event=EventFacts(type=event.type, attributes=event.attributes),
            counters=used,
            loyalty=standing,
            event_counts=event_counts,
        )

    def _predicted_counters(
        self, application_id: int, event_id: int, event: TrackedEvent, now: datetime, only: frozenset[int] | None
    ) -> set[CounterKey]:
        """The counters of the event campaigns the event's facts make candidates, as far as known before the read
        (the profile is not)."""
        ruleset = self._rulesets.last_seen(application_id)
        if ruleset is None:
            return set()
        campaigns = self._event_campaigns(application_id, ruleset, only)
        return counters_to_read(ruleset, self._snapshot(event_id, event, None, {}), now, campaigns)

    def _decide(
        self,
        application_id: int,
        event_id: int,
        event: TrackedEvent,
        read: Read,
        now: datetime,
        only: frozenset[int] | None,
    ) -> _Decision:
        stamp = iso(now)
        ruleset = self._rulesets.live(application_id, read.live_version)
        profile = read.profile
        evaluation: Evaluation | None = None
        occurred = event.occurred_at or now
        counted = event.stored and counts.countable(occurred.astimezone(UTC).date(), now.astimezone(UTC).date())
        lacking_counts = past_events.missing(ruleset, read, event.profile_id, event.type if counted else None)
        if lacking_counts:
            outcome = self._outcome(event_id, stamp, event, None, profile, ruleset)
            return _Decision(outcome, missing_event_counts=lacking_counts)
        definition = definitions.by_type(ruleset.ruleset, event.type) if ruleset is not None else None
        if ruleset is not None:
            self._check_definition(event, definition, ruleset)
            lacking_ledgers = loyalty.missing(ruleset, read, event.profile_id, event.loyalty_card)
            lacking_audiences = memberships.missing(ruleset, read, event.profile_id)
            if lacking_ledgers or lacking_audiences:
                outcome = self._outcome(event_id, stamp, event, None, profile, ruleset)
                return _Decision(outcome, missing_ledgers=lacking_ledgers, missing_audiences=lacking_audiences)
            standing = loyalty.standing(ruleset, read, event.profile_id, event.loyalty_card, now)
            # The event is stored by this call's transaction: its own count includes it.
            plus = (event.type, occurred.astimezone(UTC).date()) if counted else None
            past = past_events.counted(ruleset, read, event.profile_id, plus)
            snapshot = self._snapshot(event_id, event, profile, read.used, standing, past)
            campaigns = self._event_campaigns(application_id, ruleset, only)
            decided = decide_on_read(ruleset, snapshot, now, read.counters_read, campaigns)
            if decided.evaluation is None:
                outcome = self._outcome(event_id, stamp, event, None, profile, ruleset)
                return _Decision(outcome, missing_counters=decided.missing)
            evaluation = decided.evaluation
            lacking_recipients = loyalty.recipients_lacking(evaluation, read)
            if lacking_recipients:  # points for another profile: their ledger (and profile) read, decided again
                outcome = self._outcome(event_id, stamp, event, None, profile, ruleset)
                return _Decision(outcome, missing_ledgers=lacking_recipients)
        plan: list[committer.Write] = []
        ledgers_after: Mapping[LedgerRef, Ledger] = {}
        joined: dict[int, int | None] = {}
        # The internal id of the profile this event creates: drawn now, so that effects can name it.
        created_id = new_profile_id() if profile is None and event.profile_id is not None else None
        if evaluation is not None and ruleset is not None:
            # An event's points are written at once, as its other effects are.
            points = loyalty.settled(
                self._store.ledgers,
                application_id,
                f"event:{event_id}",
                None,
                event.profile_id,
                event.loyalty_card,
                ruleset,
                evaluation,
                evaluation.effects,
                read,
                now,
                closing=True,
                outbox=self._store.loyalty_outbox,
                recipient_check=self._store.recipient_check,
            )
            # Memberships rules change are written at once too (patron.sessions.memberships).
            members = memberships.settled(
                self._store.profiles,
                application_id,
                ruleset,
                points.effects,
                read,
                event.profile_id,
                profile,
                True,
                internal_id=created_id,
            )
            failures = [*evaluation.failures, *points.failures, *members.failures]
            evaluation = msgspec.structs.replace(evaluation, effects=members.effects, failures=failures)
            plan += points.writes
            plan += members.writes
            joined = members.changes
            ledgers_after = points.after
            snapshot_subjects = self._snapshot(event_id, event, profile, {}).subjects
            plan += counters.consumption_writes(
                self._store.ledgers, application_id, ruleset, evaluation.consumption, snapshot_subjects, now
            )
            source = f"event:{event_id}"
            webhooks = webhook_records(application_id, evaluation.webhooks, event.profile_id, source, stamp)
            plan += self._store.outbox_writes(webhooks)
        if event.stored and event.profile_id is not None:
            defined = definition.id if definition is not None else None
            plan += self._record(
                application_id, event_id, event.profile_id, event, defined, occurred, now, read, counted
            )
        attributes = storable_attributes(evaluation.profile_attributes) if evaluation else {}
        if event.profile_id is not None and (profile is None or attributes or joined):
            # Talon.One creates the profile an event names; rules' attribute and membership updates land on it.
            after = _profile_after(application_id, event.profile_id, profile, attributes, stamp, joined, created_id)
            plan.append(
                profile_items.session_totals_write(
                    self._store.profiles,
                    application_id,
                    event.profile_id,
                    profile.version if profile is not None else 0,
                    0,
                    Decimal(0),
                    stamp,
                    new_id=after.profile_id,
                    attributes=attributes,
                    memberships=joined,
                )
            )
            profile = after
        outcome = self._outcome(event_id, stamp, event, evaluation, profile, ruleset)
        if ruleset is not None:
            card = event.loyalty_card
            outcome.loyalty = functools.partial(
                loyalty.ledgers, ruleset, read, event.profile_id, card, ledgers_after, now
            )
        return _Decision(outcome, plan)

    @staticmethod
    def _check_definition(
        event: TrackedEvent, definition: CustomEventDefinition | None, ruleset: CompiledRuleset
    ) -> None:
        """An event of a defined type carries the attributes its definition types; one tracked by a definition's id
        (a dialect that names events by id) still names that definition in the ruleset read."""
        if event.definition_id is not None and (definition is None or definition.id != event.definition_id):
            raise ConflictError(
                "The custom event's definition changed meanwhile; send the event again.", code="definition_changed"
            )
        if definition is not None:
            definitions.check_attributes(definition, event.attributes, ruleset.ruleset.settings.currency)

    def last_seen(self, application_id: int) -> CompiledRuleset | None:
        """The live ruleset this instance last read for the application (None: none yet)."""
        return self._rulesets.last_seen(application_id)

    def _record(
        self,
        application_id: int,
        event_id: int,
        profile_id: str,
        event: TrackedEvent,
        definition_id: int | None,
        occurred: datetime,
        now: datetime,
        read: Read,
        counted: bool,
    ) -> list[committer.Write]:
        """The event's record and, if a window can still reach its day, one more in its type's day count."""
        table = self._store.events_table
        stored = StoredEvent(
            id=event_id,
            type=event.type,
            profile_id=profile_id,
            created=iso(occurred),
            attributes=event.attributes,
            expires_at=records.expiry(occurred, self._retention_days),
            source=event.source,
            definition_id=definition_id,
            store_integration_id=event.store_integration_id,
        )
        writes = [records.record_write(table, application_id, stored)]
        if counted:
            day, today = occurred.astimezone(UTC).date(), now.astimezone(UTC).date()
            by_day = counts.days_of(read.event_counts.get(event.type))
            writes.append(counts.bump(table, application_id, profile_id, event.type, day, by_day, today))
        return writes

    @staticmethod
    def _outcome(
        event_id: int,
        stamp: str,
        event: TrackedEvent,
        evaluation: Evaluation | None,
        profile: CustomerProfile | None,
        ruleset: CompiledRuleset | None,
    ) -> EventOutcome:
        return EventOutcome(
            id=event_id,
            created=stamp,
            event=event,
            effects=evaluation.effects if evaluation else [],
            failures=evaluation.failures if evaluation else [],
            triggered=[campaign.id for campaign in evaluation.triggered] if evaluation else [],
            profile=profile,
            ruleset=ruleset,
        )


def _profile_after(
    application_id: int,
    profile_id: str,
    profile: CustomerProfile | None,
    attributes: Mapping[str, Any],
    stamp: str,
    joined: Mapping[int, int | None],
    new_id: int | None,
) -> CustomerProfile:
    if profile is None:
        return CustomerProfile(
            application_id=application_id,
            integration_id=profile_id,
            profile_id=new_id if new_id is not None else new_profile_id(),
            created=stamp,
            updated=stamp,
            last_activity=stamp,
            version=1,
            attributes=dict(attributes),
            audiences=memberships.audiences_after({}, joined),
        )
    return msgspec.structs.replace(
        profile,
        updated=stamp,
        last_activity=stamp,
        version=profile.version + 1,
        attributes={**profile.attributes, **attributes},
        audiences=memberships.audiences_after(profile.audiences, joined),
    )
