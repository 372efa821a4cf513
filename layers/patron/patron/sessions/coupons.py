"""The coupons of a session call: which items its read needs, what each presented code is worth to the engine
(checked by patron.coupons.validation), and the writes that redeem accepted coupons at close and give them back on
cancel and reopen (docs/coupons.md).

What an evaluation took of a coupon is named by `coupon_usage_key` / `coupon_discount_key` (entity `Coupon`) among
its consumption, stored with the closed session like budget counters, but written to the coupon's own item and to
the profile's holding of it (patron.coupons.items), never to a budget counter.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import msgspec

from patron.coupons import holds, items
from patron.coupons.holds import NO_HOLDS
from patron.coupons.model import Coupon, normalise_code
from patron.coupons.validation import NO_HOLDING, rejection
from patron.dynamo import committer
from patron.profiles.model import new_profile_id
from patron.promotions.budgets import COUPON_ENTITY, OWN_CODES, CounterKey, coupon_discount_key
from patron.promotions.effects import CouponCreatedProps, Effect, ReserveCouponProps
from patron.promotions.evaluator import Evaluation
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
    return lacking(codes_to_read(codes), holder, read.holder_read, read.coupons_read)


def lacking(
    wanted: frozenset[str], holder: str | None, read_for: str | None, already_read: frozenset[str]
) -> frozenset[str]:
    """The stored forms (coupons', or a referral code's) a decision needs and a read made for the holder `read_for`
    lacks: all of them when `holder` is another, whose holdings (friend record) were not read."""
    if holder is not None and read_for != holder:
        return wanted
    return wanted - already_read


def campaign_running(
    ruleset: CompiledRuleset,
    campaign_id: int,
    kind: Literal["coupon", "referral"],
    now: datetime,
    only: frozenset[int] | None,
) -> bool:
    """Whether a code's campaign is one this call evaluates: in the live ruleset with the code's feature, enabled
    (or, `only` given, named there) and inside its schedule."""
    indexed = ruleset.campaigns.get(campaign_id)
    if indexed is None:
        return False
    featured = indexed.campaign.coupons if kind == "coupon" else indexed.campaign.referrals
    evaluable = indexed.enabled if only is None else campaign_id in only
    return featured and evaluable and indexed.campaign.running(now)


def presented(
    ruleset: CompiledRuleset,
    codes: Sequence[str],
    read: Read,
    profile_id: str | None,
    now: datetime,
    only: frozenset[int] | None,
    session_id: str | None = None,
) -> list[PresentedCoupon]:
    """Each code as the engine sees it: a valid coupon, or the reason its check refused it (the uses other
    sessions hold count as taken)."""
    sensitive = ruleset.ruleset.settings.case_sensitive_codes
    answered: list[PresentedCoupon] = []
    for code in codes:
        if not code:
            continue
        stored = normalise_code(code, sensitive)
        coupon = read.coupons.get(stored)
        running = coupon is not None and campaign_running(ruleset, coupon.campaign_id, "coupon", now, only)
        holding = read.holdings.get(stored, NO_HOLDING)
        checked = coupon
        held = read.coupon_holds.get(stored, NO_HOLDS).others(now, session_id) if coupon is not None else 0
        if coupon is not None and held:
            checked = msgspec.structs.replace(coupon, usage_counter=coupon.usage_counter + held)
        refused = rejection(checked, now=now, profile_id=profile_id, campaign_running=running, holding=holding)
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
            reserved=holding.reserved,
            reservations_left=coupon.reservations_left,
        )
        answered.append(PresentedCoupon(coupon.value, facts))
    return answered


def named(codes: Sequence[str], read: Read, ruleset: CompiledRuleset | None) -> list[Coupon]:
    """The coupons the session's codes name, in their order (the `coupons` response content), as read: before
    this call's redemption."""
    sensitive = ruleset.ruleset.settings.case_sensitive_codes if ruleset is not None else True
    found = [read.coupons.get(normalise_code(code, sensitive)) for code in dict.fromkeys(codes) if code]
    return [coupon for coupon in found if coupon is not None]


