"""The decide step as callers use it: what was read (a `Snapshot`) and a compiled ruleset in, an `Evaluation` out.

Two calls, because the read needs to know which budget counters to fetch: `counters_to_read` first (from the
snapshot without counters), then `decide` with the counters read. Both pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from patron.promotions.budgets import CounterKey, Subjects
from patron.promotions.evaluator import Evaluation, Request, evaluate
from patron.promotions.pricing import Line, Pricing
from patron.promotions.rules import EventFacts, Facts, ItemFacts, ProfileFacts, SessionFacts, TimeFacts
from patron.promotions.ruleset import CompiledRuleset, budgets_for


@dataclass(frozen=True, slots=True)
class Snapshot:
    session_id: str
    lines: Sequence[Line] = ()
    additional_costs: Mapping[str, Decimal] = field(default_factory=dict)
    state: str = "open"
    attributes: Mapping[str, Any] = field(default_factory=dict)
    store_integration_id: str | None = None
    coupon_codes: Sequence[str] = ()
    referral_code: str | None = None
    identifiers: Sequence[str] = ()
    first_session: bool = True
    profile: ProfileFacts | None = None
    event: EventFacts | None = None
    counters: Mapping[CounterKey, Decimal] = field(default_factory=dict)

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
    )


def counters_to_read(ruleset: CompiledRuleset, snapshot: Snapshot, now: datetime) -> set[CounterKey]:
    facts = facts_of(snapshot, ruleset, now)
    return ruleset.counter_keys(ruleset.candidates(facts), snapshot.subjects, now)


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
    request = Request(
        facts=facts,
        pricing=Pricing(snapshot.lines, snapshot.additional_costs),
        now=now.astimezone(UTC),  # as the campaigns' schedules (CompiledCampaign.utc_start): compared fast
        budgets=budgets_for(ruleset, snapshot.subjects, now, snapshot.counters),
        cascading=ruleset.ruleset.settings.cascading_discounts,
        money=ruleset.money,
        ruleset_id=ruleset.version,
        only=only,
        refresh_facts=_cascade,
    )
    return evaluate(groups, request)
