"""The import workflow's polling (statemachines/import.asl.json), run by moto's ASL interpreter against a scripted
ImportStepsFunction (tests/fixtures/import_workflow): the first checks come within seconds, the wait then grows to
a minute, and the execution's history stays bounded however long an import takes (docs/local-runtime.md)."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from patron_local.functions import FunctionRegistry
from patron_local.moto_services import MotoServices
from patron_local.template import PhysicalResources, Template
from patron_local.workflows import WorkflowRuntime

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "import_workflow"
HISTORY_LIMIT = 25_000  # events in a Standard execution's history
DAY_S = 24 * 3600


@pytest.fixture(scope="module")
def workflows() -> Iterator[WorkflowRuntime]:
    sys.path.insert(0, str(FIXTURE))  # CodeUri is relative to the fixture's template, as in SAM
    template = Template.load(FIXTURE / "template.yaml")
    services = MotoServices(FunctionRegistry(template.functions()))
    services.start()
    runtime = WorkflowRuntime(template, PhysicalResources(parameters={}), services.client("stepfunctions"))
    runtime.provision()
    try:
        yield runtime
    finally:
        runtime.deprovision()
        services.stop()
        sys.path.remove(str(FIXTURE))


@pytest.fixture
def steps() -> ModuleType:
    module = importlib.import_module("import_workflow_functions.steps.app")
    module.reset()
    return module


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """moto's Wait states answer at once and record their seconds: a fake clock for the workflow."""
    waited: list[int] = []
    monkeypatch.setattr(WaitFunction, "_wait_interval", lambda self, env, wait_seconds: waited.append(wait_seconds))
    return waited


def run(workflows: WorkflowRuntime, process_id: int, timeout: float = 60) -> tuple[dict[str, Any], list[str]]:
    arn = workflows.start_execution("ImportWorkflow", {"applicationId": 1, "processId": process_id})
    description = workflows.wait_for(arn, timeout)
    pages = workflows.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return description, [event["type"] for page in pages for event in page["events"]]


def test_the_first_checks_come_after_one_then_two_more_seconds(workflows, steps) -> None:
    steps.plan(1, checks_until_done=3)

    description, _ = run(workflows, 1)

    assert description["status"] == "SUCCEEDED"
    [(split_at, _)] = steps.calls("split")
    checks = [at - split_at for at, _ in steps.calls("check")]
    assert len(checks) == 3
    assert checks[0] < 0.5  # right after the split: an empty import finishes at once
    assert 0.8 < checks[1] - checks[0] < 1.8 and 1.8 < checks[2] - checks[1] < 2.8
    assert [event["step"] for _, event in steps.calls()] == ["split", "check", "check", "check", "finish"]


def test_each_check_adds_eleven_events_and_a_day_of_checks_stays_under_the_history_limit(
    workflows, steps, waits
) -> None:
    checks = 62  # past the growth (60 waits), so both the Backoff and the Hold paths are counted
    steps.plan(2, checks_until_done=checks)

    description, history = run(workflows, 2)

    assert description["status"] == "SUCCEEDED"
    assert waits == [*range(1, 61), 60]  # one second longer each time, up to a minute
    # Per check after the first: Wait (2 events), the Check task (5), the AllWritten choice (2), Backoff or Hold
    # (2). Around them: ExecutionStarted, Split (5), StartPolling (2), the first check (7), Finish (5), the end.
    assert len(history) == 11 * checks + 10

    growth_s = sum(range(1, 61))
    checks_in_a_day = 1 + 60 + (DAY_S - growth_s) // 60
    assert 11 * checks_in_a_day + 10 < HISTORY_LIMIT  # 16,180 for a whole day of waiting, the checks' time aside


def test_an_import_that_never_finishes_fails_as_timed_out_before_the_history_limit(workflows, steps, waits) -> None:
    definition = json.loads(workflows.definition("ImportWorkflow"))
    [give_up] = [choice for choice in definition["States"]["AllWritten"]["Choices"] if choice["Next"] == "TimedOut"]
    polls = give_up["NumericGreaterThanEquals"]
    waited_s = sum(range(1, 61)) + (polls - 60) * 60
    assert waited_s > DAY_S and 11 * (polls + 1) + 13 < HISTORY_LIMIT  # about 33 hours, 22,024 events
    # The same machine giving up after 3 waits, so that the path runs in a test's time.
    give_up["NumericGreaterThanEquals"] = 3
    arn = workflows.sfn.create_state_machine(
        name=f"import-gives-up-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/patron-local-test",
    )["stateMachineArn"]
    try:
        execution = workflows.sfn.start_execution(
            stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps({"applicationId": 1, "processId": 3})
        )["executionArn"]
        description = workflows.wait_for(execution, 30)
        history = workflows.sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    finally:
        workflows.sfn.delete_state_machine(stateMachineArn=arn)

    assert description["status"] == "FAILED"
    assert waits == [1, 2, 3]
    [(_, failed)] = steps.calls("fail")
    assert failed["error"]["Error"] == "ImportTimedOut"  # the process's failure, through MarkFailed
    assert len(history) == 11 * (3 + 1) + 13
