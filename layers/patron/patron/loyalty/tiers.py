"""A member's tier in a program, as a pure function of its ledger's history (Talon.One's tiers, docs/loyalty.md).

Basic tiers (no `tiersExpireIn`): the member is in the highest tier its active balance reaches, moving up and
down as the balance does. Advanced tiers (`tiersExpireIn`): a member moves up as soon as its active balance
reaches a higher tier, and keeps its tier until the tier expires, whatever the balance does meanwhile; at the
expiry the tier is reevaluated by the downgrade policy (`one_down`: stays if the balance still reaches it, else
one tier down; `balance_based`: the tier the balance reaches), and the tier kept or reached expires again
`tiersExpireIn` later (`tier_start_date`), or at the next cycle boundary (`absolute_expiration`).

The state (`TierState`) is stored with the ledger, as of the ledger's instant. `carried` brings it from the ledger
before a change to the ledger after it, stepping through every instant in between where the active balance can
change (a lot starting or expiring) or the tier expires: so a tier is exact whenever it is read, whether the
scheduled job ran or not. Tiers apply to the main ledger only, as Talon.One's do."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from patron.loyalty.durations import Duration
from patron.loyalty.durations import parse as parse_duration
from patron.loyalty.ledger import Ledger, TierState, advance
from patron.loyalty.program import zone_of

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from patron.promotions.definitions import LoyaltyProgram

MAIN = ""  # tiers follow the main ledger
_MAX_CYCLES = 100_000  # cycle boundaries stepped to find the next one (a 1h cycle over eleven years)


class Tiering(msgspec.Struct, frozen=True):
    """What a program's definition says about tiers."""

    names: tuple[str, ...]  # ascending
    minimums: tuple[Decimal, ...]
    expire_in: Duration | None  # None: basic tiers
    downgrade: str  # one_down | balance_based
    policy: str  # tier_start_date | absolute_expiration
    cycle_start: datetime | None
    zone: ZoneInfo

    def rank(self, name: str | None) -> int:
        """The tier's position (0: lowest); -1 for none, or a tier the program no longer has."""
        return self.names.index(name) if name in self.names else -1

    def reached(self, active: Decimal) -> int:
        rank = -1
        for index, minimum in enumerate(self.minimums):
            if active >= minimum:
                rank = index
        return rank

    def expiry_from(self, at: datetime) -> datetime | None:
        """When a tier entered (or kept) at `at` is reevaluated."""
        if self.expire_in is None:
            return None
        if self.policy == "absolute_expiration" and self.cycle_start is not None:
            boundary = self.cycle_start
            for _ in range(_MAX_CYCLES):
                if boundary > at:
                    return boundary
                boundary = self.expire_in.after(boundary, self.zone)
        return self.expire_in.after(at, self.zone)


def tiering_of(program: LoyaltyProgram) -> Tiering:
    return Tiering(
        names=tuple(tier.name for tier in program.tiers),
        minimums=tuple(tier.min_points for tier in program.tiers),
        expire_in=parse_duration(program.tiers_expire_in) if program.tiers_expire_in else None,
        downgrade=str(program.tiers_downgrade_policy),
        policy=program.tiers_expiration_policy,
        cycle_start=program.tier_cycle_start_date,
        zone=zone_of(program.timezone),
    )


def step(state: TierState | None, active: Decimal, at: datetime, tiering: Tiering) -> TierState | None:
    """The tier at `at`, the member's active balance being `active` there, and `state` the tier just before."""
    if not tiering.names:
        return None
    reached = tiering.reached(active)
    current = tiering.rank(state.name) if state is not None else -1
    if tiering.expire_in is not None and state is not None and state.expires is None:
        state = msgspec.structs.replace(state, expires=tiering.expiry_from(state.since))  # tiers became advanced
    held = state is not None and current >= 0 and (state.given or tiering.expire_in is not None)
    if state is not None and state.expires is not None and at >= state.expires:  # reevaluation
        held = False
        if tiering.expire_in is None:
            state, current = None, -1  # a given tier's end: the balance decides again
        else:
            kept = reached if tiering.downgrade == "balance_based" or reached >= current else current - 1
            if kept < 0:
                state, current = None, -1
            elif kept == current:
                state = TierState(tiering.names[kept], state.since, tiering.expiry_from(at))
                held = True
            else:
                state, current = TierState(tiering.names[kept], at, tiering.expiry_from(at)), kept
                held = True
    if reached > current:
        return TierState(tiering.names[reached], at, tiering.expiry_from(at))
    if held or (state is not None and reached == current):
        return state
    return TierState(tiering.names[reached], at) if reached >= 0 else None


