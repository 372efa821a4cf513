"""The decorator stack every function's handler goes through (patron.observability): log keys, one EMF document
per API invocation, SQS partial batches. Output is read from stdout, as CloudWatch reads it."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.import_dead_letters import app as dead_letters_app
from functions.import_upload_dead_letters import app as upload_dead_letters_app
from functions.import_worker import app as worker_app
from patron.errors import NotFoundError
from patron.http.api import Request, Response, RestApi
from patron.logs import get_logger
from patron.observability import api_handler, event_handler
from patron.observability.sqs import SQSRecord, sqs_handler

CANARY = "mario.rossi@example.com"
APPLICATION = "7"
log = get_logger("tests.observability")


@dataclass
class Context:
    function_name: str = "ThingsFunction"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def api_event(method: str, resource: str, body: str | None = None, request_id: str = "gw-1") -> dict[str, Any]:
    return {
        "httpMethod": method,
        "resource": resource,
        "path": "/things/1",
        "pathParameters": {"id": "1"},
        "headers": {"Content-Type": "application/json"},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": request_id,
            "authorizer": {"applicationId": APPLICATION, "scope": "integration", "keyId": "k"},
        },
    }


def things_handler() -> Any:
    api = RestApi(max_body_bytes=lambda: 10_000)

    @api.route("PUT", "/things/{id}")
    def put_thing(request: Request) -> Response:
        log.info("thing stored", size=len(request.body))
        return Response.json({"id": request.path_params["id"]}, status=201)

    @api.route("GET", "/things/{id}")
    def get_thing(request: Request) -> Response:
        raise NotFoundError("No such thing.", code="thing_not_found")

    @api.route("DELETE", "/things/{id}")
    def delete_thing(request: Request) -> Response:
        raise RuntimeError(f"cannot delete {CANARY}")

    @api_handler
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return api.resolve(event, context)

    return lambda_handler


def output(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """(all of stdout, its log lines, its EMF documents)."""
    text = capsys.readouterr().out
    documents = [json.loads(line) for line in text.splitlines() if line.strip()]
    return text, [d for d in documents if "_aws" not in d], [d for d in documents if "_aws" in d]


def test_every_log_line_carries_the_invocations_keys_and_no_body_values(capsys):
    handler = things_handler()
    context = Context()
    handler(api_event("PUT", "/things/{id}", json.dumps({"email": CANARY})), context)
    handler(api_event("DELETE", "/things/{id}", json.dumps({"email": CANARY}), request_id="gw-2"), Context())
    text, lines, _ = output(capsys)

    assert CANARY not in text
    stored, failed = lines
    assert stored["message"] == "thing stored"
    assert stored["function_request_id"] == context.aws_request_id
    assert stored["correlation_id"] == "gw-1"
    assert stored["route"] == "PUT /things/{id}"
    assert stored["application_id"] == APPLICATION
    assert stored["cold_start"] is True
    assert stored["location"].startswith("put_thing:")  # the caller's line, not the facade's
    assert failed["message"] == "unhandled error" and failed["error"] == "RuntimeError"
    assert (failed["correlation_id"], failed["route"], failed["cold_start"]) == ("gw-2", "DELETE /things/{id}", False)


def test_the_keys_end_with_the_invocation(capsys):
    handler = things_handler()
    handler(api_event("PUT", "/things/{id}", "{}"), Context())
    log.info("after the invocation")
    _, lines, _ = output(capsys)
    assert not {"route", "application_id", "function_request_id", "cold_start"} & set(lines[-1])


def test_concurrent_invocations_keep_their_own_keys(capsys):
    """The local runtime runs handlers in threads of one process: keys live in a context variable per thread."""
    handler = things_handler()
    barrier = threading.Barrier(4)

    def invoke(index: int) -> None:
        barrier.wait()
        handler(api_event("PUT", "/things/{id}", "{}", request_id=f"gw-{index}"), Context(aws_request_id=f"fn-{index}"))

    threads = [threading.Thread(target=invoke, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _, lines, documents = output(capsys)
    assert sorted((line["correlation_id"], line["function_request_id"]) for line in lines) == [
        (f"gw-{i}", f"fn-{i}") for i in range(4)
    ]
    assert sorted((d["correlation_id"], d["function_request_id"]) for d in documents) == [
        (f"gw-{i}", f"fn-{i}") for i in range(4)
    ]


def test_one_invocation_emits_one_emf_document_with_the_routes_metrics(capsys):
    handler = things_handler()
    handler(api_event("PUT", "/things/{id}", "{}"), Context())
    _, _, documents = output(capsys)

    (document,) = documents
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"]
    assert directive["Dimensions"] == [["route", "service"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "Requests": "Count",
        "Latency": "Milliseconds",
        "4XXError": "Count",
        "5XXError": "Count",
    }
    assert document["route"] == "PUT /things/{id}"
    assert (document["Requests"], document["4XXError"], document["5XXError"]) == ([1.0], [0.0], [0.0])
    assert document["Latency"][0] > 0
    # The application is a property (searchable in Logs Insights), not a dimension.
    assert document["application_id"] == APPLICATION
    assert document["status_code"] == 201
    assert "error_code" not in document


@pytest.mark.parametrize(
    ("method", "status", "code", "client", "server"),
    [("GET", 404, "thing_not_found", 1.0, 0.0), ("DELETE", 500, "internal_error", 0.0, 1.0)],
)
def test_an_error_is_counted_by_class_with_its_code(capsys, method, status, code, client, server):
    things_handler()(api_event(method, "/things/{id}"), Context())
    _, _, (document,) = output(capsys)
    assert (document["status_code"], document["error_code"]) == (status, code)
    assert (document["4XXError"], document["5XXError"]) == ([client], [server])


def test_a_handler_that_raises_is_counted_as_api_gateways_502(capsys):
    @api_handler
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError(CANARY)

    with pytest.raises(RuntimeError):
        broken(api_event("GET", "/things/{id}"), Context())
    text, _, (document,) = output(capsys)
    assert CANARY not in text
    assert (document["status_code"], document["error_code"], document["5XXError"]) == (502, "internal_error", [1.0])


def test_a_response_metrics_cannot_read_is_still_answered(capsys):
    @api_handler
    def odd(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": "teapot"}

    assert odd(api_event("GET", "/things/{id}"), Context()) == {"statusCode": "teapot"}
    _, (line,), documents = output(capsys)
    assert documents == []
    assert (line["message"], line["error"]) == ("route metrics not emitted", "ValueError")


def test_a_field_named_like_a_log_record_attribute_is_renamed_not_raised(capsys):
    log.info("renamed", name="x", level="y", count=1)
    _, (line,), _ = output(capsys)
    assert (line["level"], line["name_"], line["level_"], line["count"]) == ("INFO", "x", "y", 1)


def test_an_invocation_without_metrics_emits_none_and_does_not_raise(capsys):
    """The authorizer's stack: logging context only; nothing to flush is not an error."""

    @event_handler
    def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        log.info("request refused")
        return {"principalId": "k"}

    assert authorizer(api_event("GET", "/things/{id}"), Context()) == {"principalId": "k"}
    _, (line,), documents = output(capsys)
    assert documents == []
    assert (line["route"], line["correlation_id"], line["cold_start"]) == ("GET /things/{id}", "gw-1", True)


