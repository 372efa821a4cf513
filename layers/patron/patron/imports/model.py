"""An import process as Rfmcube reports it, and the options an import carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PROCESS_TYPE = "IMPORT_CUSTOMERS_API"
# One SQS message (and one S3 object) per chunk: ~1,100 records of a typical history, written in ~60 batch calls.
CUSTOMERS_PER_CHUNK = 100


class ProcessStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportOptions:
    overwrite_descriptors: bool = False
    trigger_integrations: bool = False
    recalculate_stats: bool = False


@dataclass(frozen=True)
class Process:
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


@dataclass(frozen=True)
class Rejection:
    """A record the import refused: where it was (customer index, order index), which field, and why."""

    index: str  # "12" for a customer, "12.orders[3]" for one of its orders
    path: str
    reason: str
