"""Keys of tracked events and their per-type day counts (docs/data-model.md, "Tracked events"), in the orders table
with the customer's other activity. Every partition key begins with the application id; one partition per profile,
so a person's events are one Query (export, erasure, merge) and never a Scan."""

from __future__ import annotations

EVENT_PREFIX = "EVENT#"
COUNT_PREFIX = "COUNT#"
EXPIRES_AT = "expiresAt"  # the table's TTL attribute (template.yaml, OrdersTable)


def events_pk(application_id: int, profile_id: str) -> str:
    return f"APP#{application_id}#EVENTS#{profile_id}"


def event_sk(created: str, event_id: int) -> str:
    """Time-ordered: `created` is UTC ISO-8601 with a fixed width (patron.clock.iso), then the id breaks ties."""
    return f"{EVENT_PREFIX}{created}#{event_id:020d}"


def count_sk(event_type: str) -> str:
    return f"{COUNT_PREFIX}{event_type}"


def event_key(application_id: int, profile_id: str, created: str, event_id: int) -> dict[str, str]:
    return {"PK": events_pk(application_id, profile_id), "SK": event_sk(created, event_id)}


def count_key(application_id: int, profile_id: str, event_type: str) -> dict[str, str]:
    return {"PK": events_pk(application_id, profile_id), "SK": count_sk(event_type)}
