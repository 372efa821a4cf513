"""The customer inventory's `loyalty=true` (Talon.One's `CustomerInventory.loyalty`): the person's ledgers in each
program of the live ruleset they have one in, as a session answers them (with nothing tentative: a balance now).
One Query of the person's member index, then one BatchGetItem: the ruleset pointer and the ledgers."""

from __future__ import annotations

from typing import Any

from patron.clock import Clock
from patron.dynamo import codec
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
        version = live_version(pointer)
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
        pointer: dict[str, Any] | None = None
        ledgers: dict[int, dict[str, Any]] = {}
        for _ in range(5):
            answer = self._client.batch_get_item(RequestItems=request)
            for table, table_items in answer.get("Responses", {}).items():
                for raw in table_items:
                    if table == self._config:
                        pointer = raw
                    else:
                        item = codec.from_item(raw)
                        ledgers[items.program_of(item)] = item
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        return pointer, ledgers
