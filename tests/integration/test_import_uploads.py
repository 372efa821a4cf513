"""Large imports through a presigned S3 upload, on the local runtime: the URL from POST /v1/import/uploads is
PUT with a plain HTTP client, the S3 endpoint announces the object to the template's EventBridge rule, and
ImportUploadedFunction starts the process's workflow once."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from patron.imports.aws import PresignedPut
from patron.imports.model import InputFormat, Process, ProcessStatus
from patron.imports.repository import DynamoProcessRepository
from patron.imports.uploads import UploadOutcome, UploadStarter, execution_name, upload_key
from tests.integration.test_imports import headers, wait_for

UPLOADS = "/v1/import/uploads"


def customers_file(prefix: str, count: int) -> bytes:
    customers = [
        {
            "id": f"{prefix}-{i}",
            "email": f"{prefix}-{i}@example.com",
            "orders": [{"id": f"{prefix}-o{i}", "createdAt": "2024-01-01", "amount": 7}],
        }
        for i in range(count)
    ]
    return json.dumps({"customers": customers}).encode()


def request_upload(runtime, tenant, body: Any, **extra: str):
    return runtime.request("POST", UPLOADS, headers={**headers(tenant), **extra}, body=json.dumps(body))


def put(url: str, data: bytes, send: dict[str, str]) -> int:
    """A PUT as any HTTP client sends it; the status, or the error status S3 (here, its local endpoint) answers."""
    request = urllib.request.Request(url, data=data, headers=send, method="PUT")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def process(runtime, tenant, process_id: int) -> dict[str, Any]:
    response = runtime.request("GET", f"/v1/processes/{process_id}", headers=headers(tenant))
    assert response.status == 200, response.body
    return dict(response.json())


def executions(runtime, tenant, process_id: int) -> list[dict[str, Any]]:
    sfn = runtime.aws_client("stepfunctions")
    arn = runtime.workflows.state_machines["ImportStateMachine"]
    name = f"import-{tenant.application_id}-{process_id}"  # the process's own name (uploads.execution_name)
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
    # Any execution of the process, whatever its name's tail (were the name not the process's own).
    return [e for page in pages for e in page["executions"] if e["name"] == name or e["name"].startswith(f"{name}-")]


def bucket_and_key(upload_url: str) -> tuple[str, str]:
    bucket, _, key = urlsplit(upload_url).path.lstrip("/").partition("/")
    return bucket, key


def test_an_uploaded_file_is_imported_end_to_end(runtime, tenant):
    prefix = f"up{uuid.uuid4().hex[:6]}"
    data = customers_file(prefix, 30)
    created = request_upload(runtime, tenant, {"format": "json", "contentLength": len(data), "recalculateStats": True})
    assert created.status == 201, created.body
    ticket = created.json()
    process_id = ticket["processId"]
    assert created.header("Location") == f"/v1/processes/{process_id}"
    assert ticket["method"] == "PUT" and ticket["expiresAt"].endswith("Z")
    assert ticket["headers"] == {
        "Content-Length": str(len(data)),
        "Content-Type": "application/json",
        "If-None-Match": "*",
    }
    bucket, key = bucket_and_key(ticket["uploadUrl"])
    assert bucket == runtime.resources.refs["ImportBucket"]
    assert key == f"imports/{tenant.application_id}/{process_id}/upload.json"
    signed = dict(pair.split("=", 1) for pair in urlsplit(ticket["uploadUrl"]).query.split("&"))
    assert signed["X-Amz-SignedHeaders"] == "content-length%3Bcontent-type%3Bhost%3Bif-none-match"

    waiting = process(runtime, tenant, process_id)
    assert (waiting["status"], waiting["statusDetail"]) == ("pending", "awaiting_upload")
    assert waiting["data"]["totalCustomers"] == 0 and waiting["upload"]["contentLength"] == len(data)

    assert put(ticket["uploadUrl"], data, ticket["headers"]) == 200
    done = wait_for(runtime, tenant, process_id)
    assert done["status"] == "completed" and "statusDetail" not in done, done
    assert done["data"]["processedCustomers"] == 30 and done["data"]["processedOrders"] == 30
    customer = runtime.request("GET", f"/v1/customers/{prefix}-29", headers=tenant.headers).json()
    assert customer["email"] == f"{prefix}-29@example.com" and customer["stats"]["totalSales"] == 7
    assert len(executions(runtime, tenant, process_id)) == 1
    # The URL works once: S3 refuses to replace the object (If-None-Match: * is signed).
    assert put(ticket["uploadUrl"], data, ticket["headers"]) == 412


def test_s3_refuses_a_put_that_differs_from_the_signed_headers(runtime, tenant):
    data = customers_file(f"sz{uuid.uuid4().hex[:6]}", 2)
    ticket = request_upload(runtime, tenant, {"format": "json", "contentLength": len(data)}).json()
    longer = data + b" "
    assert put(ticket["uploadUrl"], longer, {**ticket["headers"], "Content-Length": str(len(longer))}) == 403
    assert put(ticket["uploadUrl"], data, {**ticket["headers"], "Content-Type": "text/plain"}) == 403
    without_condition = {k: v for k, v in ticket["headers"].items() if k != "If-None-Match"}
    assert put(ticket["uploadUrl"], data, without_condition) == 403
    tampered = ticket["uploadUrl"].replace(f"/{tenant.application_id}/", f"/{tenant.application_id}0/")
    assert put(tampered, data, ticket["headers"]) == 403
    assert runtime.wait_idle(10)
    assert process(runtime, tenant, ticket["processId"])["statusDetail"] == "awaiting_upload"
    assert put(ticket["uploadUrl"], data, ticket["headers"]) == 200
    assert wait_for(runtime, tenant, ticket["processId"])["status"] == "completed"


def test_upload_requests_are_checked_field_by_field(runtime, tenant):
    bad = request_upload(
        runtime,
        tenant,
        {"format": "xml", "contentLength": "12", "triggerIntegrations": "yes", "customers": []},
    )
    assert bad.status == 400 and bad.json()["code"] == "invalid_request"
    assert {(e["path"], e["code"]) for e in bad.json()["errors"]} == {
        ("customers", "unknown_field"),
        ("format", "invalid_value"),
        ("contentLength", "invalid_value"),
        ("triggerIntegrations", "invalid_value"),
    }
    missing = request_upload(runtime, tenant, {})
    assert {(e["path"], e["code"]) for e in missing.json()["errors"]} == {
        ("format", "missing_field"),
        ("contentLength", "missing_field"),
    }
    for length in (0, -1, 1.5, True, 1e3):
        wrong = request_upload(runtime, tenant, {"format": "csv", "contentLength": length})
        assert wrong.status == 400 and wrong.json()["errors"][0]["path"] == "contentLength", length
    assert request_upload(runtime, tenant, []).json()["errors"][0]["path"] == "$"
    # Once 500s (a TypeError on an unhashable format): every body goes through the typed wire.
    for body in ('{"format": [], "contentLength": 100}', '{"format": "json", "format": {}, "contentLength": 1}'):
        odd = runtime.request("POST", UPLOADS, headers=headers(tenant), body=body)
        assert odd.status == 400 and odd.json()["errors"][0]["path"] == "format", body
    malformed = runtime.request("POST", UPLOADS, headers=headers(tenant), body="{")
    assert malformed.status == 400 and malformed.json()["code"] == "malformed_json"


def test_a_declared_size_over_the_maximum_is_416(runtime, tenant):
    maximum = int(runtime.environment["MAX_IMPORT_UPLOAD_BYTES"])
    assert maximum == 200 * 1024 * 1024  # the template's default: 200 MiB
    over = request_upload(runtime, tenant, {"format": "jsonl", "contentLength": maximum + 1})
    assert over.status == 416 and over.json()["code"] == "upload_too_large"
    message = f"Imports are limited to {maximum} bytes."
    assert over.json()["errors"] == [
        # Patron's members, then Talon.One's APIError: each kind of client reads every error.
        {
            "path": "contentLength",
            "code": "value_too_large",
            "message": message,
            "title": "value_too_large",
            "details": message,
            "source": {"pointer": "/contentLength"},
        }
    ]
    at_limit = request_upload(runtime, tenant, {"format": "jsonl", "contentLength": maximum})
    assert at_limit.status == 201 and at_limit.json()["headers"]["Content-Type"] == "application/x-ndjson"
    # The inline route's 416 points at the upload route.
    too_big = "x" * (int(runtime.environment["MAX_IMPORT_INLINE_BYTES"]) + 1)
    inline = runtime.request("POST", "/v1/import", headers=headers(tenant), body=too_big)
    assert inline.status == 416 and inline.json()["upload"] == {"method": "POST", "path": UPLOADS}


def test_another_applications_process_and_object_are_out_of_reach(runtime, tenant, other_tenant):
    data = customers_file(f"ten{uuid.uuid4().hex[:6]}", 1)
    ticket = request_upload(runtime, tenant, {"format": "json", "contentLength": len(data)}).json()
    theirs = runtime.request("GET", f"/v1/processes/{ticket['processId']}", headers=headers(other_tenant))
    assert theirs.status == 404 and theirs.json()["code"] == "process_not_found"
    # The same process number under the other application's prefix is no process of theirs: ignored.
    bucket, _ = bucket_and_key(ticket["uploadUrl"])
    stray = upload_key(other_tenant.application_id, ticket["processId"], InputFormat.JSON)
    runtime.aws_client("s3").put_object(Bucket=bucket, Key=stray, Body=data)
    event = runtime.object_created_event(bucket, stray)
    assert runtime.registry.invoke("ImportUploadedFunction", event) == {"outcome": "ignored"}
    assert runtime.wait_idle(10)
    assert process(runtime, tenant, ticket["processId"])["statusDetail"] == "awaiting_upload"


def test_only_upload_keys_reach_the_consumer_and_unknown_processes_are_ignored(runtime, tenant):
    bucket = runtime.resources.refs["ImportBucket"]
    s3 = runtime.aws_client("s3")
    inline = f"imports/{tenant.application_id}/1/input.json"
    s3.put_object(Bucket=bucket, Key=inline, Body=b"{}")
    assert runtime.events.put_event(runtime.object_created_event(bucket, inline)) == []  # the rule's pattern
    unknown = upload_key(tenant.application_id, 999_999_999, InputFormat.CSV)
    s3.put_object(Bucket=bucket, Key=unknown, Body=b"id\n1\n")
    matched = runtime.events.put_event(runtime.object_created_event(bucket, unknown))
    assert [rule.function_id for rule in matched] == ["ImportUploadedFunction"]
    assert runtime.registry.invoke("ImportUploadedFunction", runtime.object_created_event(bucket, unknown)) == {
        "outcome": "ignored"
    }
    assert runtime.wait_idle(10)


def test_the_event_delivered_again_and_at_once_starts_one_execution(runtime, tenant):
    prefix = f"dup{uuid.uuid4().hex[:6]}"
    data = customers_file(prefix, 26)
    ticket = request_upload(runtime, tenant, {"format": "json", "contentLength": len(data)}).json()
    bucket, key = bucket_and_key(ticket["uploadUrl"])
    assert put(ticket["uploadUrl"], data, ticket["headers"]) == 200
    event = runtime.object_created_event(bucket, key)
    # Two more deliveries through the rule while the first is under way, and two straight to the function at once.
    runtime.events.put_event(event)
    runtime.events.put_event(event)
    outcomes: list[Any] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(runtime.registry.invoke("ImportUploadedFunction", event)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(outcome["outcome"] in ("started", "ignored") for outcome in outcomes), outcomes
    done = wait_for(runtime, tenant, ticket["processId"])
    assert done["status"] == "completed" and done["data"]["processedCustomers"] == 26
    assert runtime.wait_idle(20)
    # After completion, a late delivery changes nothing.
    assert runtime.registry.invoke("ImportUploadedFunction", event) == {"outcome": "ignored"}
    assert len(executions(runtime, tenant, ticket["processId"])) == 1
    after = process(runtime, tenant, ticket["processId"])
    assert after["status"] == "completed" and after["data"] == done["data"]
    stats = runtime.request("GET", f"/v1/customers/{prefix}-3", headers=tenant.headers).json()["stats"]
    assert stats["ordersCount"] == 1


def test_an_object_of_another_size_fails_its_process(runtime, tenant):
    ticket = request_upload(runtime, tenant, {"format": "json", "contentLength": 100}).json()
    bucket, key = bucket_and_key(ticket["uploadUrl"])
    # Written some other way than the URL (which S3 would hold to 100 bytes): the consumer checks the size itself.
    runtime.aws_client("s3").put_object(Bucket=bucket, Key=key, Body=b'{"customers": []}')
    failed = wait_for(runtime, tenant, ticket["processId"], timeout=30)
    assert failed["status"] == "failed" and "statusDetail" not in failed
    assert failed["failure"] == "The uploaded file has 17 bytes; 100 were declared."
    assert executions(runtime, tenant, ticket["processId"]) == []


def test_the_upload_request_is_idempotent(runtime, tenant):
    key = f"upload-{uuid.uuid4().hex}"
    body = {"format": "csv", "contentLength": 2048}
    first = request_upload(runtime, tenant, body, **{"Idempotency-Key": key})
    again = request_upload(runtime, tenant, body, **{"Idempotency-Key": key})
    assert first.status == again.status == 201
    assert again.json() == first.json() and again.header("Idempotent-Replayed") == "true"
    other = request_upload(runtime, tenant, {**body, "contentLength": 2049}, **{"Idempotency-Key": key})
    assert other.status == 422 and other.json()["code"] == "idempotency_key_reused"
    fresh = request_upload(runtime, tenant, body)
    assert fresh.json()["processId"] != first.json()["processId"]


JSONL = (
    b'{"id": "%(p)s-1", "email": "%(p)s-1@example.com", "tier": "gold", "orders": ['
    b'{"id": "%(p)s-o1", "createdAt": "2024-01-01", "amount": 12.5}, {"id": "%(p)s-o2", "createdAt": "2024-02-01",'
    b' "amount": 7.5}]}\n'
    b"this line is not JSON\n"
    b'{"id": "%(p)s-2"}\n'
)
CSV = (
    b"customer.id,customer.email,customer.tier,order.id,order.createdAt,order.amount\r\n"
    b"%(p)s-1,%(p)s-1@example.com,gold,%(p)s-o1,2024-01-01,12.5\r\n"
    b"%(p)s-1,%(p)s-1@example.com,gold,%(p)s-o2,2024-02-01,7.5\r\n"
    b'%(p)s-2,"not an email",,,,\r\n'
)


@pytest.mark.parametrize(
    ("input_format", "content_type", "template", "rejected"),
    [
        ("jsonl", "application/x-ndjson", JSONL, ("1", "customers[1]", "malformed_json")),
        ("csv", "text/csv", CSV, ("1", "customers[1].email", "invalid_value")),
    ],
)
def test_jsonl_and_csv_uploads_are_imported(runtime, tenant, input_format, content_type, template, rejected):
    prefix = f"{input_format}{uuid.uuid4().hex[:6]}"
    data = template % {b"p": prefix.encode()}
    ticket = request_upload(runtime, tenant, {"format": input_format, "contentLength": len(data)}).json()
    assert ticket["headers"]["Content-Type"] == content_type
    assert ticket["uploadUrl"].split("?")[0].endswith(f"/upload.{input_format}")
    assert put(ticket["uploadUrl"], data, ticket["headers"]) == 200
    done = wait_for(runtime, tenant, ticket["processId"])
    assert done["status"] == "completed", done
    assert done["data"]["totalCustomers"] == (3 if input_format == "jsonl" else 2)
    assert done["data"]["totalOrders"] == 2 and done["data"]["processedOrders"] == 2
    assert [(r["index"], r["path"], r["reason"]) for r in done["rejected"]] == [rejected]
    body = runtime.request("GET", f"/v1/customers/{prefix}-1", headers=tenant.headers).json()
    assert body["email"] == f"{prefix}-1@example.com" and body["attributes"]["tier"] == "gold"
    assert body["stats"]["ordersCount"] == 2 and body["stats"]["totalSales"] == 20
    assert len(executions(runtime, tenant, ticket["processId"])) == 1


class _Sizes:
    """An UploadStore whose objects have the sizes given."""

    def __init__(self, sizes: dict[str, int]):
        self.sizes = sizes

    def presign_put(self, key: str, content_length: int, content_type: str, expires_in: int) -> PresignedPut:
        raise AssertionError("not used by the starter")

    def size(self, key: str) -> int | None:
        return self.sizes.get(key)


class _Workflow:
    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        self.started.append(name)
        return True


@pytest.mark.parametrize(
    ("size", "outcome", "failure"),
    [
        (10, UploadOutcome.STARTED, None),
        (11, UploadOutcome.FAILED, "The uploaded file has 11 bytes; imports are limited to 10."),
        (9, UploadOutcome.FAILED, "The uploaded file has 9 bytes; 10 were declared."),
        (None, UploadOutcome.FAILED, "The uploaded file is gone."),
    ],
)
def test_the_starter_checks_the_object_against_the_maximum_and_the_declared_size(
    runtime, tenant, size, outcome, failure
):
    """The maximum set low (10 bytes) on the starter itself: the runtime's settings are per session."""
    repository = DynamoProcessRepository(runtime.dynamodb_client(), runtime.table_names["ProcessesTable"])
    process_id = repository.next_process_id(tenant.application_id)
    key = upload_key(tenant.application_id, process_id, InputFormat.JSON)
    repository.create(
        Process(
            tenant.application_id,
            process_id,
            ProcessStatus.AWAITING_UPLOAD,
            "t",
            "t",
            0,
            0,
            input_key=key,
            declared_bytes=10,
        ),
        key,
    )
    workflow = _Workflow()
    sizes = {} if size is None else {key: size}
    starter = UploadStarter(repository, _Sizes(sizes), workflow, bucket="imports", max_bytes=10)
    assert starter.object_created("imports", key) is outcome
    stored = repository.get(tenant.application_id, process_id)
    assert stored is not None and stored.failure == failure
    assert workflow.started == ([execution_name(tenant.application_id, process_id)] if failure is None else [])
    # Delivered again: a started process starts again (a no-op by name), a failed one stays failed.
    again = starter.object_created("imports", key)
    assert again is (UploadOutcome.STARTED if failure is None else UploadOutcome.IGNORED)
    assert starter.object_created("another-bucket", key) is UploadOutcome.IGNORED


