"""Builder of the custom event service, for the composition root of a function whose route records custom events
by definition (ExpertSender's `POST /scenariocustomevents`). Such a function needs the sessions function's reach:
the profiles, orders (`APP#*#EVENTS#*`), ledgers (budgets, loyalty), outbox and config (`APP#*#RULESET`) tables,
and EVENT_RETENTION_DAYS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.clock import Clock
from patron.events.recording import CustomEventService
from patron.events.service import EventService
from patron.promotions.ruleset import CompiledRuleset
from patron.promotions.store import DynamoRulesetRepository, LiveRulesets
from patron.sessions.store import SessionStore
from patron.settings import Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def custom_event_service(
    client: DynamoDBClient, tables: Tables, rulesets: LiveRulesets, clock: Clock, events: EventService | None = None
) -> CustomEventService:
    """`events`: the function's own EventService, if it has one (it shares what the instance learnt of rulesets)."""
    retention = tables.event_retention
    events = events or EventService(SessionStore(client, tables), rulesets, clock, retention)
    pointers = DynamoRulesetRepository(client, tables.config)

    def live(application_id: int) -> CompiledRuleset | None:
        pointer = pointers.live(application_id)
        return rulesets.compiled(application_id, pointer.version) if pointer is not None else None

    return CustomEventService(events, live, clock, retention)
