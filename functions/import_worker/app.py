"""Writes import chunks from the queue; reports each failed message so only it comes back (partial batch)."""

from __future__ import annotations

import gc
import json

from patron.idempotency.settings import IdempotencySettings
from patron.imports.wiring import chunk_writer
from patron.observability.sqs import SQSRecord, sqs_handler
from patron.outbox.wiring import OutboxSettings
from patron.settings import OrdersSettings, ProcessStoreSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = (ProcessStoreSettings, OrdersSettings, IdempotencySettings, OutboxSettings)

# A chunk allocates a few hundred thousand short-lived objects (records, items, requests), nearly all freed by
# reference counting. With CPython's default thresholds (700, 10, 10) they outlived young collections and set off
# full collections, each walking every long-lived object of the process (botocore's models, the clients): ~9 %
# of an import's time (bench/import_throughput). Young collections every 50,000 allocations still free the few
# cycles a chunk makes.
gc.set_threshold(50_000, 20, 10)


def write_chunk(record: SQSRecord) -> None:
    message = json.loads(record.body)
    chunk_writer().write(
        int(message["applicationId"]), int(message["processId"]), int(message["chunk"]), str(message["key"])
    )


lambda_handler = sqs_handler(write_chunk)