def test_a_process_whose_file_never_came_is_reported_failed_an_hour_after_its_url_expired(runtime, tenant):
    from datetime import UTC, datetime, timedelta

    from patron.imports.service import ImportService

    ticket = request_upload(runtime, tenant, {"format": "jsonl", "contentLength": 10}).json()
    assert process(runtime, tenant, ticket["processId"])["statusDetail"] == "awaiting_upload"
    expiry = datetime.fromisoformat(ticket["expiresAt"].replace("Z", "+00:00"))

    class At:
        def __init__(self, moment: datetime) -> None:
            self.moment = moment

        def now(self) -> datetime:
            return self.moment

    repository = DynamoProcessRepository(runtime.dynamodb_client(), runtime.table_names["ProcessesTable"])

    def seen_at(moment: datetime) -> Process:
        service = ImportService(repository, None, None, None, clock=At(moment))  # type: ignore[arg-type]
        return service.get(tenant.application_id, ticket["processId"])

    assert seen_at(expiry + timedelta(minutes=59)).status is ProcessStatus.AWAITING_UPLOAD  # may still be uploading
    late = seen_at(expiry + timedelta(hours=1, seconds=1))
    assert late.status is ProcessStatus.FAILED and (late.failure or "").startswith("upload_expired")
    assert datetime.now(UTC) < expiry  # the route itself still reports it waiting


