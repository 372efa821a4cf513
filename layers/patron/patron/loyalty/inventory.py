"""The customer inventory's `loyalty=true` (Talon.One's `CustomerInventory.loyalty`): the person's ledgers in each
program of the live ruleset they have one in, as a session answers them (with nothing tentative: a balance now).
One Query of the person's member index, then one BatchGetItem: the ruleset pointer and the ledgers."""

from __future__ import annotations

from typing import Any

from patron.clock import Clock
from patron.dynamo import codec
from patron.dynamo.batch import read_batch
from patron.loyalty import items
from patron.loyalty.ledger import advance
from patron.loyalty.service import tentative_view
from patron.loyalty.wire import LoyaltyView
from patron.promotions.store import LiveRulesets, live_version, pointer_key
from patron.settings import Tables


class LoyaltyInventory:
    def __init__(self, client: Any, tables: Tables, rulesets: LiveRulesets, clock: Clock):
        self._client = client
        self._ledgers, self._config = tables.ledgers, tables.config
        self._rulesets = rulesets
        self._clock = clock

    def loyalty(self, application_id: int, integration_id: str) -> LoyaltyView:
        programs = self._programs(application_id, integration_id)
        if not programs:
            return LoyaltyView(programs={})
        now = self._clock.now()
        pointer, found = self._read(application_id, integration_id, programs)
        version = live_version(codec.to_item(pointer)) if pointer is not None else None
        live = self._rulesets.compiled(application_id, version).programs if version is not None else {}
        views = {}
        for program_id in programs:
            program = live.get(program_id)
            if program is None:  # a program no longer published: its ledger stays, unanswered
                continue
            stored = items.ledger_from_item(found.get(program_id), now)
            ledger = advance(stored.ledger, now)
            views[str(program_id)] = tentative_view(program, ledger, ledger, now, stored.joined)
        return LoyaltyView(programs=views)

    def _programs(self, application_id: int, integration_id: str) -> list[int]:
        answer = self._client.query(
            TableName=self._ledgers,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": items.member_index_pk(application_id, integration_id)}},
            ConsistentRead=True,
        )
        return sorted(int(str(item["SK"]["S"])[len(items.PROGRAM_PREFIX) :]) for item in answer.get("Items", []))

    def _read(
        self, application_id: int, integration_id: str, programs: list[int]
    ) -> tuple[dict[str, Any] | None, dict[int, dict[str, Any]]]:
        request: dict[str, Any] = {
            self._config: {"Keys": [codec.to_item(pointer_key(application_id))], "ConsistentRead": True},
            self._ledgers: {
                "Keys": [codec.to_item(items.ledger_key(application_id, p, integration_id)) for p in programs],
                "ConsistentRead": True,
            },
        }
        found = read_batch(self._client, request)
        pointer = next((item for table, item in found if table == self._config), None)
        ledgers = {items.program_of(item): item for table, item in found if table == self._ledgers}
        return pointer, ledgers
