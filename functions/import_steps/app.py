"""The import workflow's Lambda tasks (statemachines/import.asl.json): split, check, finish, fail."""

from __future__ import annotations

from typing import Any

from patron.dynamo.client import dynamodb_client
from patron.imports import wiring
from patron.observability import event_handler
from patron.settings import Imports, Tables
from patron.wiring import CompositionRoot

# This function's composition root: processes, the input's chunks in the bucket, the chunk queue.
import_steps = CompositionRoot(
    lambda environ: wiring.import_steps(dynamodb_client(), Tables.from_environ(environ), Imports.from_environ(environ))
)


@event_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    application_id, process_id = int(event["applicationId"]), int(event["processId"])
    service = import_steps()
    step = event["step"]
    if step == "split":
        return {"chunks": service.split(application_id, process_id)}
    if step == "check":
        return {"done": service.is_done(application_id, process_id)}
    if step == "finish":
        return {"status": service.finish(application_id, process_id).status.value}
    if step == "fail":
        cause = event.get("error") or {}
        service.fail(application_id, process_id, str(cause.get("Error", "the import workflow failed")))
        return {"status": "failed"}
    raise ValueError(f"unknown step {step!r}")
