"""Time as the domain reads it: one place to format timestamps, and a seam for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, e.g. 2026-11-22T09:04:41.123Z (sorts as text)."""
    # isoformat rather than strftime: 1.2 µs against 2.1, on a path an import takes twice per order.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"


# Years a business date can have: four digits sort as text, and the edges cannot overflow on conversion to UTC.
_FIRST_YEAR, _LAST_YEAR = 1900, 2999


def normalise_timestamp(raw: str) -> str | None:
    """ISO-8601 date or date-time, any offset; naive times are read as UTC. Returns the UTC form we sort by,
    or None for anything else (including years outside 1900-2999)."""
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if not _FIRST_YEAR <= moment.year <= _LAST_YEAR:
        return None
    return iso(moment)
