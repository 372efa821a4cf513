"""Rfmcube's bulk import: POST /v1/import answers at once with a processId; GET /v1/processes/{processId}
reports the process in Rfmcube's shape, with the rejected records, paged."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import msgspec

from patron.dynamo.client import dynamodb_client
from patron.errors import FieldIssue, PatronError, ValidationError
from patron.http.api import Request, Response, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.imports import wire
from patron.imports.payload import import_envelope
from patron.imports.service import ImportService
from patron.imports.wiring import import_api
from patron.observability import api_handler
from patron.settings import Api, Imports, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_import_inline_bytes: int
    imports: ImportService
    idempotency: IdempotencyStore


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: processes, the input's bucket, the workflow it starts."""
    client, tables = dynamodb_client(), Tables.from_environ(environ)
    return Services(
        max_import_inline_bytes=Api.from_environ(environ).import_inline_limit,
        imports=import_api(client, tables, Imports.from_environ(environ)),
        idempotency=idempotency_store(client, tables),
    )


services = CompositionRoot(compose)

# The resolver's own limit is Lambda's (the route answers 416 itself, as Rfmcube does, above the inline limit).
api = RestApi(max_body_bytes=lambda: 6 * 1024 * 1024, idempotency=lambda: services().idempotency)

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


def _inline_limit(request: Request) -> None:
    """Before the body is read: a larger import goes through the upload route."""
    limit = services().max_import_inline_bytes
    if len(request.body) > limit:
        raise ImportTooLargeError(limit)


# Its answer names nobody (a process id), so a stored one needs no subject. Text that cannot be stored rejects
# its record alone, in the process's report (the split checks every record), not the whole import.
@api.route(
    "POST",
    "/v1/import",
    body=wire.ImportRequest,
    answers={202: wire.ImportResponse},
    guard=_inline_limit,
    idempotent=True,
    check_body_text=False,
)
def start_import(request: Request, body: wire.ImportRequest) -> Response:
    process = services().imports.start(request.caller.application_id, request.body, import_envelope(body))
    return Response(status=202, body=wire.ImportResponse(process_id=process.process_id))


@api.route("GET", "/v1/processes/{processId}", answers=wire.ProcessResponse)
def get_process(request: Request) -> wire.ProcessResponse:
    raw = request.path_params["processId"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValidationError("The process id is invalid.", [FieldIssue("processId", "invalid_value", "A number.")])
    limit = request.query_int("limit", default=50, minimum=1, maximum=MAX_PAGE)
    service = services().imports
    process = service.get(request.caller.application_id, int(raw))
    rejected, cursor = service.rejections(request.caller.application_id, int(raw), limit, request.query_cursor())
    return wire.process_response(process, rejected, cursor)


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
