"""Large imports: POST /v1/import/uploads creates a process that waits for its file and answers with a presigned
S3 PUT URL for it. The upload itself starts the process (functions/import_uploaded)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.dynamo.client import dynamodb_client
from patron.http.api import Request, Response, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.imports import wire
from patron.imports.model import rfmcube_status
from patron.imports.uploads import UploadService, upload_request
from patron.imports.wiring import upload_service
from patron.observability import api_handler
from patron.settings import Api, Imports, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_body_bytes: int
    uploads: UploadService
    idempotency: IdempotencyStore


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: processes, and presigned URLs into the import bucket."""
    client, tables = dynamodb_client(), Tables.from_environ(environ)
    return Services(
        max_body_bytes=Api.from_environ(environ).body_limit,
        uploads=upload_service(client, tables, Imports.from_environ(environ)),
        idempotency=idempotency_store(client, tables),
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, idempotency=lambda: services().idempotency)


# Its answer names nobody (a process and a URL), so a stored one needs no subject.
@api.route(
    "POST",
    "/v1/import/uploads",
    body=wire.ImportUploadRequest,
    answers={201: wire.ImportUploadResponse},
    idempotent=True,
)
def create_import_upload(request: Request, body: wire.ImportUploadRequest) -> Response:
    """Creates an import process waiting for its file, and a presigned S3 PUT URL to upload the file to."""
    ticket = services().uploads.request_upload(request.caller.application_id, upload_request(body))
    process = ticket.process
    status, detail = rfmcube_status(process.status)
    answer = wire.ImportUploadResponse(
        process_id=process.process_id,
        status=status,
        status_detail=detail,
        format=process.input_format,
        content_length=process.declared_bytes,
        upload_url=ticket.url,
        method=ticket.method,
        headers=ticket.headers,
        expires_at=ticket.expires_at,
    )
    return Response(status=201, body=answer, headers={"Location": f"/v1/processes/{process.process_id}"})


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