def test_an_upload_whose_event_keeps_failing_fails_its_process_through_the_dead_letter_queue(
    runtime, tenant, monkeypatch
):
    def broken(self, bucket, key):
        raise RuntimeError("Step Functions is unreachable")

    monkeypatch.setattr(UploadStarter, "object_created", broken)
    data = b'{"id": "dead-letter-1"}\n'
    ticket = request_upload(runtime, tenant, {"format": "jsonl", "contentLength": len(data)}).json()
    assert put(ticket["uploadUrl"], data, ticket["headers"]) == 200
    # Lambda's retries (shortened locally), then ImportUploadDLQ, then its consumer.
    done = wait_for(runtime, tenant, ticket["processId"], timeout=60)
    assert done["status"] == "failed" and done["failure"].startswith("upload_not_started"), done
    assert runtime.wait_idle(30)


def test_a_dead_lettered_upload_event_leaves_a_started_process_alone(runtime, tenant):
    prefix = f"dl{uuid.uuid4().hex[:6]}"
    data = customers_file(prefix, 3)
    ticket = request_upload(runtime, tenant, {"format": "json", "contentLength": len(data)}).json()
    assert put(ticket["uploadUrl"], data, ticket["headers"]) == 200
    assert wait_for(runtime, tenant, ticket["processId"])["status"] == "completed"
    bucket, key = bucket_and_key(ticket["uploadUrl"])
    late = {"requestPayload": runtime.object_created_event(bucket, key)}
    result = runtime.registry.invoke(
        "ImportUploadDeadLetterFunction", {"Records": [{"messageId": "m1", "body": json.dumps(late)}]}
    )
    assert result == {"batchItemFailures": []}
    assert process(runtime, tenant, ticket["processId"])["status"] == "completed"
