"""Import use cases: start a process, split its input into chunks, write a chunk, report, finish.

A chunk is written by ChunkWriter (writer.py), through the same services as the single routes. A bad record
is rejected with its index, field path and reason, and the rest of its chunk is written.
"""

from __future__ import annotations

import uuid
from typing import Any

from patron.clock import Clock, SystemClock, iso
from patron.errors import NotFoundError, PatronError
from patron.http import jsonbody
from patron.imports.aws import ChunkQueue, ImportStorage, Workflow
from patron.imports.model import CUSTOMERS_PER_CHUNK, InputFormat, Process, ProcessStatus, Rejection
from patron.imports.payload import ImportEnvelope, parse_envelope
from patron.imports.repository import ProcessRepository


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
    ):
        self._processes = processes
        self._storage = storage
        self._queue = queue
        self._workflow = workflow
        self._clock = clock or SystemClock()

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
