"""A member's points in one program, as pure functions of time (no I/O, no clock): lots earned, drawn, expired
and revoked, per subledger. Every change and every read first `advance`s the ledger to its instant: lots whose
start has come become active (and pay a negative balance first), lots whose expiry has come expire. So a balance
read at any instant is exact whether the scheduled job has materialised those changes or not: the job runs the
same `advance` and stores its result.

Conservation, for every subledger at every instant (tests/unit/loyalty/test_ledger.py checks it on random
sequences): earned = sum of the lots' remaining + spent - debt + expired + revoked.

Spending draws the soonest-expiring active lots first (unlimited ones last; then the earliest started), and
records what it drew from which lot, so a rollback gives the points back to the lots they came from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import msgspec

from patron.loyalty.durations import parse as parse_duration

ZERO = Decimal(0)


class ReturnPolicy(StrEnum):
    """What a cancel, return or reopen may take back of the points its session earned (Talon.One's)."""

    ONLY_PENDING = "only_pending"  # only points not active yet
    WITHIN_BALANCE = "within_balance"  # pending and active points, as far as the active balance goes
    UNLIMITED = "unlimited"  # all of them, into a negative balance if need be


class Lot(msgspec.Struct, frozen=True):
    """Points of one earning (its transaction id), not yet spent, expired or revoked: `remaining`."""

    id: str
    remaining: Decimal
    starts: datetime | None  # None: awaits an action (`on_action`), then starts when activated
    expires: datetime | None  # None: never
    validity: str | None = None  # a lot awaiting an action: how long it stays valid once active; None: forever

    def pending(self, at: datetime) -> bool:
        return self.starts is None or at < self.starts

    def active(self, at: datetime) -> bool:
        return not self.pending(at) and (self.expires is None or at < self.expires)


class Draw(msgspec.Struct, frozen=True):
    """What a spending took from one lot (with the lot's dates, to give it back even once the lot is gone)."""

    lot: str
    amount: Decimal
    starts: datetime | None
    expires: datetime | None


class Balance(msgspec.Struct, frozen=True):
    """One subledger of one member: its open lots and lifetime totals."""

    lots: tuple[Lot, ...] = ()
    debt: Decimal = ZERO  # points spent beyond the active balance (a negative balance), paid by later points
    earned: Decimal = ZERO
    spent: Decimal = ZERO
    expired: Decimal = ZERO
    revoked: Decimal = ZERO  # earnings rolled back

    def active_points(self, at: datetime) -> Decimal:
        return sum((lot.remaining for lot in self.lots if lot.active(at)), ZERO)

    def pending_points(self, at: datetime) -> Decimal:
        return sum((lot.remaining for lot in self.lots if lot.pending(at)), ZERO)


class TierState(msgspec.Struct, frozen=True):
    """The member's tier (patron.loyalty.tiers): its name, since when the member is in it, and (advanced tiers,
    or a tier given by a rule) when it is reevaluated."""

    name: str
    since: datetime
    expires: datetime | None = None
    given: bool = False  # by `changeLoyaltyTierLevel`: held until `expires` whatever the balance (basic tiers)


class Ledger(msgspec.Struct, frozen=True):
    """A member's balances in one program by subledger ("" is the main ledger), as of `as_of`: every start and
    expiry up to that instant is applied. `tier` is the member's tier as of `as_of` too, kept by
    patron.loyalty.tiers (the functions here leave it as it is)."""

    as_of: datetime
    subledgers: dict[str, Balance] = {}
    tier: TierState | None = None

    def balance(self, subledger: str = "") -> Balance:
        return self.subledgers.get(subledger, Balance())


class InsufficientPoints(Exception):
    """A spending larger than the active balance, where negative balances are not allowed."""

    def __init__(self, available: Decimal):
        super().__init__(f"only {available} points are active")
        self.available = available


class Spending(msgspec.Struct, frozen=True):
    ledger: Ledger
    deducted: Decimal  # what was taken (all of it, or what could be, for a partial deduction)
    draws: tuple[Draw, ...]
    into_debt: Decimal  # the part beyond the active balance (negative balances allowed)


# -- time ---------------------------------------------------------------------------------------------------------


def advance(ledger: Ledger, to: datetime) -> Ledger:
    """The ledger at `to`: lots whose start came are active (paying any debt first), lots whose expiry came have
    expired. Moving backwards changes nothing (what happened stays)."""
    if to <= ledger.as_of:
        return ledger
    subledgers = {name: _advanced(balance, ledger.as_of, to) for name, balance in ledger.subledgers.items()}
    return Ledger(as_of=to, subledgers=subledgers, tier=ledger.tier)


def _advanced(balance: Balance, since: datetime, to: datetime) -> Balance:
    # The instants where something happens, in order; at one instant expiries come before starts (a lot that
    # expires at T cannot pay a debt a lot starting at T pays).
    events: list[tuple[datetime, int, int]] = []
    for index, lot in enumerate(balance.lots):
        if lot.starts is not None and since < lot.starts <= to:
            events.append((lot.starts, 1, index))
        if lot.expires is not None and since < lot.expires <= to:
            events.append((lot.expires, 0, index))
    if not events:
        return balance
    lots = list(balance.lots)
    debt, spent, expired = balance.debt, balance.spent, balance.expired
    for _, kind, index in sorted(events):
        lot = lots[index]
        if kind == 0:  # expires
            expired += lot.remaining
            lots[index] = msgspec.structs.replace(lot, remaining=ZERO)
        elif debt > 0 and lot.remaining > 0:  # starts, and pays the debt first
            paid = min(debt, lot.remaining)
            debt -= paid
            lots[index] = msgspec.structs.replace(lot, remaining=lot.remaining - paid)
    kept = tuple(lot for lot in lots if lot.remaining > 0)
    return msgspec.structs.replace(balance, lots=kept, debt=debt, spent=spent, expired=expired)


# -- changes ------------------------------------------------------------------------------------------------------


def earn(ledger: Ledger, subledger: str, lot: Lot, at: datetime) -> Ledger:
    """Adds the lot (its points counted as earned); active at once, it first pays a negative balance."""
    if lot.remaining <= 0:
        raise ValueError("a lot earns a positive amount of points")
    ledger = advance(ledger, at)
    balance = ledger.balance(subledger)
    debt, earned = balance.debt, balance.earned + lot.remaining
    if debt > 0 and lot.active(at):
        paid = min(debt, lot.remaining)
        debt -= paid
        lot = msgspec.structs.replace(lot, remaining=lot.remaining - paid)
    lots = (*balance.lots, lot) if lot.remaining > 0 else balance.lots
    return _with(ledger, subledger, msgspec.structs.replace(balance, lots=lots, debt=debt, earned=earned))


def spend(
    ledger: Ledger,
    subledger: str,
    amount: Decimal,
    at: datetime,
    allow_negative: bool = False,
    partial: bool = False,
) -> Spending:
    """Takes `amount` from the active lots, soonest-expiring first. Beyond the active balance: into debt when
    negative balances are allowed; else only what is there when `partial` (Talon's deduction of "what can be
    deducted"); else `InsufficientPoints`."""
    if amount <= 0:
        raise ValueError("a spending takes a positive amount of points")
    ledger = advance(ledger, at)
    balance = ledger.balance(subledger)
    available = balance.active_points(at)
    if amount > available and not allow_negative:
        if not partial:
            raise InsufficientPoints(available)
        amount = available
        if amount <= 0:
            return Spending(ledger, ZERO, (), ZERO)
    left = amount
    draws: list[Draw] = []
    lots = list(balance.lots)
    for index in sorted((i for i, lot in enumerate(lots) if lot.active(at)), key=lambda i: _spending_order(lots[i])):
        if left <= 0:
            break
        lot = lots[index]
        taken = min(left, lot.remaining)
        left -= taken
        draws.append(Draw(lot.id, taken, lot.starts, lot.expires))
        lots[index] = msgspec.structs.replace(lot, remaining=lot.remaining - taken)
    kept = tuple(lot for lot in lots if lot.remaining > 0)
    changed = msgspec.structs.replace(balance, lots=kept, debt=balance.debt + left, spent=balance.spent + amount)
    return Spending(_with(ledger, subledger, changed), amount, tuple(draws), left)


def activate(ledger: Ledger, subledger: str, lot_ids: Iterable[str], at: datetime, zone: ZoneInfo) -> Ledger:
    """Lots awaiting an action (`on_action`) start now, valid for their validity from now; others are left."""
    ledger = advance(ledger, at)
    balance = ledger.balance(subledger)
    wanted = set(lot_ids)
    lots = list(balance.lots)
    debt = balance.debt
    for index, lot in enumerate(lots):
        if lot.id not in wanted or lot.starts is not None:
            continue
        expires = parse_duration(lot.validity).after(at, zone) if lot.validity else None
        paid = min(debt, lot.remaining)
        debt -= paid
        lots[index] = Lot(lot.id, lot.remaining - paid, at, expires)
    kept = tuple(lot for lot in lots if lot.remaining > 0)
    return _with(ledger, subledger, msgspec.structs.replace(balance, lots=kept, debt=debt))


def revoke(
    ledger: Ledger, subledger: str, lot_id: str, amount: Decimal, at: datetime, policy: ReturnPolicy
) -> tuple[Ledger, Decimal]:
    """Rolls back up to `amount` of an earning (a cancel, return or reopen), per the program's return policy:
    first what is left of its own lot (pending always; active unless `only_pending`), then, for the part already
    spent or expired, from the active balance (`within_balance`: as far as it goes; `unlimited`: into debt).
    Returns the ledger and what was taken back."""
    if amount <= 0:
        raise ValueError("a rollback takes a positive amount of points")
    ledger = advance(ledger, at)
    balance = ledger.balance(subledger)
    lots = list(balance.lots)
    left = amount
    for index, lot in enumerate(lots):
        if lot.id == lot_id and (lot.pending(at) or policy is not ReturnPolicy.ONLY_PENDING):
            taken = min(left, lot.remaining)
            left -= taken
            lots[index] = msgspec.structs.replace(lot, remaining=lot.remaining - taken)
    debt = balance.debt
    if left > 0 and policy is not ReturnPolicy.ONLY_PENDING:
        order = sorted((i for i, lot in enumerate(lots) if lot.active(at)), key=lambda i: _spending_order(lots[i]))
        for index in order:
            taken = min(left, lots[index].remaining)
            left -= taken
            lots[index] = msgspec.structs.replace(lots[index], remaining=lots[index].remaining - taken)
        if policy is ReturnPolicy.UNLIMITED:
            debt, left = debt + left, ZERO
    took = amount - left
    kept = tuple(lot for lot in lots if lot.remaining > 0)
    changed = msgspec.structs.replace(balance, lots=kept, debt=debt, revoked=balance.revoked + took)
    return _with(ledger, subledger, changed), took


def give_back(
    ledger: Ledger, subledger: str, spending_id: str, draws: Iterable[Draw], into_debt: Decimal, at: datetime
) -> Ledger:
    """Rolls back a spending: each draw returns to its lot (expired by now: counted as expired), the part that
    went into debt leaves the debt; what a later earning already paid of that debt comes back as an active lot
    of its own (`<spending id>#repaid`), never expiring."""
    ledger = advance(ledger, at)
    balance = ledger.balance(subledger)
    lots = {lot.id: lot for lot in balance.lots}
    expired = balance.expired
    returned = ZERO
    for draw in draws:
        returned += draw.amount
        if draw.expires is not None and at >= draw.expires:
            expired += draw.amount
            continue
        lot = lots.get(draw.lot)
        if lot is None:
            lots[draw.lot] = Lot(draw.lot, draw.amount, draw.starts, draw.expires)
        else:
            lots[draw.lot] = msgspec.structs.replace(lot, remaining=lot.remaining + draw.amount)
    still_owed = min(balance.debt, into_debt)
    repaid = into_debt - still_owed
    if repaid > 0:
        repaid_id = f"{spending_id}#repaid"
        lot = lots.get(repaid_id)
        lots[repaid_id] = Lot(repaid_id, repaid + (lot.remaining if lot else ZERO), ledger.as_of, None)
    # Points given back while the balance is negative (other spendings since) pay that debt first, as any
    # points becoming active do.
    settled, debt = _settle(list(lots.values()), balance.debt - still_owed, at)
    changed = msgspec.structs.replace(
        balance, lots=settled, debt=debt, spent=balance.spent - returned - into_debt, expired=expired
    )
    return _with(ledger, subledger, changed)


def _settle(lots: list[Lot], debt: Decimal, at: datetime) -> tuple[tuple[Lot, ...], Decimal]:
    """A debt paid from the active lots, soonest-expiring first; the lots left non-empty, and the debt left."""
    if debt > 0:
        for index in sorted(
            (i for i, lot in enumerate(lots) if lot.active(at)), key=lambda i: _spending_order(lots[i])
        ):
            paid = min(debt, lots[index].remaining)
            debt -= paid
            lots[index] = msgspec.structs.replace(lots[index], remaining=lots[index].remaining - paid)
    return tuple(lot for lot in lots if lot.remaining > 0), debt


def _spending_order(lot: Lot) -> tuple[bool, datetime | None, datetime | None, str]:
    # Soonest expiry first, unlimited last; then the earliest start, then the id (a stable order).
    return (lot.expires is None, lot.expires, lot.starts, lot.id)


def _with(ledger: Ledger, subledger: str, balance: Balance) -> Ledger:
    return Ledger(as_of=ledger.as_of, subledgers={**ledger.subledgers, subledger: balance}, tier=ledger.tier)


def merged(survivor: Ledger, absorbed: Ledger, at: datetime) -> Ledger:
    """One person's ledger from two (a merge of an anonymous profile into a customer): both advanced to `at`,
    each subledger's lots kept as they are and its totals added; a debt of either is paid by the other's active
    points, soonest-expiring first."""
    survivor, absorbed = advance(survivor, at), advance(absorbed, at)
    names = sorted(set(survivor.subledgers) | set(absorbed.subledgers))
    subledgers: dict[str, Balance] = {}
    for name in names:
        one, other = survivor.balance(name), absorbed.balance(name)
        lots, debt = _settle([*one.lots, *other.lots], one.debt + other.debt, at)
        subledgers[name] = Balance(
            lots=lots,
            debt=debt,
            earned=one.earned + other.earned,
            spent=one.spent + other.spent,
            expired=one.expired + other.expired,
            revoked=one.revoked + other.revoked,
        )
    return Ledger(as_of=max(survivor.as_of, absorbed.as_of, at), subledgers=subledgers, tier=survivor.tier)
