"""S3 announces each uploaded import file (Object Created, through an EventBridge rule on the upload keys): the
process moves from awaiting_upload to pending and its workflow starts, once however often the event comes. An
error goes back to Lambda's asynchronous retries, then to ImportUploadDLQ."""

from __future__ import annotations

from typing import Any

from patron.dynamo.client import dynamodb_client
from patron.imports import wiring
from patron.observability import event_handler
from patron.settings import Imports, Tables
from patron.wiring import CompositionRoot

# This function's composition root: processes, the bucket the files arrive in, the workflow they start.
upload_starter = CompositionRoot(
    lambda environ: wiring.upload_starter(
        dynamodb_client(), Tables.from_environ(environ), Imports.from_environ(environ)
    )
)


@event_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail = event.get("detail") or {}
    outcome = upload_starter().object_created(str(detail["bucket"]["name"]), str(detail["object"]["key"]))
    return {"outcome": outcome.value}
