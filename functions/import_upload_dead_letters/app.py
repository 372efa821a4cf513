"""Upload events that kept failing land in ImportUploadDLQ (from EventBridge, the event itself; from Lambda's
asynchronous retries, a record holding it as `requestPayload`): the process they were to start fails with a
reason instead of waiting for ever."""

from __future__ import annotations

import json

from patron.dynamo.client import dynamodb_client
from patron.imports import wiring
from patron.observability.sqs import SQSRecord, sqs_handler
from patron.settings import Imports, Tables
from patron.wiring import CompositionRoot

# This function's composition root: the upload consumer's own service, whose processes it fails.
upload_starter = CompositionRoot(
    lambda environ: wiring.upload_starter(
        dynamodb_client(), Tables.from_environ(environ), Imports.from_environ(environ)
    )
)


def fail_upload(record: SQSRecord) -> None:
    body = json.loads(record.body)
    dead = body.get("requestPayload", body)
    detail = dead["detail"]
    upload_starter().start_failed(str(detail["bucket"]["name"]), str(detail["object"]["key"]))


lambda_handler = sqs_handler(fail_upload)
