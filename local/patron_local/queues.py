"""The template's SQS queues in moto, and Lambda's SQS event-source semantics in front of in-process handlers.

moto's own event-source mappings are not used: they invoke one record at a time inside SendMessage and ignore
BatchSize, retries and partial batch responses. Here each event source's pollers (one, or ScalingConfig's
MaximumConcurrency) receive batches the way Lambda's pollers do, delete only what succeeded, and leave failures
to the queue's visibility timeout and redrive policy (moto moves a message to the dead-letter queue on the
receive after its maxReceiveCount-th).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from patron_local.functions import FunctionRegistry
from patron_local.template import PhysicalResources, Template

LOGGER = logging.getLogger(__name__)

# boto3 ships no type information and only the DynamoDB stubs are installed: clients are untyped.
Client = Any

QUEUE_TYPE = "AWS::SQS::Queue"
# CloudFormation property -> SQS attribute, for the properties that change behaviour locally.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
)
_MAX_RECEIVE = 10  # SQS's ceiling per ReceiveMessage call
_WAIT_TIME_S = 1  # short long-poll: keeps test latency and stop() time low
_STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Queue:
    logical_id: str
    name: str
    url: str
    arn: str


@dataclass(frozen=True)
class SqsEventSource:
    """One `Type: SQS` entry of a function's `Events`, with its queue resolved to the local one."""

    function_id: str
    event_id: str
    queue: Queue
    batch_size: int = 10
    batching_window_s: float = 0.0
    report_batch_item_failures: bool = False
    enabled: bool = True
    # Lambda's ScalingConfig.MaximumConcurrency: this many batches in progress at once (one poller each).
    concurrency: int = 1


class InvalidBatchResponseError(ValueError):
    """The handler's partial batch response cannot be honoured, so Lambda fails the whole batch."""


