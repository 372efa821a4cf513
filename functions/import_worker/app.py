"""Writes import chunks from the queue; reports each failed message so only it comes back (partial batch)."""

from __future__ import annotations

import json
from typing import Any

from patron.idempotency.settings import IdempotencySettings
from patron.imports.wiring import chunk_writer
from patron.logs import get_logger
from patron.outbox.wiring import OutboxSettings
from patron.settings import OrdersSettings, ProcessStoreSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = (ProcessStoreSettings, OrdersSettings, IdempotencySettings, OutboxSettings)

log = get_logger("patron.import_worker")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
            chunk_writer().write(
                int(message["applicationId"]), int(message["processId"]), int(message["chunk"]), str(message["key"])
            )
        except Exception as exc:
            log.error("import chunk failed", error=type(exc).__name__)
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
