"""Customer sessions: read once, decide, write once (ARCHITECTURE, "The promotions engine").

  1. read    one BatchGetItem: the session, its profile, the live-ruleset pointer, the budget counters the
             candidate campaigns bind (predicted from the request and the ruleset this instance last saw; a
             second read only when the prediction missed: a profile named only by the stored session, a new
             ruleset version, counters of campaigns the stored cart makes candidates)
  2. decide  the documented transition, the session as changed, the engine's evaluation (pure), a plan of writes
  3. commit  one TransactWriteItems: the session (its version), the profile (created when unknown; closedSessions
             and totalSales on close and their give-back), the budget counters (conditional on their limits)

`dry` stops after step 2. The session's version lost to another writer answers 409 (as Talon.One does); a counter
or the profile moved meanwhile is read and decided again, a few times.

Close consumes what the evaluation took of each budget counter and records it on the session; cancel (of a closed
or partially returned session) and reopen give exactly that back, answer `rollbackDiscount` for each discount, and
keep the effects Talon.One does not roll back (attribute updates, free items, notifications...).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from patron.clock import Clock, iso
from patron.coupons.model import Coupon
from patron.dynamo import committer
from patron.errors import ConflictError, FieldIssue, NotFoundError, ValidationError
from patron.orders.model import Order, OrderState
from patron.orders.service import recompute
from patron.profiles import items as profile_items
from patron.profiles.model import CustomerProfile, new_profile_id
from patron.profiles.stats import CustomerStats
from patron.promotions import counters
from patron.promotions.budgets import CounterKey, Subjects
from patron.promotions.decide import Snapshot, counters_to_read, decide_on_read
from patron.promotions.effects import Effect, RuleFailureReason, SetDiscountPerItemProps
from patron.promotions.eligibility import Eligibility, eligibility
from patron.promotions.evaluator import Evaluation
from patron.promotions.money import Money
from patron.promotions.presented import PresentedCoupon, PresentedReferral
from patron.promotions.pricing import Line
from patron.promotions.rules import LoyaltyFacts, ProfileFacts
from patron.promotions.ruleset import CompiledRuleset
from patron.promotions.stored import storable_attributes
from patron.promotions.webhooks import webhook_records
from patron.referrals.model import Referral
from patron.sessions import coupons, cycle, loyalty, memberships, orders, past_events, referrals
from patron.sessions.catalog import from_catalog
from patron.sessions.loyalty import ProgramLedgers
from patron.sessions.model import (
    UNSET,
    Session,
    SessionChange,
    SessionState,
    Via,
    apply_change,
    check_cart,
    check_totals,
    check_transition,
    new_session,
)
from patron.sessions.store import LedgerRef, Read, SessionConflictError, SessionStore, StoredSession

_REMEMBERED_SESSIONS = 10_000  # per instance: a session's profile and the counters its last decision needed
_REMEMBERED_APPLICATIONS = 4_096  # per instance: whether an application has a live cart item catalog


class _Remembered(msgspec.Struct, frozen=True):
    profile_id: str | None
    counters: frozenset[CounterKey]
    identifiers: tuple[str, ...] = ()  # with the profile, the subjects of per-entity counters
    coupon_codes: tuple[str, ...] = ()  # the session's codes: read with it even when a call omits them
    referral_code: str | None = None
    loyalty_card: str | None = None  # the session's card: its ledgers read with it
    recipients: frozenset[LedgerRef] = frozenset()  # recipients' ledgers its last decision read: read at once


_CLOSED_STATES = (SessionState.CLOSED, SessionState.PARTIALLY_RETURNED)


class OrderExtremes(Protocol):
    """First and last counted order dates of a customer without one order (OrderRepository.counted_extremes): read
    only when the order that held one of them stops counting."""

    def __call__(
        self, application_id: int, customer_id: str, excluding_order_id: str, first: bool, last: bool
    ) -> tuple[str | None, str | None]: ...


class _OrderChange(msgspec.Struct, frozen=True):
    """What the session's order becomes: None, the session is not (or no longer) the order's to write."""

    state: OrderState
    amount: Decimal


# The session, its order as read, what the order becomes, the currency (None: the order's own).
_OrderPart = tuple[Session, Order | None, _OrderChange, str | None]


def session_conflict() -> ConflictError:
    return ConflictError("The customer session was updated by another request meanwhile.", code="session_conflict")


class Outcome(msgspec.Struct):
    """What a session call answers."""

    stored: StoredSession
    effects: list[Effect]
    failures: list[RuleFailureReason] = msgspec.field(default_factory=list)
    profile: CustomerProfile | None = None
    triggered: list[int] = msgspec.field(default_factory=list)
    eligibility: list[Eligibility] | None = None  # asked of dry updates only
    # Talon.One's built-in event of the call (its `event` response content).
    event_type: str = "talon_session_updated"
    returned: dict[str, Any] | None = None  # the return a returns call recorded
    coupons: list[Coupon] = msgspec.field(default_factory=list)  # the coupons the session's codes name (`coupons`)
    created_coupons: list[Coupon] = msgspec.field(default_factory=list)  # what the close's `createCoupon` effects made
    created_referrals: list[Referral] = msgspec.field(default_factory=list)  # what its `createReferral` effects made
    referral: Referral | None = None  # the referral the session's code names (`referral`)
    # The customer's ledgers (`loyalty`): built only when the answer asks for them (each is a JSON decode).
    loyalty: Callable[[], list[ProgramLedgers]] = list


class _Decision(msgspec.Struct):
    outcome: Outcome
    plan: list[committer.Write]
    # Keys the decision needed but the read did not hold: read them and decide again.
    missing_counters: frozenset[CounterKey] = frozenset()
    missing_profile: str | None = None
    missing_coupons: frozenset[str] = frozenset()  # coupon codes (every stored form) to read, with their holdings
    missing_referral: frozenset[str] = frozenset()  # the referral code's stored forms, with the friend's record
    missing_ledgers: frozenset[LedgerRef] = frozenset()  # loyalty ledgers (program, holder) to read
    missing_event_counts: frozenset[str] = frozenset()  # the customer's event count items (`eventCount`) to read
    missing_audiences: frozenset[int] = frozenset()  # audiences the ruleset's membership effects name
    missing_skus: frozenset[str] = frozenset()  # the cart's SKUs, now that a live catalog was found
    # The counters this decision read: the next call on the session (on this instance) reads them at once.
    needed: frozenset[CounterKey] = frozenset()


def profile_facts(profile: CustomerProfile | None, integration_id: str | None) -> ProfileFacts | None:
    if integration_id is None:
        return None
    if profile is None:
        return ProfileFacts(integration_id=integration_id)
    stats = profile.stats
    return ProfileFacts(
        integration_id=integration_id,
        attributes=profile.attributes,
        closed_sessions=profile.closed_sessions,
        total_sales=profile.total_sales,
        orders_count=stats.orders_count,
        first_order_at=_instant(stats.first_order_at),
        last_order_at=_instant(stats.last_order_at),
        audiences=profile.audiences,
    )


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def snapshot_of(
    session: Session,
    profile: CustomerProfile | None,
    counters_used: Mapping[CounterKey, Decimal],
    presented: Sequence[PresentedCoupon] = (),
    referral: PresentedReferral | None = None,
    standing: Mapping[int, LoyaltyFacts] | None = None,
    event_counts: Mapping[str, Mapping[date, int]] | None = None,
) -> Snapshot:
    """What the engine sees of a session: remaining quantities (returned units are no longer in the cart)."""
    lines = [
        Line(
            position=position,
            sku=item.sku,
            quantity=item.remaining_quantity,
            price=item.price,
            name=item.name,
            category=item.category,
            attributes={**item.catalog_attributes, **item.attributes} if item.catalog_attributes else item.attributes,
        )
        for position, item in enumerate(session.cart_items)
    ]
    return Snapshot(
        session_id=session.integration_id,
        lines=lines,
        additional_costs=session.additional_costs,
        state=session.state.value,
        attributes=session.attributes,
        store_integration_id=session.store_integration_id,
        coupon_codes=session.coupon_codes,
        referral_code=session.referral_code,
        identifiers=session.identifiers,
        first_session=session.first_session,
        profile=profile_facts(profile, session.profile_id),
        counters=counters_used,
        coupons=presented,
        referral=referral,
        loyalty=standing,
        event_counts=event_counts,
    )


def card_of(session: Session) -> str | None:
    """The session's loyalty card (Talon.One takes one): it holds the points of card-based programs."""
    return session.loyalty_cards[0] if session.loyalty_cards else None


