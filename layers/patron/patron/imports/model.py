"""An import process as Rfmcube reports it, and the options an import carries."""

from __future__ import annotations

from enum import StrEnum

import msgspec

PROCESS_TYPE = "IMPORT_CUSTOMERS_API"
# One SQS message (and one S3 object) per chunk: ~1,100 records of a typical history, written in ~60 batch calls.
CUSTOMERS_PER_CHUNK = 100


class ProcessStatus(StrEnum):
    # An upload URL was handed out (POST /v1/import/uploads) and the file has not arrived yet. Rfmcube documents
    # no such state: its shape reports it as `pending`, with `statusDetail: awaiting_upload`.
    AWAITING_UPLOAD = "awaiting_upload"
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


def rfmcube_status(status: ProcessStatus) -> tuple[str, str | None]:
    """The status as Rfmcube names it (its own names where it has one), and Patron's finer state where it has
    none: a process waiting for its upload is Rfmcube's `pending`, detailed `awaiting_upload`."""
    if status is ProcessStatus.AWAITING_UPLOAD:
        return ProcessStatus.PENDING.value, status.value
    return status.value, None


class InputFormat(StrEnum):
    """How an import's input file is written: Rfmcube's JSON envelope, JSON Lines, or CSV."""

    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


class ImportOptions(msgspec.Struct, frozen=True):
    overwrite_descriptors: bool = False
    trigger_integrations: bool = False
    recalculate_stats: bool = False


class Process(msgspec.Struct, frozen=True):
    application_id: int
    process_id: int
    status: ProcessStatus
    created: str
    updated: str
    total_customers: int
    total_orders: int
    processed_customers: int = 0
    processed_orders: int = 0
    chunks_total: int = 0
    chunks_done: int = 0
    chunks_failed: int = 0
    rejected: int = 0
    failure: str | None = None
    options: ImportOptions = ImportOptions()
    # Where the input is in S3 and how it is written (an inline import is JSON).
    input_key: str = ""
    input_format: InputFormat = InputFormat.JSON
    # An uploaded input: the size the client declared, and until when its upload URL works (None when inline).
    declared_bytes: int | None = None
    upload_expires: str | None = None


class Rejection(msgspec.Struct, frozen=True):
    """A record the import refused: where it was (customer index, order index), which field, and why."""

    index: str  # "12" for a customer, "12.orders[3]" for one of its orders
    path: str
    reason: str