class QueueRuntime:
    """Provisions the template's queues and runs poller threads for each enabled SQS event source."""

    def __init__(
        self, template: Template, resources: PhysicalResources, registry: FunctionRegistry, sqs_client: Client
    ):
        self.template = template
        self.resources = resources
        self.registry = registry
        self.sqs = sqs_client
        self.queues: dict[str, Queue] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sources: list[SqsEventSource] = []
        self._running = 0  # handler invocations in progress, for wait_idle
        self._running_lock = threading.Lock()

    # -- provisioning -----------------------------------------------------------------------------------

    def provision(self) -> dict[str, Queue]:
        """Create every queue of the template, dead-letter targets before the queues that name them."""
        declared = self.template.resources_of(QUEUE_TYPE)
        for logical_id in _dependency_order(declared):
            self.queues[logical_id] = self._create_queue(logical_id, dict(declared[logical_id].get("Properties", {})))
        return dict(self.queues)

    def deprovision(self) -> None:
        """Stop polling and delete the queues this runtime created (others in the same moto are left alone)."""
        self.stop()
        for logical_id, queue in reversed(list(self.queues.items())):
            self.sqs.delete_queue(QueueUrl=queue.url)
            self.resources.refs.pop(logical_id, None)
            for attribute in ("Arn", "QueueName", "QueueUrl"):
                self.resources.attributes.pop((logical_id, attribute), None)
        self.queues = {}

    def _create_queue(self, logical_id: str, properties: dict[str, Any]) -> Queue:
        fifo = _truthy(self.resources.resolve(properties.get("FifoQueue", False)))
        name = str(self.resources.resolve(properties.get("QueueName", logical_id)))
        if fifo and not name.endswith(".fifo"):
            name = f"{name}.fifo"  # CloudFormation's generated FIFO names carry the suffix too
        attributes = {
            key: _attribute_value(self.resources.resolve(properties[key]))
            for key in _QUEUE_ATTRIBUTES
            if key in properties
        }
        if "RedrivePolicy" in properties:
            policy = self.resources.resolve(properties["RedrivePolicy"])
            if isinstance(policy, str):
                policy = json.loads(policy)
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": policy["deadLetterTargetArn"],
                    "maxReceiveCount": int(policy["maxReceiveCount"]),
                }
            )
        url = str(self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        arn = str(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
        self.resources.refs[logical_id] = url
        self.resources.attributes[(logical_id, "Arn")] = arn
        self.resources.attributes[(logical_id, "QueueName")] = name
        self.resources.attributes[(logical_id, "QueueUrl")] = url
        return Queue(logical_id=logical_id, name=name, url=url, arn=arn)

    # -- event sources ----------------------------------------------------------------------------------

    def event_sources(self) -> list[SqsEventSource]:
        """Every `Type: SQS` event of every function (enabled or not), resolved against the provisioned queues."""
        by_arn = {queue.arn: queue for queue in self.queues.values()}
        sources = []
        for function_id in self.template.resources_of("AWS::Serverless::Function"):
            events = self.template.function_properties(function_id).get("Events") or {}
            for event_id, event in events.items():
                if event.get("Type") != "SQS":
                    continue
                properties = event.get("Properties", {})
                arn = str(self.resources.resolve(properties["Queue"]))
                if arn not in by_arn:
                    raise KeyError(f"{function_id}.{event_id}: queue {arn} is not a queue of the template")
                if "FilterCriteria" in properties:
                    LOGGER.warning(
                        "FilterCriteria is not applied locally: %s.%s gets every message",
                        function_id,
                        event_id,
                    )
                sources.append(
                    SqsEventSource(
                        function_id=function_id,
                        event_id=event_id,
                        queue=by_arn[arn],
                        batch_size=int(self.resources.resolve(properties.get("BatchSize", 10))),
                        batching_window_s=float(
                            self.resources.resolve(properties.get("MaximumBatchingWindowInSeconds", 0))
                        ),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (properties.get("FunctionResponseTypes") or []),
                        enabled=_truthy(self.resources.resolve(properties.get("Enabled", True))),
                        concurrency=int(
                            self.resources.resolve((properties.get("ScalingConfig") or {}).get("MaximumConcurrency", 1))
                        ),
                    )
                )
        return sources

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self._sources = [source for source in self.event_sources() if source.enabled]
        for source in self._sources:
            for poller in range(source.concurrency):
                thread = threading.Thread(
                    target=self._poll,
                    args=(source,),
                    name=f"sqs-{source.function_id}-{source.event_id}-{poller}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        """Stop polling; a batch in progress finishes first (at most one long-poll wait)."""
        self._stop.set()
        for thread in self._threads:
            # Bounded: a handler stuck for good must not hang shutdown (its daemon thread dies with the process).
            thread.join(timeout=_STOP_TIMEOUT_S)
            if thread.is_alive():
                LOGGER.warning("%s did not stop within %s s", thread.name, _STOP_TIMEOUT_S)
        self._threads = []

    def wait_idle(self, timeout: float) -> bool:
        """True once every polled queue has no visible, in-flight or delayed message and no handler runs."""
        deadline = time.monotonic() + timeout
        while True:
            if self._idle():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def _idle(self) -> bool:
        with self._running_lock:
            if self._running:
                return False
        for queue in {source.queue for source in self._sources}:
            counts = self.sqs.get_queue_attributes(
                QueueUrl=queue.url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            if any(int(value) for value in counts.values()):
                return False
        # A poller may have started a handler between the two checks; its messages were in flight then.
        with self._running_lock:
            return self._running == 0

    # -- the poller -------------------------------------------------------------------------------------

    def _poll(self, source: SqsEventSource) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive_batch(source)
            except Exception:
                if self._stop.is_set():
                    return  # the server went away while we were stopping
                LOGGER.exception("receiving from %s failed", source.queue.name)
                self._stop.wait(1)
                continue
            if messages:
                self._process(source, messages)

    def _receive_batch(self, source: SqsEventSource) -> list[dict[str, Any]]:
        """Up to BatchSize messages: what one long poll returns, topped up until the batching window closes."""
        messages = self._receive(source, min(source.batch_size, _MAX_RECEIVE), _WAIT_TIME_S)
        if not messages or source.batching_window_s <= 0:
            return messages
        deadline = time.monotonic() + source.batching_window_s
        while len(messages) < source.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(source, min(source.batch_size - len(messages), _MAX_RECEIVE), 0)
            messages.extend(more)
            if not more:
                self._stop.wait(min(remaining, 0.1))
        return messages

    def _receive(self, source: SqsEventSource, count: int, wait_s: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=source.queue.url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _process(self, source: SqsEventSource, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(source, message) for message in messages]}
        with self._running_lock:
            self._running += 1
        try:
            try:
                result = self.registry.invoke(source.function_id, event)
                failed = _failed_ids(result, messages) if source.report_batch_item_failures else set()
            except Exception:
                # Lambda keeps the whole batch: each message returns after the visibility timeout.
                LOGGER.warning("%s failed a batch of %d", source.function_id, len(messages), exc_info=True)
                return
            self._delete(source, [message for message in messages if message["MessageId"] not in failed])
        finally:
            with self._running_lock:
                self._running -= 1

    def _delete(self, source: SqsEventSource, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _MAX_RECEIVE):
            chunk = messages[start : start + _MAX_RECEIVE]
            response = self.sqs.delete_message_batch(
                QueueUrl=source.queue.url,
                Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)],
            )
            for failure in response.get("Failed", []):
                LOGGER.warning("could not delete a message from %s: %s", source.queue.name, failure.get("Code"))

    def _record(self, source: SqsEventSource, message: dict[str, Any]) -> dict[str, Any]:
        """One record exactly as Lambda's SQS poller builds it."""
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": source.queue.arn,
            "awsRegion": self.resources.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record


def _failed_ids(result: Any, messages: list[dict[str, Any]]) -> set[str]:
    """The message ids of a partial batch response; any malformed response fails the whole batch, as on AWS."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        raise InvalidBatchResponseError("the response is not a batch response object")
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        raise InvalidBatchResponseError("batchItemFailures is not a list")
    batch_ids = {message["MessageId"] for message in messages}
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            raise InvalidBatchResponseError(f"itemIdentifier {identifier!r} is not a message id of the batch")
        failed.add(identifier)
    return failed


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute (`StringValue`, bytes) -> Lambda event attribute (`stringValue`, base64 text)."""
    converted: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [_b64(item) for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = _b64(value["BinaryValue"])
    return converted


def _b64(value: bytes | str) -> str:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


def _truthy(value: Any) -> bool:
    return value.lower() == "true" if isinstance(value, str) else bool(value)


def _attribute_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _dependency_order(queues: dict[str, dict[str, Any]]) -> list[str]:
    """Queues ordered so that every queue comes after the queues its properties reference (its DLQ)."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in ordered:
            return
        if logical_id in visiting:
            raise ValueError(f"queues reference each other in a cycle through {logical_id}")
        visiting.add(logical_id)
        for dependency in sorted(_references(queues[logical_id].get("Properties", {})) & set(queues)):
            visit(dependency)
        visiting.discard(logical_id)
        ordered.append(logical_id)

    for logical_id in queues:
        visit(logical_id)
    return ordered


def _references(value: Any) -> set[str]:
    """Logical ids named by Ref / Fn::GetAtt anywhere inside a property value."""
    if isinstance(value, list):
        return set().union(*(_references(item) for item in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Ref"}:
        return {str(value["Ref"])}
    if set(value) == {"Fn::GetAtt"}:
        return {str(value["Fn::GetAtt"][0])}
    return set().union(*(_references(item) for item in value.values())) if value else set()
