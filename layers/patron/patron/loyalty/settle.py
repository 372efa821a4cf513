"""An evaluation's loyalty changes applied to the customer's ledgers, in order (pure): what each ledger becomes,
the entries to write, and the effects with their transaction ids, dates and, for a deduction, what it could take.
A session settles them tentatively while it is open (its answer's `loyalty`) and for real at its close, where
the ledgers and entries join the close's one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec

from patron.loyalty.items import Entry, Holder, LedgerRef
from patron.loyalty.ledger import Ledger, Lot, earn, spend
from patron.loyalty.program import lot_dates, zone_of
from patron.loyalty.tiers import given
from patron.promotions.definitions import LoyaltyProgram
from patron.promotions.effects import Effect
from patron.promotions.evaluator import LoyaltyChange

_NAMESPACE = uuid.UUID("5b0f1c1e-6c38-4f3e-9d0e-7a1b7c3f2a10")  # Patron's: transaction ids from business ids
# The effects of LoyaltyChanges, one each and in order (the n-th change is the n-th of these effects).
CHANGE_EFFECTS = ("addLoyaltyPoints", "deductLoyaltyPoints", "changeLoyaltyTierLevel")


class Settled(msgspec.Struct, frozen=True):
    ledgers: dict[LedgerRef, Ledger]  # those the changes touched, after them
    entries: list[tuple[LedgerRef, Entry]]
    effects: list[Effect]


def change_ref(change: LoyaltyChange, owners: Mapping[int, Holder]) -> LedgerRef:
    """The ledger a change changes: its recipient's, else the session's in its program (`owners`: the profile's, or
    the session's card in a card-based program)."""
    holder = change.recipient if change.recipient is not None else owners[change.program_id]
    return change.program_id, holder


def transaction_id(business_id: str) -> str:
    """A transaction's id, the same for every replay of what made it (a session's close, a management call)."""
    return str(uuid.uuid5(_NAMESPACE, business_id))


def rollback_id(application_id: int, transaction: str, source: str = "rollback") -> str:
    """The id of the transaction that rolls `transaction` back: a cancel's or reopen's (`rollback`), a return's
    (`return:<id>`). Derived from both, so each rollback is written once."""
    return transaction_id(f"{application_id}:{transaction}:{source}")


def settle(
    changes: Sequence[LoyaltyChange],
    effects: Sequence[Effect],
    ledgers: Mapping[LedgerRef, Ledger],
    programs: Mapping[int, LoyaltyProgram],
    now: datetime,
    business_id: str,
    session_id: str | None = None,
    owners: Mapping[int, Holder] | None = None,
) -> Settled:
    """`business_id` names what makes the changes (`<application>:<session>:<version>` for a session's close);
    the n-th change's transaction id derives from it and n. `owners`: whose ledger each program's changes change
    but for a recipient's (default: the changes' `profile_id`). A deduction takes only what can be deducted (all
    of it where the program allows negative balances); one that can take nothing leaves no effect."""
    after: dict[LedgerRef, Ledger] = {}
    entries: list[tuple[LedgerRef, Entry]] = []
    settled: list[Effect | None] = []
    pending = iter(changes)
    for effect in effects:
        if effect.effect_type not in CHANGE_EFFECTS:
            settled.append(effect)
            continue
        change = next(pending)
        program = programs[change.program_id]
        ref = change_ref(change, owners) if owners is not None else (change.program_id, change.profile_id)
        stored = ledgers.get(ref) or Ledger(as_of=now)
        ledger = after.get(ref) or stored
        if change.tier is not None:  # a tier given by a rule: no entry, no points
            moved = given(stored, ledger, program, change.tier, change.validity or None, now)
            if moved is None:
                settled.append(None)  # already in that tier or higher
                continue
            ledger, previous = moved
            expiry = ledger.tier.expires if ledger.tier is not None else None
            props = msgspec.structs.replace(
                effect.props,
                previous_tier_name=previous.name if previous is not None else None,
                expiry_date=expiry.isoformat() if expiry is not None else None,
            )
            after[ref] = ledger
            settled.append(msgspec.structs.replace(effect, props=props))
            continue
        txn = transaction_id(f"{business_id}#{len(entries)}")
        if change.add:
            zone = zone_of(program.timezone)
            starts, expires, validity = lot_dates(change.pending, change.validity, now, zone)
            ledger = earn(ledger, change.subledger, Lot(txn, change.amount, starts, expires, validity), now)
            entry = Entry(txn, "addition", change.subledger, change.amount, change.name, now, session_id,
                          change.campaign_id, starts, expires, lines=change.lines,
                          recipient=change.recipient)  # fmt: skip
            props = msgspec.structs.replace(
                effect.props,
                transaction_uuid=txn,
                start_date=starts.isoformat() if starts else None,
                expiry_date=expires.isoformat() if expires else None,
                awaits_activation=True if starts is None else None,
                validity_duration=validity,
            )
        else:
            spent = spend(
                ledger,
                change.subledger,
                change.amount,
                now,
                allow_negative=program.allow_negative_balance,
                partial=True,
            )
            if spent.deducted <= 0:
                settled.append(None)
                continue
            ledger = spent.ledger
            entry = Entry(txn, "subtraction", change.subledger, spent.deducted, change.name, now, session_id,
                          change.campaign_id, draws=spent.draws, into_debt=spent.into_debt)  # fmt: skip
            props = msgspec.structs.replace(effect.props, transaction_uuid=txn, value=spent.deducted)
        after[ref] = ledger
        entries.append((ref, entry))
        if change.lines:  # per item: the one addition answered line by line, as Talon.One answers it
            settled += [
                msgspec.structs.replace(
                    effect, props=msgspec.structs.replace(props, value=amount, cart_item_position=position)
                )
                for position, amount in sorted(change.lines.items())
            ]
            continue
        settled.append(msgspec.structs.replace(effect, props=props))
    return Settled(after, entries, [effect for effect in settled if effect is not None])
