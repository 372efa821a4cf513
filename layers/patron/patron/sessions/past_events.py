"""What the rule function `eventCount` reads of a customer's past events, for sessions and events alike: the count
items (patron.events.counts) of the event types the live ruleset counts, read in the call's one batch."""

from __future__ import annotations

from datetime import date

from patron.events import counts
from patron.promotions.ruleset import CompiledRuleset
from patron.sessions.store import Read


def predicted(ruleset: CompiledRuleset | None, profile_id: str | None, also: str | None = None) -> frozenset[str]:
    """The count items to read with the first read: the types the ruleset last seen counts (and `also`: an event's
    own type, whose item its write prunes)."""
    if profile_id is None:
        return frozenset()
    wanted = set(ruleset.event_counts_read) if ruleset is not None else set()
    if also is not None:
        wanted.add(also)
    return frozenset(wanted)


def missing(
    ruleset: CompiledRuleset | None, read: Read, profile_id: str | None, also: str | None = None
) -> frozenset[str]:
    """The count items of the customer the read lacks (an anonymous call has none)."""
    return read.lacks_event_counts(profile_id, predicted(ruleset, profile_id, also) if profile_id else frozenset())


def counted(
    ruleset: CompiledRuleset, read: Read, profile_id: str | None, plus: tuple[str, date] | None = None
) -> dict[str, dict[date, int]] | None:
    """The customer's events by type and UTC day, of the types the ruleset counts; `plus`: the event being tracked
    (type, day), which its own transaction stores, so it counts. None for an anonymous call."""
    if profile_id is None:
        return None
    found = {kind: counts.days_of(read.event_counts.get(kind)) for kind in ruleset.event_counts_read}
    if plus is not None and plus[0] in found:
        by_day = found[plus[0]]
        by_day[plus[1]] = by_day.get(plus[1], 0) + 1
    return found
