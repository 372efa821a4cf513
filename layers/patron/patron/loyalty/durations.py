"""Talon.One's durations of loyalty points (`defaultValidity`, `defaultPending`, an effect's validity): an integer
and a unit, `s m h D W M Y`, optionally rounded: `_D` after days (to the start of that day), `_U` after days,
weeks, months and years (to the end of that day, week, month or year). Calendar units and rounding follow the
program's timezone; "the end of a day" is the next day's first instant, when the points stop counting (a lot
is active for `start <= t < expiry`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

UNLIMITED = "unlimited"
IMMEDIATE = "immediate"
ON_ACTION = "on_action"

_PATTERN = re.compile(r"^([1-9][0-9]{0,5})([smhDWMY])(_[DU])?$")
_ROUNDABLE = {"_D": "D", "_U": "DWMY"}
MAX_YEARS = 100  # a duration never reaches beyond this many years (datetime's range, and sense)


class Duration(msgspec.Struct, frozen=True):
    amount: int
    unit: str  # s m h D W M Y
    rounding: str | None = None  # "_D" (down) or "_U" (up)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}{self.rounding or ''}"

    def after(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """The instant this long after `instant` (aware), rounded as asked, in UTC."""
        local = instant.astimezone(zone)
        match self.unit:
            case "s" | "m" | "h":
                seconds = {"s": 1, "m": 60, "h": 3600}[self.unit] * self.amount
                return (instant + timedelta(seconds=seconds)).astimezone(UTC)
            case "D" | "W":
                days = self.amount * (7 if self.unit == "W" else 1)
                moved = _wall(local.replace(tzinfo=None) + timedelta(days=days), zone)
            case _:
                months = self.amount * (12 if self.unit == "Y" else 1)
                moved = _wall(_add_months(local.replace(tzinfo=None), months), zone)
        if self.rounding is not None:
            moved = _rounded(moved, self.unit, self.rounding == "_U", zone)
        return moved.astimezone(UTC)


def parse(text: str) -> Duration:
    """A duration, or ValueError saying what is accepted."""
    found = _PATTERN.match(text)
    if found is None:
        raise ValueError(
            f"{text!r} is not a duration: an integer from 1 and a unit (s, m, h, D, W, M, Y), optionally rounded "
            "(_D after D; _U after D, W, M or Y), e.g. 365D, 12M_U"
        )
    amount, unit, rounding = int(found[1]), found[2], found[3]
    if rounding is not None and unit not in _ROUNDABLE[rounding]:
        raise ValueError(f"{text!r}: {rounding} rounds only {', '.join(_ROUNDABLE[rounding])}")
    if _in_years(amount, unit) > MAX_YEARS:
        raise ValueError(f"{text!r} reaches beyond {MAX_YEARS} years")
    return Duration(amount, unit, rounding)


def _in_years(amount: int, unit: str) -> float:
    per_year = {"s": 31_536_000, "m": 525_600, "h": 8760, "D": 365, "W": 52, "M": 12, "Y": 1}
    return amount / per_year[unit]


def _wall(naive: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time as an aware instant (a time skipped by a DST change moves forward, as zoneinfo does)."""
    return naive.replace(tzinfo=zone)


def _add_months(naive: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1M = 28/29 Feb)."""
    index = naive.month - 1 + months
    year, month = naive.year + index // 12, index % 12 + 1
    last = (datetime(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return naive.replace(year=year, month=month, day=min(naive.day, last))


def _rounded(moved: datetime, unit: str, up: bool, zone: ZoneInfo) -> datetime:
    """The start of `moved`'s day (down), or the first instant after its day, week (Monday-based), month or
    year (up), in the zone's wall time."""
    day = moved.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if not up:
        return _wall(day, zone)
    match unit:
        case "D":
            end = day + timedelta(days=1)
        case "W":
            end = day + timedelta(days=7 - day.weekday())
        case "M":
            end = _add_months(day.replace(day=1), 1)
        case _:
            end = day.replace(year=day.year + 1, month=1, day=1)
    return _wall(end, zone)
