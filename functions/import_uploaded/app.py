"""S3 announces each uploaded import file (Object Created, through an EventBridge rule on the upload keys): the
process moves from awaiting_upload to pending and its workflow starts, once however often the event comes. An
error goes back to Lambda's asynchronous retries, then to ImportUploadDLQ."""

from __future__ import annotations

from typing import Any

from patron.imports.wiring import upload_starter
from patron.observability import event_handler
from patron.settings import ImportUploadedSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = ImportUploadedSettings


@event_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail = event.get("detail") or {}
    outcome = upload_starter().object_created(str(detail["bucket"]["name"]), str(detail["object"]["key"]))
    return {"outcome": outcome.value}
