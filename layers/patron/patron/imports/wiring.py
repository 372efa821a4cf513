"""Cached factories of the import functions."""

from __future__ import annotations

from functools import cache
from typing import Any

from patron.dynamo.client import bulk_dynamodb_client, dynamodb_client
from patron.imports.aws import S3ImportStorage, S3UploadStore, SqsChunkQueue, StepFunctionsWorkflow
from patron.imports.batch_store import DynamoBatchStore
from patron.imports.repository import DynamoProcessRepository
from patron.imports.service import ImportService
from patron.imports.uploads import UploadService, UploadStarter
from patron.imports.writer import ChunkWriter
from patron.settings import (
    CustomerDataSettings,
    ImportSplitSettings,
    ImportStartSettings,
    ImportUploadedSettings,
    ImportUploadSettings,
    ProcessStoreSettings,
)


class _NoQueue:
    def send_many(self, messages: list[dict[str, Any]]) -> None:
        raise RuntimeError("this function does not split imports")


class _NoWorkflow:
    def start(self, name: str, payload: dict[str, Any]) -> bool:
        raise RuntimeError("this function does not start imports")


@cache
def start_settings() -> ImportStartSettings:
    return ImportStartSettings.from_environ()


@cache
def import_api() -> ImportService:
    """POST /v1/import and GET /v1/processes/{processId}."""
    settings = start_settings()
    return ImportService(
        DynamoProcessRepository(dynamodb_client(), settings.processes_table_name),
        S3ImportStorage(settings.import_bucket_name),
        _NoQueue(),
        StepFunctionsWorkflow(settings.import_state_machine_arn),
    )


@cache
def import_steps() -> ImportService:
    """The workflow's steps: split, check, finish, fail."""

    settings = ImportSplitSettings.from_environ()
    return ImportService(
        DynamoProcessRepository(dynamodb_client(), settings.processes_table_name),
        S3ImportStorage(settings.import_bucket_name),
        SqsChunkQueue(settings.import_queue_url),
        _NoWorkflow(),
    )


@cache
def chunk_writer() -> ChunkWriter:
    from patron.catalog.wiring import catalog_service
    from patron.clock import SystemClock, iso
    from patron.customers.wiring import customer_merger
    from patron.orders.wiring import customer_resolver, order_service
    from patron.outbox.repository import OutboxRecord
    from patron.outbox.wiring import outbox
    from patron.profiles.wiring import profile_service

    settings = ProcessStoreSettings.from_environ()
    customers = CustomerDataSettings.from_environ()

    def record(application_id: int, records: list[tuple[str, str, str]]) -> None:
        now = iso(SystemClock().now())
        outbox().record_many([OutboxRecord(application_id, *record, now) for record in records])

    return ChunkWriter(
        DynamoProcessRepository(dynamodb_client(), settings.processes_table_name),
        S3ImportStorage(settings.import_bucket_name),
        customer_merger(),
        customer_resolver().resolve,
        order_service(),
        catalog_service(),
        record,
        profiles=profile_service(),
        batch=DynamoBatchStore(bulk_dynamodb_client(), customers.profiles_table_name, customers.orders_table_name),
    )


@cache
def process_store() -> ImportService:
    """The dead-letter function: it only records failed chunks."""
    settings = ProcessStoreSettings.from_environ()
    return ImportService(
        DynamoProcessRepository(dynamodb_client(), settings.processes_table_name),
        S3ImportStorage(settings.import_bucket_name),
        _NoQueue(),
        _NoWorkflow(),
    )


@cache
def upload_settings() -> ImportUploadSettings:
    return ImportUploadSettings.from_environ()


@cache
def upload_service() -> UploadService:
    """POST /v1/import/uploads."""
    settings = upload_settings()
    return UploadService(
        DynamoProcessRepository(dynamodb_client(), settings.processes_table_name),
        S3UploadStore(settings.import_bucket_name),
        max_bytes=settings.max_import_upload_bytes,
        url_ttl_seconds=settings.import_upload_url_ttl_seconds,
    )


@cache
def upload_starter() -> UploadStarter:
    """The Object Created consumer."""
    settings = ImportUploadedSettings.from_environ()
    return UploadStarter(
        DynamoProcessRepository(dynamodb_client(), settings.processes_table_name),
        S3UploadStore(settings.import_bucket_name),
        StepFunctionsWorkflow(settings.import_state_machine_arn),
        bucket=settings.import_bucket_name,
        max_bytes=settings.max_import_upload_bytes,
    )