_CREATED_ALPHABET = string.ascii_uppercase + string.digits
_CREATED_LENGTH = 8  # 36^8 = 2.8e12 codes: a draw that meets a taken code fails the close, which decides again


def draw_code(prefix: str, case_sensitive: bool) -> str:
    """A code a rule creates at close (a coupon, a referral): `prefix` and 8 random characters of [A-Z0-9], stored
    as the application stores codes. Not the batch generator (patron.coupons.codes): the sessions function keeps it
    out of its cold start, and one code needs no permutation."""
    drawn = prefix + "".join(secrets.choice(_CREATED_ALPHABET) for _ in range(_CREATED_LENGTH))
    return normalise_code(drawn, case_sensitive)


def created(
    table: str,
    application_id: int,
    evaluation: Evaluation,
    effects: Sequence[Effect],
    now: datetime,
    case_sensitive: bool = True,
) -> tuple[list[Coupon], list[committer.Write], list[Effect]]:
    """The coupons a close's `createCoupon` effects make (codes drawn here, not in the pure evaluation; upper-cased
    as a case-insensitive application stores codes), the writes that create them (each code only if free, with its
    recipient's holding; a coupon its rule's `reserveCoupon` reserved is Put reserved: counted, its holding marked,
    its reservation entry written, as `items.reserve` would, in one write per item), and `effects` with their codes:
    each `couponCreated`'s, and each `reserveCoupon` of a created coupon (`couponValue` empty) gets the code of the
    `couponCreated` before it (its rule's)."""
    made: list[Coupon] = []
    writes: list[committer.Write] = []
    for request in evaluation.coupons_to_create:
        coupon = Coupon(
            value=draw_code(request.prefix, case_sensitive),
            campaign_id=request.campaign_id,
            id=new_profile_id(),
            created=now,
            usage_limit=request.usage_limit,
            discount_limit=request.discount_limit,
            reservation_counter=1 if request.reserved else 0,
            expiry_date=now + timedelta(days=request.valid_days) if request.valid_days else None,
            recipient_integration_id=request.profile_id,
            attributes=dict(request.attributes),
        )
        made.append(coupon)
        item = items.coupon_item(application_id, coupon)
        writes.append(committer.put(table, item, condition="attribute_not_exists(PK)", failed=items.CouponChangedError))
        reserved_at = now if request.reserved else None
        writes.append(committer.put(table, items.recipient_holding_item(application_id, coupon, reserved_at)))
        if request.reserved:
            entry = items.reservation_entry_item(application_id, coupon.value, request.profile_id, now)
            writes.append(committer.put(table, entry))
    codes = iter(made)
    filled: list[Effect] = []
    code = ""
    for effect in effects:
        props = effect.props
        if isinstance(props, CouponCreatedProps):
            code = next(codes).value
            effect = msgspec.structs.replace(effect, props=msgspec.structs.replace(props, value=code))
        elif isinstance(props, ReserveCouponProps) and not props.coupon_value:
            effect = msgspec.structs.replace(effect, props=msgspec.structs.replace(props, coupon_value=code))
        filled.append(effect)
    return made, writes, filled


def redeemed(consumed: Mapping[CounterKey, Decimal]) -> dict[str, Decimal]:
    """The coupons a close redeemed (their stored codes) and the discount each gave."""
    return {
        key.entity_id: consumed.get(coupon_discount_key(key.campaign_id, key.entity_id), ZERO)
        for key in consumed
        if key.entity == COUPON_ENTITY and key.action == "setDiscountEffect"
    }


def budget_part(consumed: Mapping[CounterKey, Decimal]) -> dict[CounterKey, Decimal]:
    """What the budget counters took (the rest is the coupons')."""
    return {key: amount for key, amount in consumed.items() if key.entity not in OWN_CODES}


