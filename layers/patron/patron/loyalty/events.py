"""What a ledger change tells integrations (pure): outbox records (`patron.outbox`) written in the change's own
transaction. Four kinds; payloads name ids and amounts only, never personal data (the record's `customerId` is
the member's integration id, so an erasure finds the records):

  loyalty_balance   the balances of a subledger changed: {programId, subledgerId, version, activePoints,
                    pendingPoints, negativePoints}; entity `<program>#<subledger>#<version>` (one per change)
  loyalty_expiring  a lot expires within the notice window: {programId, subledgerId, transactionUUID, points,
                    expiryDate}; entity `<program>#<lot>`, sent once per lot (the ledger remembers `noticed`)
  loyalty_expired   a lot's points expired: the same payload; entity `<program>#<lot>`
  loyalty_tier      the member's tier changed (`Ledger.tier`, patron.loyalty.tiers): {programId, version,
                    fromTier, toTier}

A card's ledger (card-based programs) is no person's: its records' `customerId` is `card:<identifier>`.

Once per lot: a lot's expiry is materialised by the one conditional write (on the ledger's version) that removes
it from the stored ledger, and that write carries the record; a retry after a failure writes nothing twice, and
a retry of the same change is the same item (keys derive from the change: program, subledger, version, lot)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from patron.clock import iso
from patron.dynamo import committer
from patron.loyalty.items import Card, Holder
from patron.loyalty.ledger import Balance, Ledger, Lot, advance
from patron.outbox.repository import OutboxRecord, record_write

BALANCE = "loyalty_balance"
EXPIRING = "loyalty_expiring"
EXPIRED = "loyalty_expired"
TIER = "loyalty_tier"
KINDS = (BALANCE, EXPIRING, EXPIRED, TIER)
_JUST_BEFORE = timedelta(microseconds=1)


class Change:
    """One stored change of a member's ledger: `before` as stored (read), `after` as it is written."""

    def __init__(
        self, application_id: int, program_id: int, member: Holder, before: Ledger, after: Ledger, version: int
    ) -> None:
        self.application_id, self.program_id = application_id, program_id
        self.member = f"card:{member.identifier}" if isinstance(member, Card) else member
        self.before, self.after, self.version = before, after, version
        # In the record's key: two members' changes of one transaction (a close that also rewards a recipient)
        # have the same versions; a digest, not the id, so the key names nobody.
        self.tag = hashlib.blake2b(self.member.encode(), digest_size=6).hexdigest()

    def record(self, kind: str, entity: str, at: datetime, payload: dict[str, Any]) -> OutboxRecord:
        entity_id = f"{self.program_id}#{self.tag}#{entity}"
        return OutboxRecord(self.application_id, kind, entity_id, self.member, iso(at), payload)


def tier_changed(before: Ledger, after: Ledger) -> tuple[str | None, str | None] | None:
    """(from, to) tier names when the member's tier (`Ledger.tier`, carried by patron.loyalty.tiers) differs after
    the change, else None."""
    was = before.tier.name if before.tier is not None else None
    now = after.tier.name if after.tier is not None else None
    return None if was == now else (was, now)


def expired_lots(before: Ledger, to: datetime) -> list[tuple[str, Lot, Decimal]]:
    """(subledger, lot, points) of the lots of `before` whose expiry comes by `to`, with what of each expired (what
    was left just before its expiry: a lot starting meanwhile may have paid a debt first)."""
    found: list[tuple[str, Lot, Decimal]] = []
    for name, balance in sorted(before.subledgers.items()):
        for lot in balance.lots:
            if lot.expires is None or not before.as_of < lot.expires <= to:
                continue
            just_before = advance(before, lot.expires - _JUST_BEFORE).balance(name)
            left = next((open_lot.remaining for open_lot in just_before.lots if open_lot.id == lot.id), Decimal(0))
            if left > 0:
                found.append((name, lot, left))
    return found


def change_records(change: Change, at: datetime, noticed: Iterable[tuple[str, Lot]] = ()) -> list[OutboxRecord]:
    """The records of one change made at `at`: lots expired since `before`, notices sent, balances changed, tier."""
    records = [
        change.record(EXPIRED, lot.id, at, _lot_payload(change.program_id, name, lot, points))
        for name, lot, points in expired_lots(change.before, change.after.as_of)
    ]
    records += [
        change.record(EXPIRING, lot.id, at, _lot_payload(change.program_id, name, lot, lot.remaining))
        for name, lot in noticed
    ]
    for name in sorted(set(change.before.subledgers) | set(change.after.subledgers)):
        was = _figures(change.before.balance(name), change.before.as_of)
        now = _figures(change.after.balance(name), change.after.as_of)
        if was != now:
            payload: dict[str, Any] = {"programId": change.program_id, "subledgerId": name, "version": change.version}
            payload |= dict(zip(("activePoints", "pendingPoints", "negativePoints"), now, strict=True))
            records.append(change.record(BALANCE, f"{name}#{change.version}", at, payload))
    tiers_moved = tier_changed(change.before, change.after)
    if tiers_moved is not None:
        payload = {"programId": change.program_id, "version": change.version}
        payload |= {"fromTier": tiers_moved[0], "toTier": tiers_moved[1]}
        records.append(change.record(TIER, str(change.version), at, payload))
    return records


def change_writes(
    outbox: tuple[str, int],
    application_id: int,
    program_id: int,
    member: Holder,
    before: Ledger,
    after: Ledger,
    version: int,
    at: datetime,
) -> list[committer.Write]:
    """The outbox writes (`outbox`: table, TTL in seconds) of one member's ledger change, for the change's own
    transaction: a writer other than the job (a management call, an activation) calls this next to
    `items.ledger_writes`; `after` with its tier carried (patron.loyalty.tiers.carried)."""
    change = Change(application_id, program_id, member, before, after, version)
    return [record_write(outbox[0], outbox[1], record) for record in change_records(change, at)]


def _figures(balance: Balance, at: datetime) -> tuple[Decimal, Decimal, Decimal]:
    return balance.active_points(at), balance.pending_points(at), balance.debt


def _lot_payload(program_id: int, subledger: str, lot: Lot, points: Decimal) -> dict[str, Any]:
    return {
        "programId": program_id,
        "subledgerId": subledger,
        "transactionUUID": lot.id,
        "points": points,
        "expiryDate": iso(lot.expires) if lot.expires else None,
    }
