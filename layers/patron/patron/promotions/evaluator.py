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
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import msgspec

from patron.promotions.budgets import Budget, CounterKey, coupon_usage_key, referral_usage_key
from patron.promotions.definitions import EvaluationMode, LimitAction
from patron.promotions.effects import AcceptCouponProps, AcceptReferralProps, Effect, RuleFailureReason
from patron.promotions.money import ZERO, Money
from patron.promotions.pricing import Pricing

CAMPAIGN_LIMIT_REACHED = "CampaignLimitReached"
EFFECT_COULD_NOT_BE_APPLIED = "EffectCouldNotBeApplied"
# A `reserveCoupon` whose coupon has no reservation left (Talon.One names no reason for it; the failure says which).
RESERVATION_LIMIT_REACHED = "CouponReservationLimitReached"


class Outcome(msgspec.Struct):
    """What applying effects produced, besides the effects: kept per campaign until its group decides."""

    effects: list[Effect] = msgspec.field(default_factory=list)
    failures: list[RuleFailureReason] = msgspec.field(default_factory=list)
    taken: dict[CounterKey, Decimal] = msgspec.field(default_factory=dict)
    session_attributes: dict[str, Any] = msgspec.field(default_factory=dict)
    profile_attributes: dict[str, Any] = msgspec.field(default_factory=dict)
    webhooks: list[Webhook] = msgspec.field(default_factory=list)
    coupons_to_create: list[CouponToCreate] = msgspec.field(default_factory=list)
    coupons_to_reserve: list[CouponToReserve] = msgspec.field(default_factory=list)
    referrals_to_create: list[ReferralToCreate] = msgspec.field(default_factory=list)
    loyalty_changes: list[LoyaltyChange] = msgspec.field(default_factory=list)

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
        self.coupons_to_create += other.coupons_to_create
        self.coupons_to_reserve += other.coupons_to_reserve
        self.referrals_to_create += other.referrals_to_create
        self.loyalty_changes += other.loyalty_changes


class LoyaltyChange(msgspec.Struct, frozen=True):
    """An `addLoyaltyPoints`, `deductLoyaltyPoints` or `changeLoyaltyTierLevel` effect's change to the customer's
    points or tier: settled against the ledger by the session (patron.sessions.loyalty), tentatively while the
    session is open and for real at its close. The n-th of an evaluation is that of its n-th such effect
    (patron.loyalty.settle.CHANGE_EFFECTS), whose dates, transaction id and (for a deduction) value the settlement
    fills in; the evaluation reads no ledger: it stays pure."""

    add: bool  # True: addLoyaltyPoints; False: deductLoyaltyPoints (or, with `tier`, a tier change)
    program_id: int
    subledger: str
    name: str
    amount: Decimal  # the points asked for, two decimals
    profile_id: str
    campaign_id: int
    pending: str = "immediate"  # an addition's: "immediate", "on_action" or a duration
    validity: str = "unlimited"  # an addition's: "unlimited" or a duration
    tier: str | None = None  # a `changeLoyaltyTierLevel`'s tier (no points change); `validity`: its expiresIn or ""
    lines: Mapping[int, Decimal] = {}  # a per-item addition's points by cart item position (`amount` their sum)
    # An addition's earner when it is not the session's customer (`recipient`; `profile_id` is then theirs too).
    recipient: str | None = None


class CouponToCreate(msgspec.Struct, frozen=True):
    """A `createCoupon` effect's coupon: made (its code drawn, its item written) by the close that applies it. The
    n-th of an evaluation is the one of its n-th `couponCreated` effect, whose `value` the close fills in (the
    evaluation itself draws nothing: it stays pure)."""

    campaign_id: int
    profile_id: str
    prefix: str
    usage_limit: int
    discount_limit: Decimal | None
    valid_days: int | None
    attributes: Mapping[str, Any]
    rule_index: int = -1  # the rule whose effect it is: a later `reserveCoupon` of that rule reserves it
    reserved: bool = False  # reserved for its recipient: the close writes the reservation with the coupon


class CouponToReserve(msgspec.Struct, frozen=True):
    """A `reserveCoupon` effect's new reservation of the presented coupon on scope (`code`, as stored) for the
    session's customer: written by the close, with the coupon's redemption (one write per item)."""

    campaign_id: int
    code: str
    profile_id: str


