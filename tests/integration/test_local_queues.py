"""The local runtime's SQS half against moto in server mode: queues provisioned from a template, and Lambda's
event-source semantics (batching, partial batch failures, retries through the visibility timeout, redrive)."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from patron_local.moto_services import MotoServices
from patron_local.queues import QueueRuntime
from patron_local.template import PhysicalResources, Template

IDLE_TIMEOUT_S = 15.0


@pytest.fixture
def worker(app_template: Template) -> ModuleType:
    module = importlib.import_module(app_template.functions()["WorkerFunction"].module)
    module.reset()
    return module


@pytest.fixture
def queue_runtime(app_template: Template, moto_services: MotoServices, worker: ModuleType) -> Iterator[QueueRuntime]:
    # No reset between tests: moto's state is process-wide and may hold another runtime's resources.
    resources = PhysicalResources(parameters=app_template.parameter_defaults())
    runtime = QueueRuntime(app_template, resources, moto_services.registry, moto_services.client("sqs"))
    runtime.provision()
    yield runtime
    runtime.deprovision()


def send(queue_runtime: QueueRuntime, *bodies: dict[str, Any], queue: str = "WorkQueue") -> None:
    entries = [{"Id": str(index), "MessageBody": json.dumps(body)} for index, body in enumerate(bodies)]
    for start in range(0, len(entries), 10):
        response = queue_runtime.sqs.send_message_batch(
            QueueUrl=queue_runtime.queues[queue].url, Entries=entries[start : start + 10]
        )
        assert not response.get("Failed")


def batches(worker: ModuleType) -> list[list[str]]:
    """The body ids each invocation received."""
    return [[json.loads(record["body"])["id"] for record in batch] for batch in worker.invocations()]


def deliveries(worker: ModuleType) -> Counter[str]:
    return Counter(record_id for batch in batches(worker) for record_id in batch)


def queue_counts(queue_runtime: QueueRuntime, queue: str) -> tuple[int, int]:
    attributes = queue_runtime.sqs.get_queue_attributes(
        QueueUrl=queue_runtime.queues[queue].url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def dead_letters(queue_runtime: QueueRuntime) -> list[str]:
    response = queue_runtime.sqs.receive_message(QueueUrl=queue_runtime.queues["WorkDLQ"].url, MaxNumberOfMessages=10)
    return sorted(json.loads(message["Body"])["id"] for message in response.get("Messages", []))


def test_provision_creates_dead_letter_queue_first_with_template_properties(queue_runtime: QueueRuntime) -> None:
    resources = queue_runtime.resources
    # WorkQueue is declared first but names WorkDLQ's ARN, so WorkDLQ must exist before it.
    assert list(queue_runtime.queues).index("WorkDLQ") < list(queue_runtime.queues).index("WorkQueue")
    dlq_arn = resources.attributes[("WorkDLQ", "Arn")]
    assert dlq_arn == "arn:aws:sqs:us-east-1:123456789012:WorkDLQ"
    assert resources.attributes[("WorkQueue", "QueueName")] == "WorkQueue"
    attributes = queue_runtime.sqs.get_queue_attributes(QueueUrl=resources.refs["WorkQueue"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["QueueArn"] == resources.attributes[("WorkQueue", "Arn")]
    assert attributes["VisibilityTimeout"] == "1"
    assert attributes["MessageRetentionPeriod"] == "600"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}

    sources = {source.event_id: source for source in queue_runtime.event_sources()}
    assert sources["Work"].queue.logical_id == "WorkQueue"
    assert (sources["Work"].batch_size, sources["Work"].report_batch_item_failures) == (5, True)
    assert sources["Work"].enabled and not sources["Paused"].enabled
    assert (sources["Work"].concurrency, sources["Parallel"].concurrency) == (1, 3)


def test_batches_never_exceed_batch_size_and_carry_several_records(
    queue_runtime: QueueRuntime, worker: ModuleType
) -> None:
    send(queue_runtime, *({"id": f"m{index:02d}"} for index in range(12)))

    queue_runtime.start()
    assert queue_runtime.wait_idle(IDLE_TIMEOUT_S)

    sizes = [len(batch) for batch in batches(worker)]
    assert max(sizes) <= 5
    assert max(sizes) > 1, "messages waiting together must share an invocation"
    assert deliveries(worker) == Counter({f"m{index:02d}": 1 for index in range(12)})
    assert queue_counts(queue_runtime, "WorkQueue") == (0, 0)


def test_records_have_the_lambda_sqs_event_shape(queue_runtime: QueueRuntime, worker: ModuleType) -> None:
    body = json.dumps({"id": "shaped"})
    queue_runtime.sqs.send_message(
        QueueUrl=queue_runtime.queues["WorkQueue"].url,
        MessageBody=body,
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "points"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )

    queue_runtime.start()
    assert queue_runtime.wait_idle(IDLE_TIMEOUT_S)

    [[record]] = worker.invocations()
    assert set(record) == {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
        "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion",
    }  # fmt: skip
    assert record["body"] == body
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()  # noqa: S324 - SQS's checksum
    assert (record["eventSource"], record["awsRegion"]) == ("aws:sqs", "us-east-1")
    assert record["eventSourceARN"] == queue_runtime.resources.attributes[("WorkQueue", "Arn")]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"] == {
        "kind": {
            "stringValue": "points",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }


def test_partial_batch_failure_retries_only_the_failed_record(queue_runtime: QueueRuntime, worker: ModuleType) -> None:
    send(queue_runtime, {"id": "a"}, {"id": "b"}, {"id": "c", "mode": "fail-once"}, {"id": "d"}, {"id": "e"})

    queue_runtime.start()
    assert queue_runtime.wait_idle(IDLE_TIMEOUT_S)

    assert batches(worker) == [["a", "b", "c", "d", "e"], ["c"]]
    [[retried]] = worker.invocations()[1:]
    assert retried["attributes"]["ApproximateReceiveCount"] == "2"
    assert dead_letters(queue_runtime) == []


def test_always_failing_record_lands_in_dlq_after_max_receive_count(
    queue_runtime: QueueRuntime, worker: ModuleType
) -> None:
    send(queue_runtime, {"id": "a"}, {"id": "poison", "mode": "fail-always"}, {"id": "b"}, {"id": "c"})

    queue_runtime.start()
    assert queue_runtime.wait_idle(IDLE_TIMEOUT_S)

    # maxReceiveCount is 2: two deliveries, then the queue moves the message on its next receive.
    assert deliveries(worker) == Counter({"poison": 2, "a": 1, "b": 1, "c": 1})
    assert dead_letters(queue_runtime) == ["poison"]
    assert queue_counts(queue_runtime, "WorkQueue") == (0, 0)


@pytest.mark.parametrize("mode", ["raise-once", "bogus-once"], ids=["handler-raises", "invalid-batch-response"])
def test_failed_invocation_returns_the_whole_batch(queue_runtime: QueueRuntime, worker: ModuleType, mode: str) -> None:
    send(queue_runtime, {"id": "a"}, {"id": "b", "mode": mode}, {"id": "c"})

    queue_runtime.start()
    assert queue_runtime.wait_idle(IDLE_TIMEOUT_S)

    # Nothing was deleted after the failed invocation: every record comes back once the visibility timeout ends.
    assert batches(worker) == [["a", "b", "c"], ["a", "b", "c"]]
    assert all(record["attributes"]["ApproximateReceiveCount"] == "2" for record in worker.invocations()[1])
    assert dead_letters(queue_runtime) == []


def test_disabled_event_source_is_not_polled(queue_runtime: QueueRuntime, worker: ModuleType) -> None:
    send(queue_runtime, {"id": "waiting"}, queue="PausedQueue")

    queue_runtime.start()
    assert queue_runtime.wait_idle(IDLE_TIMEOUT_S)
    time.sleep(1.5)  # longer than one poll: a poller on PausedQueue would have taken the message by now

    assert worker.invocations() == []
    assert queue_counts(queue_runtime, "PausedQueue") == (1, 0)


def test_maximum_concurrency_runs_that_many_batches_at_once_and_no_more(
    queue_runtime: QueueRuntime, worker: ModuleType
) -> None:
    # ScalingConfig.MaximumConcurrency 3, BatchSize 1: nine slow messages keep three invocations busy at a time.
    send(queue_runtime, *({"id": f"p{index}", "mode": "slow"} for index in range(9)), queue="ParallelQueue")

    queue_runtime.start()
    assert queue_runtime.wait_idle(IDLE_TIMEOUT_S)

    assert worker.most_at_once() == 3
    assert deliveries(worker) == Counter({f"p{index}": 1 for index in range(9)})
    assert queue_counts(queue_runtime, "ParallelQueue") == (0, 0)
