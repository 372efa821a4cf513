"""A member's ledger as it was at a past instant, replayed from its entries (a balance asked at an `endDate`
before the ledger's last change): each entry created by then applied in time order with the ledger's own
functions, then the ledger advanced to the instant.

The entries hold what each change did: an addition's lot (amount, start, expiry; an activated lot's entry holds
its activation as its start), a spending's amount (drawn again, soonest-expiring first, from the same lots, so
the same draws), a give-back's spending, a rollback's amount and the addition it undoes. Two things are not in
them and are approximated: the order of entries written at one instant (one close's earnings and spendings:
additions are replayed first), and a merge (the absorbed profile's entries replay as if they had always been the
member's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from patron.loyalty.items import Entry
from patron.loyalty.ledger import Ledger, Lot, ReturnPolicy, advance, earn, give_back, revoke, spend
from patron.loyalty.tiers import carried
from patron.promotions.definitions import LoyaltyProgram


def ledger_at(entries: Sequence[Entry], at: datetime, program: LoyaltyProgram) -> Ledger:
    """The ledger at `at` (tier included), from the member's entries (any order)."""
    ordered = sorted(
        (entry for entry in entries if entry.created <= at),
        key=lambda entry: (entry.created, entry.kind != "addition", entry.transaction_id),
    )
    spendings = {entry.transaction_id: entry for entry in entries if entry.kind == "subtraction"}
    ledger = Ledger(as_of=ordered[0].created if ordered else at)
    for entry in ordered:
        ledger = carried(ledger, _applied(ledger, entry, spendings), program, entry.created)
    return carried(ledger, advance(ledger, at), program, at)


def _applied(ledger: Ledger, entry: Entry, spendings: dict[str, Entry]) -> Ledger:
    at, subledger = entry.created, entry.subledger
    if entry.amount <= 0:
        return advance(ledger, at)
    if entry.kind == "addition":
        undone = spendings.get(entry.rolls_back) if entry.rolls_back is not None else None
        if undone is not None:  # a spending given back
            return give_back(ledger, subledger, undone.transaction_id, undone.draws, undone.into_debt, at)
        return earn(ledger, subledger, Lot(entry.transaction_id, entry.amount, entry.starts, entry.expires), at)
    if entry.rolls_back is not None and not entry.draws:  # an addition rolled back: its own lot first
        return revoke(ledger, subledger, entry.rolls_back, entry.amount, at, ReturnPolicy.UNLIMITED)[0]
    return spend(ledger, subledger, entry.amount, at, allow_negative=True).ledger
