"""What becomes of each coupon code (and the referral code) a session presents: Talon.One's `acceptCoupon` (its
campaign applied by a rule requiring `coupon.valid`; the evaluator answers it) or `rejectCoupon` with the reason;
`acceptReferral` / `rejectReferral` likewise, their reasons named `Referral…` where Talon.One names them so.

The coupon itself is checked before the evaluation (patron.coupons.validation: not found, expired, used up, another
customer's...). A valid coupon then depends on its campaign:

  CouponPartOfNotRunningCampaign   the campaign is not in the live ruleset, disabled, or outside its schedule
  CampaignLimitReached             a limit of the campaign refused it
  CouponPartOfNotTriggeredCampaign a rule requiring the coupon holds, but the campaign's evaluation group applied
                                   another campaign; or the session presents another valid code of the same
                                   campaign first (one coupon per campaign and session)
  CouponRejectedByCondition        no rule requiring the coupon holds
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from patron.promotions.effects import Effect, RejectionProps
from patron.promotions.evaluator import CAMPAIGN_LIMIT_REACHED, Evaluation
from patron.promotions.rules import CouponFacts, Facts, ReferralFacts
from patron.promotions.ruleset import CompiledRuleset

NOT_RUNNING = "CouponPartOfNotRunningCampaign"
NOT_TRIGGERED = "CouponPartOfNotTriggeredCampaign"
BY_CONDITION = "CouponRejectedByCondition"
LIMIT_REACHED = "CampaignLimitReached"


class PresentedReferral(msgspec.Struct, frozen=True):
    code: str  # as the session holds it
    referral: ReferralFacts | None  # the valid code; None when its check refused it
    rejection: str | None = None  # the check's reason (ReferralNotFound, ReferralExpired, ...)
    campaign_id: int = 0  # the code's campaign when it exists (0: none)


class PresentedCoupon(msgspec.Struct, frozen=True):
    value: str  # as the session holds it
    coupon: CouponFacts | None  # the valid coupon; None when its check refused it
    rejection: str | None = None  # the check's reason (CouponNotFound, CouponExpired, ...)
    campaign_id: int = 0  # the coupon's campaign when it exists (0: none), for the rejection's effect


def by_campaign(presented: Sequence[PresentedCoupon]) -> dict[int, CouponFacts]:
    """The coupon each campaign evaluates with: the first valid one of it the session presents."""
    found: dict[int, CouponFacts] = {}
    for one in presented:
        if one.coupon is not None:
            found.setdefault(one.coupon.campaign_id, one.coupon)
    return found


def rejections(
    ruleset: CompiledRuleset,
    facts: Facts,
    presented: Sequence[PresentedCoupon],
    evaluation: Evaluation,
    now: datetime,
    only: frozenset[int] | None = None,
) -> list[Effect]:
    """A `rejectCoupon` for every presented code the evaluation did not accept, in the order presented."""
    accepted = {effect.props.value for effect in evaluation.effects if effect.effect_type == "acceptCoupon"}
    applied = {campaign.id for campaign in evaluation.triggered}
    limited = {failure.campaign_id for failure in evaluation.failures if failure.details == CAMPAIGN_LIMIT_REACHED}
    chosen = by_campaign(presented)
    effects: list[Effect] = []
    for one in presented:
        if one.value in accepted:
            continue
        coupon = one.coupon
        if coupon is None:
            reason = one.rejection or "CouponNotFound"
            effects.append(_reject(ruleset, one.campaign_id, None, one.value, reason))
            continue
        if chosen.get(coupon.campaign_id) is not coupon:
            reason = NOT_TRIGGERED
        else:
            reason = _campaign_reason(ruleset, facts, coupon, "coupon", applied, limited, now, only)
        effects.append(_reject(ruleset, coupon.campaign_id, coupon.id, one.value, reason))
    return effects


def referral_rejection(
    ruleset: CompiledRuleset,
    facts: Facts,
    presented: PresentedReferral | None,
    evaluation: Evaluation,
    now: datetime,
    only: frozenset[int] | None = None,
) -> list[Effect]:
    """A `rejectReferral` for the session's referral code unless the evaluation accepted it."""
    if presented is None or any(effect.effect_type == "acceptReferral" for effect in evaluation.effects):
        return []
    referral = presented.referral
    if referral is None:
        reason = presented.rejection or "ReferralNotFound"
        return [_reject(ruleset, presented.campaign_id, None, presented.code, reason, "rejectReferral")]
    applied = {campaign.id for campaign in evaluation.triggered}
    limited = {failure.campaign_id for failure in evaluation.failures if failure.details == CAMPAIGN_LIMIT_REACHED}
    reason = _campaign_reason(ruleset, facts, referral, "referral", applied, limited, now, only)
    if reason != LIMIT_REACHED:
        reason = "Referral" + reason.removeprefix("Coupon")
    return [_reject(ruleset, referral.campaign_id, None, presented.code, reason, "rejectReferral")]


def _campaign_reason(
    ruleset: CompiledRuleset,
    facts: Facts,
    code: CouponFacts | ReferralFacts,
    kind: str,
    applied: set[int],
    limited: set[int],
    now: datetime,
    only: frozenset[int] | None,
) -> str:
    """Why a valid code (`kind`: coupon or referral) of a campaign was not accepted: its campaign's verdict."""
    indexed = ruleset.campaigns.get(code.campaign_id)
    if indexed is None or not (indexed.enabled or (only is not None and code.campaign_id in only)):
        return NOT_RUNNING
    campaign = indexed.campaign
    featured = campaign.coupons if kind == "coupon" else campaign.referrals
    if not featured or not campaign.running(now):
        return NOT_RUNNING
    if only is not None and campaign.id not in only:
        return NOT_TRIGGERED
    if campaign.id in limited:
        return LIMIT_REACHED
    if campaign.id in applied:
        return BY_CONDITION  # it applied by a rule that does not require the code
    if isinstance(code, CouponFacts):
        facts.coupon = code
        holds = any(rule.accepts_coupon and rule.condition(facts) for rule in campaign.rules)
    else:
        facts.referral = code
        holds = any(rule.accepts_referral and rule.condition(facts) for rule in campaign.rules)
    return NOT_TRIGGERED if holds else BY_CONDITION


def _reject(
    ruleset: CompiledRuleset,
    campaign_id: int,
    coupon_id: int | None,
    value: str,
    reason: str,
    effect_type: str = "rejectCoupon",
) -> Effect:
    return Effect(
        campaign_id=campaign_id,
        ruleset_id=ruleset.version,
        rule_index=0,
        rule_name="",
        effect_type=effect_type,
        props=RejectionProps(value=value, rejection_reason=reason),
        triggered_by_coupon=coupon_id,
    )
