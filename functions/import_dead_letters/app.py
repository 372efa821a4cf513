"""Chunks that kept failing land in the import DLQ: each is recorded as done-and-failed, so the process ends
(failed, with a reason) instead of waiting for ever."""

from __future__ import annotations

import json
from typing import Any

from patron.imports.wiring import process_store
from patron.settings import ProcessStoreSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = ProcessStoreSettings


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
            process_store().chunk_failed(
                int(message["applicationId"]), int(message["processId"]), int(message["chunk"])
            )
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
