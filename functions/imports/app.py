"""Rfmcube's bulk import: POST /v1/import answers at once with a processId; GET /v1/processes/{processId}
reports the process in Rfmcube's shape, with the rejected records, paged."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from patron.errors import FieldIssue, PatronError, ValidationError
from patron.http.api import Request, Response, RestApi
from patron.idempotency.settings import IdempotencySettings
from patron.idempotency.wiring import idempotency_store
from patron.imports.model import PROCESS_TYPE, Process, rfmcube_status
from patron.imports.wiring import import_api, start_settings
from patron.observability import api_handler
from patron.settings import ImportStartSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = (ImportStartSettings, IdempotencySettings)

# The resolver's own limit is Lambda's (the route answers 416 itself, as Rfmcube does, above the inline limit).
api = RestApi(max_body_bytes=lambda: 6 * 1024 * 1024, idempotency=idempotency_store)

MAX_PAGE = 100


UPLOAD_ROUTE = "/v1/import/uploads"


class ImportTooLargeError(PatronError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            message=f"Imports over {limit} bytes cannot be sent inline; upload the file: POST {UPLOAD_ROUTE}.",
            code="import_too_large",
            status=416,
        )

    def body(self, path_parameters: Collection[str] = ()) -> dict[str, Any]:
        # Where a large import goes instead, for a client to follow without reading the message.
        return {**super().body(path_parameters), "upload": {"method": "POST", "path": UPLOAD_ROUTE}}


# Its answer names nobody (a process id), so a stored one needs no subject. Text that cannot be stored rejects
# its record alone, in the process's report (the split checks every record), not the whole import.
@api.route("POST", "/v1/import", idempotent=True, check_body_text=False)
def start_import(request: Request) -> Response:
    limit = start_settings().max_import_inline_bytes
    if len(request.body) > limit:
        raise ImportTooLargeError(limit)
    process = import_api().start(request.caller.application_id, request.body, request.json())
    return Response.json({"processId": process.process_id}, status=202)


@api.route("GET", "/v1/processes/{processId}")
def get_process(request: Request) -> Response:
    raw = request.path_params["processId"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValidationError("The process id is invalid.", [FieldIssue("processId", "invalid_value", "A number.")])
    limit = request.query_int("limit", default=50, minimum=1, maximum=MAX_PAGE)
    service = import_api()
    process = service.get(request.caller.application_id, int(raw))
    rejected, cursor = service.rejections(request.caller.application_id, int(raw), limit, request.query_cursor())
    return Response.json(
        {
            **_rfmcube(process),
            "rejected": [{"index": r.index, "path": r.path, "reason": r.reason} for r in rejected],
            "nextCursor": cursor,
        }
    )


def _rfmcube(process: Process) -> dict[str, Any]:
    """The shape of Rfmcube's GET /processes/{processId}, plus the reason of a failure, the state Rfmcube has no
    name for (statusDetail `awaiting_upload`, reported as `pending`) and an uploaded file's terms."""
    status, detail = rfmcube_status(process.status)
    body: dict[str, Any] = {
        "processId": process.process_id,
        "createdAt": process.created,
        "updatedAt": process.updated,
        "status": status,
        "type": PROCESS_TYPE,
        "data": {
            "processedCustomers": process.processed_customers,
            "totalCustomers": process.total_customers,
            "processedOrders": process.processed_orders,
            "totalOrders": process.total_orders,
            "rejectedRecords": process.rejected,
        },
    }
    if detail is not None:
        body["statusDetail"] = detail
    if process.declared_bytes is not None:
        body["upload"] = {
            "format": process.input_format.value,
            "contentLength": process.declared_bytes,
            "expiresAt": process.upload_expires,
        }
    if process.failure:
        body["failure"] = process.failure
    return body


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
