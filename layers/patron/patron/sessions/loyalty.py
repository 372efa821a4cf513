"""A session's loyalty points (docs/loyalty.md): the ledgers its profile has in the programs the live campaigns
change (in a card-based program: its loyalty card's, with the card) are read with the session; the evaluation's
changes are settled against them, tentatively while the session is open (the effects answer what the close would
do), and for real at the close, whose one transaction writes each changed ledger (conditional on the version
read) and each entry (once: its transaction id derives from the session and its version)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import msgspec

from patron.dynamo import committer
from patron.loyalty import cards, events, items
from patron.loyalty.ledger import Ledger, ReturnPolicy, advance, give_back, revoke
from patron.loyalty.program import join_date, points
from patron.loyalty.settle import CHANGE_EFFECTS, change_ref, rollback_id, settle
from patron.loyalty.tiers import carried
from patron.promotions.definitions import LoyaltyProgram
from patron.promotions.effects import Effect, RollbackLoyaltyPointsProps, RuleFailureReason
from patron.promotions.evaluator import Evaluation, LoyaltyChange
from patron.promotions.rules import LoyaltyFacts
from patron.promotions.ruleset import CompiledRuleset
from patron.sessions.store import LedgerRef, Read


def holders(
    programs: Mapping[int, LoyaltyProgram], wanted: Iterable[int], profile_id: str | None, card: str | None
) -> dict[int, items.Holder]:
    """Whose ledger each program changes: the profile's, or in a card-based program the session's loyalty card
    (a program without one: none)."""
    found: dict[int, items.Holder] = {}
    for program_id in wanted:
        program = programs.get(program_id)
        if program is not None and program.card_based:
            if card is not None:
                found[program_id] = items.Card(card)
        elif profile_id is not None:
            found[program_id] = profile_id
    return found


def refs(
    ruleset: CompiledRuleset | None, profile_id: str | None, card: str | None, wanted: Iterable[int] | None = None
) -> frozenset[LedgerRef]:
    """The ledgers (program, holder) of the programs `wanted` (default: those the live campaigns change)."""
    if ruleset is None:
        return frozenset()
    chosen = ruleset.loyalty if wanted is None else wanted
    return frozenset(holders(ruleset.programs, chosen, profile_id, card).items())


def missing(
    ruleset: CompiledRuleset | None, read: Read, profile_id: str | None, card: str | None = None
) -> frozenset[LedgerRef]:
    """The ledgers of the session's profile (and card) the read lacks (an anonymous session has none)."""
    if ruleset is None or not ruleset.loyalty:
        return frozenset()
    return read.lacks_ledgers(refs(ruleset, profile_id, card))


def recipients_lacking(evaluation: Evaluation | None, read: Read) -> frozenset[LedgerRef]:
    """The ledgers of the recipients the evaluation's additions name (`recipient`: another profile than the
    session's) that the read lacks: read (each with its profile) and the call decided again."""
    if evaluation is None:
        return frozenset()
    wanted = {(c.program_id, c.recipient) for c in evaluation.loyalty_changes if c.recipient is not None}
    return read.lacks_ledgers(frozenset(wanted))


def usable_card(read: Read, program_id: int, holder: items.Holder) -> bool:
    """A card holder's card exists and is active (a blocked card neither earns nor spends)."""
    if not isinstance(holder, items.Card):
        return True
    item = read.cards.get((program_id, holder))
    return item is not None and cards.card_from_item(dict(item)).active


POINTS_EFFECTS = ("addLoyaltyPoints", "deductLoyaltyPoints")
Written = tuple[int, items.Entry]  # (program id, entry): what a close wrote, kept with the session for its rollback


class Points(msgspec.Struct, frozen=True):
    effects: list[Effect]  # with their settled points
    writes: list[committer.Write] = []  # at a close or an event: the ledgers and entries
    written: list[Written] = []
    after: dict[LedgerRef, Ledger] = {}  # the ledgers the changes touched, after them (tentative while open)
    failures: list[RuleFailureReason] = []  # points effects whose program has no usable ledger (a card's)


