"""Import use cases: start a process, split its input into chunks, write a chunk, report, finish.

A chunk is written by ChunkWriter (writer.py), through the same services as the single routes. A bad record
is rejected with its index, field path and reason, and the rest of its chunk is written.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import msgspec

from patron.clock import Clock, SystemClock, iso
from patron.errors import NotFoundError
from patron.http import jsonbody
from patron.imports.aws import ChunkQueue, ImportStorage, Workflow
from patron.imports.formats import Chunk, ImportReader, chunked
from patron.imports.model import Process, ProcessStatus, Rejection
from patron.imports.payload import ImportEnvelope
from patron.imports.repository import ProcessRepository

UPLOAD_GRACE = timedelta(hours=1)
SPLIT_CONCURRENCY = 8  # chunk objects stored at once
MESSAGES_PER_SEND = 10  # SQS's SendMessageBatch limit


def _order_count(customer: dict[str, Any]) -> int:
    orders = customer.get("orders")
    return len(orders) if isinstance(orders, list) else 0


def _chunk_body(chunk: Chunk) -> bytes:
    """The chunk's customers as the file held them (their JSON text is not encoded again), with their record
    numbers and the records the reader refused."""
    head = {
        "indices": [record.index for record in chunk.customers],
        "problems": [{"index": p.index, "path": p.path, "reason": p.reason} for p in chunk.problems],
    }
    return jsonbody.dumps(head)[:-1].encode("utf-8") + b', "customers": ' + chunk.customers_json() + b"}"


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
    ):
        self._processes = processes
        self._storage = storage
        self._queue = queue
        self._workflow = workflow
        self._clock = clock or SystemClock()

    def start(self, application_id: int, raw: bytes, envelope: ImportEnvelope) -> Process:
        """Keeps the input (`raw`, whose envelope was checked) in S3, and starts the process's workflow."""
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
        """The process; one still waiting for its file an hour after its upload URL expired is reported failed
        (an upload begun before the expiry may still be finishing within that hour)."""
        process = self._processes.get(application_id, process_id)
        if process is None:
            raise NotFoundError("No such process.", code="process_not_found")
        late = iso(self._clock.now() - UPLOAD_GRACE)
        if process.status is ProcessStatus.AWAITING_UPLOAD and process.upload_expires and process.upload_expires < late:
            failure = "upload_expired: no file arrived before the upload URL expired; ask for a new one."
            return msgspec.structs.replace(process, status=ProcessStatus.FAILED, failure=failure)
        return process

    def rejections(
        self, application_id: int, process_id: int, limit: int, cursor: str | None
    ) -> tuple[list[Rejection], str | None]:
        return self._processes.rejections(application_id, process_id, limit, cursor)

    # -- workflow steps ----------------------------------------------------------------------------------

    def split(self, application_id: int, process_id: int) -> int:
        """Streams the input (JSON, JSON Lines or CSV) into chunks of at most CUSTOMERS_PER_CHUNK customers, each
        stored in S3, then announced on the queue; memory stays bounded whatever the file's size. Sets the
        process's totals. Re-running it (a retried step) writes the same chunks again: each counts once."""
        process = self.get(application_id, process_id)
        reader = ImportReader(self._storage.open(process.input_key), process.input_format.value)
        customers = orders = count = 0
        pending: list[tuple[str, bytes]] = []
        with ThreadPoolExecutor(max_workers=SPLIT_CONCURRENCY) as pool:
            for chunk in chunked(reader):
                customers += len(chunk.records)
                orders += sum(_order_count(record.customer) for record in chunk.customers)
                pending.append((_chunk_key(application_id, process_id, count), _chunk_body(chunk)))
                count += 1
                if len(pending) == MESSAGES_PER_SEND:
                    self._announce(pool, application_id, process_id, count - len(pending), pending)
                    pending = []
            self._announce(pool, application_id, process_id, count - len(pending), pending)
        self._processes.set_status(
            application_id,
            process_id,
            ProcessStatus.RUNNING,
            iso(self._clock.now()),
            chunksTotal=count,
            totalCustomers=customers,
            totalOrders=orders,
        )
        return count

    def _announce(
        self,
        pool: ThreadPoolExecutor,
        application_id: int,
        process_id: int,
        first: int,
        chunks: list[tuple[str, bytes]],
    ) -> None:
        """Stores the chunks side by side, then sends their messages (a message never names a missing object)."""
        if not chunks:
            return
        list(pool.map(lambda chunk: self._storage.put(*chunk), chunks))
        self._queue.send_many(
            [
                {"applicationId": application_id, "processId": process_id, "chunk": first + n, "key": key}
                for n, (key, _) in enumerate(chunks)
            ]
        )

    def is_done(self, application_id: int, process_id: int) -> bool:
        process = self.get(application_id, process_id)
        return process.chunks_done >= process.chunks_total

    def finish(self, application_id: int, process_id: int) -> Process:
        process = self.get(application_id, process_id)
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
