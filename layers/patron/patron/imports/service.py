"""Import use cases: start a process, split its input into chunks, write a chunk, report, finish.

Every customer and order goes through the same services as the single routes (identifiers, catalog, statuses,
statistics, merges), so an import follows every rule they follow. A bad record is rejected with its index,
field path and reason, and the rest of its chunk is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from patron.catalog.model import EntityKind
from patron.clock import Clock, SystemClock, iso
from patron.errors import NotFoundError, PatronError, ValidationError
from patron.http import jsonbody
from patron.imports.aws import ChunkQueue, ImportStorage, Workflow
from patron.imports.model import CUSTOMERS_PER_CHUNK, ImportOptions, InputFormat, Process, ProcessStatus, Rejection
from patron.imports.payload import ImportEnvelope, parse_envelope
from patron.imports.repository import ProcessRepository
from patron.orders.merge import CustomerMerger
from patron.orders.rfmcube import parse_merge_customer
from patron.orders.service import OrderService
from patron.orders.wire import ORDER_FIELDS, parse_order
from patron.profiles.identifiers import IdentifierPatch
from patron.profiles.service import AttributeCatalog

Resolve = Callable[[int, str | None, str | None], str]
Record = Callable[[int, str, str, str], None]


class InputFormatNotSupportedError(PatronError):
    """The split reads Rfmcube's JSON envelope only, for now (the workflow fails the process with this name)."""

    def __init__(self, input_format: InputFormat) -> None:
        super().__init__(message=f"{input_format.value} imports cannot be split yet.", code="format_not_supported")


def _input_key(application_id: int, process_id: int) -> str:
    return f"imports/{application_id}/{process_id}/input.json"


def _chunk_key(application_id: int, process_id: int, index: int) -> str:
    return f"imports/{application_id}/{process_id}/chunks/{index:06d}.json"


class ImportService:
    def __init__(
        self,
        processes: ProcessRepository,
        storage: ImportStorage,
        queue: ChunkQueue,
        workflow: Workflow,
        clock: Clock | None = None,
        restate: Callable[[int, str], int] | None = None,
    ):
        self._processes = processes
        self._storage = storage
        self._queue = queue
        self._workflow = workflow
        self._clock = clock or SystemClock()
        self._restate = restate

    def start(self, application_id: int, raw: bytes, payload: Any) -> Process:
        """Checks the envelope, keeps the input in S3, and starts the process's workflow."""
        envelope: ImportEnvelope = parse_envelope(payload)
        now = iso(self._clock.now())
        process = Process(
            application_id=application_id,
            process_id=self._processes.next_process_id(application_id),
            status=ProcessStatus.PENDING,
            created=now,
            updated=now,
            total_customers=len(envelope.customers),
            total_orders=envelope.total_orders,
            options=envelope.options,
        )
        key = _input_key(application_id, process.process_id)
        self._storage.put(key, raw)
        self._processes.create(process, key)
        self._workflow.start(
            f"import-{application_id}-{process.process_id}-{uuid.uuid4().hex[:8]}",
            {"applicationId": application_id, "processId": process.process_id},
        )
        return process

    def get(self, application_id: int, process_id: int) -> Process:
        process = self._processes.get(application_id, process_id)
        if process is None:
            raise NotFoundError("No such process.", code="process_not_found")
        return process

    def rejections(
        self, application_id: int, process_id: int, limit: int, cursor: str | None
    ) -> tuple[list[Rejection], str | None]:
        return self._processes.rejections(application_id, process_id, limit, cursor)

    # -- workflow steps ----------------------------------------------------------------------------------

    def split(self, application_id: int, process_id: int) -> int:
        """Chunks of CUSTOMERS_PER_CHUNK customers (with their orders), each in S3 and announced on the queue.
        Re-running it (a retried step) writes the same chunks again: their completion is recorded once."""
        process = self.get(application_id, process_id)
        if process.input_format is not InputFormat.JSON:
            raise InputFormatNotSupportedError(process.input_format)
        raw = self._storage.get(process.input_key)
        customers = jsonbody.loads(raw)["customers"]  # numbers stay exact (Decimal) through the chunks
        chunks = [customers[i : i + CUSTOMERS_PER_CHUNK] for i in range(0, len(customers), CUSTOMERS_PER_CHUNK)]
        for index, chunk in enumerate(chunks):
            key = _chunk_key(application_id, process_id, index)
            body = jsonbody.dumps({"offset": index * CUSTOMERS_PER_CHUNK, "customers": chunk})
            self._storage.put(key, body.encode("utf-8"))
            self._queue.send({"applicationId": application_id, "processId": process_id, "chunk": index, "key": key})
        self._processes.set_status(
            application_id, process_id, ProcessStatus.RUNNING, iso(self._clock.now()), chunksTotal=len(chunks)
        )
        return len(chunks)

    def is_done(self, application_id: int, process_id: int) -> bool:
        process = self.get(application_id, process_id)
        return process.chunks_done >= process.chunks_total

    def finish(self, application_id: int, process_id: int) -> Process:
        process = self.get(application_id, process_id)
        if process.options.recalculate_stats and self._restate is not None:
            # Rfmcube's recalculateStats: every order of the imported customers is mapped again with today's
            # status mapping, and their statistics follow (each change is the usual order transaction).
            for customer_id in self._processes.customers(application_id, process_id):
                self._restate(application_id, customer_id)
        failed = process.chunks_failed > 0
        self._processes.set_status(
            application_id,
            process_id,
            ProcessStatus.FAILED if failed else ProcessStatus.COMPLETED,
            iso(self._clock.now()),
            **({"failure": f"{process.chunks_failed} chunk(s) could not be written"} if failed else {}),
        )
        return self.get(application_id, process_id)

    def fail(self, application_id: int, process_id: int, reason: str) -> None:
        self._processes.set_status(
            application_id, process_id, ProcessStatus.FAILED, iso(self._clock.now()), failure=reason[:500]
        )

    def chunk_failed(self, application_id: int, process_id: int, index: int) -> None:
        """A chunk that kept failing reached the dead-letter queue: it counts as done, and the process fails."""
        self._processes.complete_chunk(application_id, process_id, index, 0, 0, [], True, iso(self._clock.now()))


