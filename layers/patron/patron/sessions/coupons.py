"""The coupons of a session call: which items its read needs, what each presented code is worth to the engine
(checked by patron.coupons.validation), and the writes that redeem accepted coupons at close and give them back on
cancel and reopen (docs/coupons.md).

What an evaluation took of a coupon is named by `coupon_usage_key` / `coupon_discount_key` (entity `Coupon`) among
its consumption, stored with the closed session like budget counters, but written to the coupon's own item and to
the profile's holding of it (patron.coupons.items), never to a budget counter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from patron.coupons import items
from patron.coupons.model import Coupon, normalise_code
from patron.coupons.validation import NO_HOLDING, rejection
from patron.dynamo import committer
from patron.promotions.budgets import COUPON_ENTITY, CounterKey, coupon_discount_key
from patron.promotions.presented import PresentedCoupon
from patron.promotions.rules import CouponFacts
from patron.promotions.ruleset import CompiledRuleset
from patron.sessions.store import Read

ZERO = Decimal(0)


def codes_to_read(codes: Iterable[str]) -> frozenset[str]:
    """Every stored form a presented code may have: as sent, and upper-cased (a case-insensitive application's):
    the read comes before the ruleset, which says which one applies."""
    return frozenset(form for code in codes if code for form in (code, code.upper()))


def missing(codes: Iterable[str], read: Read, holder: str | None) -> frozenset[str]:
    """The codes a decision cannot do without and the read lacks: all of them again when the holder changed."""
    wanted = codes_to_read(codes)
    if not wanted:
        return frozenset()
    if holder is not None and read.holder_read != holder:
        return wanted
    return wanted - read.coupons_read


def presented(
    ruleset: CompiledRuleset,
    codes: Sequence[str],
    read: Read,
    profile_id: str | None,
    now: datetime,
    only: frozenset[int] | None,
) -> list[PresentedCoupon]:
    """Each code as the engine sees it: a valid coupon, or the reason its check refused it."""
    sensitive = ruleset.ruleset.settings.case_sensitive_codes
    answered: list[PresentedCoupon] = []
    for code in codes:
        if not code:
            continue
        stored = normalise_code(code, sensitive)
        coupon = read.coupons.get(stored)
        running = coupon is not None and _running(ruleset, coupon.campaign_id, now, only)
        holding = read.holdings.get(stored, NO_HOLDING)
        refused = rejection(coupon, now=now, profile_id=profile_id, campaign_running=running, holding=holding)
        if coupon is None or refused is not None:
            reason = refused.value if refused is not None else None
            answered.append(PresentedCoupon(code, None, reason, coupon.campaign_id if coupon else 0))
            continue
        facts = CouponFacts(
            id=coupon.id,
            value=coupon.value,
            campaign_id=coupon.campaign_id,
            attributes=coupon.attributes,
            usage_counter=coupon.usage_counter,
            usage_limit=coupon.usage_limit,
            discount_remainder=coupon.discount_remainder,
        )
        answered.append(PresentedCoupon(coupon.value, facts))
    return answered


def _running(ruleset: CompiledRuleset, campaign_id: int, now: datetime, only: frozenset[int] | None) -> bool:
    indexed = ruleset.campaigns.get(campaign_id)
    if indexed is None or not indexed.campaign.coupons:
        return False
    evaluable = indexed.enabled if only is None else campaign_id in only
    return evaluable and indexed.campaign.running(now)


def redeemed(consumed: Mapping[CounterKey, Decimal]) -> dict[str, Decimal]:
    """The coupons a close redeemed (their stored codes) and the discount each gave."""
    return {
        key.entity_id: consumed.get(coupon_discount_key(key.campaign_id, key.entity_id), ZERO)
        for key in consumed
        if key.entity == COUPON_ENTITY and key.action == "setDiscountEffect"
    }


def budget_part(consumed: Mapping[CounterKey, Decimal]) -> dict[CounterKey, Decimal]:
    """What the budget counters took (the rest is the coupons')."""
    return {key: amount for key, amount in consumed.items() if key.entity != COUPON_ENTITY}


def redemption_writes(
    table: str, application_id: int, consumed: Mapping[CounterKey, Decimal], read: Read, holder: str | None
) -> list[committer.Write]:
    """One conditional update per redeemed coupon (its uses and discount within its limits), and one of the
    holder's redemptions of it (within a per-profile limit)."""
    writes: list[committer.Write] = []
    for code, discount in sorted(redeemed(consumed).items()):
        coupon: Coupon = read.coupons[code]
        writes.append(items.redeem(table, application_id, coupon, discount))
        if holder is not None:
            writes.append(items.redeem_for_profile(table, application_id, coupon, holder))
    return writes


def give_back_writes(
    table: str, application_id: int, consumed: Mapping[CounterKey, Decimal], read: Read, holder: str | None
) -> list[committer.Write]:
    """What a close redeemed, given back (cancel, reopen); a coupon deleted since is left alone."""
    writes: list[committer.Write] = []
    for code, discount in sorted(redeemed(consumed).items()):
        if code not in read.coupons:
            continue
        writes.append(items.give_back(table, application_id, code, discount))
        if holder is not None:
            writes.append(items.give_back_for_profile(table, application_id, code, holder))
    return writes
