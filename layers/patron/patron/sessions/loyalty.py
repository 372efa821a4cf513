"""A session's loyalty points (docs/loyalty.md): the ledgers its profile has in the programs the live campaigns
change are read with the session; the evaluation's changes are settled against them, tentatively while the
session is open (the effects answer what the close would do), and for real at the close, whose one transaction
writes each changed ledger (conditional on the version read) and each entry (once: its transaction id derives
from the session and its version)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import msgspec

from patron.dynamo import committer
from patron.loyalty import events, items
from patron.loyalty.ledger import Ledger, ReturnPolicy, advance, give_back, revoke
from patron.loyalty.program import points
from patron.loyalty.settle import rollback_id, settle
from patron.promotions.definitions import JoinPolicy, LoyaltyProgram
from patron.promotions.effects import Effect, RollbackLoyaltyPointsProps
from patron.promotions.evaluator import Evaluation
from patron.promotions.ruleset import CompiledRuleset
from patron.sessions.store import Read


def missing(ruleset: CompiledRuleset | None, read: Read, profile_id: str | None) -> frozenset[int]:
    """The programs whose ledgers of the session's profile the read lacks (an anonymous session has none)."""
    if ruleset is None or not ruleset.loyalty or profile_id is None:
        return frozenset()
    return read.lacks_ledgers(ruleset.loyalty, profile_id)


POINTS_EFFECTS = ("addLoyaltyPoints", "deductLoyaltyPoints")
Written = tuple[int, items.Entry]  # (program id, entry): what a close wrote, kept with the session for its rollback


class Points(msgspec.Struct, frozen=True):
    effects: list[Effect]  # with their settled points
    writes: list[committer.Write] = []  # at a close or an event: the ledgers and entries
    written: list[Written] = []
    after: dict[int, Ledger] = {}  # the ledgers the changes touched, after them (tentative in an open session)


class ProgramLedgers(msgspec.Struct, frozen=True):
    """A program's ledger of the session's customer, as stored and with the session's changes."""

    program: LoyaltyProgram
    before: Ledger
    after: Ledger
    joined: str | None


def settled(
    table: str,
    application_id: int,
    source: str,
    session_id: str | None,
    profile_id: str | None,
    ruleset: CompiledRuleset,
    evaluation: Evaluation,
    effects: Sequence[Effect],
    read: Read,
    now: datetime,
    closing: bool,
    outbox: tuple[str, int] | None = None,
) -> Points:
    """The effects with their settled points and, `closing`, the writes that make them real and the entries
    written. `source` names what makes the changes, the same on every replay: `<session id>:<version>` for a
    session's close (a reopened session closes again at a later version), `event:<id>` for an event."""
    if not evaluation.loyalty_changes or profile_id is None:
        return Points(list(effects))
    stored = {
        program_id: items.ledger_from_item(read.ledgers.get(program_id), now)
        for program_id in {change.program_id for change in evaluation.loyalty_changes}
    }
    business_id = f"{application_id}:{source}"
    result = settle(
        evaluation.loyalty_changes,
        effects,
        {program_id: one.ledger for program_id, one in stored.items()},
        ruleset.programs,
        now,
        business_id,
        session_id,
    )
    if not closing:
        return Points(result.effects, after=result.ledgers)
    writes: list[committer.Write] = []
    for program_id, ledger in result.ledgers.items():
        before = stored[program_id]
        joins = ruleset.programs[program_id].join_policy is not JoinPolicy.NOT_JOIN
        joined = before.joined or (now.isoformat() if joins else None)
        after = items.StoredLedger(ledger, before.version + 1, joined, before.noticed)
        writes += items.ledger_writes(table, application_id, program_id, profile_id, after, before.version)
        if outbox is not None:
            tiers = ruleset.programs[program_id].tiers
            writes += events.change_writes(outbox, application_id, program_id, profile_id, before.ledger, ledger,
                                           after.version, now, tiers)  # fmt: skip
    for program_id, entry in result.entries:
        writes += items.entry_writes(table, application_id, program_id, profile_id, entry)
    return Points(result.effects, writes, result.entries, result.ledgers)


def ledgers(
    ruleset: CompiledRuleset | None, read: Read, profile_id: str | None, after: dict[int, Ledger], now: datetime
) -> list[ProgramLedgers]:
    """The customer's ledgers in the programs the live campaigns change (the session's `loyalty` answer)."""
    if ruleset is None or profile_id is None or read.ledger_holder != profile_id:
        return []
    found = []
    for program_id in sorted(ruleset.loyalty & read.ledgers_read):
        stored = items.ledger_from_item(read.ledgers.get(program_id), now)
        before = advance(stored.ledger, now)
        found.append(ProgramLedgers(ruleset.programs[program_id], before, after.get(program_id, before), stored.joined))
    return found