class ReferralToCreate(msgspec.Struct, frozen=True):
    """A `createReferral` effect's code for the session's customer (its advocate): drawn and written by the close
    that applies it; the n-th of an evaluation is the one of its n-th `referralCreated` effect."""

    campaign_id: int
    advocate_id: str
    prefix: str
    usage_limit: int
    valid_days: int | None
    attributes: Mapping[str, Any]


class Webhook(msgspec.Struct, frozen=True):
    campaign_id: int
    webhook_id: int
    webhook_name: str
    payload: Mapping[str, Any]


class Scope(msgspec.Struct):
    """What an effect reads and changes while it applies."""

    facts: Any  # patron.promotions.rules.facts.Facts
    pricing: Pricing
    money: Money
    budget: Budget
    # What earlier campaigns took, when `outcome` is this campaign's alone (a trial); empty when the campaign
    # writes straight into the evaluation's outcome, whose `taken` then holds it all.
    taken: Mapping[CounterKey, Decimal]
    outcome: Outcome
    campaign: CompiledCampaign
    rule_index: int
    rule_name: str
    ruleset_id: int
    group_id: int
    group_mode: str
    coupon_id: int | None = None  # the coupon whose rule is applying (its effects are `triggeredByCoupon` it)

    def effect(self, effect_type: str, props: Any) -> Effect:
        # Positional: msgspec builds a Struct faster so, and every granted discount makes one.
        return Effect(
            self.campaign.id,
            self.ruleset_id,
            self.rule_index,
            self.rule_name,
            effect_type,
            props,
            self.coupon_id,
            self.group_id,
            self.group_mode,
        )

    def fail(
        self,
        details: str,
        effect_index: int | None = None,
        coupon_id: int | None = None,
        coupon_value: str | None = None,
    ) -> None:
        self.outcome.failures.append(
            RuleFailureReason(
                campaign_id=self.campaign.id,
                campaign_name=self.campaign.name,
                ruleset_id=self.ruleset_id,
                rule_index=self.rule_index,
                rule_name=self.rule_name,
                coupon_id=coupon_id,
                coupon_value=coupon_value,
                effect_index=effect_index,
                details=details,
                evaluation_group_id=self.group_id,
                evaluation_group_mode=self.group_mode,
            )
        )

    def grant(self, desired: Decimal, room: Decimal, effect_index: int) -> Decimal:
        """How much of a `desired` discount (rounded) is given: at most what is left of what it applies to, and
        of the campaign's discount budgets. Records the budget it takes; a refused discount is a failure reason."""
        value = desired if desired <= room else room
        budget = self.budget
        if not budget.bounds:  # most campaigns have no limit: no budget to read or take from
            if value <= 0:
                if desired > 0:
                    self.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
                return ZERO
            return value
        budget_left = budget.left(LimitAction.SET_DISCOUNT, self._all_taken())
        if budget_left is not None and budget_left < value:
            value = budget_left
            if value <= 0:
                self.fail(CAMPAIGN_LIMIT_REACHED, effect_index)
                return ZERO
        if value <= 0:
            if desired > 0:
                self.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return ZERO
        taken = self.outcome.taken
        for key in budget.keys(LimitAction.SET_DISCOUNT):
            taken[key] = taken.get(key, ZERO) + value
        return value

    def _all_taken(self) -> Mapping[CounterKey, Decimal]:
        """What the evaluation took so far, this campaign's included."""
        mine = self.outcome.taken
        if not mine:
            return self.taken
        if not self.taken:  # the outcome is the evaluation's own (sequential groups) or nothing came before
            return mine
        merged = dict(self.taken)
        for key, amount in mine.items():
            merged[key] = merged.get(key, ZERO) + amount
        return merged


# An effect of a rule, compiled: applies itself in the scope (ruleset.py builds them from definitions).
CompiledEffect = Callable[[Scope, int], None]


class CompiledRule(msgspec.Struct, frozen=True):
    index: int
    title: str
    condition: Callable[[Any], bool]
    effects: Sequence[CompiledEffect]
    # The condition requires `coupon.valid`: applying the rule accepts the campaign's coupon (Talon.One's "coupon
    # code is valid" condition redeems the code when the session closes). Likewise `referral.valid`.
    accepts_coupon: bool = False
    accepts_referral: bool = False


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
    coupons: bool = False  # the `coupons` feature: `coupon.*` reads the valid coupon presented for it
    referrals: bool = False  # the `referrals` feature: `referral.*` reads the valid referral code presented for it
    # The schedule in UTC: comparing datetimes of two zones costs ~1 µs (both offsets), of one zone ~0.07 µs, and
    # every candidate is checked against an instant in UTC (`decide`).
    utc_start: datetime | None = field(default=None, init=False, repr=False, compare=False)
    utc_end: datetime | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "utc_start", _in_utc(self.start))
        object.__setattr__(self, "utc_end", _in_utc(self.end))

    def running(self, now: datetime) -> bool:
        start, end = self.utc_start, self.utc_end
        return (start is None or start <= now) and (end is None or now < end)


