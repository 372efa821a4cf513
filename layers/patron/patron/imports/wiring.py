"""Builders of the import functions' services, one per function (patron.wiring composes them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from patron.clock import SystemClock, iso
from patron.imports.aws import S3ImportStorage, S3UploadStore, SqsChunkQueue, StepFunctionsWorkflow
from patron.imports.batch_store import DynamoBatchStore
from patron.imports.repository import DynamoProcessRepository
from patron.imports.service import ImportService
from patron.imports.uploads import UploadService, UploadStarter
from patron.outbox.repository import OutboxRecord
from patron.settings import Imports, Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from patron.customers.merge import CustomerMerger
    from patron.imports.writer import ChunkWriter
    from patron.orders.customers import ProfileCustomerResolver
    from patron.orders.service import OrderService
    from patron.outbox.repository import DynamoOutboxRepository
    from patron.profiles.service import AttributeCatalog, ProfileService


class _NoQueue:
    def send_many(self, messages: list[dict[str, Any]]) -> None:
        raise RuntimeError("this function does not split imports")


class _NoWorkflow:
    def start(self, name: str, payload: dict[str, Any]) -> bool:
        raise RuntimeError("this function does not start imports")


def _processes(client: DynamoDBClient, tables: Tables) -> DynamoProcessRepository:
    return DynamoProcessRepository(client, tables.processes)


def import_api(client: DynamoDBClient, tables: Tables, imports: Imports) -> ImportService:
    """POST /v1/import and GET /v1/processes/{processId}."""
    return ImportService(
        _processes(client, tables),
        S3ImportStorage(imports.bucket),
        _NoQueue(),
        StepFunctionsWorkflow(imports.state_machine_arn),
    )


def import_steps(client: DynamoDBClient, tables: Tables, imports: Imports) -> ImportService:
    """The workflow's steps: split, check, finish, fail."""
    return ImportService(
        _processes(client, tables),
        S3ImportStorage(imports.bucket),
        SqsChunkQueue(imports.queue_url),
        _NoWorkflow(),
    )


def process_store(client: DynamoDBClient, tables: Tables, imports: Imports) -> ImportService:
    """The dead-letter function: it only records failed chunks."""
    return ImportService(_processes(client, tables), S3ImportStorage(imports.bucket), _NoQueue(), _NoWorkflow())


def upload_service(client: DynamoDBClient, tables: Tables, imports: Imports) -> UploadService:
    """POST /v1/import/uploads."""
    return UploadService(
        _processes(client, tables),
        S3UploadStore(imports.bucket),
        max_bytes=imports.max_upload_bytes,
        url_ttl_seconds=imports.upload_url_ttl,
    )


def upload_starter(client: DynamoDBClient, tables: Tables, imports: Imports) -> UploadStarter:
    """The Object Created consumer, and its dead letters' (which fail the process it was to start)."""
    return UploadStarter(
        _processes(client, tables),
        S3UploadStore(imports.bucket),
        StepFunctionsWorkflow(imports.state_machine_arn),
        bucket=imports.bucket,
        max_bytes=imports.max_upload_bytes,
    )


def chunk_writer(
    client: DynamoDBClient,
    bulk_client: DynamoDBClient,
    tables: Tables,
    imports: Imports,
    *,
    merger: CustomerMerger,
    resolver: ProfileCustomerResolver,
    orders: OrderService,
    catalog: AttributeCatalog,
    outbox: DynamoOutboxRepository,
    profiles: ProfileService,
) -> ChunkWriter:
    """The worker: the routes' own services for the per-record way, and the batch store (its own client) for
    customers the application does not hold yet."""
    # Imported here: the other import functions never load the writer and the services it drives.
    from patron.imports.writer import ChunkWriter

    clock = SystemClock()

    def record(application_id: int, records: list[tuple[str, str, str]]) -> None:
        now = iso(clock.now())
        outbox.record_many([OutboxRecord(application_id, *record, now) for record in records])

    return ChunkWriter(
        _processes(client, tables),
        S3ImportStorage(imports.bucket),
        merger,
        resolver.resolve,
        orders,
        catalog,
        record,
        profiles=profiles,
        batch=DynamoBatchStore(bulk_client, tables.profiles, tables.orders),
    )
