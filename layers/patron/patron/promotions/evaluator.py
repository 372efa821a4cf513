"""Decide: a session's facts, a compiled ruleset and the instant in; effects, rule failure reasons and the budget
it would consume out. No I/O, no clock, no randomness (ARCHITECTURE: "The promotions engine").

Campaigns are evaluated group by group, in the ruleset's order; inside a group by priority, then id; inside a
campaign, rules from top to bottom, and each rule's effects in order. A group's mode decides which triggered
campaigns apply (definitions.EvaluationMode). With cascading discounts, later campaigns' conditions read the
session as discounted so far; either way, a discount never exceeds what is left of what it applies to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.promotions.budgets import Budget, CounterKey
from patron.promotions.definitions import EvaluationMode, LimitAction
from patron.promotions.effects import Effect, RuleFailureReason
from patron.promotions.money import ZERO, Money
from patron.promotions.pricing import Pricing

CAMPAIGN_LIMIT_REACHED = "CampaignLimitReached"
EFFECT_COULD_NOT_BE_APPLIED = "EffectCouldNotBeApplied"


@dataclass(slots=True)
class Outcome:
    """What applying effects produced, besides the effects: kept per campaign until its group decides."""

    effects: list[Effect] = field(default_factory=list)
    failures: list[RuleFailureReason] = field(default_factory=list)
    taken: dict[CounterKey, Decimal] = field(default_factory=dict)
    session_attributes: dict[str, Any] = field(default_factory=dict)
    profile_attributes: dict[str, Any] = field(default_factory=dict)
    webhooks: list[Webhook] = field(default_factory=list)

    @property
    def discount(self) -> Decimal:
        return sum((effect.discount for effect in self.effects), ZERO)

    def absorb(self, other: Outcome) -> None:
        self.effects += other.effects
        self.failures += other.failures
        for key, amount in other.taken.items():
            self.taken[key] = self.taken.get(key, ZERO) + amount
        self.session_attributes.update(other.session_attributes)
        self.profile_attributes.update(other.profile_attributes)
        self.webhooks += other.webhooks


@dataclass(frozen=True, slots=True)
class Webhook:
    campaign_id: int
    webhook_id: int
    webhook_name: str
    payload: Mapping[str, Any]


@dataclass(slots=True)
class Scope:
    """What an effect reads and changes while it applies."""

    facts: Any  # patron.promotions.rules.facts.Facts
    pricing: Pricing
    money: Money
    budget: Budget
    taken: dict[CounterKey, Decimal]  # this evaluation's consumption so far (every campaign's)
    outcome: Outcome
    campaign: CompiledCampaign
    rule_index: int
    rule_name: str
    ruleset_id: int
    group_id: int
    group_mode: str

    def effect(self, effect_type: str, props: Any) -> Effect:
        return Effect(
            campaign_id=self.campaign.id,
            ruleset_id=self.ruleset_id,
            rule_index=self.rule_index,
            rule_name=self.rule_name,
            effect_type=effect_type,
            props=props,
            evaluation_group_id=self.group_id,
            evaluation_group_mode=self.group_mode,
        )

    def fail(self, details: str, effect_index: int | None = None) -> None:
        self.outcome.failures.append(
            RuleFailureReason(
                campaign_id=self.campaign.id,
                campaign_name=self.campaign.name,
                ruleset_id=self.ruleset_id,
                rule_index=self.rule_index,
                rule_name=self.rule_name,
                effect_index=effect_index,
                details=details,
                evaluation_group_id=self.group_id,
                evaluation_group_mode=self.group_mode,
            )
        )

    def grant(self, desired: Decimal, room: Decimal, effect_index: int) -> Decimal:
        """How much of a `desired` discount (rounded) is given: at most what is left of what it applies to, and
        of the campaign's discount budgets. Records the budget it takes; a refused discount is a failure reason."""
        value = min(desired, room)
        bounded = bool(self.budget.bounds)  # most campaigns have no limit: no budget to read or take from
        if bounded:
            budget_left = self.budget.left(LimitAction.SET_DISCOUNT, self._all_taken())
            if budget_left is not None and budget_left < value:
                value = budget_left
                if value <= 0:
                    self.fail(CAMPAIGN_LIMIT_REACHED, effect_index)
                    return ZERO
        if value <= 0:
            if desired > 0:
                self.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return ZERO
        if bounded:
            for key in self.budget.keys(LimitAction.SET_DISCOUNT):
                self.outcome.taken[key] = self.outcome.taken.get(key, ZERO) + value
        return value

    def _all_taken(self) -> dict[CounterKey, Decimal]:
        if not self.outcome.taken:
            return self.taken
        merged = dict(self.taken)
        for key, amount in self.outcome.taken.items():
            merged[key] = merged.get(key, ZERO) + amount
        return merged


