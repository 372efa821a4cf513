"""The referral code of a session call: which items its read needs (the referral, the profile's friend record), what
the code is worth to the engine (checked by patron.referrals.validation), and the writes that redeem an accepted
code at close and give it back on cancel and reopen (docs/referrals.md).

What an evaluation took of a code is named by `referral_usage_key` (entity `Referral`) among its consumption,
stored with the closed session; the close writes it to the referral, the friend's record and the code's referred
entries (patron.referrals.items), never to a budget counter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec

from patron.coupons.model import normalise_code
from patron.dynamo import committer
from patron.profiles.model import new_profile_id
from patron.promotions.budgets import REFERRAL_ENTITY, CounterKey
from patron.promotions.effects import Effect, ReferralCreatedProps
from patron.promotions.evaluator import Evaluation
from patron.promotions.presented import PresentedReferral
from patron.promotions.rules import ReferralFacts
from patron.promotions.ruleset import CompiledRuleset
from patron.referrals import items
from patron.referrals.model import Redemption, Referral
from patron.referrals.validation import rejection
from patron.sessions import coupons
from patron.sessions.store import Read


def codes_to_read(code: str | None) -> frozenset[str]:
    """The stored forms the code may have, as a coupon's (`coupons.codes_to_read`)."""
    return coupons.codes_to_read([code] if code else [])


def missing(code: str | None, read: Read, holder: str | None) -> frozenset[str]:
    return coupons.lacking(codes_to_read(code), holder, read.friend_read, read.referrals_read)


def presented(
    ruleset: CompiledRuleset,
    code: str | None,
    read: Read,
    profile_id: str | None,
    now: datetime,
    only: frozenset[int] | None,
) -> PresentedReferral | None:
    if not code:
        return None
    stored = normalise_code(code, ruleset.ruleset.settings.case_sensitive_codes)
    referral = read.referrals.get(stored)
    running = referral is not None and coupons.campaign_running(ruleset, referral.campaign_id, "referral", now, only)
    advocate_found = referral is None or referral.advocate_found  # an erased advocate: nobody to reward
    refused = rejection(
        referral,
        now=now,
        profile_id=profile_id,
        campaign_running=running,
        friend=read.friend,
        advocate_found=advocate_found,
    )
    if referral is None or refused is not None:
        reason = refused.value if refused is not None else None
        return PresentedReferral(code, None, reason, referral.campaign_id if referral else 0)
    facts = ReferralFacts(
        id=referral.id,
        code=referral.code,
        campaign_id=referral.campaign_id,
        advocate=referral.advocate_integration_id,
        friend=referral.friend_integration_id,
        attributes=referral.attributes,
    )
    return PresentedReferral(referral.code, facts)


def named(code: str | None, read: Read, ruleset: CompiledRuleset | None) -> Referral | None:
    """The referral the session's code names, as read (the `referral` response content)."""
    if not code:
        return None
    sensitive = ruleset.ruleset.settings.case_sensitive_codes if ruleset is not None else True
    return read.referrals.get(normalise_code(code, sensitive))


def created(
    table: str,
    application_id: int,
    evaluation: Evaluation,
    effects: Sequence[Effect],
    now: datetime,
    case_sensitive: bool = True,
) -> tuple[list[Referral], list[committer.Write], list[Effect]]:
    """The referral codes a close's `createReferral` effects make for the session's customer, their advocate (codes
    drawn here, not in the pure evaluation), the writes that create them as `POST /v1/referrals` does
    (`items.create`: each only if its code is free, with the advocate's entry; a taken code fails the close, which
    decides and draws again), and `effects` with each `referralCreated`'s code. Ids are drawn as a created coupon's
    are (`new_profile_id`): the route's id counter would be one more round trip."""
    made: list[Referral] = []
    writes: list[committer.Write] = []
    for request in evaluation.referrals_to_create:
        referral = Referral(
            code=coupons.draw_code(request.prefix, case_sensitive),
            campaign_id=request.campaign_id,
            advocate_integration_id=request.advocate_id,
            id=new_profile_id(),
            created=now,
            expiry_date=now + timedelta(days=request.valid_days) if request.valid_days else None,
            usage_limit=request.usage_limit,
            attributes=dict(request.attributes),
        )
        made.append(referral)
        writes += items.create(table, application_id, referral)
    codes = iter(made)
    filled = [
        msgspec.structs.replace(effect, props=ReferralCreatedProps(value=next(codes).code))
        if isinstance(effect.props, ReferralCreatedProps)
        else effect
        for effect in effects
    ]
    return made, writes, filled


def redeemed(consumed: Mapping[CounterKey, Decimal], friend: str | None) -> list[Redemption]:
    """The referral code a close redeemed (at most one), for the friend it referred."""
    if friend is None:
        return []
    return [
        Redemption(key.entity_id, key.campaign_id, friend)
        for key in consumed
        if key.entity == REFERRAL_ENTITY and key.action == "setDiscountEffect"
    ]


def redemption_writes(
    table: str,
    application_id: int,
    consumed: Mapping[CounterKey, Decimal],
    read: Read,
    friend: str | None,
    now: datetime,
) -> list[committer.Write]:
    """The friend marked referred in the campaign (once), the code's use counted within its limit, the friend
    entered among those it referred: in the close's transaction."""
    writes: list[committer.Write] = []
    for redemption in redeemed(consumed, friend):
        referral = read.referrals[redemption.code]
        writes += items.redeem(table, application_id, referral, redemption.friend_integration_id, now)
    return writes


def give_back_writes(
    table: str, application_id: int, consumed: Mapping[CounterKey, Decimal], read: Read, friend: str | None
) -> list[committer.Write]:
    writes: list[committer.Write] = []
    for redemption in redeemed(consumed, friend):
        referral = read.referrals.get(redemption.code)
        writes += items.give_back(table, application_id, redemption, referral=referral, friend=read.friend)
    return writes
