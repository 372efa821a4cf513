"""Builders of the loyalty services that need no HTTP edge: the scheduled expiry job."""

from __future__ import annotations

from typing import Any

from patron.loyalty.expiry import ExpiryJob
from patron.promotions.store import LiveRulesets
from patron.settings import Loyalty, Tables


def expiry_job(client: Any, tables: Tables, loyalty: Loyalty) -> ExpiryJob:
    return ExpiryJob(
        client,
        tables.ledgers,
        tables.outbox,
        tables.outbox_ttl,
        tables.config,
        loyalty.expiry_notice_days,
        LiveRulesets(client, tables),
    )
