"""The customer inventory's `loyalty=true` (Talon.One's `CustomerInventory.loyalty`): the person's ledgers in each
program of the live ruleset they have one in, as a session answers them (with nothing tentative: a balance now),
and the cards they are linked to (card-based programs), each with its ledgers. One Query of the person's member
index, then one BatchGetItem: the ruleset pointer, the ledgers, the cards and theirs."""

from __future__ import annotations

from typing import Any

from patron.clock import Clock
from patron.dynamo import codec
from patron.dynamo.batch import read_batch
from patron.loyalty import cards, items
from patron.loyalty.ledger import advance
from patron.loyalty.service import tentative_view
from patron.loyalty.wire import LoyaltyCardView, LoyaltyView
from patron.promotions.store import LiveRulesets, live_version, pointer_key
from patron.settings import Tables


class LoyaltyInventory:
    def __init__(self, client: Any, tables: Tables, rulesets: LiveRulesets, clock: Clock):
        self._client = client
        self._ledgers, self._config = tables.ledgers, tables.config
        self._rulesets = rulesets
        self._clock = clock

    def loyalty(self, application_id: int, integration_id: str) -> LoyaltyView:
        programs, linked = self._index(application_id, integration_id)
        if not programs and not linked:
            return LoyaltyView(programs={})
        now = self._clock.now()
        pointer, found, found_cards = self._read(application_id, integration_id, programs, linked)
        version = live_version(codec.to_item(pointer)) if pointer is not None else None
        live = self._rulesets.compiled(application_id, version).programs if version is not None else {}
        views = {}
        for program_id in programs:
            program = live.get(program_id)
            if program is None:  # a program no longer published: its ledger stays, unanswered
                continue
            stored = items.ledger_from_item(found.get((program_id, integration_id)), now)
            ledger = advance(stored.ledger, now)
            views[str(program_id)] = tentative_view(program, ledger, ledger, now, stored.joined)
        card_views: list[LoyaltyCardView] = []
        for program_id, identifier in linked:
            program = live.get(program_id)
            card_item = found_cards.get((program_id, identifier))
            if program is None or card_item is None:
                continue
            card = cards.card_from_item(card_item)
            stored = items.ledger_from_item(found.get((program_id, items.Card(identifier))), now)
            ledger = advance(stored.ledger, now)
            ledgers = tentative_view(program, ledger, ledger, now, stored.joined)
            view = cards.card_view(application_id, card, program)
            view.ledger, view.subledgers = ledgers.ledger, ledgers.sub_ledgers
            card_views.append(view)
        if card_views:
            return LoyaltyView(programs=views, cards=card_views)
        return LoyaltyView(programs=views)

    def _index(self, application_id: int, integration_id: str) -> tuple[list[int], list[tuple[int, str]]]:
        """The programs the person has a ledger in, and the cards they are linked to: (program, identifier)."""
        request: dict[str, Any] = {
            "TableName": self._ledgers,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": items.member_index_pk(application_id, integration_id)}},
            "ConsistentRead": True,
        }
        programs: list[int] = []
        linked: list[tuple[int, str]] = []
        while True:
            answer = self._client.query(**request)
            for item in map(codec.from_item, answer.get("Items", [])):
                sk = str(item["SK"])
                if sk.startswith(items.PROGRAM_PREFIX):
                    programs.append(int(sk[len(items.PROGRAM_PREFIX) :]))
                elif sk.startswith(items.CARD_PREFIX):
                    linked.append((int(item["programId"]), str(item["cardIdentifier"])))
            if "LastEvaluatedKey" not in answer:
                return sorted(programs), sorted(linked)
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _read(
        self, application_id: int, integration_id: str, programs: list[int], linked: list[tuple[int, str]]
    ) -> tuple[
        dict[str, Any] | None,
        dict[tuple[int, items.Holder], dict[str, Any]],
        dict[tuple[int, str], dict[str, Any]],
    ]:
        keys = [items.ledger_key(application_id, p, integration_id) for p in programs]
        for program_id, identifier in linked:
            keys.append(items.ledger_key(application_id, program_id, items.Card(identifier)))
            keys.append(items.card_key(application_id, program_id, identifier))
        request: dict[str, Any] = {
            self._config: {"Keys": [codec.to_item(pointer_key(application_id))], "ConsistentRead": True},
            self._ledgers: {"Keys": [codec.to_item(key) for key in keys], "ConsistentRead": True},
        }
        found = read_batch(self._client, request)
        pointer = next((item for table, item in found if table == self._config), None)
        ledgers: dict[tuple[int, items.Holder], dict[str, Any]] = {}
        found_cards: dict[tuple[int, str], dict[str, Any]] = {}
        for table, item in found:
            if table != self._ledgers:
                continue
            if item["SK"] == items.CARD_SK:
                found_cards[(items.program_of(item), str(item["cardIdentifier"]))] = item
            else:
                ledgers[(items.program_of(item), items.holder_of(item))] = item
        return pointer, ledgers, found_cards
