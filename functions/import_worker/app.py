"""Writes import chunks from the queue; reports each failed message so only it comes back (partial batch)."""

from __future__ import annotations

import gc
import json
from collections.abc import Mapping

from patron.catalog.wiring import catalog_service
from patron.customers.wiring import customer_merger, personal_data
from patron.dynamo.client import bulk_dynamodb_client, dynamodb_client
from patron.idempotency.wiring import idempotency_store
from patron.imports import wiring
from patron.imports.writer import ChunkWriter
from patron.observability.sqs import SQSRecord, sqs_handler
from patron.orders.wiring import customer_resolver, order_service
from patron.outbox.wiring import outbox
from patron.profiles.wiring import profile_service
from patron.settings import Imports, Tables
from patron.wiring import CompositionRoot


def compose(environ: Mapping[str, str]) -> ChunkWriter:
    """This function's composition root: the routes' own services (customers merged, orders, one catalog, the
    outbox) for the per-record way, and the batch store for customers the application does not hold yet."""
    client, tables = dynamodb_client(), Tables.from_environ(environ)
    catalog = catalog_service(client, tables)
    profiles = profile_service(client, tables, catalog)
    resolver = customer_resolver(profiles)
    notifications = outbox(client, tables)
    holders = personal_data(client, tables, profiles, idempotency_store(client, tables), notifications)
    return wiring.chunk_writer(
        client,
        bulk_dynamodb_client(),
        tables,
        Imports.from_environ(environ),
        merger=customer_merger(client, tables, profiles, holders),
        resolver=resolver,
        orders=order_service(client, tables, resolver, catalog),
        catalog=catalog,
        outbox=notifications,
        profiles=profiles,
    )


chunk_writer = CompositionRoot(compose)

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
