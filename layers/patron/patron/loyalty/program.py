"""What a program's definition means for the points it adds and the tiers it gives (docs/loyalty.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from patron.loyalty.durations import IMMEDIATE, ON_ACTION, UNLIMITED
from patron.loyalty.durations import parse as parse_duration

if TYPE_CHECKING:
    from patron.loyalty.ledger import Ledger
    from patron.promotions.definitions import LoyaltyProgram, LoyaltyTier

POINTS = Decimal("0.01")  # points have two decimals, as Talon.One's
MAX_POINTS = Decimal("999999999999.99")


def check_program(program: LoyaltyProgram) -> None:
    """ValueError naming what is wrong: a duration, the timezone, the tiers or the subledgers."""
    check_pending(program.default_pending, "defaultPending")
    check_validity(program.default_validity, "defaultValidity")
    zone_of(program.timezone)
    names = [tier.name for tier in program.tiers]
    if len(set(names)) != len(names):
        raise ValueError("tiers: each tier has its own name")
    minimums = [tier.min_points for tier in program.tiers]
    if any(not minimum.is_finite() or minimum < 0 or minimum > MAX_POINTS for minimum in minimums):
        raise ValueError("tiers: minPoints is a number of points from 0")
    if minimums != sorted(minimums) or len(set(minimums)) != len(minimums):
        raise ValueError("tiers: list them by ascending, distinct minPoints")
    if len(set(program.subledgers)) != len(program.subledgers):
        raise ValueError("subledgers: each subledger is named once")
    _check_tier_expiry(program)


def _check_tier_expiry(program: LoyaltyProgram) -> None:
    if program.tiers_expire_in is not None:
        _duration(program.tiers_expire_in, "tiersExpireIn", "a duration")
    absolute = program.tiers_expiration_policy == "absolute_expiration"
    if absolute and (program.tiers_expire_in is None or program.tier_cycle_start_date is None):
        raise ValueError("tiersExpirationPolicy: absolute_expiration needs tiersExpireIn and tierCycleStartDate")
    start = program.tier_cycle_start_date
    if start is not None and (start.tzinfo is None or not absolute):
        raise ValueError("tierCycleStartDate: an RFC 3339 instant with its offset, for absolute_expiration only")


def check_pending(text: str, field: str) -> None:
    if text not in (IMMEDIATE, ON_ACTION):
        _duration(text, field, f"{IMMEDIATE!r}, {ON_ACTION!r} or a duration")


def check_validity(text: str, field: str) -> None:
    if text != UNLIMITED:
        _duration(text, field, f"{UNLIMITED!r} or a duration")


def _duration(text: str, field: str, accepted: str) -> None:
    try:
        parse_duration(text)
    except ValueError as error:
        raise ValueError(f"{field}: {accepted}; {error}") from None


@cache
def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: {name!r} is not an IANA timezone") from None


def points(value: Decimal) -> Decimal:
    """A points value as stored and answered: two decimals, rounded down (a member never gets a fraction more)."""
    return value.quantize(POINTS, rounding=ROUND_DOWN)


def lot_dates(
    pending: str, validity: str, now: datetime, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None, str | None]:
    """(starts, expires, validity kept for activation) of points added now: starting now, after the pending
    duration, or at an action (None, their validity applied from the activation)."""
    if pending == ON_ACTION:
        return None, None, None if validity == UNLIMITED else validity
    starts = now if pending == IMMEDIATE else parse_duration(pending).after(now, zone)
    expires = None if validity == UNLIMITED else parse_duration(validity).after(starts, zone)
    return starts, expires, None


def tier_of(tiers: list[LoyaltyTier], active: Decimal) -> LoyaltyTier | None:
    """The highest tier whose minimum the active balance reaches (tiers ascend by minimum)."""
    reached = None
    for tier in tiers:
        if active >= tier.min_points:
            reached = tier
    return reached


def join_date(program: LoyaltyProgram, joined: str | None, ledger: Ledger, now: datetime) -> str | None:
    """When the member joined the program (ISO), as its `programJoinPolicy` says, after a change at `now`:
    `points_earned` at its first earning, `points_activated` when its first points became (or will become) active;
    never under `not_join`. A join date once set stays."""
    if joined is not None or program.join_policy == "not_join":
        return joined
    balances = ledger.subledgers.values()
    if program.join_policy == "points_earned":
        return now.isoformat() if any(balance.earned > 0 for balance in balances) else None
    if any(balance.spent > 0 or balance.expired > 0 for balance in balances):
        return now.isoformat()  # points were active (spent or expired since): joined no later than now
    starts = [lot.starts for balance in balances for lot in balance.lots if lot.starts is not None]
    return min(starts).isoformat() if starts else None


def joined_by(joined: str | None, at: datetime) -> str | None:
    """The join date as answered at `at`: a join still to come (pending points' start) is not answered yet."""
    return joined if joined is not None and datetime.fromisoformat(joined) <= at else None
