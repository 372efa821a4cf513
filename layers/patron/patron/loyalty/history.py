"""A member's points, transactions and expirations as the history routes answer them (docs/loyalty.md): pure
functions of the ledger item (the open lots) and the member's entries (one per transaction).

Entries are keyed by transaction id, not by time, so a listing reads them all and sorts them; `MAX_ENTRIES`
bounds that read. What expired of an addition is stored nowhere (a lot leaves the ledger item once empty), so it
is replayed from the entries that touched the lot: the addition, the spendings that drew from it, their give-backs
and the addition's own rollbacks (a return's, a cancel's; each names what it undoes, `rolls_back`). Two changes
leave no trace per lot and are not replayed: a negative balance paid from the lot when it became active, and
another addition's rollback taking from it beyond its own lot (`within_balance`, `unlimited`); after those, the
figure for the lot can be too high (the balance's `expiredPoints` stays exact)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

import msgspec

from patron.loyalty.items import Entry
from patron.loyalty.ledger import ZERO, Ledger, Lot
from patron.loyalty.settle import rollback_id
from patron.loyalty.wire import ExpirationView, PointsView, TransactionFlags, TransactionView

# A member's entries one listing reads at most (~0.4 KB each: 1,000 take ~100 read units, consistently read).
MAX_ENTRIES = 1000
MAX_PAGE = 50
# Talon.One's origins of a transaction: `manual` (the management routes: entries with neither a session nor a
# campaign), `session` (the rule engine: a close, its rollbacks, an event), `import` (nothing imports points yet).
TRANSACTION_TYPES = ("manual", "session", "import")
_NAME = 255  # Talon.One's longest entry name ("Rollback: <name>" can be longer)
_NEVER = datetime.max.replace(tzinfo=UTC)
T = TypeVar("T")


MAX_CHOSEN = 100  # values of customerSessionIDs or transactionUUIDs in one listing
POINTS_SORTS = ("startDate", "-startDate", "expiryDate", "-expiryDate")


class Chosen(msgspec.Struct, frozen=True):
    """Talon.One's `customerSessionIDs` and `transactionUUIDs` filters (None: any)."""

    sessions: frozenset[str] | None = None
    transactions: frozenset[str] | None = None

    def __bool__(self) -> bool:
        return self.sessions is not None or self.transactions is not None

    def keeps(self, transaction: str, session: str | None) -> bool:
        return (self.transactions is None or transaction in self.transactions) and (
            self.sessions is None or session in self.sessions
        )


ANY = Chosen()


class PointsStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    EXPIRED = "expired"


class OpenLot(msgspec.Struct, frozen=True):
    subledger: str
    lot: Lot


class Expired(msgspec.Struct, frozen=True):
    addition: Entry
    amount: Decimal  # what of it expired


