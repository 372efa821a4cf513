"""The import workflow's Lambda tasks (statemachines/import.asl.json): split, check, finish, fail."""

from __future__ import annotations

from typing import Any

from patron.imports.wiring import import_steps
from patron.observability import event_handler
from patron.settings import ImportSplitSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = ImportSplitSettings


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