def _in_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # the first or last hours of year 1 or 9999: kept as given (the same instant)
        return moment


class CompiledGroup(msgspec.Struct, frozen=True):
    id: int
    name: str
    mode: EvaluationMode
    campaigns: Sequence[CompiledCampaign]


class Request(msgspec.Struct, frozen=True):
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


class Evaluation(msgspec.Struct):
    effects: list[Effect]
    failures: list[RuleFailureReason]
    triggered: list[CompiledCampaign]
    # What closing the session would consume, per counter.
    consumption: dict[CounterKey, Decimal]
    session_attributes: dict[str, Any]
    profile_attributes: dict[str, Any]
    webhooks: list[Webhook]
    coupons_to_create: list[CouponToCreate] = msgspec.field(default_factory=list)
    coupons_to_reserve: list[CouponToReserve] = msgspec.field(default_factory=list)
    referrals_to_create: list[ReferralToCreate] = msgspec.field(default_factory=list)
    loyalty_changes: list[LoyaltyChange] = msgspec.field(default_factory=list)
    # The budget counters the evaluation looked at (those of the campaigns whose rules held): a read lacking one of
    # them makes the evaluation void (patron.promotions.decide.decide_on_read).
    consulted: frozenset[CounterKey] = frozenset()

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
        coupons_to_create=total.coupons_to_create,
        coupons_to_reserve=total.coupons_to_reserve,
        referrals_to_create=total.referrals_to_create,
        loyalty_changes=total.loyalty_changes,
    )


_NOTHING_TAKEN: Mapping[CounterKey, Decimal] = MappingProxyType({})


def _first_holding(campaign: CompiledCampaign, request: Request) -> int:
    """The position of the campaign's first rule whose condition holds, or -1 (also when the campaign is out of
    its schedule, or not among the dry request's `only`). Most candidates stop here: no scope, budget or outcome
    is made for them, and a used-up campaign that would not trigger anyway is no failure."""
    start, end, now = campaign.utc_start, campaign.utc_end, request.now
    if (start is not None and now < start) or (end is not None and now >= end):
        return -1
    only = request.only
    if only is not None and campaign.id not in only:
        return -1
    facts = request.facts
    if campaign.coupons:
        facts.coupon = facts.coupons.get(campaign.id)
    if campaign.referrals:
        facts.referral = facts.referrals.get(campaign.id)
    for position, rule in enumerate(campaign.rules):
        if rule.condition(facts):
            return position
    return -1


def _evaluate_group(group: CompiledGroup, request: Request, total: Outcome, triggered: list[CompiledCampaign]) -> bool:
    """Applies the group's campaigns to `total`; True when no later group may be evaluated (exclusive)."""
    mode = group.mode
    if mode is EvaluationMode.HIGHEST_DISCOUNT or mode is EvaluationMode.LOWEST_DISCOUNT:
        return _evaluate_best(group, request, total, triggered)
    first_only = mode is EvaluationMode.LIST_ORDER or mode is EvaluationMode.EXCLUSIVE
    refresh = request.refresh_facts if request.cascading else None
    for campaign in group.campaigns:
        first = _first_holding(campaign, request)
        if first < 0:
            continue
        # In order, one campaign after the other: its effects go straight into the evaluation's outcome (a refusal
        # by a redemption limit comes before any effect, and leaves only its failure reason).
        scope = _open_scope(campaign, group, request, total, _NOTHING_TAKEN, request.pricing)
        if not _run_campaign(scope, campaign, first, total.taken):
            continue
        triggered.append(campaign)
        if refresh is not None:
            refresh(request.facts, request.pricing)
        if first_only:
            return mode is EvaluationMode.EXCLUSIVE
    return False


