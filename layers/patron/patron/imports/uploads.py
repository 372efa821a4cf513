"""Large imports through a presigned S3 upload.

`POST /v1/import/uploads` creates a process that waits for its file (`awaiting_upload`) and hands out a presigned
PUT URL for one object, `imports/{applicationId}/{processId}/upload.{format}`, with the declared size as a
signed header. S3 then announces the object (Object Created, through EventBridge) and `UploadStarter` moves the
process to `pending` and starts its workflow, once, however often the event comes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

import msgspec

from patron.clock import Clock, SystemClock, iso
from patron.errors import FieldIssue, PatronError
from patron.imports import wire
from patron.imports.aws import UploadStore, Workflow
from patron.imports.model import ImportOptions, InputFormat, Process, ProcessStatus
from patron.imports.repository import ProcessRepository
from patron.logs import get_logger

_log = get_logger("patron.imports.uploads")

# What the PUT must declare as its Content-Type (a signed header).
CONTENT_TYPES = {
    InputFormat.JSON: "application/json",
    InputFormat.JSONL: "application/x-ndjson",
    InputFormat.CSV: "text/csv",
}
_UPLOAD_KEY = re.compile(
    r"imports/(?P<application>[1-9][0-9]{0,17})/(?P<process>[1-9][0-9]{0,17})/upload\.(?P<format>json|jsonl|csv)"
)


def upload_key(application_id: int, process_id: int, input_format: InputFormat) -> str:
    """The one object a process's upload may write: under its application and process, so no other tenant's."""
    return f"imports/{application_id}/{process_id}/upload.{input_format.value}"


def parse_upload_key(key: str) -> tuple[int, int, InputFormat] | None:
    match = _UPLOAD_KEY.fullmatch(key)
    if match is None:
        return None
    return int(match["application"]), int(match["process"]), InputFormat(match["format"])


def execution_name(application_id: int, process_id: int) -> str:
    """One name per process: Step Functions runs a name once, so a second start of the same process is a no-op."""
    return f"import-{application_id}-{process_id}"


class UploadRequest(msgspec.Struct, frozen=True):
    input_format: InputFormat
    content_length: int
    options: ImportOptions


def upload_request(body: wire.ImportUploadRequest) -> UploadRequest:
    """POST /v1/import/uploads's body (decoded, every wrong field named at once) as the service reads it."""
    return UploadRequest(
        body.format,
        body.content_length,
        ImportOptions(body.overwrite_descriptors, body.trigger_integrations, body.recalculate_stats),
    )


class UploadTooLargeError(PatronError):
    """Rfmcube answers 416 to an import over its maximum size; an upload declared over ours gets the same."""

    def __init__(self, limit: int) -> None:
        message = f"Imports are limited to {limit} bytes."
        super().__init__(
            message=message,
            code="upload_too_large",
            status=416,
            details=[FieldIssue("contentLength", "value_too_large", message)],
        )


class UploadTicket(msgspec.Struct, frozen=True):
    """What the client needs to upload its file: where, how, with which headers, until when."""

    process: Process
    url: str
    method: str
    headers: dict[str, str]
    expires_at: str


class UploadService:
    """Hands out upload URLs (the API function)."""

    def __init__(
        self,
        processes: ProcessRepository,
        uploads: UploadStore,
        max_bytes: int,
        url_ttl_seconds: int,
        clock: Clock | None = None,
    ):
        self._processes = processes
        self._uploads = uploads
        self._max_bytes = max_bytes
        self._url_ttl_seconds = url_ttl_seconds
        self._clock = clock or SystemClock()

    def request_upload(self, application_id: int, request: UploadRequest) -> UploadTicket:
        if request.content_length > self._max_bytes:
            raise UploadTooLargeError(self._max_bytes)
        moment = self._clock.now()
        process_id = self._processes.next_process_id(application_id)
        key = upload_key(application_id, process_id, request.input_format)
        expires_at = iso(moment + timedelta(seconds=self._url_ttl_seconds))
        presigned = self._uploads.presign_put(
            key, request.content_length, CONTENT_TYPES[request.input_format], self._url_ttl_seconds
        )
        process = Process(
            application_id=application_id,
            process_id=process_id,
            status=ProcessStatus.AWAITING_UPLOAD,
            created=iso(moment),
            updated=iso(moment),
            # Unknown until the file is read: the split sets them.
            total_customers=0,
            total_orders=0,
            options=request.options,
            input_key=key,
            input_format=request.input_format,
            declared_bytes=request.content_length,
            upload_expires=expires_at,
        )
        self._processes.create(process, key)
        return UploadTicket(process, presigned.url, "PUT", presigned.headers, expires_at)


