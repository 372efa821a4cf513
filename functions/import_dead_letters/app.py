"""Chunks that kept failing land in the import DLQ: each is recorded as done-and-failed, so the process ends
(failed, with a reason) instead of waiting for ever."""

from __future__ import annotations

import json

from patron.imports.wiring import process_store
from patron.observability.sqs import SQSRecord, sqs_handler
from patron.settings import ProcessStoreSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = ProcessStoreSettings


def fail_chunk(record: SQSRecord) -> None:
    message = json.loads(record.body)
    process_store().chunk_failed(int(message["applicationId"]), int(message["processId"]), int(message["chunk"]))


lambda_handler = sqs_handler(fail_chunk)
