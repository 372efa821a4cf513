"""`triggerWebhook` effects become outbox records, written in the transaction that makes them final (a session's
close, a tracked event): a delivery worker sends them later, at least once (ARCHITECTURE, "Outbox")."""

from __future__ import annotations

from collections.abc import Sequence

from patron.outbox.repository import OutboxRecord
from patron.promotions.evaluator import Webhook
from patron.promotions.stored import storable

KIND = "webhook"


def webhook_records(
    application_id: int, webhooks: Sequence[Webhook], customer_id: str | None, source: str, recorded: str
) -> list[OutboxRecord]:
    """One record per triggered webhook; `source` names what fired it (`session:<id>`, `event:<id>`), so a retried
    close or event writes the same keys and a delivery worker can tell the calls apart."""
    return [
        OutboxRecord(
            application_id=application_id,
            kind=KIND,
            entity_id=f"{source}#{index}",
            customer_id=customer_id or "",
            recorded=recorded,
            payload={
                "campaignId": webhook.campaign_id,
                "webhookId": webhook.webhook_id,
                "webhookName": webhook.webhook_name,
                "source": source,
                "body": storable(webhook.payload),
            },
        )
        for index, webhook in enumerate(webhooks)
    ]