# An effect of a rule, compiled: applies itself in the scope (ruleset.py builds them from definitions).
CompiledEffect = Callable[[Scope, int], None]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    index: int
    title: str
    condition: Callable[[Any], bool]
    effects: Sequence[CompiledEffect]


@dataclass(frozen=True, slots=True)
class CompiledCampaign:
    id: int
    name: str
    group: int  # index in CompiledRuleset.groups
    priority: int
    start: datetime | None  # aware
    end: datetime | None
    rules: Sequence[CompiledRule]
    # (limit, keys for a session) are resolved per evaluation by the caller: budgets_for(campaign) below.
    limits: Sequence[Any] = ()

    def running(self, now: datetime) -> bool:
        return (self.start is None or self.start <= now) and (self.end is None or now < self.end)


@dataclass(frozen=True, slots=True)
class CompiledGroup:
    id: int
    name: str
    mode: EvaluationMode
    campaigns: Sequence[CompiledCampaign]


@dataclass(frozen=True, slots=True)
class Request:
    """One evaluation's inputs besides the ruleset."""

    facts: Any
    pricing: Pricing
    now: datetime
    budgets: Callable[[CompiledCampaign], Budget]
    cascading: bool
    money: Money
    ruleset_id: int
    # Dry requests may name the campaigns to evaluate (Talon's evaluableCampaignIds); None: every campaign.
    only: frozenset[int] | None = None
    refresh_facts: Callable[[Any, Pricing], None] | None = None


@dataclass(slots=True)
class Evaluation:
    effects: list[Effect]
    failures: list[RuleFailureReason]
    triggered: list[CompiledCampaign]
    # What closing the session would consume, per counter.
    consumption: dict[CounterKey, Decimal]
    session_attributes: dict[str, Any]
    profile_attributes: dict[str, Any]
    webhooks: list[Webhook]

    @property
    def discount(self) -> Decimal:
        return sum((effect.discount for effect in self.effects), ZERO)


def evaluate(groups: Sequence[CompiledGroup], request: Request) -> Evaluation:
    total = Outcome()
    triggered: list[CompiledCampaign] = []
    for group in groups:
        stop = _evaluate_group(group, request, total, triggered)
        if stop:
            break
    return Evaluation(
        effects=total.effects,
        failures=total.failures,
        triggered=triggered,
        consumption={key: amount for key, amount in total.taken.items() if amount},
        session_attributes=total.session_attributes,
        profile_attributes=total.profile_attributes,
        webhooks=total.webhooks,
    )


def _evaluate_group(group: CompiledGroup, request: Request, total: Outcome, triggered: list[CompiledCampaign]) -> bool:
    """Applies the group's campaigns to `total`; True when no later group may be evaluated (exclusive)."""
    candidates = [
        campaign
        for campaign in group.campaigns
        if campaign.running(request.now) and (request.only is None or campaign.id in request.only)
    ]
    if group.mode in (EvaluationMode.HIGHEST_DISCOUNT, EvaluationMode.LOWEST_DISCOUNT):
        return _evaluate_best(group, candidates, request, total, triggered)
    for campaign in candidates:
        run = _run_campaign(campaign, group, request, total, request.pricing)
        if run is None:
            continue
        outcome, _, held = run
        if not held:
            total.failures += outcome.failures
            continue
        total.absorb(outcome)
        triggered.append(campaign)
        if request.cascading and request.refresh_facts is not None:
            request.refresh_facts(request.facts, request.pricing)
        if group.mode in (EvaluationMode.LIST_ORDER, EvaluationMode.EXCLUSIVE):
            return group.mode is EvaluationMode.EXCLUSIVE
    return False


