"""Builders of the ruleset and simulation services (the management API's and the CLI's way to publish and
simulate campaigns)."""

from __future__ import annotations

from typing import Any

from patron.clock import SystemClock, iso
from patron.promotions.management import RulesetService
from patron.promotions.simulation import SimulationService
from patron.promotions.store import DynamoRulesetRepository, LiveRulesets
from patron.sessions.recent import DynamoRecentSessionRepository
from patron.settings import Tables


def ruleset_service(client: Any, config_table: str) -> RulesetService:
    clock = SystemClock()
    return RulesetService(DynamoRulesetRepository(client, config_table), lambda: iso(clock.now()))


def simulation_service(client: Any, tables: Tables) -> SimulationService:
    """Simulations: the config table's rulesets, the orders table's recent sessions, the profiles table."""
    return SimulationService(
        ruleset_service(client, tables.config),
        LiveRulesets(client, tables),
        DynamoRecentSessionRepository(client, tables.orders, tables.profiles),
    )
