"""Builder of the ruleset service (the management API's and the CLI's way to publish campaigns)."""

from __future__ import annotations

from typing import Any

from patron.clock import SystemClock, iso
from patron.promotions.management import RulesetService
from patron.promotions.store import DynamoRulesetRepository


def ruleset_service(client: Any, config_table: str) -> RulesetService:
    clock = SystemClock()
    return RulesetService(DynamoRulesetRepository(client, config_table), lambda: iso(clock.now()))