def _evaluate_best(
    group: CompiledGroup,
    candidates: list[CompiledCampaign],
    request: Request,
    total: Outcome,
    triggered: list[CompiledCampaign],
) -> bool:
    """Each candidate tried alone on the same state; the one with the highest (lowest) discount total applies,
    the first in order on a tie."""
    best: tuple[CompiledCampaign, Outcome, Pricing] | None = None
    failures: list[RuleFailureReason] = []
    for campaign in candidates:
        run = _run_campaign(campaign, group, request, total, None)
        if run is None:
            continue
        outcome, trial, held = run
        if not held:
            failures += outcome.failures
            continue
        if best is None:
            best = (campaign, outcome, trial)
            continue
        better = (
            outcome.discount > best[1].discount
            if group.mode is EvaluationMode.HIGHEST_DISCOUNT
            else outcome.discount < best[1].discount
        )
        if better:
            best = (campaign, outcome, trial)
    total.failures += failures
    if best is not None:
        campaign, outcome, trial = best
        request.pricing.restore(trial)
        total.absorb(outcome)
        triggered.append(campaign)
        if request.cascading and request.refresh_facts is not None:
            request.refresh_facts(request.facts, request.pricing)
    return False


def _run_campaign(
    campaign: CompiledCampaign,
    group: CompiledGroup,
    request: Request,
    total: Outcome,
    pricing: Pricing | None,
) -> tuple[Outcome, Pricing, bool] | None:
    """Evaluates the campaign's rules: (what they produced, the pricing their effects took from, whether at least
    one rule's condition held), or None when nothing held and nothing failed. `pricing` None: a trial on a copy
    of the request's. The outcome, the copy and the scope are made only once something happens: most candidates
    of a large ruleset do not trigger, and their cost is then their conditions'."""
    scope: Scope | None = None
    budget: Budget | None = None
    facts = request.facts
    for rule in campaign.rules:
        if not rule.condition(facts):
            continue
        if scope is None:
            # The budget only of a campaign whose condition holds: most candidates' do not, and their limits are
            # neither read nor reported (a used-up campaign that would not trigger anyway is no failure).
            budget = request.budgets(campaign)
            scope = _open_scope(campaign, group, request, total, pricing, budget)
            scope.rule_index, scope.rule_name = rule.index, rule.title
            if budget.bounds:
                redemptions_left = budget.left(LimitAction.SET_DISCOUNT_EFFECT, total.taken)
                if redemptions_left is not None and redemptions_left < 1:
                    scope.fail(CAMPAIGN_LIMIT_REACHED)
                    return scope.outcome, scope.pricing, False
        scope.rule_index, scope.rule_name = rule.index, rule.title
        for effect_index, effect in enumerate(rule.effects):
            effect(scope, effect_index)
    if scope is None or budget is None:
        return None
    if budget.bounds:
        for key in budget.keys(LimitAction.SET_DISCOUNT_EFFECT):
            scope.outcome.taken[key] = scope.outcome.taken.get(key, ZERO) + 1
    return scope.outcome, scope.pricing, True


def _open_scope(
    campaign: CompiledCampaign,
    group: CompiledGroup,
    request: Request,
    total: Outcome,
    pricing: Pricing | None,
    budget: Budget,
) -> Scope:
    return Scope(
        facts=request.facts,
        pricing=request.pricing.copy() if pricing is None else pricing,
        money=request.money,
        budget=budget,
        taken=total.taken,
        outcome=Outcome(),
        campaign=campaign,
        rule_index=0,
        rule_name="",
        ruleset_id=request.ruleset_id,
        group_id=group.id,
        group_mode=group.mode.value,
    )
