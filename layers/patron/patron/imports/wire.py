"""The imports' wire: Rfmcube's POST /v1/import envelope, POST /v1/import/uploads, and the process as
GET /v1/processes/{processId} reports it. An import's records stay as decoded JSON here: each is checked when its
chunk is written (patron.imports.writer), and a bad one is rejected alone in the process's report."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from patron.imports.model import PROCESS_TYPE, InputFormat, Process, Rejection, rfmcube_status

# Rfmcube's customers (id, email, attributes, orders), as sent: never decoded past the list here.
Records = Annotated[
    list[Any],
    Meta(
        extra_json_schema={
            "items": {"type": "object"},
            "description": "Rfmcube's customers, each with its orders; each is checked when it is written, and a "
            "bad one is rejected alone (GET /v1/processes/{processId}).",
        }
    ),
]


class ImportRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """POST /v1/import (Rfmcube's import API)."""

    overwrite_descriptors: bool = False
    trigger_integrations: bool = False
    recalculate_stats: bool = False
    customers: Records


class ImportResponse(msgspec.Struct, rename="camel"):
    process_id: int


class ImportUploadRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel", frozen=True):
    """POST /v1/import/uploads: the file's format and size, and Rfmcube's import flags."""

    format: InputFormat
    content_length: Annotated[int, Meta(ge=1)]
    overwrite_descriptors: bool = False
    trigger_integrations: bool = False
    recalculate_stats: bool = False


class ImportUploadResponse(msgspec.Struct, rename="camel"):
    process_id: int
    status: str
    status_detail: str | None
    format: InputFormat
    content_length: int | None
    upload_url: str
    method: str
    headers: dict[str, str]
    expires_at: str


class ProcessDataItem(msgspec.Struct, rename="camel"):
    processed_customers: int
    total_customers: int
    processed_orders: int
    total_orders: int
    rejected_records: int


class UploadTermsItem(msgspec.Struct, rename="camel"):
    format: InputFormat
    content_length: int
    expires_at: str | None


class RejectedRecordItem(msgspec.Struct):
    index: str
    path: str
    reason: str


class ProcessResponse(msgspec.Struct, rename="camel"):
    """Rfmcube's GET /processes/{processId}, plus the reason of a failure, the state Rfmcube has no name for
    (statusDetail `awaiting_upload`, reported as `pending`), an uploaded file's terms, and the rejected records,
    paged (`nextCursor`, null on the last page)."""

    process_id: int
    created_at: str
    updated_at: str
    status: str
    type: str
    data: ProcessDataItem
    status_detail: str | msgspec.UnsetType = msgspec.UNSET
    upload: UploadTermsItem | msgspec.UnsetType = msgspec.UNSET
    failure: str | msgspec.UnsetType = msgspec.UNSET
    rejected: list[RejectedRecordItem] = []
    next_cursor: str | None = None


def process_response(process: Process, rejected: list[Rejection], cursor: str | None) -> ProcessResponse:
    status, detail = rfmcube_status(process.status)
    return ProcessResponse(
        process_id=process.process_id,
        created_at=process.created,
        updated_at=process.updated,
        status=status,
        type=PROCESS_TYPE,
        data=ProcessDataItem(
            processed_customers=process.processed_customers,
            total_customers=process.total_customers,
            processed_orders=process.processed_orders,
            total_orders=process.total_orders,
            rejected_records=process.rejected,
        ),
        status_detail=msgspec.UNSET if detail is None else detail,
        upload=msgspec.UNSET
        if process.declared_bytes is None
        else UploadTermsItem(process.input_format, process.declared_bytes, process.upload_expires),
        failure=process.failure or msgspec.UNSET,
        rejected=[RejectedRecordItem(r.index, r.path, r.reason) for r in rejected],
        next_cursor=cursor,
    )
