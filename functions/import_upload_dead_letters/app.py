"""Upload events that kept failing land in ImportUploadDLQ (from EventBridge, the event itself; from Lambda's
asynchronous retries, a record holding it as `requestPayload`): the process they were to start fails with a
reason instead of waiting for ever."""

from __future__ import annotations

import json

from patron.imports.wiring import upload_starter
from patron.observability.sqs import SQSRecord, sqs_handler
from patron.settings import ImportUploadedSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = ImportUploadedSettings


def fail_upload(record: SQSRecord) -> None:
    body = json.loads(record.body)
    dead = body.get("requestPayload", body)
    detail = dead["detail"]
    upload_starter().start_failed(str(detail["bucket"]["name"]), str(detail["object"]["key"]))


lambda_handler = sqs_handler(fail_upload)
