"""LocalRuntime composes the asynchronous half from a template: queues feed their functions, state machines run."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from patron_local.runtime import LocalRuntime, RuntimeOptions

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "async_app" / "template.yaml"


def test_the_runtime_wires_queues_and_state_machines_from_the_template(dynamodb_endpoint, runtime):
    local = LocalRuntime(RuntimeOptions(template_path=FIXTURE, dynamodb_endpoint=dynamodb_endpoint)).start()
    try:
        worker = importlib.import_module(local.registry.functions["WorkerFunction"].module)
        worker.reset()
        sqs = local.aws_client("sqs")
        queue_url = local.resources.refs["WorkQueue"]
        for index in range(7):
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"id": f"r{index}"}))
        assert local.wait_idle(15)
        received = sorted(json.loads(r["body"])["id"] for batch in worker.invocations() for r in batch)
        assert received == [f"r{index}" for index in range(7)]
        assert all(len(batch) <= 5 for batch in worker.invocations())

        execution = local.workflows.start_execution("ScoringStateMachine", {"orderId": "o-9", "items": ["a", "b"]})
        description = local.workflows.wait_for(execution, 15)
        assert description["status"] == "SUCCEEDED"
        assert json.loads(description["output"])["score"] == 20
    finally:
        local.workflows.deprovision()
        local.stop()
        # The session runtime's handlers keep working after another runtime came and went.
        runtime._apply_function_environment()  # restore its variables for later tests
