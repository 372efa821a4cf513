"""The default event bus with the template's rules: each function's `Type: EventBridgeRule` event (its Pattern),
delivered the way EventBridge delivers to Lambda.

EventBridge invokes a Lambda target asynchronously, so delivery here happens on a thread of its own: a handler
error is retried `EventInvokeConfig.MaximumRetryAttempts` times (default 2; AWS waits about a minute, then two,
here a fraction of a second), then the event goes to the `DestinationConfig.OnFailure` queue in Lambda's
destination record. The rule's own RetryPolicy and DeadLetterConfig cover failures to *reach* the function
(throttling, permissions), which cannot happen in one process; MaximumEventAgeInSeconds is not applied.

Patterns support what the template uses and a little more: exact values, `prefix`, `suffix`, `wildcard`,
`equals-ignore-case`, `anything-but` and `exists`. Any other operator fails at start, not silently.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from patron_local.functions import FunctionRegistry
from patron_local.template import PhysicalResources, Template

LOGGER = logging.getLogger(__name__)

# boto3 ships no type information and only the DynamoDB stubs are installed: clients are untyped.
Client = Any

_EVENT_TYPES = ("EventBridgeRule", "CloudWatchEvent")
_OPERATORS = {"prefix", "suffix", "wildcard", "equals-ignore-case", "anything-but", "exists"}
_DEFAULT_RETRIES = 2  # Lambda's default for asynchronous invocations
RETRY_DELAYS_S = (0.2, 0.5)


class PatternError(ValueError):
    """A pattern the local bus cannot apply faithfully."""


@dataclass(frozen=True)
class Rule:
    function_id: str
    event_id: str
    pattern: dict[str, Any]


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """A function's `EventInvokeConfig`: retries of a failed asynchronous invocation, and where it goes then."""

    maximum_retry_attempts: int = _DEFAULT_RETRIES
    on_failure: str | None = None  # an SQS queue ARN


# -- patterns ------------------------------------------------------------------------------------------------


def check_pattern(pattern: Any, where: str) -> None:
    """Raises PatternError for anything `matches` would not apply as EventBridge does."""
    if not isinstance(pattern, Mapping):
        raise PatternError(f"{where}: a pattern is an object")
    for name, rule in pattern.items():
        if isinstance(rule, Mapping):
            check_pattern(rule, f"{where}.{name}")
        elif isinstance(rule, list):
            for matcher in rule:
                if isinstance(matcher, Mapping):
                    unknown = set(matcher) - _OPERATORS
                    if unknown or len(matcher) != 1:
                        raise PatternError(f"{where}.{name}: operator {sorted(matcher)} is not supported locally")
                elif isinstance(matcher, list):
                    raise PatternError(f"{where}.{name}: nested lists are not patterns")
        else:
            raise PatternError(f"{where}.{name}: a pattern's leaves are lists of matchers")


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether `event` matches `pattern`: every field of the pattern matches (AND), any matcher of a list (OR)."""
    for name, rule in pattern.items():
        present = isinstance(event, Mapping) and name in event
        value = event[name] if present else None
        if isinstance(rule, Mapping):
            if not (present and isinstance(value, Mapping) and matches(rule, value)):
                return False
        elif not _any_matcher(rule, present, value):
            return False
    return True


def _any_matcher(matchers: list[Any], present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if isinstance(matcher, Mapping) and "exists" in matcher:
            if bool(matcher["exists"]) == present:
                return True
        elif present and any(_matches_one(matcher, item) for item in values):
            return True
    return False


def _matches_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        return _equal(matcher, value)
    operator, argument = next(iter(matcher.items()))
    if operator == "anything-but":
        if isinstance(argument, Mapping):
            return not _matches_one(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return value is not None and not any(_equal(item, value) for item in excluded)
    if not isinstance(value, str):
        return False
    if operator == "prefix":
        return value.startswith(str(argument))
    if operator == "suffix":
        return value.endswith(str(argument))
    if operator == "equals-ignore-case":
        return value.casefold() == str(argument).casefold()
    if operator == "wildcard":
        return _wildcard(str(argument)).fullmatch(value) is not None
    raise PatternError(f"operator {operator} is not supported locally")


def _equal(expected: Any, value: Any) -> bool:
    numbers = (int, float)
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, numbers) and isinstance(value, numbers):
        return float(expected) == float(value)
    return type(expected) is type(value) and bool(expected == value)


def _wildcard(text: str) -> re.Pattern[str]:
    """EventBridge's wildcard: `*` is any run of characters (slashes too), `\\*` a literal star."""
    parts = re.split(r"(\\\*|\*)", text)
    return re.compile("".join(".*" if part == "*" else re.escape("*" if part == "\\*" else part) for part in parts))