class ProgramLedgers(msgspec.Struct, frozen=True):
    """A program's ledger of the session's customer, as stored and with the session's changes."""

    program: LoyaltyProgram
    before: Ledger
    after: Ledger
    joined: str | None
    card: cards.StoredCard | None = None  # a card-based program's: the session's card, whose ledger it is


def settled(
    table: str,
    application_id: int,
    source: str,
    session_id: str | None,
    profile_id: str | None,
    card: str | None,
    ruleset: CompiledRuleset,
    evaluation: Evaluation,
    effects: Sequence[Effect],
    read: Read,
    now: datetime,
    closing: bool,
    outbox: tuple[str, int] | None = None,
    recipient_check: Callable[[int, str], committer.Write] | None = None,
) -> Points:
    """The effects with their settled points and, `closing`, the writes that make them real and the entries
    written. `source` names what makes the changes, the same on every replay: `<session id>:<version>` for a
    session's close (a reopened session closes again at a later version), `event:<id>` for an event.
    `recipient_check`: the write that makes a recipient's points conditional on their profile (SessionStore's)."""
    if not evaluation.loyalty_changes:
        return Points(list(effects))
    wanted = {change.program_id for change in evaluation.loyalty_changes}
    owners = {
        program_id: holder
        for program_id, holder in holders(ruleset.programs, wanted, profile_id, card).items()
        if usable_card(read, program_id, holder)
    }
    changes, effects, failures = _applicable(ruleset, evaluation.loyalty_changes, effects, owners, read)
    if not changes:
        return Points(list(effects), failures=failures)
    stored = {
        ref: items.ledger_from_item(read.ledgers.get(ref), now)
        for ref in {change_ref(change, owners) for change in changes}
    }
    business_id = f"{application_id}:{source}"
    result = settle(
        changes,
        effects,
        {ref: one.ledger for ref, one in stored.items()},
        ruleset.programs,
        now,
        business_id,
        session_id,
        owners,
    )
    result = msgspec.structs.replace(result, effects=[_carded(effect, owners) for effect in result.effects])
    if not closing:
        return Points(result.effects, after=result.ledgers, failures=failures)
    writes: list[committer.Write] = []
    for (program_id, holder), ledger in result.ledgers.items():
        before = stored[(program_id, holder)]
        program = ruleset.programs[program_id]
        joined = join_date(program, before.joined, ledger, now)
        ledger = carried(before.ledger, ledger, program, now)
        after = items.StoredLedger(ledger, before.version + 1, joined, before.noticed)
        writes += items.ledger_writes(table, application_id, program_id, holder, after, before.version)
        if outbox is not None:
            writes += events.change_writes(outbox, application_id, program_id, holder, before.ledger,
                                           ledger, after.version, now)  # fmt: skip
    # A recipient's points go to a profile that exists when they are written (one erased meanwhile: read again).
    recipients = {entry.recipient for _, entry in result.entries if entry.recipient is not None}
    if recipients:
        if recipient_check is None:
            raise ValueError("A recipient's points need the check of their profile.")
        writes += [recipient_check(application_id, recipient) for recipient in sorted(recipients)]
    written: list[Written] = []
    for (program_id, holder), entry in result.entries:
        writes += items.entry_writes(table, application_id, program_id, holder, entry)
        if isinstance(holder, items.Card):
            entry = msgspec.structs.replace(entry, card=holder.identifier)
        written.append((program_id, entry))
    return Points(result.effects, writes, written, result.ledgers, failures)


def _carded(effect: Effect, owners: Mapping[int, items.Holder]) -> Effect:
    """A points effect of a card-based program names the card (`cardIdentifier`)."""
    if effect.effect_type not in POINTS_EFFECTS:
        return effect
    holder = owners.get(effect.props.program_id)
    if not isinstance(holder, items.Card):
        return effect
    return msgspec.structs.replace(
        effect, props=msgspec.structs.replace(effect.props, card_identifier=holder.identifier)
    )


