"""When a ledger next needs the scheduled job (pure: no I/O, no clock). The ledger item carries the answers as two
sparse index keys (`patron.loyalty.items`), so the job Queries what is due instead of scanning:

* `next_change`: the earliest instant after the ledger's `as_of` where a lot starts or expires, i.e. where
  `ledger.advance` would change something. The job advances the ledger to its run instant and stores it.
* `next_notice`: the earliest expiry among the lots with an expiry whose "expiring soon" notice was not sent yet.
  The notice is due N days before it (`LOYALTY_EXPIRY_NOTICE_DAYS`, known only to the job, so the index holds the
  expiry and the job Queries it up to now + N days).

Tier expiry (tier policies) adds its instant to `next_change` here, and only here."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime, timedelta

from patron.loyalty.ledger import Ledger, Lot


def next_change(ledger: Ledger) -> datetime | None:
    """The earliest lot start or expiry, or tier expiry (its reevaluation), after `ledger.as_of`; None when nothing
    will ever happen by time."""
    instants = [
        moment
        for balance in ledger.subledgers.values()
        for lot in balance.lots
        for moment in (lot.starts, lot.expires)
        if moment is not None and moment > ledger.as_of
    ]
    if ledger.tier is not None and ledger.tier.expires is not None and ledger.tier.expires > ledger.as_of:
        instants.append(ledger.tier.expires)
    return min(instants, default=None)


def next_notice(ledger: Ledger, noticed: Collection[str]) -> datetime | None:
    """The earliest expiry of a lot not noticed yet (possibly before `as_of`: the notice is then due at once)."""
    return min((lot.expires for _, lot in _unnoticed(ledger, noticed) if lot.expires is not None), default=None)


def notices(ledger: Ledger, noticed: Collection[str], at: datetime, window: timedelta) -> list[tuple[str, Lot]]:
    """(subledger, lot) of the lots expiring within `window` after `at` (not expired yet) whose notice is not sent:
    the ones to notice now. `ledger` is advanced to `at` already."""
    if window <= timedelta(0):
        return []
    return [
        (name, lot)
        for name, lot in _unnoticed(ledger, noticed)
        if lot.expires is not None and at < lot.expires <= at + window
    ]


def still_noticed(ledger: Ledger, noticed: Collection[str]) -> tuple[str, ...]:
    """The noticed lots still open (a lot gone from the ledger needs no memory of its notice), sorted."""
    open_lots = {lot.id for balance in ledger.subledgers.values() for lot in balance.lots}
    return tuple(sorted(open_lots.intersection(noticed)))


def _unnoticed(ledger: Ledger, noticed: Collection[str]) -> Iterator[tuple[str, Lot]]:
    for name, balance in sorted(ledger.subledgers.items()):
        for lot in balance.lots:
            if lot.expires is not None and lot.id not in noticed:
                yield name, lot