class ChunkWriter:
    """Writes one chunk's customers and orders through the domain services."""

    def __init__(
        self,
        processes: ProcessRepository,
        storage: ImportStorage,
        merger: CustomerMerger,
        resolve: Resolve,
        orders: OrderService,
        catalog: AttributeCatalog | None,
        record: Record | None,
        clock: Clock | None = None,
    ):
        self._processes = processes
        self._storage = storage
        self._merger = merger
        self._resolve = resolve
        self._orders = orders
        self._catalog = catalog
        self._record = record
        self._clock = clock or SystemClock()

    def write(self, application_id: int, process_id: int, index: int, key: str) -> bool:
        """Writes the chunk and records it; False when it had been recorded already (a redelivery)."""
        process = self._processes.get(application_id, process_id)
        if process is None:
            return False
        chunk = jsonbody.loads(self._storage.get(key))
        offset, customers = int(chunk["offset"]), chunk["customers"]
        options = process.options
        if options.overwrite_descriptors:
            self._overwrite_descriptors(application_id, customers)
        rejections: list[Rejection] = []
        written_customers = written_orders = 0
        touched: list[str] = []
        for position, customer in enumerate(customers):
            number = offset + position
            accepted, orders_written = self._customer(application_id, number, customer, options, rejections, touched)
            written_customers += accepted
            written_orders += orders_written
        return self._processes.complete_chunk(
            application_id,
            process_id,
            index,
            written_customers,
            written_orders,
            rejections,
            False,
            iso(self._clock.now()),
            touched,
        )

    def _customer(
        self,
        application_id: int,
        number: int,
        raw: Any,
        options: ImportOptions,
        rejections: list[Rejection],
        touched: list[str],
    ) -> tuple[int, int]:
        root = f"customers[{number}]"
        if not isinstance(raw, dict):
            rejections.append(Rejection(str(number), root, "invalid_value"))
            return 0, 0
        fields = {name: value for name, value in raw.items() if name != "orders"}
        try:
            customer, _ = parse_merge_customer({"customer": fields})
            integration_id = self._resolve(application_id, customer.customer_id, customer.email)
            patch = IdentifierPatch(email=customer.email) if customer.email is not None else IdentifierPatch()
            self._merger.update_customer(application_id, integration_id, customer.attributes, patch)
        except PatronError as error:
            rejections.append(self._rejection(str(number), root, error, "customer."))
            return 0, 0
        touched.append(integration_id)
        if options.trigger_integrations and self._record is not None:
            self._record(application_id, "customer", integration_id, integration_id)
        written = 0
        for position, order in enumerate(raw.get("orders") or []):
            order_root = f"{root}.orders[{position}]"
            try:
                fields = dict(order) if isinstance(order, dict) else order
                if isinstance(fields, dict):
                    fields.setdefault("customerId", integration_id)
                stored = self._orders.upsert(application_id, parse_order(fields, root=order_root), root=order_root)
            except PatronError as error:
                rejections.append(self._rejection(f"{number}.orders[{position}]", order_root, error, ""))
                continue
            written += 1
            if options.trigger_integrations and self._record is not None:
                self._record(application_id, "order", stored.order_id, stored.customer_id)
        return 1, written

    @staticmethod
    def _rejection(index: str, root: str, error: PatronError, prefix: str) -> Rejection:
        issue = error.details[0] if error.details else None
        # Field paths as the services name them (`customer.x`, `attributes.x`), placed in the import's record.
        path = issue.path.removeprefix(prefix).removeprefix("attributes.") if issue else ""
        path = path if path.startswith(root) else f"{root}.{path}" if path else root
        return Rejection(index=index, path=path, reason=issue.code if issue else error.code)

    def _overwrite_descriptors(self, application_id: int, customers: list[Any]) -> None:
        """Rfmcube's overwriteDescriptors: the types this call implies replace the catalog's."""
        if self._catalog is None:
            return
        overwrite = self._catalog.check_and_register_many
        people = [c for c in customers if isinstance(c, dict)]
        orders = [o for c in people for o in (c.get("orders") or []) if isinstance(o, dict)]
        known = {"id", "email", "orders"}
        try:
            overwrite(
                application_id,
                EntityKind.CUSTOMER,
                [("", {k: v for k, v in c.items() if k not in known}) for c in people],
                overwrite=True,
            )
            overwrite(
                application_id,
                EntityKind.ORDER,
                [("", {k: v for k, v in o.items() if k not in ORDER_FIELDS}) for o in orders],
                overwrite=True,
            )
            items = [i for o in orders for i in (o.get("items") or []) if isinstance(i, dict)]
            overwrite(application_id, EntityKind.PRODUCT, [("", i) for i in items], overwrite=True)
        except ValidationError:
            pass  # conflicting types within the call itself: each record is then checked as usual