def _survivors(effects: Sequence[Effect]) -> list[Effect]:
    """The effects a rollback leaves in place (Talon.One rolls back discounts only)."""
    return [effect for effect in effects if effect.rollback() is None]


def _rollbacks(effects: Sequence[Effect]) -> list[Effect]:
    return [rolled for effect in effects if (rolled := effect.rollback()) is not None]


class SessionService:
    def __init__(self, store: SessionStore, rulesets: cycle.Rulesets, clock: Clock, extremes: OrderExtremes):
        self._store = store
        self._rulesets = cycle.SeenRulesets(rulesets)
        self._clock = clock
        self._extremes = extremes
        # Each session's profile and the counters its last decision consulted: the first read fetches them even
        # when a call omits the cart or the profileId.
        self._needed: OrderedDict[tuple[int, str], _Remembered] = OrderedDict()
        self._has_catalog: dict[int, bool] = {}  # as the last read on this instance found it

    # -- reads ------------------------------------------------------------------------------------------------

    def get(self, application_id: int, session_id: str) -> StoredSession:
        read = self._store.read(application_id, session_id, None, (), pointer=False)
        if read.session is None:
            raise NotFoundError("No customer session with this id.", code="session_not_found")
        return read.session

    # -- update -----------------------------------------------------------------------------------------------

    def update(
        self,
        application_id: int,
        session_id: str,
        change: SessionChange,
        *,
        dry: bool = False,
        at: datetime | None = None,
        only: frozenset[int] | None = None,
        explain: bool = False,
    ) -> Outcome:
        """Talon.One's PUT /v2/customer_sessions/{id}: `at` is the request's `now` (dry only), `only` its
        evaluableCampaignIds (dry only: evaluated even when disabled), `explain` its campaignEligibility (each
        campaign's status)."""
        now = at or self._clock.now()
        remembered = self._needed.get((application_id, session_id))
        if change.profile_id is not UNSET:
            profile_id = change.profile_id
        else:
            profile_id = remembered.profile_id if remembered is not None else None
        predicted = self._predicted_counters(application_id, session_id, change, now)
        kept_codes = remembered.coupon_codes if remembered is not None else ()
        codes = change.coupon_codes if change.coupon_codes is not UNSET else kept_codes
        kept_referral = remembered.referral_code if remembered is not None else None
        referral = change.referral_code if change.referral_code is not UNSET else kept_referral
        kept_card = remembered.loyalty_card if remembered is not None else None
        card = next(iter(change.loyalty_cards), None) if change.loyalty_cards is not UNSET else kept_card

        def decide_on(read: Read) -> _Decision:
            return self._decide_update(application_id, session_id, change, read, now, only, explain)

        # A cart sent is priced and described from the catalog: its SKUs are read in the call's first read.
        skus = frozenset(item.sku for item in change.cart_items) if change.cart_items is not UNSET else frozenset()
        return self._run(application_id, session_id, profile_id, predicted, decide_on, dry, codes, referral, card, skus)

    def _catalog_reads(self, application_id: int, skus: frozenset[str]) -> tuple[frozenset[str], bool]:
        """What the first read asks of the cart item catalog: the cart's SKUs with the catalog item, unless this
        instance's last read found the application without a live catalog. Then only the catalog item (1 RCU
        instead of one per SKU: a read of a missing item costs as much as a found one), and a decision that finds
        a catalog created meanwhile reads the SKUs (`missing_skus`)."""
        if not skus or self._has_catalog.get(application_id, True):
            return skus, False
        return frozenset(), True

    def _saw_catalog(self, application_id: int, read: Read) -> None:
        if read.catalog_live is None:
            return
        if len(self._has_catalog) >= _REMEMBERED_APPLICATIONS and application_id not in self._has_catalog:
            self._has_catalog.clear()
        self._has_catalog[application_id] = read.catalog_live

    def _predicted_counters(
        self, application_id: int, session_id: str, change: SessionChange, now: datetime
    ) -> set[CounterKey]:
        known = self._needed.get((application_id, session_id))
        remembered = set(known.counters if known is not None else ())
        ruleset = self._rulesets.last_seen(application_id) if change.cart_items is not UNSET else None
        if ruleset is None:
            return remembered
        # The session as this call will make it, as far as known before the read: an omitted profileId or
        # identifiers keep what the session had, and per-profile and per-identifier counters are keyed by them.
        blank = Session(
            session_id,
            0,
            "",
            "",
            change.state,
            profile_id=known.profile_id if known is not None else None,
            identifiers=known.identifiers if known is not None else (),
        )
        guess = apply_change(blank, change, "")
        snapshot = snapshot_of(guess, None, {})
        return remembered | counters_to_read(ruleset, snapshot, now)

    def _predicted_ledgers(self, application_id: int, profile_id: str | None, card: str | None) -> frozenset[LedgerRef]:
        """The ledgers of the profile (and card) in the programs the last ruleset seen here changes: read at once."""
        if profile_id is None and card is None:
            return frozenset()
        return loyalty.refs(self._rulesets.last_seen(application_id), profile_id, card)

    def _remember(
        self,
        application_id: int,
        session_id: str,
        kept: Session,
        needed: frozenset[CounterKey],
        recipients: frozenset[LedgerRef] = frozenset(),
    ) -> None:
        key = (application_id, session_id)
        self._needed[key] = _Remembered(
            kept.profile_id, needed, kept.identifiers, kept.coupon_codes, kept.referral_code, card_of(kept), recipients
        )
        self._needed.move_to_end(key)
        while len(self._needed) > _REMEMBERED_SESSIONS:
            self._needed.popitem(last=False)

    def _run(
        self,
        application_id: int,
        session_id: str,
        profile_id: str | None,
        counter_keys: set[CounterKey],
        decide_on: Callable[[Read], _Decision],
        dry: bool,
        coupon_codes: Sequence[str] = (),
        referral_code: str | None = None,
        card: str | None = None,
        skus: frozenset[str] = frozenset(),
    ) -> Outcome:
        remembered = self._needed.get((application_id, session_id))
        recipients = remembered.recipients if remembered is not None else frozenset()
        predicted = self._predicted_ledgers(application_id, profile_id, card)
        skus, catalog_only = self._catalog_reads(application_id, skus)
        try:
            decision, read = cycle.run(
                self._store,
                application_id,
                session_id,
                profile_id,
                counter_keys,
                decide_on,
                dry=dry,
                conflict=session_conflict,
                coupons=coupons.codes_to_read(coupon_codes),
                referral=referrals.codes_to_read(referral_code),
                ledgers=predicted | recipients,
                event_types=past_events.predicted(self._rulesets.last_seen(application_id), profile_id),
                skus=skus,
                audiences=memberships.refs(self._rulesets.last_seen(application_id), profile_id),
                catalog=catalog_only,
            )
        except SessionConflictError:
            raise session_conflict() from None
        self._saw_catalog(application_id, read)
        kept = decision.outcome.stored.session
        # Recipients' ledgers are read with the next call's first read (a later update or the close names them too).
        read_recipients = frozenset((p, h) for p, h in read.ledgers_read if isinstance(h, str) and h in read.recipients)
        self._remember(application_id, session_id, kept, decision.needed, read_recipients)
        return decision.outcome

    def _decide_update(
        self,
        application_id: int,
        session_id: str,
        change: SessionChange,
        read: Read,
        now: datetime,
        only: frozenset[int] | None,
        explain: bool = False,
    ) -> _Decision:
        stored = read.session
        current = stored.session.state if stored else None
        check_transition(current, change.state, Via.UPDATE)
        stamp = iso(now)
        if stored is None:
            first = read.profile is None or read.profile.closed_sessions == 0
            session = new_session(session_id, new_profile_id(), change, stamp, first)
        else:
            session = apply_change(stored.session, change, stamp)
        if change.cart_items is not UNSET:
            unread = read.lacks_skus(item.sku for item in session.cart_items)
            if unread:  # a catalog this instance had not seen: its items for the cart, then decide
                return _Decision(Outcome(StoredSession(session), []), [], missing_skus=unread)
            session = msgspec.structs.replace(session, cart_items=from_catalog(session.cart_items, read, now))
        check_cart(session.cart_items)
        check_totals(session)
        profile_id = session.profile_id
        if profile_id is not None and profile_id != read.profile_read:
            return _Decision(Outcome(StoredSession(session), []), [], missing_profile=profile_id)
        profile = read.profile if profile_id is not None else None
        session = msgspec.structs.replace(session, version=(stored.session.version if stored else 0) + 1)
        read_version = stored.session.version if stored else 0

        if stored is not None and current in _CLOSED_STATES and change.state is SessionState.CANCELLED:
            return self._give_back(application_id, stored, session, read, read_version, stamp, OrderState.CANCELLED)
        if change.state is SessionState.CANCELLED:  # an open session cancelled: nothing was consumed
            lacking = coupons.missing(session.coupon_codes, read, None)  # its checkout holds end
            if lacking:
                return _Decision(Outcome(StoredSession(session), []), [], missing_coupons=lacking)
            kept = StoredSession(session, [], ruleset_version=stored.ruleset_version if stored else None)
            amount = read.order.amount if read.order is not None else Decimal(0)
            cancelled: _OrderPart = (session, read.order, _OrderChange(OrderState.CANCELLED, amount), None)
            writes, after = self._profile_writes(application_id, profile_id, profile, 0, Decimal(0), stamp, cancelled)
            released = coupons.release_writes(self._store.ledgers, application_id, read, session_id, now)
            return _Decision(
                Outcome(kept, [], profile=after, event_type="talon_session_cancelled"),
                [self._store.session_write(application_id, kept, read_version), *writes, *released],
            )

        ruleset = self._rulesets.live(application_id, read.live_version)
        evaluation: Evaluation | None = None
        explained: list[Eligibility] | None = [] if explain else None
        if ruleset is not None:
            lacking = coupons.missing(session.coupon_codes, read, profile_id)
            lacking_referral = referrals.missing(session.referral_code, read, profile_id)
            lacking_ledgers = loyalty.missing(ruleset, read, profile_id, card_of(session))
            lacking_counts = past_events.missing(ruleset, read, profile_id)
            lacking_audiences = memberships.missing(ruleset, read, profile_id)
            if lacking or lacking_referral or lacking_ledgers or lacking_counts or lacking_audiences:
                pending = Outcome(StoredSession(session), [])
                return _Decision(
                    pending,
                    [],
                    missing_coupons=lacking,
                    missing_referral=lacking_referral,
                    missing_ledgers=lacking_ledgers,
                    missing_event_counts=lacking_counts,
                    missing_audiences=lacking_audiences,
                )
            presented = coupons.presented(ruleset, session.coupon_codes, read, profile_id, now, only, session_id)
            referral = referrals.presented(ruleset, session.referral_code, read, profile_id, now, only)
            standing = loyalty.standing(ruleset, read, profile_id, card_of(session), now)
            past = past_events.counted(ruleset, read, profile_id)
            snapshot = snapshot_of(session, profile, read.used, presented, referral, standing, past)
            decided = decide_on_read(ruleset, snapshot, now, read.counters_read, only)
            evaluation = decided.evaluation
            if evaluation is None:
                return _Decision(Outcome(StoredSession(session), []), [], missing_counters=decided.missing)
            lacking_recipients = loyalty.recipients_lacking(evaluation, read)
            if lacking_recipients:  # points for another profile: their ledger (and profile) read, decided again
                return _Decision(Outcome(StoredSession(session), []), [], missing_ledgers=lacking_recipients)
            if explain:
                explained = eligibility(ruleset, snapshot, now, evaluation, only)
            needed_keys = evaluation.consulted
            if evaluation.session_attributes:
                merged = {**session.attributes, **storable_attributes(evaluation.session_attributes)}
                session = msgspec.structs.replace(session, attributes=merged)
        else:
            needed_keys = frozenset()
        effects = evaluation.effects if evaluation else []
        # The internal id of the profile this call creates: drawn now, so that effects can name it.
        created_id = new_profile_id() if profile is None and profile_id is not None else None
        points = loyalty.Points(effects)
        if evaluation is not None and ruleset is not None:
            closing = change.state is SessionState.CLOSED
            points = loyalty.settled(
                self._store.ledgers,
                application_id,
                f"{session_id}:{session.version}",
                session_id,
                profile_id,
                card_of(session),
                ruleset,
                evaluation,
                effects,
                read,
                now,
                closing,
                outbox=self._store.loyalty_outbox,
                recipient_check=self._store.recipient_check,
            )
            effects = points.effects
            # Memberships rules change: answered while open, written by the close (patron.sessions.memberships).
            members = memberships.settled(
                self._store.profiles,
                application_id,
                ruleset,
                effects,
                read,
                profile_id,
                profile,
                closing,
                internal_id=created_id,
            )
            effects = members.effects
        else:
            members = memberships.Memberships(effects, [], {}, [])
        failures = [*evaluation.failures, *points.failures, *members.failures] if evaluation else []
        triggered = [campaign.id for campaign in evaluation.triggered] if evaluation else []
        version = ruleset.version if ruleset else None
        plan: list[committer.Write] = []
        made: list[Coupon] = []
        referred: list[Referral] = []
        if change.state is SessionState.CLOSED:
            creating: list[committer.Write] = []
            reserving: frozenset[str] = frozenset()
            if evaluation is not None and ruleset is not None:
                # Coupons and referral codes rules create (with their codes), coupons they reserve. Reservations and
                # codes stay when the session is cancelled or reopened, as the coupons do (Talon.One's).
                ledgers, sensitive = self._store.ledgers, ruleset.ruleset.settings.case_sensitive_codes
                if evaluation.coupons_to_create:
                    made, creating, effects = coupons.created(
                        ledgers, application_id, evaluation, effects, now, sensitive
                    )
                if evaluation.referrals_to_create:
                    referred, more, effects = referrals.created(
                        ledgers, application_id, evaluation, effects, now, sensitive
                    )
                    creating += more
                reserving = coupons.reserved(evaluation, profile_id)
            consumed = dict(evaluation.consumption) if evaluation else {}
            paid = session.total - sum((effect.discount for effect in effects), Decimal(0))
            counted = paid if profile_id is not None else None
            kept = StoredSession(session, effects, consumed, counted, version, loyalty=points.written)
            plan.append(self._store.session_write(application_id, kept, read_version))
            plan += creating
            plan += points.writes
            plan += self._consume(application_id, ruleset, kept, now)
            holds_on = ruleset is not None and ruleset.ruleset.settings.coupon_hold_seconds > 0
            plan += coupons.redemption_writes(
                self._store.ledgers, application_id, consumed, read, profile_id, session_id, now, holds_on, reserving
            )
            plan += referrals.redemption_writes(self._store.ledgers, application_id, consumed, read, profile_id, now)
            currency = ruleset.money.currency if ruleset is not None else None
            sale: _OrderPart = (session, read.order, _OrderChange(OrderState.SALE, paid), currency)
            # What rules set on the profile and the webhooks they triggered become real with the close, as budgets do.
            attributes = storable_attributes(evaluation.profile_attributes) if evaluation else {}
            writes, after = self._profile_writes(
                application_id, profile_id, profile, 1, paid, stamp, sale, attributes, members.changes, created_id
            )
            plan += writes
            plan += members.writes
            if evaluation and evaluation.webhooks:
                source = f"session:{session.integration_id}:{session.version}"
                records = webhook_records(application_id, evaluation.webhooks, profile_id, source, stamp)
                plan += self._store.outbox_writes(records)
        else:
            kept = StoredSession(session, effects, ruleset_version=version)
            plan.append(self._store.session_write(application_id, kept, read_version))
            writes, after = self._profile_writes(
                application_id, profile_id, profile, 0, Decimal(0), stamp, new_id=created_id
            )
            plan += writes
            # Checkout holds: this session's uses of its accepted coupons held on, the others' released.
            ledgers = self._store.ledgers
            if ruleset is not None and evaluation is not None:
                accepted = coupons.redeemed(evaluation.consumption)
                plan += coupons.hold_writes(ledgers, application_id, ruleset, accepted, read, session_id, now)
            else:
                plan += coupons.release_writes(ledgers, application_id, read, session_id, now)
        if stored is None:
            event_type = "talon_session_created"
        elif change.state is SessionState.CLOSED and current is SessionState.OPEN:
            event_type = "talon_session_closed"
        else:
            event_type = "talon_session_updated"
        outcome = Outcome(kept, effects, failures, after, triggered, explained, event_type)
        outcome.coupons = coupons.named(session.coupon_codes, read, ruleset)
        outcome.created_coupons = made
        outcome.created_referrals = referred
        outcome.referral = referrals.named(session.referral_code, read, ruleset)
        card = card_of(session)
        outcome.loyalty = functools.partial(loyalty.ledgers, ruleset, read, profile_id, card, points.after, now)
        return _Decision(outcome, plan, needed=needed_keys)

    def _consume(
        self, application_id: int, ruleset: CompiledRuleset | None, kept: StoredSession, now: datetime
    ) -> list[committer.Write]:
        budgets = coupons.budget_part(kept.consumed)
        if ruleset is None or not budgets:
            return []
        session = kept.session
        subjects = Subjects(session.integration_id, session.profile_id, tuple(session.identifiers))
        return counters.consumption_writes(self._store.ledgers, application_id, ruleset, budgets, subjects, now)

    def _profile_writes(
        self,
        application_id: int,
        profile_id: str | None,
        profile: CustomerProfile | None,
        closed: int,
        sales: Decimal,
        stamp: str,
        order: _OrderPart | None = None,
        attributes: Mapping[str, Any] | None = None,
        audiences: Mapping[int, int | None] | None = None,
        new_id: int | None = None,
    ) -> tuple[list[committer.Write], CustomerProfile | None]:
        """The profile's part, and the profile as it will be: created when the session names an unknown one; its
        session totals moved on close and give-back; with `order` (the session, its order as read, what it becomes,
        the currency), the session's order and the customer's order statistics in the same plan. No write when the
        profile exists and nothing moves. `new_id`: the internal id a created profile gets (default: a new one)."""
        if profile_id is None:
            return [], None
        writes: list[committer.Write] = []
        stats: CustomerStats | None = None
        if order is not None:
            writes, stats = self._order_writes(application_id, profile_id, profile, *order, stamp)
        if profile is not None and not closed and not sales and stats is None and not attributes and not audiences:
            return writes, profile
        if profile is None:
            after = CustomerProfile(
                application_id=application_id,
                integration_id=profile_id,
                profile_id=new_id if new_id is not None else new_profile_id(),
                created=stamp,
                updated=stamp,
                last_activity=stamp,
                version=1,
                closed_sessions=closed,
                total_sales=sales,
                stats=stats or CustomerStats(),
                attributes=dict(attributes or {}),
                audiences=memberships.audiences_after({}, audiences or {}),
            )
        else:
            after = msgspec.structs.replace(
                profile,
                updated=stamp,
                last_activity=stamp,
                version=profile.version + 1,
                closed_sessions=profile.closed_sessions + closed,
                total_sales=profile.total_sales + sales,
                stats=stats or profile.stats,
                attributes={**profile.attributes, **(attributes or {})},
                audiences=memberships.audiences_after(profile.audiences, audiences or {}),
            )
        write = profile_items.session_totals_write(
            self._store.profiles,
            application_id,
            profile_id,
            profile.version if profile is not None else 0,
            closed,
            sales,
            stamp,
            new_id=after.profile_id,
            stats=stats,
            attributes=attributes,
            memberships=audiences,
        )
        return [*writes, write], after

    def _order_writes(
        self,
        application_id: int,
        profile_id: str,
        profile: CustomerProfile | None,
        session: Session,
        existing: Order | None,
        change: _OrderChange,
        currency: str | None,
        stamp: str,
    ) -> tuple[list[committer.Write], CustomerStats | None]:
        if not orders.owned(session, existing):
            return [], None
        if existing is None and change.state is not OrderState.SALE:
            return [], None  # never closed as this session's order: nothing to cancel
        new = orders.session_order(
            application_id,
            session,
            existing,
            change.state,
            change.amount,
            currency,
            stamp,
        )
        stats = recompute(
            profile.stats if profile is not None else CustomerStats(),
            profile_id,
            existing.contribution() if existing is not None else None,
            new.contribution(),
            lambda first, last: self._extremes(application_id, profile_id, new.order_id, first, last),
        )
        return self._store.order_writes(existing, new), stats

    def _give_back(
        self,
        application_id: int,
        stored: StoredSession,
        session: Session,
        read: Read,
        read_version: int,
        stamp: str,
        order_state: OrderState,
    ) -> _Decision:
        """Cancel of a closed session, or reopen: what the close consumed goes back (budget counters and redeemed
        coupons, answered `rollbackCoupon`); discounts roll back; the session's order is cancelled (or pending
        again, on reopen)."""
        holder = stored.session.profile_id
        lacking = coupons.missing(coupons.redeemed(stored.consumed), read, holder)
        given_referrals = referrals.redeemed(stored.consumed, holder)
        lacking_referral = referrals.missing(given_referrals[0].code if given_referrals else None, read, holder)
        lacking_ledgers = loyalty.lacking_for_rollback(stored.loyalty, read, holder)
        if lacking or lacking_referral or lacking_ledgers:
            pending = Outcome(stored, [])
            return _Decision(
                pending,
                [],
                missing_coupons=lacking,
                missing_referral=lacking_referral,
                missing_ledgers=lacking_ledgers,
            )
        profile, order = read.profile if session.profile_id is not None else None, read.order
        # The points the close added are taken back as the program's return policy allows, those it deducted given
        # back: each answered with what it rolled back, in place of the close's points effects.
        ruleset = self._rulesets.live(application_id, read.live_version) if stored.loyalty else None
        points_back, points_writes, _ = loyalty.rolled_back(
            self._store.ledgers,
            application_id,
            holder,
            stored.loyalty,
            ruleset,
            read,
            self._clock.now(),
            stored.effects,
            outbox=self._store.loyalty_outbox,
        )
        rollbacks = _rollbacks(stored.effects) + points_back
        survivors = [
            effect for effect in _survivors(stored.effects) if effect.effect_type not in loyalty.POINTS_EFFECTS
        ]
        kept = StoredSession(session, survivors, ruleset_version=stored.ruleset_version, returns=stored.returns)
        plan = [self._store.session_write(application_id, kept, read_version), *points_writes]
        plan += [
            counters.give_back(self._store.ledgers, application_id, key, amount)
            for key, amount in sorted(coupons.budget_part(stored.consumed).items())
        ]
        plan += coupons.give_back_writes(self._store.ledgers, application_id, stored.consumed, read, holder)
        plan += referrals.give_back_writes(self._store.ledgers, application_id, stored.consumed, read, holder)
        after = profile
        # A profile gone since the close (merged into a customer, or erased) is not brought back: its totals moved or
        # went with it. (Sessions are not in the customer lifecycle yet: the customer's order stays as it is.)
        if stored.counted_total is not None and session.profile_id is not None and read.profile is not None:
            change = _OrderChange(order_state, order.amount if order is not None else Decimal(0))
            writes, after = self._profile_writes(
                application_id,
                session.profile_id,
                profile,
                -1,
                -stored.counted_total,
                stamp,
                (session, order, change, None),
            )
            plan += writes
        event_type = "talon_session_revoked" if order_state is OrderState.CANCELLED else "talon_session_reopened"
        return _Decision(Outcome(kept, rollbacks, profile=after, event_type=event_type), plan)

    # -- reopen -----------------------------------------------------------------------------------------------

    def reopen(self, application_id: int, session_id: str) -> Outcome:
        """closed -> open: the close's consumption given back, its discounts rolled back (answered), the cart kept."""

        def decide_on(read: Read) -> _Decision:
            stored = read.session
            if stored is None:
                raise NotFoundError("No customer session with this id.", code="session_not_found")
            check_transition(stored.session.state, SessionState.OPEN, Via.REOPEN)
            profile_id = stored.session.profile_id
            if profile_id is not None and profile_id != read.profile_read:
                return _Decision(Outcome(stored, []), [], missing_profile=profile_id)
            stamp = iso(self._clock.now())
            session = msgspec.structs.replace(
                stored.session,
                state=SessionState.OPEN,
                updated=stamp,
                version=stored.session.version + 1,
                update_count=stored.session.update_count + 1,
            )
            return self._give_back(
                application_id, stored, session, read, stored.session.version, stamp, OrderState.PENDING
            )

        return self._run(application_id, session_id, None, set(), decide_on, dry=False)

    # -- returns ----------------------------------------------------------------------------------------------

    def return_items(self, application_id: int, session_id: str, returned: Sequence[ReturnedUnits]) -> Outcome:
        """closed or partially_returned -> partially_returned: the units are marked returned, per-item discounts on
        them roll back (answered), their discount budget is given back, and the profile's totalSales loses what
        the customer paid for them."""

        def decide_on(read: Read) -> _Decision:
            stored = read.session
            if stored is None:
                raise NotFoundError("No customer session with this id.", code="session_not_found")
            check_transition(stored.session.state, SessionState.PARTIALLY_RETURNED, Via.RETURN)
            profile_id = stored.session.profile_id
            if profile_id is not None and profile_id != read.profile_read:
                return _Decision(Outcome(stored, []), [], missing_profile=profile_id)
            lacking_ledgers = loyalty.lacking_for_rollback(stored.loyalty, read, profile_id)
            if lacking_ledgers:
                return _Decision(Outcome(stored, []), [], missing_ledgers=lacking_ledgers)
            units = plan_return(stored.session, returned)
            money = (
                self._rulesets.compiled(application_id, stored.ruleset_version).money
                if stored.ruleset_version is not None
                else Money("EUR")
            )
            kept_effects, rollbacks = roll_back_returned(stored.effects, stored.session, units, money)
            stamp = iso(self._clock.now())
            cart = tuple(
                msgspec.structs.replace(item, returned_quantity=item.returned_quantity + units.get(position, 0))
                for position, item in enumerate(stored.session.cart_items)
            )
            session = msgspec.structs.replace(
                stored.session,
                state=SessionState.PARTIALLY_RETURNED,
                cart_items=cart,
                updated=stamp,
                version=stored.session.version + 1,
                update_count=stored.session.update_count + 1,
            )
            # Discount budgets: what each campaign's rolled-back discounts took goes back to its setDiscount counters.
            given: dict[CounterKey, Decimal] = {}
            for rollback in rollbacks:
                for key in coupons.budget_part(stored.consumed):  # a coupon stays redeemed by a partial return
                    if key.campaign_id == rollback.campaign_id and key.action == "setDiscount":
                        given[key] = min(given.get(key, Decimal(0)) + rollback.props.value, stored.consumed[key])
            consumed = {key: amount - given.get(key, Decimal(0)) for key, amount in stored.consumed.items()}
            returned_value = sum(
                (stored.session.cart_items[position].price * count for position, count in units.items()), Decimal(0)
            )
            refunded = returned_value - sum((rollback.props.value for rollback in rollbacks), Decimal(0))
            counted = stored.counted_total
            if counted is not None:
                refunded = min(refunded, counted)
                counted -= refunded
            record = {
                "id": new_profile_id(),  # Talon.One's Return.id and eventId: numbers
                "eventId": new_profile_id(),
                "at": stamp,
                "items": [{"position": p, "quantity": q} for p, q in sorted(units.items())],
            }
            # The points the close added: the returned units' share of what is not returned yet goes back, as the
            # program's return policy allows; what the customer paid with points stays paid.
            unreturned = sum((item.price * item.remaining_quantity for item in stored.session.cart_items), Decimal(0))
            share = returned_value / unreturned if unreturned > 0 else Decimal(1)
            ruleset = self._rulesets.live(application_id, read.live_version) if stored.loyalty else None
            points_back, points_writes, left = loyalty.rolled_back(
                self._store.ledgers,
                application_id,
                profile_id,
                stored.loyalty,
                ruleset,
                read,
                self._clock.now(),
                stored.effects,
                share=min(share, Decimal(1)),
                outbox=self._store.loyalty_outbox,
                source=f"return:{record['id']}",
                line_returns={
                    position: (count, stored.session.cart_items[position].remaining_quantity)
                    for position, count in units.items()
                },
            )
            rollbacks = [*rollbacks, *points_back]
            kept = StoredSession(
                session,
                kept_effects,
                {key: amount for key, amount in consumed.items() if amount},
                counted,
                stored.ruleset_version,
                [*stored.returns, record],
                loyalty=left,
            )
            plan = [self._store.session_write(application_id, kept, stored.session.version), *points_writes]
            plan += [
                counters.give_back(self._store.ledgers, application_id, key, amount)
                for key, amount in sorted(given.items())
                if amount
            ]
            after = read.profile
            if counted is not None and refunded:
                everything = all(item.remaining_quantity == 0 for item in session.cart_items)
                state = OrderState.RETURNED if everything else OrderState.SALE
                amount = read.order.amount - refunded if read.order is not None else counted
                returned_order: _OrderPart = (session, read.order, _OrderChange(state, amount), None)
                writes, after = self._profile_writes(
                    application_id, profile_id, read.profile, 0, -refunded, stamp, returned_order
                )
                plan += writes
            outcome = Outcome(
                kept, rollbacks, profile=after, event_type="talon_session_partially_returned", returned=record
            )
            return _Decision(outcome, plan)

        return self._run(application_id, session_id, None, set(), decide_on, dry=False)


