"""Points awaiting an action (`on_action`) made active: `POST /v1/loyalty_programs/{id}/activate_points`, by the
session that earned them or by their transaction ids. Each member's points are activated in one transaction:
the ledger on the version read (the lots start now and run their validity from now), each entry's dates, and the
pending index items removed. Points already active, or given back, are left as they are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from patron.clock import Clock
from patron.dynamo import codec, committer
from patron.dynamo.batch import read_batch
from patron.errors import FieldIssue, NotFoundError, ValidationError
from patron.loyalty import events, items
from patron.loyalty.ledger import activate, advance
from patron.loyalty.program import join_date, zone_of
from patron.loyalty.service import live_program
from patron.loyalty.tiers import carried
from patron.promotions.definitions import LoyaltyProgram
from patron.promotions.store import LiveRulesets, pointer_key
from patron.settings import Tables

_ATTEMPTS = 4
_SESSION_SK = "SESSION"
_written_decoder = msgspec.json.Decoder(list[tuple[int, items.Entry]])


class Activated(msgspec.Struct, frozen=True):
    integration_id: items.Holder  # a profile's, or a card (card-based programs)
    entry: items.Entry  # with its dates after the activation


class SessionNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No customer session with this id.", code="session_not_found")


class PointsActivation:
    def __init__(self, client: Any, tables: Tables, rulesets: LiveRulesets, clock: Clock):
        self._client = client
        self._tables = tables
        self._rulesets = rulesets
        self._clock = clock
        self._committer = committer.Committer(client)
        self._outbox = (tables.outbox, tables.outbox_ttl)  # loyalty events, with each change

    def activate(
        self, application_id: int, program_id: int, session_id: str | None, transaction_ids: Sequence[str]
    ) -> list[Activated]:
        if (session_id is None) == (not transaction_ids):
            message = "Give either sessionId or transactionUUIDs."
            raise ValidationError(message, [FieldIssue("sessionId", "session_or_transactions", message)])
        pointer, session, pending = self._read(application_id, session_id, transaction_ids)
        program = live_program(self._rulesets, application_id, pointer, program_id)
        wanted: dict[items.Holder, set[str]] = {}  # member (a profile or a card) -> transaction ids
        if session_id is not None:
            if session is None:
                raise SessionNotFoundError()
            member = session.get("profileId")
            written = _written_decoder.decode(str(session["loyalty"])) if session.get("loyalty") else []
            for written_program, entry in written:
                if written_program == program_id and entry.kind == "addition" and not entry.starts:
                    holder = items.Card(entry.card) if entry.card is not None else str(member) if member else None
                    if holder is not None:  # the card's points, or the profile's
                        wanted.setdefault(holder, set()).add(entry.transaction_id)
        for item in pending:
            if int(item["programId"]) == program_id:
                txn = str(item["PK"]).rsplit("#", 1)[1]
                holder = items.holder_of(item)
                wanted.setdefault(holder, set()).add(txn)
        activated: list[Activated] = []
        for member, ids in sorted(wanted.items(), key=lambda one: str(one[0])):
            activated += self._activate_member(application_id, program, member, ids)
        return activated

    def _activate_member(
        self, application_id: int, program: LoyaltyProgram, member: items.Holder, ids: set[str]
    ) -> list[Activated]:
        table = self._tables.ledgers
        for _ in range(_ATTEMPTS):
            now = self._clock.now()
            answer = self._client.get_item(
                TableName=table,
                Key=codec.to_item(items.ledger_key(application_id, program.id, member)),
                ConsistentRead=True,
            )
            stored = items.ledger_from_item(codec.from_item(answer["Item"]) if "Item" in answer else None, now)
            ledger = advance(stored.ledger, now)
            waiting = {
                lot.id: name
                for name, balance in ledger.subledgers.items()
                for lot in balance.lots
                if lot.id in ids and lot.starts is None
            }
            if not waiting:
                return []
            for name in sorted(set(waiting.values())):
                ledger = activate(ledger, name, [lot_id for lot_id, sub in waiting.items() if sub == name], now,
                                  zone_of(program.timezone))  # fmt: skip
            ledger = carried(stored.ledger, ledger, program, now)
            joined = join_date(program, stored.joined, ledger, now)
            after = items.StoredLedger(ledger, stored.version + 1, joined, stored.noticed)
            writes = items.ledger_writes(table, application_id, program.id, member, after, stored.version)
            writes += events.change_writes(self._outbox, application_id, program.id, member, stored.ledger, ledger,
                                           after.version, now)  # fmt: skip
            done: list[Activated] = []
            for name, balance in ledger.subledgers.items():
                for lot in balance.lots:
                    if lot.id not in waiting:
                        continue
                    writes.append(_dated(table, application_id, program.id, member, lot.id, lot.starts, lot.expires))
                    writes.append(committer.delete(table, items.pending_key(application_id, lot.id)))
                    entry = items.Entry(lot.id, "addition", name, lot.remaining, "", now, starts=lot.starts,
                                        expires=lot.expires)  # fmt: skip
                    done.append(Activated(member, entry))
            try:
                self._committer.commit(writes, conflict=items.LedgerChangedError)
            except items.LedgerChangedError:
                continue
            return done
        raise items.LedgerChangedError()

    def _read(
        self, application_id: int, session_id: str | None, transaction_ids: Sequence[str]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[dict[str, Any]]]:
        """The ruleset pointer, the session (when named) and the pending items of the transactions: one batch."""
        tables = self._tables
        request: dict[str, Any] = {
            tables.config: {"Keys": [codec.to_item(pointer_key(application_id))], "ConsistentRead": True}
        }
        if session_id is not None:
            key = {"PK": f"APP#{application_id}#SESSION#{session_id}", "SK": _SESSION_SK}
            request[tables.orders] = {
                "Keys": [codec.to_item(key)],
                "ConsistentRead": True,
                "ProjectionExpression": "PK, profileId, loyalty",
            }
        if transaction_ids:
            keys = [codec.to_item(items.pending_key(application_id, txn)) for txn in dict.fromkeys(transaction_ids)]
            request[tables.ledgers] = {"Keys": keys, "ConsistentRead": True}
        found = read_batch(self._client, request)
        pointer = next((item for table, item in found if table == tables.config), None)
        session = next((item for table, item in found if table == tables.orders), None)
        return pointer, session, [item for table, item in found if table == tables.ledgers]


def _dated(
    table: str, application_id: int, program_id: int, member: items.Holder, transaction: str, starts: Any, expires: Any
) -> committer.Write:
    """The entry's dates once its points are active."""
    return committer.update(
        table,
        {"PK": items.member_pk(application_id, program_id, member), "SK": items.ENTRY_PREFIX + transaction},
        "SET startDate = :starts, expiryDate = :expires",
        condition="attribute_exists(PK)",
        values={":starts": starts.isoformat(), ":expires": expires.isoformat() if expires else "unlimited"},
        failed=items.LedgerChangedError,
    )