def _applicable(
    ruleset: CompiledRuleset,
    changes: Sequence[LoyaltyChange],
    effects: Sequence[Effect],
    owners: Mapping[int, items.Holder],
    read: Read,
) -> tuple[list[LoyaltyChange], list[Effect], list[RuleFailureReason]]:
    """The changes (and their effects: the n-th change is the n-th of CHANGE_EFFECTS) that have a ledger to change;
    the others' effects fail (`EffectCouldNotBeApplied`): a card-based program without the session's card, or with
    an unknown or inactive one; a recipient that names no profile."""
    kept_changes: list[LoyaltyChange] = []
    kept: list[Effect] = []
    failures: list[RuleFailureReason] = []
    pending = iter(changes)
    for effect in effects:
        if effect.effect_type not in CHANGE_EFFECTS:
            kept.append(effect)
            continue
        change = next(pending)
        if read.recipient_exists(change.recipient) if change.recipient is not None else change.program_id in owners:
            kept_changes.append(change)
            kept.append(effect)
            continue
        failures.append(ruleset.not_applied(effect))
    return kept_changes, kept, failures


def standing(
    ruleset: CompiledRuleset, read: Read, profile_id: str | None, card: str | None, now: datetime
) -> dict[int, LoyaltyFacts] | None:
    """What the rule functions read of the customer's ledgers (`loyaltyPoints(1)`): each program's active and
    pending points by subledger and its tier, as of now (a card-based program's: the session's card's). None for
    an anonymous session without a card."""
    if profile_id is None and card is None:
        return None
    found = {}
    # Only the programs expressions read: a decode each.
    for program_id, holder in refs(ruleset, profile_id, card, ruleset.loyalty_read) & read.ledgers_read:
        program = ruleset.programs[program_id]
        stored = items.ledger_from_item(read.ledgers.get((program_id, holder)), now)
        ledger = carried(stored.ledger, advance(stored.ledger, now), program, now)
        names = ["", *program.subledgers]
        balances = {name: ledger.balance(name) for name in names}
        found[program_id] = LoyaltyFacts(
            active={name: balance.active_points(now) for name, balance in balances.items()},
            pending={name: balance.pending_points(now) for name, balance in balances.items()},
            tier=ledger.tier.name if ledger.tier is not None else None,
        )
    return found


def ledgers(
    ruleset: CompiledRuleset | None,
    read: Read,
    profile_id: str | None,
    card: str | None,
    after: Mapping[LedgerRef, Ledger],
    now: datetime,
) -> list[ProgramLedgers]:
    """The customer's ledgers (a card-based program's: the card's, with the card; none for an unknown card) in the
    programs the live campaigns change (the session's `loyalty` answer)."""
    if ruleset is None:
        return []
    found = []
    for program_id, holder in sorted(refs(ruleset, profile_id, card) & read.ledgers_read, key=str):
        stored_card = None
        if isinstance(holder, items.Card):
            card_item = read.cards.get((program_id, holder))
            if card_item is None:
                continue
            stored_card = cards.card_from_item(dict(card_item))
        stored = items.ledger_from_item(read.ledgers.get((program_id, holder)), now)
        program = ruleset.programs[program_id]
        before = carried(stored.ledger, advance(stored.ledger, now), program, now)
        changed = after.get((program_id, holder))
        then = before if changed is None else carried(stored.ledger, changed, program, now)
        found.append(ProgramLedgers(program, before, then, stored.joined, stored_card))
    return found


def holder_of(entry: items.Entry, profile_id: str | None) -> items.Holder | None:
    """Whose ledger a written entry changed: its card's, its recipient's, or the profile's."""
    if entry.card is not None:
        return items.Card(entry.card)
    return entry.recipient if entry.recipient is not None else profile_id


