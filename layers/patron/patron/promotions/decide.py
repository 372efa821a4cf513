"""The decide step as callers use it: what was read (a `Snapshot`) and a compiled ruleset in, an `Evaluation` out.

The read must hold the budget counters of the campaigns whose rules hold, which only deciding tells. Callers read
the counters they predict (`counters_to_read`: every candidate campaign's, or those a session's last decision
consulted), then `decide_on_read`: the evaluation when the read held every counter it consulted, else the counters
to read before deciding again (then every candidate's, so the second decision lacks none). All pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from patron.promotions.budgets import CounterKey, Subjects
from patron.promotions.evaluator import Evaluation, Request, evaluate
from patron.promotions.presented import (
    PresentedCoupon,
    PresentedReferral,
    by_campaign,
    referral_rejection,
    rejections,
)
from patron.promotions.pricing import Line, Pricing
from patron.promotions.rules import (
    EventFacts,
    Facts,
    ItemFacts,
    LoyaltyFacts,
    ProfileFacts,
    ReferralFacts,
    SessionFacts,
    TimeFacts,
)
from patron.promotions.ruleset import CompiledRuleset, budgets_for


class Snapshot(msgspec.Struct, frozen=True):
    session_id: str
    lines: Sequence[Line] = ()
    additional_costs: Mapping[str, Decimal] = msgspec.field(default_factory=dict)
    state: str = "open"
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    store_integration_id: str | None = None
    coupon_codes: Sequence[str] = ()
    referral_code: str | None = None
    identifiers: Sequence[str] = ()
    first_session: bool = True
    profile: ProfileFacts | None = None
    event: EventFacts | None = None
    counters: Mapping[CounterKey, Decimal] = msgspec.field(default_factory=dict)
    coupons: Sequence[PresentedCoupon] = ()  # each code of `coupon_codes`, checked (patron.coupons.validation)
    referral: PresentedReferral | None = None  # `referral_code`, checked (patron.referrals.validation)
    loyalty: Mapping[int, LoyaltyFacts] | None = None  # the customer's standing by program (None: anonymous)
    # The customer's events by type and UTC day, of the types the ruleset counts (None: anonymous, or not read).
    event_counts: Mapping[str, Mapping[date, int]] | None = None

    @property
    def subjects(self) -> Subjects:
        profile = self.profile.integration_id if self.profile is not None else None
        return Subjects(self.session_id, profile, tuple(self.identifiers))


def facts_of(snapshot: Snapshot, ruleset: CompiledRuleset, now: datetime) -> Facts:
    items_total = sum((line.total for line in snapshot.lines), Decimal(0))
    costs_total = sum(snapshot.additional_costs.values(), Decimal(0))
    session = SessionFacts(
        integration_id=snapshot.session_id,
        total=items_total + costs_total,
        cart_item_total=items_total,
        additional_cost_total=costs_total,
        state=snapshot.state,
        attributes=snapshot.attributes,
        store_integration_id=snapshot.store_integration_id,
        coupon_codes=snapshot.coupon_codes,
        referral_code=snapshot.referral_code,
        first_session=snapshot.first_session,
    )
    items = [
        ItemFacts(
            sku=line.sku,
            price=line.price,
            quantity=line.quantity,
            position=line.position,
            name=line.name,
            category=line.category,
            attributes=line.attributes,
        )
        for line in snapshot.lines
    ]
    return Facts(
        session=session,
        time=TimeFacts(now, ruleset.zone),
        items=items,
        additional_costs=snapshot.additional_costs,
        profile=snapshot.profile,
        event=snapshot.event,
        coupons=by_campaign(snapshot.coupons) if snapshot.coupons else None,
        referrals=_referrals(snapshot.referral),
        loyalty=snapshot.loyalty,
        event_counts=snapshot.event_counts,
    )


def _referrals(presented: PresentedReferral | None) -> dict[int, ReferralFacts] | None:
    if presented is None or presented.referral is None:
        return None
    return {presented.referral.campaign_id: presented.referral}


def counters_to_read(
    ruleset: CompiledRuleset, snapshot: Snapshot, now: datetime, only: frozenset[int] | None = None
) -> set[CounterKey]:
    """Every counter the candidate campaigns' limits bind: a read holding these lets any decision complete."""
    facts = facts_of(snapshot, ruleset, now)
    return ruleset.counter_keys(ruleset.candidates(facts, only), snapshot.subjects, now)


class Decided(msgspec.Struct, frozen=True):
    evaluation: Evaluation | None  # None: the read lacked counters the evaluation consulted
    missing: frozenset[CounterKey] = frozenset()  # read these, then decide again


def decide_on_read(
    ruleset: CompiledRuleset,
    snapshot: Snapshot,
    now: datetime,
    counters_read: frozenset[CounterKey],
    only: frozenset[int] | None = None,
) -> Decided:
    """`decide`, kept only when `counters_read` (the read's keys, present or absent) held every counter it
    consulted; otherwise what to read: every candidate's counters the read lacked, so one more read suffices (a
    counter's value can change which later campaigns hold, and so which counters they consult)."""
    evaluation = decide(ruleset, snapshot, now, only)
    if evaluation.consulted <= counters_read:
        return Decided(evaluation)
    wanted = counters_to_read(ruleset, snapshot, now, only) | evaluation.consulted
    return Decided(None, frozenset(wanted - counters_read))


def _cascade(facts: Facts, pricing: Pricing) -> None:
    facts.session.total = pricing.total_left
    facts.session.cart_item_total = pricing.items_left
    facts.session.additional_cost_total = sum(pricing.additional_costs.values(), Decimal(0))
    for index, item in enumerate(facts.items):
        item.price = pricing.unit_price_left(index)
    facts.changed()


def decide(
    ruleset: CompiledRuleset, snapshot: Snapshot, now: datetime, only: frozenset[int] | None = None
) -> Evaluation:
    facts = facts_of(snapshot, ruleset, now)
    groups = ruleset.candidates(facts, only)
    budgets = budgets_for(ruleset, snapshot.subjects, now, snapshot.counters, facts.coupons)
    request = Request(
        facts=facts,
        pricing=Pricing(snapshot.lines, snapshot.additional_costs),
        now=now.astimezone(UTC),  # as the campaigns' schedules (CompiledCampaign.utc_start): compared fast
        budgets=budgets,
        cascading=ruleset.ruleset.settings.cascading_discounts,
        money=ruleset.money,
        ruleset_id=ruleset.version,
        only=only,
        refresh_facts=_cascade,
    )
    evaluation = evaluate(groups, request)
    evaluation.consulted = budgets.consulted()
    if snapshot.coupons:
        evaluation.effects += rejections(ruleset, facts, snapshot.coupons, evaluation, now, only)
    if snapshot.referral is not None:
        evaluation.effects += referral_rejection(ruleset, facts, snapshot.referral, evaluation, now, only)
    return evaluation
