"""Points changed by hand (customer service, through the management API): add, deduct, and transfer between two
members (beyond Talon.One). Each is one transaction: the members' ledgers (conditional on the versions read) and an
entry per ledger, keyed by a transaction id. A `reference` makes the call idempotent: its transaction id derives
from it, and a call whose entry exists already answers that entry and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from patron.clock import Clock
from patron.dynamo import codec, committer
from patron.dynamo.batch import read_batch
from patron.errors import FieldIssue, ValidationError
from patron.loyalty import cards, events, items
from patron.loyalty.ledger import InsufficientPoints, Lot, earn, spend
from patron.loyalty.program import check_pending, check_validity, join_date, lot_dates, points, zone_of
from patron.loyalty.service import ProfileNotFoundError, live_program
from patron.loyalty.settle import transaction_id
from patron.loyalty.tiers import carried
from patron.profiles.keys import PROFILE_SK, profile_pk
from patron.promotions.definitions import LoyaltyProgram
from patron.promotions.store import LiveRulesets, pointer_key
from patron.settings import Tables

ATTEMPTS = 4  # reads and decisions when a ledger moved meanwhile


class ManualChange(msgspec.Struct, frozen=True):
    points: Decimal
    name: str
    subledger: str = ""
    reference: str | None = None  # the caller's: a second call with it changes nothing
    pending: str | None = None  # an addition's; default: the program's
    validity: str | None = None  # an addition's; default: the program's


class Done(msgspec.Struct, frozen=True):
    transaction_id: str
    entries: list[items.Entry]  # one per member changed (a transfer: the giver's, then the receiver's)
    replayed: bool  # the reference's transaction existed already: nothing was written


class InsufficientPointsError(ValidationError):
    def __init__(self, available: Decimal):
        message = f"The member has {available} active points: fewer than asked."
        super().__init__(message, [FieldIssue("points", "insufficient_points", message)], code="insufficient_points")


class LoyaltyDesk:
    def __init__(self, client: Any, tables: Tables, rulesets: LiveRulesets, clock: Clock):
        self._client = client
        self._tables = tables
        self._rulesets = rulesets
        self._clock = clock
        self._committer = committer.Committer(client)
        self._outbox = (tables.outbox, tables.outbox_ttl)  # loyalty events, with each change

    def add(self, application_id: int, program_id: int, integration_id: items.Holder, change: ManualChange) -> Done:
        for text, field, check in (
            (change.pending, "pendingDuration", check_pending),
            (change.validity, "validityDuration", check_validity),
        ):
            if text is not None:
                try:
                    check(text, field)
                except ValueError as error:
                    raise ValidationError(str(error), [FieldIssue(field, "invalid_duration", str(error))]) from None
        return self._run(application_id, program_id, [integration_id], change, "add")

    def deduct(self, application_id: int, program_id: int, integration_id: items.Holder, change: ManualChange) -> Done:
        return self._run(application_id, program_id, [integration_id], change, "deduct")

    def transfer(self, application_id: int, program_id: int, giver: str, receiver: str, change: ManualChange) -> Done:
        if giver == receiver:
            message = "A transfer moves points between two members."
            raise ValidationError(message, [FieldIssue("toIntegrationId", "same_member", message)])
        return self._run(application_id, program_id, [giver, receiver], change, "transfer")

    def _run(
        self, application_id: int, program_id: int, members: Sequence[items.Holder], change: ManualChange, kind: str
    ) -> Done:
        """`members`: profiles (a profile-based program) or a card (a card-based one: an inactive card is
        refused)."""
        amount = points(change.points)
        if not change.points.is_finite() or amount <= 0 or amount != change.points:
            message = "A positive number of points, with at most two decimals."
            raise ValidationError(message, [FieldIssue("points", "invalid_value", message)])
        txn = transaction_id(f"{application_id}:manual:{change.reference}") if change.reference else str(uuid.uuid4())
        for _ in range(ATTEMPTS):
            now = self._clock.now()
            pointer, holders, ledgers, existing = self._read(application_id, program_id, members, txn)
            program = live_program(self._rulesets, application_id, pointer, program_id)
            card = isinstance(members[0], items.Card)
            cards.check_kind(program, card)
            if change.subledger and change.subledger not in program.subledgers:
                message = f"Program {program_id} has no subledger {change.subledger!r}."
                raise ValidationError(message, [FieldIssue("subledgerId", "unknown_subledger", message)])
            if existing:
                return Done(txn, existing, replayed=True)
            if any(member not in holders for member in members):
                raise cards.CardNotFoundError() if card else ProfileNotFoundError()
            if any(not holder.active for holder in holders.values() if holder is not None):
                raise cards.CardInactiveError()
            stored = {member: items.ledger_from_item(ledgers.get(member), now) for member in members}
            writes, entries = self._decide(application_id, program, members, stored, change, amount, kind, txn, now)
            try:
                self._committer.commit(writes, conflict=items.LedgerChangedError)
            except items.LedgerChangedError:
                continue  # a ledger moved (or the reference's entry appeared): read and decide again
            return Done(txn, entries, replayed=False)
        raise items.LedgerChangedError()

    def _decide(
        self,
        application_id: int,
        program: LoyaltyProgram,
        members: Sequence[items.Holder],
        stored: dict[items.Holder, items.StoredLedger],
        change: ManualChange,
        amount: Decimal,
        kind: str,
        txn: str,
        now: datetime,
    ) -> tuple[list[committer.Write], list[items.Entry]]:
        writes: list[committer.Write] = []
        entries: list[items.Entry] = []
        table, subledger = self._tables.ledgers, change.subledger
        for position, member in enumerate(members):
            ledger = stored[member].ledger
            member_txn = txn if position == 0 else transaction_id(f"{txn}:to")
            if kind == "add" or position == 1:  # an addition, or a transfer's receiving end
                zone = zone_of(program.timezone)
                pending = change.pending or program.default_pending
                validity = change.validity or program.default_validity
                starts, expires, on_action = lot_dates(pending, validity, now, zone)
                ledger = earn(ledger, subledger, Lot(member_txn, amount, starts, expires, on_action), now)
                entry = items.Entry(member_txn, "addition", subledger, amount, change.name, now, starts=starts,
                                    expires=expires)  # fmt: skip
            else:
                try:
                    spent = spend(ledger, subledger, amount, now, allow_negative=program.allow_negative_balance)
                except InsufficientPoints as refused:
                    raise InsufficientPointsError(refused.available) from None
                ledger = spent.ledger
                entry = items.Entry(member_txn, "subtraction", subledger, amount, change.name, now, draws=spent.draws,
                                    into_debt=spent.into_debt)  # fmt: skip
            before = stored[member]
            joined = join_date(program, before.joined, ledger, now)
            ledger = carried(before.ledger, ledger, program, now)
            after = items.StoredLedger(ledger, before.version + 1, joined, before.noticed)
            writes += items.ledger_writes(table, application_id, program.id, member, after, before.version)
            writes += events.change_writes(self._outbox, application_id, program.id, member, before.ledger, ledger,
                                           after.version, now)  # fmt: skip
            writes += items.entry_writes(table, application_id, program.id, member, entry)
            entries.append(entry)
        return writes, entries

    def _read(
        self, application_id: int, program_id: int, members: Sequence[items.Holder], txn: str
    ) -> tuple[
        dict[str, Any] | None,
        dict[items.Holder, cards.StoredCard | None],
        dict[items.Holder, dict[str, Any]],
        list[items.Entry],
    ]:
        """The pointer, the members that exist (a profile: None; a card: the card), their ledger items, and the
        entry of `txn` (the first member's) if it exists: one BatchGetItem."""
        tables = self._tables
        entry_key = {"PK": items.member_pk(application_id, program_id, members[0]), "SK": items.ENTRY_PREFIX + txn}
        profiles = [m for m in members if isinstance(m, str)]
        ledger_keys = [items.ledger_key(application_id, program_id, m) for m in members] + [entry_key]
        ledger_keys += [
            items.card_key(application_id, program_id, m.identifier) for m in members if isinstance(m, items.Card)
        ]
        request: dict[str, Any] = {
            tables.config: {"Keys": [codec.to_item(pointer_key(application_id))], "ConsistentRead": True},
            tables.ledgers: {"Keys": [codec.to_item(key) for key in ledger_keys], "ConsistentRead": True},
        }
        if profiles:
            request[tables.profiles] = {
                "Keys": [codec.to_item({"PK": profile_pk(application_id, m), "SK": PROFILE_SK}) for m in profiles],
                "ConsistentRead": True,
                "ProjectionExpression": "PK",
            }
        found = read_batch(self._client, request)
        pointer = next((item for table, item in found if table == tables.config), None)
        profile_pks = {item["PK"] for table, item in found if table == tables.profiles}
        holders: dict[items.Holder, cards.StoredCard | None] = {
            m: None for m in profiles if profile_pk(application_id, m) in profile_pks
        }
        ledgers: dict[items.Holder, dict[str, Any]] = {}
        existing: list[items.Entry] = []
        for table, item in found:
            if table != tables.ledgers:
                continue
            if item["SK"] == items.LEDGER_SK:
                ledgers[items.holder_of(item)] = item
            elif item["SK"] == items.CARD_SK:
                holders[items.holder_of(item)] = cards.card_from_item(item)
            else:
                existing.append(items.entry_from_item(item))
        return pointer, holders, ledgers, existing
