"""Recording a custom event for a dialect that names events by a definition's id and sends typed text fields
(ExpertSender's `POST /scenariocustomevents`; later Gravity Field's and Maestra's): the definition is found, the
fields are checked and typed, and the event is tracked as Talon.One's `POST /v2/events` tracks one (campaigns
evaluated, the event stored and counted, all in one transaction). The route resolves the customer and maps the
ValidationError's FieldIssues to its own envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from patron.clock import Clock
from patron.errors import FieldIssue, ValidationError
from patron.events import definitions
from patron.events.definitions import DataField
from patron.events.model import EventOutcome, TrackedEvent, check_custom_type, check_profile_id
from patron.events.service import EventService
from patron.profiles.model import value_issues
from patron.promotions.definitions import CustomEventDefinition
from patron.promotions.ruleset import CompiledRuleset

FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of callers disagree a little; an event from the future does not


class CustomEventService:
    def __init__(
        self,
        events: EventService,
        live: Callable[[int], CompiledRuleset | None],
        clock: Clock,
        retention_days: int,
    ):
        """`live`: the application's live ruleset, read when this instance has not seen it yet (one GetItem)."""
        self._events = events
        self._live = live
        self._clock = clock
        self._retention = timedelta(days=retention_days)

    def record(
        self,
        application_id: int,
        profile_id: str,
        event: int | str,
        data_fields: Sequence[DataField] = (),
        *,
        attributes: Mapping[str, Any] | None = None,
        occurred_at: datetime | None = None,
        source: str = "expertsender",
        store_integration_id: str | None = None,
    ) -> EventOutcome:
        """Tracks the event `event` (a definition's id, or an event type) of the customer `profile_id` (an integration
        id: the route resolves email, phone or CRM id first; an unknown one is created, as Talon.One does).

        `data_fields` (ExpertSender's text fields) or `attributes` (JSON values) carry its values. Raises
        ValidationError with FieldIssues: `customEventId` (no such definition), `dataFields[i].name|type|value`,
        `attributes.<name>`, `occurredAt` (in the future, or older than the retention period). Nothing is written
        then. Answers what `POST /v2/events` answers: the event's id and time, effects, the profile."""
        check_profile_id(profile_id, "customerId")
        now = self._clock.now()
        issues: list[FieldIssue] = []
        if occurred_at is not None:
            if occurred_at.tzinfo is None:
                issues.append(FieldIssue("occurredAt", "invalid_value", "A date-time with an offset."))
            elif occurred_at > now + FUTURE_TOLERANCE:
                issues.append(FieldIssue("occurredAt", "in_future", "An event cannot happen in the future."))
            elif occurred_at < now - self._retention:
                message = "Older than the retention period: it would be gone at once."
                issues.append(FieldIssue("occurredAt", "outside_retention", message))
        if issues:
            raise ValidationError("The event is invalid.", issues)
        definition, currency = self._definition(application_id, event)
        if definition is None and isinstance(event, int):
            message = f"No custom event has id {event}."
            raise ValidationError(
                "The event is invalid.", [FieldIssue("customEventId", "unknown_custom_event", message)]
            )
        event_type = definition.type if definition is not None else str(event)
        check_custom_type(event_type)
        if definition is not None and data_fields:
            values = definitions.attributes_from_fields(definition, data_fields, currency)
        elif data_fields:
            raise ValidationError(
                "The event is invalid.",
                [FieldIssue("dataFields", "undefined_event", "Data fields need a custom event definition.")],
            )
        else:
            values = dict(attributes or {})
        unstorable = value_issues(values, "attributes")
        if unstorable:
            raise ValidationError("The event is invalid.", unstorable)
        tracked = TrackedEvent(
            type=event_type,
            profile_id=profile_id,
            attributes=values,
            store_integration_id=store_integration_id,
            occurred_at=occurred_at.astimezone(UTC) if occurred_at is not None else None,
            source=source,
            definition_id=definition.id if definition is not None else None,
        )
        return self._events.track(application_id, tracked)

    def _definition(self, application_id: int, event: int | str) -> tuple[CustomEventDefinition | None, str]:
        """The definition from the ruleset this instance last saw; the live one when it is not there."""
        for ruleset in (self._events.last_seen(application_id), None):
            if ruleset is None:
                ruleset = self._live(application_id)
                if ruleset is None:
                    return None, "EUR"
            found = (
                definitions.by_id(ruleset.ruleset, event)
                if isinstance(event, int)
                else definitions.by_type(ruleset.ruleset, event)
            )
            if found is not None:
                return found, ruleset.ruleset.settings.currency
        return None, "EUR"