def carried(before: Ledger, after: Ledger, program: LoyaltyProgram | None, at: datetime) -> Ledger:
    """`after` (the ledger once changed at `at`) with the tier carried from `before` (the ledger as stored): the
    tier moved through each instant between them where it can change. A tier `after` holds of its own (`given`
    at `at`) is kept as the tier at `at`. A program no longer live keeps the tier as it is."""
    if program is None:
        return after
    tiering = tiering_of(program)
    state = after.tier if after.tier != before.tier else tier_at(before, tiering, at)
    state = step(state, after.balance(MAIN).active_points(at), at, tiering)
    return after if after.tier == state else msgspec.structs.replace(after, tier=state)


def tier_at(ledger: Ledger, tiering: Tiering, at: datetime) -> TierState | None:
    """The tier just before `at` (not counting a change at `at`): stepped from the ledger's instant through every
    lot start, lot expiry and tier expiry before `at`."""
    state, now = ledger.tier, ledger.as_of
    if not tiering.names:
        return None
    balance = ledger.balance(MAIN)
    if state is None:  # none stored (an empty ledger, or one stored before tiers were kept): the tier of then
        state = step(None, balance.active_points(now), now, tiering)
    instants = sorted(
        {
            instant
            for lot in balance.lots
            for instant in (lot.starts, lot.expires)
            if instant is not None and now < instant < at
        }
    )
    pending = iter(instants)
    upcoming = next(pending, None)
    while True:
        expiry = state.expires if state is not None else None
        if expiry is not None and expiry <= now:
            expiry = now  # stored before its own expiry was stepped: reevaluate at once
        candidates = [one for one in (upcoming, expiry) if one is not None and one < at]
        if not candidates:
            return state
        now = min(candidates)
        state = step(state, advance(ledger, now).balance(MAIN).active_points(now), now, tiering)
        while upcoming is not None and upcoming <= now:
            upcoming = next(pending, None)


def given(
    stored: Ledger, ledger: Ledger, program: LoyaltyProgram, tier: str, expires_in: str | None, at: datetime
) -> tuple[Ledger, TierState | None] | None:
    """`ledger` (changed at `at` from `stored`) with the member moved up to `tier` by a rule
    (`changeLoyaltyTierLevel`), held until `expires_in` from `at` (default: the program's tier expiry; under basic
    tiers, for good unless the balance reaches higher). None when the member is already in that tier or higher;
    else the ledger and the tier before."""
    tiering = tiering_of(program)
    current = carried(stored, ledger, program, at)
    before = current.tier
    if tiering.rank(tier) <= tiering.rank(before.name if before is not None else None):
        return None
    expires = parse_duration(expires_in).after(at, tiering.zone) if expires_in else tiering.expiry_from(at)
    return msgspec.structs.replace(current, tier=TierState(tier, at, expires, given=True)), before


class Projection(msgspec.Struct, frozen=True):
    """The tier a member is projected to have when its current tier expires (`includeProjectedTier`)."""

    active_points: Decimal  # the active balance then
    tier: str | None
    stay_points: Decimal | None  # what the member lacks to keep its tier, when it is projected to go down


def projected(ledger: Ledger, state: TierState | None, program: LoyaltyProgram) -> Projection | None:
    """`ledger` and `state` as of now; None when the tier does not expire (basic tiers, or no tier)."""
    if state is None or state.expires is None:
        return None
    tiering = tiering_of(program)
    then = advance(ledger, state.expires)
    active = then.balance(MAIN).active_points(state.expires)
    after = step(state, active, state.expires, tiering)
    name = after.name if after is not None else None
    current = tiering.rank(state.name)
    stay = None
    if tiering.rank(name) < current and current >= 0:
        stay = max(tiering.minimums[current] - active, Decimal(0))
    return Projection(active, name, stay)