def _evaluate_best(group: CompiledGroup, request: Request, total: Outcome, triggered: list[CompiledCampaign]) -> bool:
    """Each candidate tried alone on the same state; the one with the highest (lowest) discount total applies,
    the first in order on a tie."""
    best: tuple[CompiledCampaign, Outcome, Pricing] | None = None
    best_discount = ZERO
    highest = group.mode is EvaluationMode.HIGHEST_DISCOUNT
    failures: list[RuleFailureReason] = []
    for campaign in group.campaigns:
        first = _first_holding(campaign, request)
        if first < 0:
            continue
        scope = _open_scope(campaign, group, request, Outcome(), total.taken, request.pricing.copy())
        outcome = scope.outcome
        if not _run_campaign(scope, campaign, first, total.taken):
            failures += outcome.failures
            continue
        discount = outcome.discount
        if best is None or (discount > best_discount if highest else discount < best_discount):
            best, best_discount = (campaign, outcome, scope.pricing), discount
    total.failures += failures
    if best is not None:
        campaign, outcome, trial = best
        request.pricing.restore(trial)
        total.absorb(outcome)
        triggered.append(campaign)
        if request.cascading and request.refresh_facts is not None:
            request.refresh_facts(request.facts, request.pricing)
    return False


def _run_campaign(scope: Scope, campaign: CompiledCampaign, first: int, taken: Mapping[CounterKey, Decimal]) -> bool:
    """Applies the campaign's rules from `first` (the first whose condition holds) into the scope's outcome: False
    when a redemption limit refuses the campaign (its reason is then the outcome's one failure). `taken`: what the
    evaluation took before this campaign."""
    budget = scope.budget
    rules = campaign.rules
    rule = rules[first]
    scope.rule_index, scope.rule_name = rule.index, rule.title
    if budget.bounds:
        redemptions_left = budget.left(LimitAction.SET_DISCOUNT_EFFECT, taken)
        if redemptions_left is not None and redemptions_left < 1:
            scope.fail(CAMPAIGN_LIMIT_REACHED)
            return False
    facts = scope.facts
    coupon = facts.coupon if campaign.coupons else None
    referral = facts.referral if campaign.referrals else None
    accepting: CompiledRule | None = None
    referring: CompiledRule | None = None
    start = len(scope.outcome.effects)
    for position in range(first, len(rules)):
        rule = rules[position]
        if position > first:
            if not rule.condition(facts):
                continue
            scope.rule_index, scope.rule_name = rule.index, rule.title
        if referral is not None and rule.accepts_referral:
            referring = referring or rule
        if coupon is not None and rule.accepts_coupon:
            accepting = accepting or rule
            scope.coupon_id = coupon.id
        else:
            scope.coupon_id = None
        for effect_index, effect in enumerate(rule.effects):
            effect(scope, effect_index)
    mine = scope.outcome.taken
    if budget.bounds:
        for key in budget.keys(LimitAction.SET_DISCOUNT_EFFECT):
            mine[key] = mine.get(key, ZERO) + 1
    if coupon is not None and accepting is not None:
        # Before the campaign's other effects, as Talon.One answers it; one redemption of the coupon at close.
        accept = Effect(
            campaign.id,
            scope.ruleset_id,
            accepting.index,
            accepting.title,
            "acceptCoupon",
            AcceptCouponProps(coupon.value),
            coupon.id,
            scope.group_id,
            scope.group_mode,
        )
        scope.outcome.effects.insert(start, accept)
        key = coupon_usage_key(campaign.id, coupon.value)
        mine[key] = mine.get(key, ZERO) + 1
    if referral is not None and referring is not None:
        accept = Effect(
            campaign.id,
            scope.ruleset_id,
            referring.index,
            referring.title,
            "acceptReferral",
            AcceptReferralProps(referral.code),
            None,
            scope.group_id,
            scope.group_mode,
        )
        scope.outcome.effects.insert(start, accept)
        key = referral_usage_key(campaign.id, referral.code)
        mine[key] = mine.get(key, ZERO) + 1
    return True


def _open_scope(
    campaign: CompiledCampaign,
    group: CompiledGroup,
    request: Request,
    outcome: Outcome,
    taken: Mapping[CounterKey, Decimal],
    pricing: Pricing,
) -> Scope:
    return Scope(
        request.facts,
        pricing,
        request.money,
        request.budgets(campaign),
        taken,
        outcome,
        campaign,
        0,
        "",
        request.ruleset_id,
        group.id,
        group.mode.value,
    )
