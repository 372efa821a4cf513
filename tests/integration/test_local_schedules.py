"""LocalRuntime runs a template's schedules (tests/fixtures/scheduled_app): each fires its function with its Input,
the function's environment applied, and a failure goes where Lambda sends a failed asynchronous invocation."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from patron_local.runtime import LocalRuntime, RuntimeOptions

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "scheduled_app" / "template.yaml"


def test_the_runtime_fires_the_templates_schedules_when_they_are_due(dynamodb_endpoint, runtime):
    local = LocalRuntime(RuntimeOptions(template_path=FIXTURE, dynamodb_endpoint=dynamodb_endpoint)).start()
    try:
        tick = importlib.import_module(local.registry.functions["TickFunction"].module)
        tick.reset()
        scheduler = local.events.scheduler
        assert sorted(schedule.name for schedule in scheduler.schedules) == [
            "ExpirySchedule",
            "FailingFunctionEveryMinute",
            "TickFunctionNightly",
        ]
        due = scheduler.due("ExpirySchedule")
        assert due is not None and timedelta(0) < due - datetime.now(UTC) <= timedelta(minutes=1)

        # A minute on, both rate schedules are due (the nightly one is not, unless it is 3 in the morning).
        fired = {schedule.name: at for schedule, at in local.events.run_due(due + timedelta(seconds=1))}
        assert {"ExpirySchedule", "FailingFunctionEveryMinute"} <= set(fired)
        assert local.wait_idle(10)

        expected = {"job": "expire", "scheduledAt": fired["ExpirySchedule"].strftime("%Y-%m-%dT%H:%M:%SZ")}
        assert (expected, "hello") in tick.calls()
        sqs = local.aws_client("sqs")
        [message] = sqs.receive_message(QueueUrl=local.resources.refs["FailuresQueue"])["Messages"]
        record = json.loads(message["Body"])
        assert record["requestPayload"] == {"job": "doomed"}
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["responsePayload"] == {"errorType": "RuntimeError", "errorMessage": "the job failed"}
    finally:
        local.workflows.deprovision()
        local._queues.deprovision()
        local.stop()
        # The session runtime's handlers keep working after another runtime came and went.
        runtime._apply_function_environment()
