"""Shared fixtures: one DynamoDB Local for the session, one local runtime over it, a fresh tenant per test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis.internal import lambda_sources

from patron.applications.model import RateLimit, Scope

# Hypothesis describes a lambda of a strategy by parsing its source; on CPython 3.11.7 that parse can raise
# `SystemError: AST constructor recursion depth mismatch` (a CPython bug), which Hypothesis then reports as a flaky
# failure of the test. A description is only text for reports: when the parse fails, say "lambda" instead.
_describe_lambda = lambda_sources.lambda_description


def _lambda_description_or_placeholder(function: Any) -> str:
    try:
        return str(_describe_lambda(function))
    except SystemError:
        return "lambda <source not parsed>"


lambda_sources.lambda_description = _lambda_description_or_placeholder


# The asynchronous half's fixture app (app_template, moto_services), for the tests that ask for it.
pytest_plugins = ["tests.integration.async_app"]


@dataclass(frozen=True)
class Tenant:
    application_id: int
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"ApiKey-v1 {self.key}"}


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    from patron_local.dynamodb_local import DynamoDBLocal

    database = DynamoDBLocal(data_dir=None)
    endpoint = database.start()
    yield endpoint
    database.stop()


# The key cache TTL is 1 s in tests (60 s by default) so a revocation test can watch the bound pass.
TEST_KEY_CACHE_TTL_SECONDS = 1


@pytest.fixture(scope="session")
def runtime(dynamodb_endpoint: str):
    from patron_local.runtime import LocalRuntime, RuntimeOptions

    options = RuntimeOptions(
        dynamodb_endpoint=dynamodb_endpoint,
        parameter_overrides={"KeyCacheTtlSeconds": str(TEST_KEY_CACHE_TTL_SECONDS)},
        table_prefix=f"test-{uuid.uuid4().hex[:8]}-",
    )
    local = LocalRuntime(options).start()
    yield local
    local.stop()


def new_tenant(runtime, rate: RateLimit | None = None, scope: Scope = Scope.INTEGRATION) -> Tenant:
    service = runtime.applications()
    application = service.create_application(f"shop-{uuid.uuid4().hex[:6]}", rate or RateLimit(1000, 1000))
    return Tenant(application.id, service.create_key(application.id, scope, "test").secret)


@pytest.fixture
def meter(runtime) -> Iterator[Any]:
    """Every DynamoDB call the handlers make (they share the process's cached client), priced (bench.dynamo_meter)
    and tagged with the function that made it (`meter.function_of(call)`)."""
    from bench.common import FunctionMeter
    from patron.dynamo.client import dynamodb_client

    client = dynamodb_client()
    meter = FunctionMeter().attach(client)
    yield meter
    meter.detach(client)


@pytest.fixture
def tenant(runtime) -> Tenant:
    return new_tenant(runtime)


@pytest.fixture
def other_tenant(runtime) -> Tenant:
    return new_tenant(runtime)


@pytest.fixture
def quick_redelivery(runtime):
    """A chunk whose worker failed comes back after 1 s instead of the queue's 720 s (as it would, later)."""
    sqs, url = runtime.aws_client("sqs"), runtime.resources.refs["ImportQueue"]
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    time.sleep(1.5)  # a long poll in flight took the old timeout when it began (the pollers wait up to 1 s)
    yield
    assert runtime.wait_idle(30)
    sqs.set_queue_attributes(QueueUrl=url, Attributes=before)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test that used the local runtime shows the runtime's unhandled errors (route, type, frames): a 500
    answers only `internal_error`, by design."""
    report = yield
    runtime = getattr(item, "funcargs", {}).get("runtime")
    if report.failed and call.when == "call" and runtime is not None:
        errors = [d for d in runtime.logs.documents() if d.get("message") == "unhandled error"]
        if errors:
            report.sections.append(("runtime unhandled errors", "\n".join(map(str, errors[-3:]))))
    return report
