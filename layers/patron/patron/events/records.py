"""A tracked event as stored: one item per event in its profile's events partition (patron.events.keys), written in
the transaction of the call that tracked it and gone by DynamoDB TTL after the retention period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from patron.dynamo import committer
from patron.events.keys import EXPIRES_AT, event_key

_ATTRIBUTES = msgspec.json.Encoder(decimal_format="number")
_READ_ATTRIBUTES = msgspec.json.Decoder(dict[str, Any], float_hook=Decimal)


class EventIdTakenError(Exception):
    """The event's record exists already (a replayed write): nothing of the transaction was written."""


class StoredEvent(msgspec.Struct, frozen=True):
    id: int
    type: str
    profile_id: str  # the customer's integration id
    created: str  # when it happened (UTC ISO-8601): the tracking call's instant unless the caller gave one
    attributes: Mapping[str, Any]
    expires_at: int  # epoch seconds: created + the retention period
    source: str = "talon"  # the dialect that tracked it: talon, expertsender
    definition_id: int | None = None  # the custom event definition it matched (ExpertSender's customEventId)
    store_integration_id: str | None = None


def expiry(created: datetime, retention_days: int) -> int:
    return int((created + timedelta(days=retention_days)).timestamp())


def record_write(table: str, application_id: int, event: StoredEvent) -> committer.Write:
    """The event's item, only if new: a replayed transaction cancels whole (its count is not added twice)."""
    item: dict[str, Any] = {
        **event_key(application_id, event.profile_id, event.created, event.id),
        "id": event.id,
        "type": event.type,
        "created": event.created,
        "source": event.source,
        # As JSON text: any JSON value the event carried, exactly, whatever DynamoDB's types are.
        "attributes": _ATTRIBUTES.encode(dict(event.attributes)).decode(),
        EXPIRES_AT: event.expires_at,
    }
    if event.definition_id is not None:
        item["definitionId"] = event.definition_id
    if event.store_integration_id is not None:
        item["storeIntegrationId"] = event.store_integration_id
    return committer.put(table, item, condition="attribute_not_exists(PK)", failed=EventIdTakenError)


def event_from_item(profile_id: str, item: Mapping[str, Any]) -> StoredEvent:
    definition = item.get("definitionId")
    return StoredEvent(
        id=int(item["id"]),
        type=str(item["type"]),
        profile_id=profile_id,
        created=str(item["created"]),
        attributes=_READ_ATTRIBUTES.decode(str(item.get("attributes") or "{}")),
        expires_at=int(item[EXPIRES_AT]),
        source=str(item.get("source", "talon")),
        definition_id=int(definition) if definition is not None else None,
        store_integration_id=item.get("storeIntegrationId"),
    )