class UploadOutcome(StrEnum):
    STARTED = "started"  # the process is pending and its workflow started (or had started already)
    FAILED = "failed"  # the object is not what was declared: the process failed
    IGNORED = "ignored"  # not an upload of a waiting process (unknown key, or already started or finished)


class UploadStarter:
    """Starts a process when its file arrives (the Object Created consumer). At-least-once delivery is expected:
    the status moves from awaiting_upload by a conditional write, and the execution's name is the process's."""

    def __init__(
        self,
        processes: ProcessRepository,
        uploads: UploadStore,
        workflow: Workflow,
        bucket: str,
        max_bytes: int,
        clock: Clock | None = None,
    ):
        self._processes = processes
        self._uploads = uploads
        self._workflow = workflow
        self._bucket = bucket
        self._max_bytes = max_bytes
        self._clock = clock or SystemClock()

    def object_created(self, bucket: str, key: str) -> UploadOutcome:
        parsed = parse_upload_key(key) if bucket == self._bucket else None
        if parsed is None:
            _log.warning("object is not an import upload; ignored")  # the key may be anything: not logged
            return UploadOutcome.IGNORED
        application_id, process_id, _ = parsed
        process = self._processes.get(application_id, process_id)
        if process is None or process.input_key != key:
            _log.warning("upload for an unknown process; ignored", applicationId=application_id, processId=process_id)
            return UploadOutcome.IGNORED
        if process.status is ProcessStatus.AWAITING_UPLOAD:
            failure = self._check_size(process, key)
            now = iso(self._clock.now())
            if failure is not None:
                if self._processes.transition(
                    application_id,
                    process_id,
                    ProcessStatus.AWAITING_UPLOAD,
                    ProcessStatus.FAILED,
                    now,
                    failure=failure,
                ):
                    _log.info("upload refused; process failed", applicationId=application_id, processId=process_id)
                    return UploadOutcome.FAILED
            else:
                self._processes.transition(
                    application_id, process_id, ProcessStatus.AWAITING_UPLOAD, ProcessStatus.PENDING, now
                )
            # Won or lost, the status now says what happened (another delivery may have moved it first).
            process = self._processes.get(application_id, process_id) or process
        if process.status is not ProcessStatus.PENDING:
            _log.info("upload for a process already under way; ignored", processId=process_id, status=process.status)
            return UploadOutcome.IGNORED
        # Pending: this delivery or an earlier one moved it; starting again is a no-op (the name is the process's),
        # and covers a delivery that moved the status but failed before its start.
        started = self._workflow.start(
            execution_name(application_id, process_id), {"applicationId": application_id, "processId": process_id}
        )
        _log.info("import upload received", applicationId=application_id, processId=process_id, started=started)
        return UploadOutcome.STARTED

    def start_failed(self, bucket: str, key: str) -> UploadOutcome:
        """The Object Created event of this upload kept failing (it reached ImportUploadDLQ): a process still
        waiting for it, or moved to pending but never started, fails with a reason instead of waiting for ever.
        A workflow that did start sets the process running again (the workflow's status is the truth)."""
        parsed = parse_upload_key(key) if bucket == self._bucket else None
        if parsed is None:
            return UploadOutcome.IGNORED
        application_id, process_id, _ = parsed
        process = self._processes.get(application_id, process_id)
        if process is None or process.input_key != key:
            return UploadOutcome.IGNORED
        failure = "upload_not_started: the file arrived but its import could not be started; upload it again."
        now = iso(self._clock.now())
        for status in (ProcessStatus.AWAITING_UPLOAD, ProcessStatus.PENDING):
            if self._processes.transition(
                application_id, process_id, status, ProcessStatus.FAILED, now, failure=failure
            ):
                _log.warning(
                    "upload event dead-lettered; process failed", applicationId=application_id, processId=process_id
                )
                return UploadOutcome.FAILED
        return UploadOutcome.IGNORED

    def _check_size(self, process: Process, key: str) -> str | None:
        """Why the object cannot be imported, or None. S3 already refuses a presigned PUT of another size; this
        catches an object written some other way."""
        size = self._uploads.size(key)
        if size is None:
            return "The uploaded file is gone."
        if size > self._max_bytes:
            return f"The uploaded file has {size} bytes; imports are limited to {self._max_bytes}."
        if size != process.declared_bytes:
            return f"The uploaded file has {size} bytes; {process.declared_bytes} were declared."
        return None
