"""Large imports: POST /v1/import/uploads creates a process that waits for its file and answers with a presigned
S3 PUT URL for it. The upload itself starts the process (functions/import_uploaded)."""

from __future__ import annotations

from typing import Any

from patron.http.api import Request, Response, RestApi
from patron.idempotency.settings import IdempotencySettings
from patron.idempotency.wiring import idempotency_store
from patron.imports.model import rfmcube_status
from patron.imports.wiring import upload_service, upload_settings
from patron.observability import api_handler
from patron.settings import ImportUploadSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = (ImportUploadSettings, IdempotencySettings)

api = RestApi(max_body_bytes=lambda: upload_settings().max_body_bytes, idempotency=idempotency_store)


# Its answer names nobody (a process and a URL), so a stored one needs no subject.
@api.route("POST", "/v1/import/uploads", idempotent=True)
def create_import_upload(request: Request) -> Response:
    """Creates an import process waiting for its file, and a presigned S3 PUT URL to upload the file to."""
    ticket = upload_service().request_upload(request.caller.application_id, request.json())
    process = ticket.process
    status, detail = rfmcube_status(process.status)
    return Response(
        status=201,
        body={
            "processId": process.process_id,
            "status": status,
            "statusDetail": detail,
            "format": process.input_format.value,
            "contentLength": process.declared_bytes,
            "uploadUrl": ticket.url,
            "method": ticket.method,
            "headers": ticket.headers,
            "expiresAt": ticket.expires_at,
        },
        headers={"Location": f"/v1/processes/{process.process_id}"},
    )


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