# -- the bus ---------------------------------------------------------------------------------------------------


class EventBusRuntime:
    def __init__(
        self,
        template: Template,
        resources: PhysicalResources,
        registry: FunctionRegistry,
        sqs_client: Client,
        queue_url: Callable[[str], str | None],
        retry_delays: tuple[float, ...] = RETRY_DELAYS_S,
    ):
        self.template = template
        self.resources = resources
        self.registry = registry
        self.sqs = sqs_client
        self._queue_url = queue_url
        self._retry_delays = retry_delays
        self.rules = self._load_rules()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running = 0
        self._lock = threading.Lock()

    def _load_rules(self) -> list[Rule]:
        rules = []
        for function_id in self.template.resources_of("AWS::Serverless::Function"):
            events = self.template.function_properties(function_id).get("Events") or {}
            for event_id, event in events.items():
                if event.get("Type") not in _EVENT_TYPES:
                    continue
                properties = event.get("Properties", {})
                bus = properties.get("EventBusName", "default")
                if bus != "default":
                    raise PatternError(f"{function_id}.{event_id}: only the default event bus runs locally")
                pattern = self.resources.resolve(properties["Pattern"])
                check_pattern(pattern, f"{function_id}.{event_id}")
                rules.append(Rule(function_id, event_id, pattern))
        return rules

    def invoke_config(self, function_id: str) -> AsyncInvokeConfig:
        config = self.template.function_properties(function_id).get("EventInvokeConfig") or {}
        on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure")) or {}
        destination = self.resources.resolve(on_failure["Destination"]) if "Destination" in on_failure else None
        if destination is not None and on_failure.get("Type", "SQS") != "SQS":
            raise PatternError(f"{function_id}: only SQS OnFailure destinations run locally")
        return AsyncInvokeConfig(
            maximum_retry_attempts=int(config.get("MaximumRetryAttempts", _DEFAULT_RETRIES)),
            on_failure=str(destination) if destination is not None else None,
        )

    def put_event(self, event: dict[str, Any]) -> list[Rule]:
        """PutEvents of one event: each matching rule's target is invoked asynchronously. Returns the rules."""
        matched = [rule for rule in self.rules if matches(rule.pattern, event)]
        for rule in matched:
            with self._lock:
                self._running += 1
                self._threads = [thread for thread in self._threads if thread.is_alive()]
                thread = threading.Thread(
                    target=self._deliver, args=(rule, event), name=f"events-{rule.function_id}", daemon=True
                )
                self._threads.append(thread)
            thread.start()
        return matched

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._running == 0:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=30)

    def _deliver(self, rule: Rule, event: dict[str, Any]) -> None:
        try:
            config = self.invoke_config(rule.function_id)
            attempts = 1 + config.maximum_retry_attempts
            for attempt in range(attempts):
                try:
                    self.registry.invoke(rule.function_id, event)
                    return
                except Exception as exc:
                    LOGGER.warning("%s failed an event (attempt %d of %d)", rule.function_id, attempt + 1, attempts)
                    error: Exception = exc
                if attempt + 1 < attempts and self._stop.wait(
                    self._retry_delays[min(attempt, len(self._retry_delays) - 1)]
                ):
                    return
            self._dead_letter(rule, config, event, error, attempts)
        finally:
            with self._lock:
                self._running -= 1

    def _dead_letter(
        self, rule: Rule, config: AsyncInvokeConfig, event: dict[str, Any], error: Exception, attempts: int
    ) -> None:
        url = self._queue_url(config.on_failure) if config.on_failure else None
        if url is None:
            LOGGER.error("%s: an event was dropped after %d attempts", rule.function_id, attempts)
            return
        # Lambda's destination record for a failed asynchronous invocation.
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{self.resources.attributes.get((rule.function_id, 'Arn'), rule.function_id)}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
        }
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