def lacking_for_rollback(written: Sequence[Written], read: Read, profile_id: str | None) -> frozenset[LedgerRef]:
    """The ledgers a rollback of `written` needs and the read lacks."""
    wanted = {(program_id, holder) for program_id, entry in written if (holder := holder_of(entry, profile_id))}
    return read.lacks_ledgers(frozenset(wanted))


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
    line_returns: Mapping[int, tuple[int, int]] | None = None,
    outbox: tuple[str, int] | None = None,
) -> tuple[list[Effect], list[committer.Write], list[Written]]:
    """A cancel's or reopen's rollback of what the close wrote (`share` None): each addition taken back as the
    program's return policy allows (`rollbackAddedLoyaltyPoints`, with what it took), each deduction given back to
    the lots it drew (`rollbackDeductedLoyaltyPoints`). A return of some items (`share`: the part of the cart's
    value not returned before that it returns) takes back that share of each addition, rounded down (a per-item
    addition: each line's `line_returns`, (units it returns, units not returned before)), and leaves
    the deductions. Each rollback is an entry of its own, keyed by a transaction id derived from the one it rolls
    back and `source`; the effects take their campaign and rule from the close's effect of that transaction. A
    program no longer in the live ruleset rolls back as `only_pending`. Returns the effects, the writes, and what
    is left to roll back (the additions less what was taken)."""
    written = [one for one in written if _still_there(one[1], read)]
    refs = {(program_id, holder) for program_id, entry in written if (holder := holder_of(entry, profile_id))}
    if not written or not refs:
        return [], [], list(written)
    stored = {ref: items.ledger_from_item(read.ledgers.get(ref), now) for ref in refs}
    ledgers = {ref: one.ledger for ref, one in stored.items()}
    programs = ruleset.programs if ruleset is not None else {}
    by_transaction = {
        effect.props.transaction_uuid: effect for effect in closed_effects if effect.effect_type in POINTS_EFFECTS
    }
    effects: list[Effect] = []
    entries: list[tuple[LedgerRef, items.Entry]] = []
    left: list[Written] = []
    for program_id, entry in written:
        holder = holder_of(entry, profile_id)
        if holder is None:
            left.append((program_id, entry))
            continue
        ref = (program_id, holder)
        program = programs.get(program_id)
        policy = ReturnPolicy(program.return_policy) if program is not None else ReturnPolicy.ONLY_PENDING
        txn = rollback_id(application_id, entry.transaction_id, source)
        ledger = ledgers[ref]
        if entry.kind == "addition":
            asked = entry.amount if share is None else points(entry.amount * share)
            lines = entry.lines
            if share is not None and entry.lines and line_returns is not None:  # per item: the returned lines'
                taken = {at: _returned(amount, line_returns.get(at)) for at, amount in entry.lines.items()}
                asked = sum(taken.values(), Decimal(0))
                lines = {at: amount - taken[at] for at, amount in entry.lines.items() if amount > taken[at]}
            took = Decimal(0)
            if asked > 0:
                ledger, took = revoke(ledger, entry.subledger, entry.transaction_id, asked, now, policy)
            left.append((program_id, msgspec.structs.replace(entry, amount=entry.amount - asked, lines=lines)))
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
        ledgers[ref] = ledger
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
            card=entry.card,
            recipient=entry.recipient,
        )
        entries.append((ref, rollback))
        whose = entry.recipient or profile_id or ""
        props = RollbackLoyaltyPointsProps(program_id, entry.subledger, took, whose, txn, entry.card)
        template = by_transaction.get(entry.transaction_id)
        if template is not None:
            effects.append(msgspec.structs.replace(template, effect_type=effect_type, props=props))
    writes: list[committer.Write] = []
    for (program_id, holder), ledger in ledgers.items():
        before = stored[(program_id, holder)]
        if ledger is before.ledger:
            continue
        ledger = carried(before.ledger, ledger, programs.get(program_id), now)
        after = items.StoredLedger(ledger, before.version + 1, before.joined, before.noticed)
        writes += items.ledger_writes(table, application_id, program_id, holder, after, before.version)
        if outbox is not None:
            writes += events.change_writes(outbox, application_id, program_id, holder, before.ledger,
                                           ledger, after.version, now)  # fmt: skip
    for (program_id, holder), entry in entries:
        writes.append(items.entry_write(table, application_id, program_id, holder, entry))
    return effects, writes, [one for one in left if one[1].amount > 0]


def _still_there(entry: items.Entry, read: Read) -> bool:
    """A recipient erased (or merged away) since has no ledger left to take points back from: none is made."""
    return entry.recipient is None or read.recipient_exists(entry.recipient)


def _returned(amount: Decimal, returned: tuple[int, int] | None) -> Decimal:
    """A line's points a return takes back: its units' part of what is left, the division last (30 x 1 / 3 is
    10, not 9.99)."""
    if returned is None or returned[1] <= 0:
        return Decimal(0)
    count, remaining = returned
    return min(points(amount * count / remaining), amount)