def redemption_writes(
    table: str,
    application_id: int,
    consumed: Mapping[CounterKey, Decimal],
    read: Read,
    holder: str | None,
    session_id: str,
    now: datetime,
    holds_on: bool = False,
    reserving: AbstractSet[str] = frozenset(),
) -> list[committer.Write]:
    """One conditional update per redeemed coupon (its uses and discount within its limits; the session's hold
    becomes the use, other sessions' holds are respected), one of the holder's redemptions of it (within a
    per-profile limit), and the release of the session's holds of coupons it does not redeem. `holds_on`: the
    application holds uses, so a limited coupon's redemption also waits for holds taken meanwhile.

    `reserving`: the coupons (stored codes) the close's `reserveCoupon` effects reserve for the holder. A coupon on
    scope is one its rule accepted, so the close redeems it: the reservation joins the redemption's updates of the
    coupon and the holding (a transaction writes an item once), with `items.reserve`'s conditions: within the
    reservation limit, not reserved by the holder meanwhile (either failing: decide again)."""
    writes: list[committer.Write] = []
    taken = redeemed(consumed)
    for code, discount in sorted(taken.items()):
        coupon: Coupon = read.coupons[code]
        coupon_holds = read.coupon_holds.get(code, NO_HOLDS)
        reserve = holder is not None and code in reserving
        if coupon_holds.until or (holds_on and coupon.usage_limit):
            writes.append(
                holds.redeem_held(
                    table, application_id, coupon, discount, coupon_holds, session_id, now, reserve=reserve
                )
            )
        else:
            writes.append(items.redeem(table, application_id, coupon, discount, reserve=reserve))
        if holder is not None:
            reserved_at = now if reserve else None
            writes.append(items.redeem_for_profile(table, application_id, coupon, holder, reserved_at=reserved_at))
        if holder is not None and reserve:
            writes.append(committer.put(table, items.reservation_entry_item(application_id, code, holder, now)))
    return writes + release_writes(table, application_id, read, session_id, now, keep=set(taken))


def reserved(evaluation: Evaluation, profile_id: str | None) -> frozenset[str]:
    """The presented coupons a close's `reserveCoupon` effects newly reserve for the session's profile."""
    return frozenset(r.code for r in evaluation.coupons_to_reserve if r.profile_id == profile_id)


def hold_writes(
    table: str,
    application_id: int,
    ruleset: CompiledRuleset,
    accepted: Iterable[str],
    read: Read,
    session_id: str,
    now: datetime,
) -> list[committer.Write]:
    """An open session's update: a hold (renewed) of each accepted coupon with limited uses, when the application
    holds uses at all; the session's other holds released."""
    seconds = ruleset.ruleset.settings.coupon_hold_seconds
    writes: list[committer.Write] = []
    kept: set[str] = set()
    for code in sorted(set(accepted)):
        coupon = read.coupons.get(code)
        if seconds and coupon is not None and coupon.usage_limit:
            until = now + timedelta(seconds=seconds)
            coupon_holds = read.coupon_holds.get(code, NO_HOLDS)
            writes.append(holds.hold(table, application_id, coupon, coupon_holds, session_id, until, now))
            kept.add(code)
    return writes + release_writes(table, application_id, read, session_id, now, keep=kept)


def release_writes(
    table: str, application_id: int, read: Read, session_id: str, now: datetime, keep: AbstractSet[str] = frozenset()
) -> list[committer.Write]:
    """The session's holds released, but those of `keep`."""
    return [
        holds.release(table, application_id, code, coupon_holds, session_id, now)
        for code, coupon_holds in sorted(read.coupon_holds.items())
        if code not in keep and coupon_holds.held_by(session_id)
    ]


def give_back_writes(
    table: str, application_id: int, consumed: Mapping[CounterKey, Decimal], read: Read, holder: str | None
) -> list[committer.Write]:
    """What a close redeemed, given back (cancel, reopen); a coupon deleted since is left alone, and so is a
    holding that no longer counts the redemption (its profile merged into another, or erased, since the close: the
    count moved with it or went)."""
    writes: list[committer.Write] = []
    for code, discount in sorted(redeemed(consumed).items()):
        if code not in read.coupons:
            continue
        writes.append(items.give_back(table, application_id, code, discount))
        if holder is not None and read.holdings.get(code, NO_HOLDING).used >= 1:
            writes.append(items.give_back_for_profile(table, application_id, code, holder))
    return writes