def entry_number(transaction_id: str) -> int:
    """Talon.One numbers ledger entries; Patron keys them by transaction id. The number is derived from it:
    stable, and 52 bits, which every JSON client reads exactly."""
    digest = hashlib.blake2b(transaction_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 12


def page(found: Sequence[T], skip: int, size: int) -> tuple[list[T], bool]:
    """The page after `skip` items, and whether more follow."""
    return list(found[skip : skip + size]), len(found) > skip + size


# -- points -------------------------------------------------------------------------------------------------------


def open_lots(ledger: Ledger, active: bool, subledger: str | None, at: datetime) -> list[OpenLot]:
    """The lots active (else pending) at `at`, of one subledger or all (None), from a ledger advanced to `at`.
    Active ones in the order they are spent (soonest expiry first, unlimited last); pending ones in the order
    they start (those awaiting an action last)."""
    found = [
        OpenLot(name, lot)
        for name, balance in ledger.subledgers.items()
        if subledger is None or name == subledger
        for lot in balance.lots
        if (lot.active(at) if active else lot.pending(at))
    ]
    if active:
        return sorted(found, key=lambda o: (o.lot.expires or _NEVER, o.lot.starts or _NEVER, o.subledger, o.lot.id))
    return sorted(found, key=lambda o: (o.lot.starts or _NEVER, o.lot.expires or _NEVER, o.subledger, o.lot.id))


def source_of(lot_id: str, application_id: int) -> str:
    """The transaction whose entry tells a lot's story: the addition that made it or, for points given back after
    they had paid a negative balance (lot `<spending>#repaid`), the spending's rollback."""
    spending, repaid, _ = lot_id.partition("#")
    return rollback_id(application_id, spending) if repaid else lot_id  # only a cancel or reopen gives points back


def lot_view(program_id: int, open_lot: OpenLot, entry: Entry | None, as_of: datetime) -> PointsView:
    """What is left of a lot; `entry` (its source) names it. Without one (the ledger and entries are written in
    one transaction, so never expected) it is dated `as_of`, unnamed."""
    lot = open_lot.lot
    transaction = entry.transaction_id if entry is not None else lot.id
    return PointsView(
        id=entry_number(transaction),
        transaction_uuid=transaction,
        created=_utc(entry.created if entry is not None else as_of),
        program_id=program_id,
        name=_name(entry.name if entry is not None else ""),
        start_date=_date(lot.starts, "on_action"),
        expiry_date=_date(lot.expires, "unlimited"),
        subledger_id=open_lot.subledger,
        amount=lot.remaining,
        customer_session_id=entry.session_id if entry is not None else None,
        validity_duration=lot.validity if lot.starts is None else None,
    )


def sorted_points(
    found: Sequence[T], sort: str | None, dates: Callable[[T], tuple[datetime | None, datetime | None]]
) -> list[T]:
    """Points listed by `sort` (`startDate`, `expiryDate`, `-` first for descending; None: as given). A start
    awaiting an action and an expiry that never comes sort after every date."""
    if sort is None:
        return list(found)
    field = 0 if sort.lstrip("-") == "startDate" else 1
    return sorted(found, key=lambda one: dates(one)[field] or _NEVER, reverse=sort.startswith("-"))


def expired(entries: Sequence[Entry], at: datetime, subledger: str | None) -> list[Expired]:
    """Each addition whose points expired by `at` with what of them expired (none: not listed), by expiry."""
    drawn: dict[str, list[tuple[Entry, Decimal]]] = {}
    undone: dict[str, list[Entry]] = {}
    for entry in entries:
        for draw in entry.draws:
            drawn.setdefault(draw.lot, []).append((entry, draw.amount))
        if entry.rolls_back is not None:
            undone.setdefault(entry.rolls_back, []).append(entry)
    found = []
    for entry in entries:
        if entry.kind != "addition" or entry.expires is None or entry.expires > at:
            continue
        if subledger is not None and entry.subledger != subledger:
            continue
        amount = _expired_of(entry, entry.expires, drawn.get(entry.transaction_id, []), undone)
        if amount > 0:
            found.append(Expired(entry, amount))
    return sorted(found, key=lambda e: (e.addition.expires or _NEVER, e.addition.subledger, e.addition.transaction_id))


def _expired_of(
    addition: Entry, expires: datetime, draws: Sequence[tuple[Entry, Decimal]], undone: Mapping[str, list[Entry]]
) -> Decimal:
    """The lot's points at its expiry, replayed in time order: added, drawn by spendings, drawn points given back
    (after the expiry they count as expired at once, as `give_back` counts them), taken back by the addition's
    rollbacks (each takes from the lot first: what it took, as far as the lot goes). At one instant: added, then
    drawn, then taken back, then given back, as the rollback of a session that both added and drew from the lot
    writes them."""
    changes: list[tuple[datetime, int, Decimal]] = [(addition.created, 0, addition.amount)]
    late = ZERO
    for spending, amount in draws:
        changes.append((spending.created, 1, -amount))
        for back in undone.get(spending.transaction_id, []):
            if back.created >= expires:
                late += amount
            else:
                changes.append((back.created, 3, amount))
    changes += [(taken.created, 2, taken.amount) for taken in undone.get(addition.transaction_id, [])]
    left = ZERO
    for when, order, amount in sorted(changes, key=lambda c: (c[0], c[1])):
        if when >= expires:  # a change at the expiry itself finds the lot expired
            break
        left = left - min(amount, left) if order == 2 else left + amount
    return max(left, ZERO) + late


def expired_view(program_id: int, found: Expired) -> PointsView:
    addition = found.addition
    return PointsView(
        id=entry_number(addition.transaction_id),
        transaction_uuid=addition.transaction_id,
        created=_utc(addition.created),
        program_id=program_id,
        name=_name(addition.name),
        start_date=_date(addition.starts, "on_action"),
        expiry_date=_date(addition.expires, "unlimited"),
        subledger_id=addition.subledger,
        amount=found.amount,
        customer_session_id=addition.session_id,
    )


# -- transactions -------------------------------------------------------------------------------------------------


def transactions(
    entries: Sequence[Entry],
    subledger: str | None,
    kind: str | None,
    start: datetime | None,
    end: datetime | None,
    picked: Chosen = ANY,
    awaiting: bool = False,
) -> list[Entry]:
    """The entries of one subledger or all, of one origin (`TRANSACTION_TYPES`) or all, created within [start,
    end], of the sessions and transactions `picked`, and (`awaiting`) only additions still awaiting an action;
    newest first (one close's entries share their instant: then by transaction id)."""
    chosen = [
        entry
        for entry in entries
        if (subledger is None or entry.subledger == subledger)
        and (kind is None or origin(entry) == kind)
        and (start is None or entry.created >= start)
        and (end is None or entry.created <= end)
        and picked.keeps(entry.transaction_id, entry.session_id)
        and (not awaiting or (entry.kind == "addition" and entry.starts is None and entry.rolls_back is None))
    ]
    chosen.sort(key=lambda entry: entry.transaction_id)
    chosen.sort(key=lambda entry: entry.created, reverse=True)
    return chosen


def origin(entry: Entry) -> str:
    """Talon.One's transaction type: only the management routes write entries with neither a session nor a
    campaign (a close's have its session, its rollbacks too, an event's its campaign)."""
    return "manual" if entry.session_id is None and entry.campaign_id is None else "session"


def given_back(entries: Sequence[Entry]) -> dict[str, Entry]:
    """The spendings rolled back, by the id of the entry that gave their points back."""
    spendings = {entry.transaction_id: entry for entry in entries if entry.kind == "subtraction"}
    return {
        entry.transaction_id: spendings[entry.rolls_back]
        for entry in entries
        if entry.kind == "addition" and entry.rolls_back in spendings
    }


def transaction_view(program_id: int, entry: Entry, given_back: Mapping[str, Entry]) -> TransactionView:
    """An entry as Talon.One logs it. A subtraction takes points at once (`immediate`, `unlimited`); so does a
    give-back, which returns points to the lots they were drawn from: its expiry is the last of theirs."""
    spending = given_back.get(entry.transaction_id)
    if entry.kind == "subtraction":
        start_date, expiry_date = "immediate", "unlimited"
    elif spending is not None:
        dated = [draw.expires for draw in spending.draws if draw.expires is not None]
        whole = dated and len(dated) == len(spending.draws) and not spending.into_debt  # else some never expire
        last = max(dated) if whole else None
        start_date, expiry_date = "immediate", _date(last, "unlimited")
    else:
        start_date, expiry_date = _date(entry.starts, "on_action"), _date(entry.expires, "unlimited")
    return TransactionView(
        id=entry_number(entry.transaction_id),
        transaction_uuid=entry.transaction_id,
        created=_utc(entry.created),
        program_id=program_id,
        kind="addition" if entry.kind == "addition" else "subtraction",
        name=_name(entry.name),
        start_date=start_date,
        expiry_date=expiry_date,
        subledger_id=entry.subledger,
        amount=entry.amount,
        customer_session_id=entry.session_id,
        flags=TransactionFlags(creates_negative_balance=True) if entry.into_debt > 0 else None,
    )


# -- expirations --------------------------------------------------------------------------------------------------


def expirations(ledger: Ledger, subledger: str | None, at: datetime) -> list[ExpirationView]:
    """Every upcoming expiry of a ledger advanced to `at`: the points of each subledger expiring at each instant,
    soonest first. Pending points count (they expire at their date, active by then or not)."""
    totals: dict[tuple[datetime, str], Decimal] = {}
    for name, balance in ledger.subledgers.items():
        if subledger is not None and name != subledger:
            continue
        for lot in balance.lots:
            if lot.expires is not None and lot.expires > at:
                key = (lot.expires, name)
                totals[key] = totals.get(key, ZERO) + lot.remaining
    return [
        ExpirationView(subledger_id=name, points=points, expiry_date=_utc(when))
        for (when, name), points in sorted(totals.items())
    ]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _date(moment: datetime | None, otherwise: str) -> str:
    """RFC 3339 in UTC, as the answers' other dates."""
    return otherwise if moment is None else _utc(moment).isoformat().replace("+00:00", "Z")


def _name(name: str) -> str:
    return name[:_NAME]
