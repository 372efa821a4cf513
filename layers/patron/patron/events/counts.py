"""How many events of a type a customer had in the last N days (`eventCount("review_written", 30)`), kept so that a
session or event call reads the answer in the batch it already makes (docs/events.md, "Counting past events").

One item per (profile, event type) holds a count per UTC day: `d20261204: 3`. Tracking an event adds 1 to its day
with `ADD` (commutative: parallel events of one customer never conflict) and removes the days that fell out of the
longest window (`WINDOW_DAYS`) in the same UpdateItem, so an item holds at most WINDOW_DAYS + 1 buckets (about
5 KB at most, one read unit per 4 KB). The update rides in the event's own transaction, whose event record is
written `attribute_not_exists`: a transaction cancelled or replayed from a stored answer adds nothing.

A window is whole UTC days: `eventCount(t, N)` counts the events of today (UTC) and of the N - 1 days before, up to
the instant asked. Exact, not sampled: every bucket the window covers is in the item.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from patron.dynamo import committer
from patron.events.keys import EXPIRES_AT, count_key

WINDOW_DAYS = 365  # the longest window a rule may ask for; older buckets go at the next write
_BUCKET = "d"


def bucket_name(day: date) -> str:
    return f"{_BUCKET}{day:%Y%m%d}"


def _bucket_day(name: str) -> date | None:
    if len(name) != 9 or not name.startswith(_BUCKET) or not name[1:].isdigit():
        return None
    try:
        return date(int(name[1:5]), int(name[5:7]), int(name[7:9]))
    except ValueError:
        return None


def days_of(item: Mapping[str, Any] | None) -> dict[date, int]:
    """A count item's buckets, by UTC day (none: no event of the type yet)."""
    if item is None:
        return {}
    found: dict[date, int] = {}
    for name, value in item.items():
        day = _bucket_day(name)
        if day is not None:
            found[day] = int(value)
    return found


def within(by_day: Mapping[date, int], today: date, days: int) -> int:
    """The events of the `days` UTC days ending with `today` (today included)."""
    first = today - timedelta(days=days - 1)
    return sum(count for day, count in by_day.items() if first <= day <= today)


def countable(day: date, today: date) -> bool:
    """Whether an event on `day` falls in the longest window as of `today` (a backdated event past it counts for
    no rule, so it adds no bucket)."""
    return today - timedelta(days=WINDOW_DAYS - 1) <= day


def stale(by_day: Mapping[date, int], today: date) -> list[date]:
    """The buckets no window can reach any more as of `today`."""
    first = today - timedelta(days=WINDOW_DAYS - 1)
    return sorted(day for day in by_day if day < first)


def expires_at(today: date) -> int:
    """When the item can go (epoch seconds, DynamoDB TTL): once its newest bucket left the longest window."""
    end = datetime.combine(today + timedelta(days=WINDOW_DAYS + 1), time(), UTC)
    return int(end.timestamp())


def bump(
    table: str,
    application_id: int,
    profile_id: str,
    event_type: str,
    day: date,
    read: Mapping[date, int],
    today: date,
) -> committer.Write:
    """Add one event on `day` to the type's count item, removing the buckets `read` holds that fell out of the
    longest window. Unconditional: ADD commutes with a parallel event's, and a parallel write can only add buckets
    of later days, never one this removes."""
    names = {"#day": bucket_name(day), "#expires": EXPIRES_AT}
    removed = [name for name in (bucket_name(old) for old in stale(read, today)) if name != names["#day"]]
    expression = "ADD #day :one SET #expires = :expires"
    if removed:
        placeholders = [f"#old{index}" for index in range(len(removed))]
        names.update(zip(placeholders, removed, strict=True))
        expression += " REMOVE " + ", ".join(placeholders)
    key = count_key(application_id, profile_id, event_type)
    values = {":one": 1, ":expires": expires_at(max(day, today))}
    return committer.update(table, key, expression, names=names, values=values)
