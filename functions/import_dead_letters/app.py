"""Chunks that kept failing land in the import DLQ: each is recorded as done-and-failed, so the process ends
(failed, with a reason) instead of waiting for ever."""

from __future__ import annotations

import json

from patron.dynamo.client import dynamodb_client
from patron.imports import wiring
from patron.observability.sqs import SQSRecord, sqs_handler
from patron.settings import Imports, Tables
from patron.wiring import CompositionRoot

# This function's composition root: the processes whose chunks it records as failed.
process_store = CompositionRoot(
    lambda environ: wiring.process_store(dynamodb_client(), Tables.from_environ(environ), Imports.from_environ(environ))
)


def fail_chunk(record: SQSRecord) -> None:
    message = json.loads(record.body)
    process_store().chunk_failed(int(message["applicationId"]), int(message["processId"]), int(message["chunk"]))


lambda_handler = sqs_handler(fail_chunk)
