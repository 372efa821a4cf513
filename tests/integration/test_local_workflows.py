"""The local runtime's Step Functions half: the template's state machines run as real ASL in moto, with their
`lambda:invoke` tasks answered by the in-process handlers (Retry and Catch included)."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config

from patron_local.functions import FunctionRegistry
from patron_local.moto_services import MotoServices, local_function_arn
from patron_local.queues import QueueRuntime
from patron_local.template import PhysicalResources, Template
from patron_local.workflows import WorkflowRuntime

TIMEOUT_S = 15.0


def handler_module(app_template: Template, function_id: str) -> ModuleType:
    module = importlib.import_module(app_template.functions()[function_id].module)
    module.reset()
    return module


@pytest.fixture
def score(app_template: Template) -> ModuleType:
    return handler_module(app_template, "ScoreFunction")


@pytest.fixture
def fallback(app_template: Template) -> ModuleType:
    return handler_module(app_template, "FallbackFunction")


@pytest.fixture
def workflows(
    app_template: Template, moto_services: MotoServices, score: ModuleType, fallback: ModuleType
) -> Iterator[WorkflowRuntime]:
    # No reset between tests: moto's state is process-wide and may hold another runtime's resources.
    resources = PhysicalResources(parameters=app_template.parameter_defaults())
    # EchoStateMachine substitutes !Ref WorkQueue, so queues come first, as in the full runtime.
    queues = QueueRuntime(app_template, resources, moto_services.registry, moto_services.client("sqs"))
    queues.provision()
    runtime = WorkflowRuntime(app_template, resources, moto_services.client("stepfunctions"))
    runtime.provision()
    yield runtime
    runtime.deprovision()
    queues.deprovision()


def run(workflows: WorkflowRuntime, order: dict[str, Any]) -> dict[str, Any]:
    description = workflows.wait_for(workflows.start_execution("ScoringStateMachine", order), TIMEOUT_S)
    assert description["status"] == "SUCCEEDED", description
    output: dict[str, Any] = json.loads(description["output"])
    return output


def test_provision_substitutes_the_definition_and_fills_resources(workflows: WorkflowRuntime) -> None:
    resources = workflows.resources
    arn = resources.refs["ScoringStateMachine"]
    assert arn == resources.attributes[("ScoringStateMachine", "Arn")]
    assert resources.attributes[("ScoringStateMachine", "Name")] == "ScoringStateMachine"
    described = workflows.sfn.describe_state_machine(stateMachineArn=arn)
    assert described["type"] == "STANDARD"
    task = json.loads(described["definition"])["States"]["Score"]
    assert task["Parameters"]["FunctionName"] == local_function_arn("ScoreFunction")
    assert task["Parameters"]["Payload"]["threshold"] == "40"  # the parameter's default, via !Ref
    assert "${" not in described["definition"]

    echo = workflows.sfn.describe_state_machine(stateMachineArn=resources.refs["EchoStateMachine"])
    assert echo["type"] == "EXPRESS"
    assert json.loads(echo["definition"])["States"]["Echo"]["Parameters"]["queueUrl"] == resources.refs["WorkQueue"]


def test_lambda_task_runs_the_in_process_handler_and_outputs_its_result(
    workflows: WorkflowRuntime, score: ModuleType, fallback: ModuleType
) -> None:
    order = {"orderId": "o-1", "items": ["a", "b", "c", "d", "e"]}

    output = run(workflows, order)

    assert output == {"orderId": "o-1", "score": 50, "approved": True, "attempt": 1}
    assert score.calls() == [{"order": order, "threshold": "40"}]
    assert fallback.calls() == []


def test_transient_error_is_retried_by_the_state_machine(
    workflows: WorkflowRuntime, score: ModuleType, fallback: ModuleType
) -> None:
    output = run(workflows, {"orderId": "o-2", "items": ["a"], "mode": "flaky"})

    assert output == {"orderId": "o-2", "score": 10, "approved": False, "attempt": 2}
    assert len(score.calls()) == 2
    assert fallback.calls() == []


def test_exhausted_retries_are_caught_and_handled_by_the_fallback(
    workflows: WorkflowRuntime, score: ModuleType, fallback: ModuleType
) -> None:
    output = run(workflows, {"orderId": "o-3", "items": ["a"], "mode": "flaky-forever"})

    assert len(score.calls()) == 3  # the first attempt and MaxAttempts (2) retries
    assert output == {
        "orderId": "o-3",
        "fallback": True,
        "error": "TransientError",
        "message": "attempt 3 failed",
    }


def test_non_retryable_error_goes_straight_to_catch(
    workflows: WorkflowRuntime, score: ModuleType, fallback: ModuleType
) -> None:
    order = {"orderId": "o-4", "items": [], "mode": "broken"}

    output = run(workflows, order)

    assert len(score.calls()) == 1
    assert output == {
        "orderId": "o-4",
        "fallback": True,
        "error": "ValueError",
        "message": "this order cannot be scored",
    }
    [seen] = fallback.calls()
    # ResultPath $.error keeps the original input beside the error, as on AWS.
    assert {key: seen[key] for key in order} == order
    assert seen["error"]["Error"] == "ValueError"


def test_unnamed_executions_get_unique_names(workflows: WorkflowRuntime) -> None:
    order = {"orderId": "o-5", "items": ["a"]}
    first = workflows.start_execution("ScoringStateMachine", order)
    second = workflows.start_execution("ScoringStateMachine", order)

    assert first != second
    assert not first.endswith(":None")
    assert workflows.wait_for(first, TIMEOUT_S)["status"] == "SUCCEEDED"
    assert workflows.wait_for(second, TIMEOUT_S)["status"] == "SUCCEEDED"


def test_inline_definition_runs_with_its_substitutions(workflows: WorkflowRuntime) -> None:
    execution = workflows.start_execution("EchoStateMachine", {"hello": "world"})

    description = workflows.wait_for(execution, TIMEOUT_S)

    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"]) == {
        "queueUrl": workflows.resources.refs["WorkQueue"],
        "received": {"hello": "world"},
    }


def test_another_instance_starts_and_stops_without_leaving_moto_changed(
    app_template: Template, workflows: WorkflowRuntime
) -> None:
    def process_state() -> tuple[Any, ...]:
        return (
            LambdaBackend.__dict__["invoke"],
            LambdaSimpleBackend.__dict__["invoke"],
            os.environ.get("MOTO_PORT"),
            dict(default_user_config["stepfunctions"]),
        )

    before = process_state()
    other = MotoServices(FunctionRegistry(app_template.functions()))
    port = other.start().rsplit(":", 1)[1]
    assert os.environ["MOTO_PORT"] == port
    other.stop()

    assert process_state() == before
    # The module's server still executes state machines and still reaches the handlers.
    assert run(workflows, {"orderId": "o-6", "items": ["a"]})["score"] == 10