class ReturnedUnits(msgspec.Struct, frozen=True):
    position: int
    quantity: int | None  # None: every unit not yet returned


def _returned_issue(index: int, message: str, code: str = "invalid_return") -> ValidationError:
    path = f"return.returnedCartItems[{index}]"
    return ValidationError("The return is invalid.", [FieldIssue(path, code, message)])


def plan_return(session: Session, returned: Sequence[ReturnedUnits]) -> dict[int, int]:
    """Units returned per position, checked against what is left of each cart item."""
    units: dict[int, int] = {}
    for index, item in enumerate(returned):
        if item.position >= len(session.cart_items):
            raise _returned_issue(index, "No cart item at this position.", "unknown_position")
        left = session.cart_items[item.position].remaining_quantity - units.get(item.position, 0)
        wanted = left if item.quantity is None else item.quantity
        if wanted > left or wanted <= 0:
            raise _returned_issue(index, f"At most {left} units of this cart item can be returned.", "too_many_units")
        units[item.position] = units.get(item.position, 0) + wanted
    return units


def roll_back_returned(
    effects: Sequence[Effect], session: Session, units: Mapping[int, int], money: Money
) -> tuple[list[Effect], list[Effect]]:
    """(effects left, rollbacks) for units returned: a per-item discount on a returned position rolls back in
    proportion to the units returned (per unit with sub-positions: those units' effects); session-wide discounts
    stay, as they are not any one item's."""
    kept: list[Effect] = []
    rollbacks: list[Effect] = []
    unit_effects_left = dict(units)
    for effect in effects:
        props = effect.props
        if not isinstance(props, SetDiscountPerItemProps) or props.position not in units:
            kept.append(effect)
            continue
        if props.sub_position is not None:
            if unit_effects_left.get(props.position, 0) > 0:
                unit_effects_left[props.position] -= 1
                rolled_back = effect.rollback()
                if rolled_back is not None:
                    rollbacks.append(rolled_back)
                continue
            kept.append(effect)
            continue
        remaining = session.cart_items[props.position].remaining_quantity
        share = money.round(props.value * units[props.position] / remaining) if remaining else props.value
        share = min(share, props.value)
        rolled = effect.rollback()
        if rolled is not None and share > 0:
            rollbacks.append(msgspec.structs.replace(rolled, props=msgspec.structs.replace(rolled.props, value=share)))
        if props.value - share > 0:
            kept.append(
                msgspec.structs.replace(effect, props=msgspec.structs.replace(props, value=props.value - share))
            )
    return kept, rollbacks