# -- SQS consumers -----------------------------------------------------------------------------------------


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "receiptHandle": "h", "body": body, "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


def test_a_failing_record_is_reported_alone_and_logged_by_its_type_only(capsys):
    handled: list[str] = []

    def record_handler(record: SQSRecord) -> None:
        if record.body == "bad":
            raise ValueError(f"cannot read {CANARY}")
        handled.append(record.body)

    context = Context()
    result = sqs_handler(record_handler)(sqs_event("a", "bad", "c"), context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert handled == ["a", "c"]
    text, (line,), documents = output(capsys)
    assert CANARY not in text and documents == []
    assert (line["level"], line["error"], line["message_id"]) == ("ERROR", "ValueError", "m1")
    assert '"level": "ERROR"' in text  # what the runbook's query matches (docs/operations.md)
    assert line["function_request_id"] == context.aws_request_id and line["cold_start"] is True


def test_a_batch_where_every_record_fails_is_answered_not_raised(capsys):
    def record_handler(record: SQSRecord) -> None:
        raise KeyError(CANARY)

    result = sqs_handler(record_handler)(sqs_event("a", "b"), Context())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert CANARY not in capsys.readouterr().out


def test_an_event_without_records_is_an_empty_batch_response():
    assert sqs_handler(lambda record: None)({}, Context()) == {"batchItemFailures": []}


class FakeChunks:
    """Stands for the chunk writer, the process store and the upload starter: records what it is asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def write(self, *args: Any) -> None:
        self.calls.append(args)

    def chunk_failed(self, *args: Any) -> None:
        self.calls.append(args)

    def start_failed(self, *args: Any) -> None:
        self.calls.append(args)


CHUNK = json.dumps({"applicationId": 1, "processId": 2, "chunk": 3, "key": "imports/1/2/chunks/000003.json"})
# A failed asynchronous invocation's record: the EventBridge event as `requestPayload`.
UPLOAD = json.dumps(
    {"requestPayload": {"detail": {"bucket": {"name": "b"}, "object": {"key": "imports/1/2/upload.json"}}}}
)


@pytest.mark.parametrize(
    ("module", "factory", "body", "expected"),
    [
        (worker_app, "chunk_writer", CHUNK, (1, 2, 3, "imports/1/2/chunks/000003.json")),
        (dead_letters_app, "process_store", CHUNK, (1, 2, 3)),
        (upload_dead_letters_app, "upload_starter", UPLOAD, ("b", "imports/1/2/upload.json")),
    ],
)
def test_each_sqs_consumer_reports_only_its_failed_records(monkeypatch, capsys, module, factory, body, expected):
    fake = FakeChunks()
    monkeypatch.setattr(module, factory, lambda: fake)
    result = module.lambda_handler(sqs_event(body, '{"applicationId": ', body), Context())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert fake.calls == [expected, expected]
    _, (line,), _ = output(capsys)
    assert (line["error"], line["message_id"]) == ("JSONDecodeError", "m1")