def lacking_for_rollback(written: Sequence[Written], read: Read, profile_id: str | None) -> frozenset[int]:
    """The programs whose ledgers a rollback of `written` needs and the read lacks."""
    if not written or profile_id is None:
        return frozenset()
    return read.lacks_ledgers(frozenset(program_id for program_id, _ in written), profile_id)


def rolled_back(
    table: str,
    application_id: int,
    profile_id: str | None,
    written: Sequence[Written],
    ruleset: CompiledRuleset | None,
    read: Read,
    now: datetime,
    closed_effects: Sequence[Effect],
    share: Decimal | None = None,
    source: str = "rollback",
    outbox: tuple[str, int] | None = None,
) -> tuple[list[Effect], list[committer.Write], list[Written]]:
    """A cancel's or reopen's rollback of what the close wrote (`share` None): each addition taken back as the
    program's return policy allows (`rollbackAddedLoyaltyPoints`, with what it took), each deduction given back to
    the lots it drew (`rollbackDeductedLoyaltyPoints`). A return of some items (`share`: the part of the cart's
    value not returned before that it returns) takes back that share of each addition, rounded down, and leaves
    the deductions. Each rollback is an entry of its own, keyed by a transaction id derived from the one it rolls
    back and `source`; the effects take their campaign and rule from the close's effect of that transaction. A
    program no longer in the live ruleset rolls back as `only_pending`. Returns the effects, the writes, and what
    is left to roll back (the additions less what was taken)."""
    if not written or profile_id is None:
        return [], [], list(written)
    stored = {program_id: items.ledger_from_item(read.ledgers.get(program_id), now) for program_id, _ in written}
    ledgers = {program_id: one.ledger for program_id, one in stored.items()}
    programs = ruleset.programs if ruleset is not None else {}
    by_transaction = {
        effect.props.transaction_uuid: effect for effect in closed_effects if effect.effect_type in POINTS_EFFECTS
    }
    effects: list[Effect] = []
    entries: list[Written] = []
    left: list[Written] = []
    for program_id, entry in written:
        program = programs.get(program_id)
        policy = ReturnPolicy(program.return_policy) if program is not None else ReturnPolicy.ONLY_PENDING
        txn = rollback_id(application_id, entry.transaction_id, source)
        ledger = ledgers[program_id]
        if entry.kind == "addition":
            asked = entry.amount if share is None else points(entry.amount * share)
            took = Decimal(0)
            if asked > 0:
                ledger, took = revoke(ledger, entry.subledger, entry.transaction_id, asked, now, policy)
            left.append((program_id, msgspec.structs.replace(entry, amount=entry.amount - asked)))
            if took <= 0:
                continue
            kind, effect_type = "subtraction", "rollbackAddedLoyaltyPoints"
        elif share is None:
            took = entry.amount
            ledger = give_back(ledger, entry.subledger, entry.transaction_id, entry.draws, entry.into_debt, now)
            kind, effect_type = "addition", "rollbackDeductedLoyaltyPoints"
        else:
            left.append((program_id, entry))  # a partial return leaves what the customer paid with points
            continue
        ledgers[program_id] = ledger
        name, starts = f"Rollback: {entry.name}", now if kind == "addition" else None  # given back: active now
        rollback = items.Entry(
            txn,
            kind,
            entry.subledger,
            took,
            name,
            now,
            entry.session_id,
            starts=starts,
            rolls_back=entry.transaction_id,
        )
        entries.append((program_id, rollback))
        props = RollbackLoyaltyPointsProps(program_id, entry.subledger, took, profile_id, txn)
        template = by_transaction.get(entry.transaction_id)
        if template is not None:
            effects.append(msgspec.structs.replace(template, effect_type=effect_type, props=props))
    writes: list[committer.Write] = []
    for program_id, ledger in ledgers.items():
        before = stored[program_id]
        if ledger is before.ledger:
            continue
        after = items.StoredLedger(ledger, before.version + 1, before.joined, before.noticed)
        writes += items.ledger_writes(table, application_id, program_id, profile_id, after, before.version)
        if outbox is not None:
            tiers = programs[program_id].tiers if program_id in programs else []
            writes += events.change_writes(outbox, application_id, program_id, profile_id, before.ledger, ledger,
                                           after.version, now, tiers)  # fmt: skip
    for program_id, entry in entries:
        writes.append(items.entry_write(table, application_id, program_id, profile_id, entry))
    return effects, writes, [one for one in left if one[1].amount > 0]
