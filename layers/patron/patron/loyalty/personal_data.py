"""Loyalty ledgers as personal data (patron.customers.port). The member index names every program the person has
a ledger in.

- **Merge.** An anonymous profile's points move to the customer. Per program, one transaction merges the two
  ledgers (lots kept as they are, totals added) on the versions read and deletes the absorbed one; then its
  entries are copied to the customer's partition and deleted.
- **Erasure.** Every item of the person's partitions goes.
- **Anonymisation.** The ledgers move to the tombstone as in a merge, so the program's totals still add up.
- **Export.** Each program's balances, open lots and transactions.

The cards a person is linked to (card-based programs) hold their own points: a merge relinks the survivor in the
absorbed person's place, an erasure or an anonymisation unlinks the person, and the export lists them. Each is
one transaction: the card on the version read, and the member-index entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from patron.dynamo import codec, committer
from patron.dynamo.batch import MAX_ITEMS, write_all
from patron.errors import ConflictError
from patron.loyalty import cards, events, items
from patron.loyalty.ledger import advance, merged

_ATTEMPTS = 4


class LoyaltyPersonalData:
    section = "loyalty"

    def __init__(self, client: Any, table: str, outbox: tuple[str, int] | None = None):
        self._client = client
        self._table = table
        self._outbox = outbox  # (table, TTL): a merge's balance event for the survivor, with the merge
        self._committer = committer.Committer(client)

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        for program_id in self._programs(application_id, absorbed_id):
            self._move(application_id, program_id, absorbed_id, survivor_id)
        for program_id, identifier in self._cards(application_id, absorbed_id):
            self._relink(application_id, program_id, identifier, absorbed_id, survivor_id)

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        return None  # absorb moved every ledger naming the person

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return bool(self._programs(application_id, integration_id) or self._cards(application_id, integration_id))

    def forget(self, application_id: int, integration_id: str) -> int:
        gone = 0
        for program_id, identifier in self._cards(application_id, integration_id):
            gone += self._relink(application_id, program_id, identifier, integration_id, None)
        for program_id in self._programs(application_id, integration_id):
            keys = [_key(item) for item in self._partition(application_id, program_id, integration_id)]
            gone += self._delete(keys)
            self._delete([items.member_index_key(application_id, integration_id, program_id)])
        return gone

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        programs = self._programs(application_id, integration_id)
        for program_id in programs:
            self._move(application_id, program_id, integration_id, tombstone_id)
        linked = self._cards(application_id, integration_id)
        for program_id, identifier in linked:  # the card keeps its points; the person leaves it
            self._relink(application_id, program_id, identifier, integration_id, None)
        return len(programs) + len(linked)

    def export(self, application_id: int, integration_id: str) -> Any:
        now = datetime.now(UTC)
        exported = []
        for program_id in self._programs(application_id, integration_id):
            ledger_item: dict[str, Any] | None = None
            entries = []
            for item in self._partition(application_id, program_id, integration_id):
                if item["SK"] == items.LEDGER_SK:
                    ledger_item = item
                else:
                    entries.append(items.entry_from_item(item))
            stored = items.ledger_from_item(ledger_item, now)
            ledger = advance(stored.ledger, now)
            exported.append(
                {
                    "programId": program_id,
                    "joined": stored.joined,
                    "balances": {
                        name or "main": {
                            "activePoints": balance.active_points(now),
                            "pendingPoints": balance.pending_points(now),
                            "spentPoints": balance.spent,
                            "expiredPoints": balance.expired,
                            "negativePoints": balance.debt,
                            "lots": msgspec.to_builtins(balance.lots),
                        }
                        for name, balance in ledger.subledgers.items()
                    },
                    "transactions": [
                        msgspec.to_builtins(entry) for entry in sorted(entries, key=lambda entry: entry.created)
                    ],
                }
            )
        linked = []
        for program_id, identifier in self._cards(application_id, integration_id):
            card = self._card(application_id, program_id, identifier)
            if card is not None:
                linked.append(
                    {
                        "programId": program_id,
                        "identifier": identifier,
                        "status": card.status,
                        "linked": next(
                            (one.timestamp for one in card.profiles if one.integration_id == integration_id), None
                        ),
                    }
                )
        return {"programs": exported, "cards": linked}

    # -- the moves ----------------------------------------------------------------------------------------------

    def _move(self, application_id: int, program_id: int, from_id: str, to_id: str) -> None:
        """The ledger of `from_id` merged into that of `to_id` (one transaction, on both versions read), then its
        entries copied over and deleted."""
        for _ in range(_ATTEMPTS):
            now = datetime.now(UTC)
            source = self._ledger(application_id, program_id, from_id)
            if source is not None:
                target = self._ledger(application_id, program_id, to_id)
                before = items.ledger_from_item(target, now)
                absorbed = items.ledger_from_item(source, now)
                both = merged(before.ledger, absorbed.ledger, now)
                after = items.StoredLedger(
                    both, before.version + 1, before.joined or absorbed.joined, before.noticed + absorbed.noticed
                )
                writes = items.ledger_writes(self._table, application_id, program_id, to_id, after, before.version)
                if self._outbox is not None:  # no tiers: a merge reads no ruleset (tier changes are not recorded)
                    writes += events.change_writes(self._outbox, application_id, program_id, to_id, before.ledger,
                                                   both, after.version, now)  # fmt: skip
                writes.append(
                    committer.delete(
                        self._table,
                        items.ledger_key(application_id, program_id, from_id),
                        condition="#version = :read",
                        names={"#version": "version"},
                        values={":read": absorbed.version},
                        failed=items.LedgerChangedError,
                    )
                )
                try:
                    self._committer.commit(writes, conflict=items.LedgerChangedError)
                except items.LedgerChangedError:
                    continue  # a session changed one of them meanwhile: read and merge again
            self._move_entries(application_id, program_id, from_id, to_id)
            self._delete([items.member_index_key(application_id, from_id, program_id)])
            return
        raise ConflictError("The customer's loyalty ledger is being changed by other requests; try again.")

    def _move_entries(self, application_id: int, program_id: int, from_id: str, to_id: str) -> None:
        """Each entry copied to the survivor's partition (the same transaction id: a repeat writes the same item),
        then deleted; a merge interrupted half-way is finished by the next."""
        target_pk = items.member_pk(application_id, program_id, to_id)
        entries = [
            item for item in self._partition(application_id, program_id, from_id) if item["SK"] != items.LEDGER_SK
        ]
        for start in range(0, len(entries), MAX_ITEMS):
            chunk = entries[start : start + MAX_ITEMS]
            copies = [{"PutRequest": {"Item": codec.to_item({**item, "PK": target_pk})}} for item in chunk]
            write_all(self._client, self._table, copies)
            self._delete([_key(item) for item in chunk])

    def _relink(self, application_id: int, program_id: int, identifier: str, from_id: str, to_id: str | None) -> int:
        """The card linked to `to_id` in `from_id`'s place (None: `from_id` only unlinked; `to_id` linked already:
        likewise), and the member-index entries with it, in one transaction on the card's version read."""
        for _ in range(_ATTEMPTS):
            card = self._card(application_id, program_id, identifier)
            index = items.card_index_key(application_id, from_id, program_id, identifier)
            if card is None or not card.linked(from_id):
                self._delete([index])
                return 0
            now = datetime.now(UTC).isoformat()
            profiles: list[cards.Linked] = []
            for one in card.profiles:
                if one.integration_id != from_id:
                    profiles.append(one)
                elif to_id is not None and not card.linked(to_id):
                    profiles.append(cards.Linked(to_id, one.timestamp))  # the link's time kept
            after = msgspec.structs.replace(card, profiles=tuple(profiles), modified=now, version=card.version + 1)
            writes = [
                cards.card_write(self._table, application_id, after, card.version),
                committer.delete(self._table, index),
            ]
            if to_id is not None:
                writes.append(cards.index_write(self._table, application_id, after, to_id))
            try:
                self._committer.commit(writes, conflict=cards.CardChangedError)
            except cards.CardChangedError:
                continue
            return 1
        raise ConflictError("The customer's loyalty card is being changed by other requests; try again.")

    # -- reads and deletes --------------------------------------------------------------------------------------

    def _programs(self, application_id: int, integration_id: str) -> list[int]:
        pk = items.member_index_pk(application_id, integration_id)
        return [
            int(str(item["SK"])[len(items.PROGRAM_PREFIX) :])
            for item in self._query(pk)
            if str(item["SK"]).startswith(items.PROGRAM_PREFIX)
        ]

    def _cards(self, application_id: int, integration_id: str) -> list[tuple[int, str]]:
        """The cards the person is linked to: (program id, identifier)."""
        pk = items.member_index_pk(application_id, integration_id)
        found = []
        for item in self._query(pk):
            if str(item["SK"]).startswith(items.CARD_PREFIX):
                found.append((int(item["programId"]), str(item["cardIdentifier"])))
        return found

    def _card(self, application_id: int, program_id: int, identifier: str) -> cards.StoredCard | None:
        answer = self._client.get_item(
            TableName=self._table,
            Key=codec.to_item(items.card_key(application_id, program_id, identifier)),
            ConsistentRead=True,
        )
        return cards.card_from_item(codec.from_item(answer["Item"])) if "Item" in answer else None

    def _partition(self, application_id: int, program_id: int, integration_id: str) -> Iterator[dict[str, Any]]:
        return self._query(items.member_pk(application_id, program_id, integration_id))

    def _ledger(self, application_id: int, program_id: int, integration_id: str) -> dict[str, Any] | None:
        answer = self._client.get_item(
            TableName=self._table,
            Key=codec.to_item(items.ledger_key(application_id, program_id, integration_id)),
            ConsistentRead=True,
        )
        return codec.from_item(answer["Item"]) if "Item" in answer else None

    def _query(self, pk: str) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        while True:
            answer = self._client.query(**request)
            yield from (codec.from_item(item) for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _delete(self, keys: list[dict[str, str]]) -> int:
        write_all(self._client, self._table, [{"DeleteRequest": {"Key": codec.to_item(key)}} for key in keys])
        return len(keys)


def _key(item: dict[str, Any]) -> dict[str, str]:
    return {"PK": str(item["PK"]), "SK": str(item["SK"])}
