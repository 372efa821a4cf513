"""The local runtime's S3 endpoint checks presigned URLs as S3 does, and its event bus matches patterns as
EventBridge does (both checked here without a network: botocore presigns offline)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.config import Config

from patron_local.eventbridge import EventBusRuntime, PatternError, check_pattern, matches
from patron_local.s3gateway import created_by, presigned_error
from patron_local.template import PhysicalResources, Template

SECRETS = {"local": "local"}


def presigned(**params: object) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:4566",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        aws_session_token="local",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    url = client.generate_presigned_url(
        "put_object",
        Params={"Bucket": "imports", "Key": "imports/1/2/upload.csv", **params},
        ExpiresIn=900,
    )
    parts = urlsplit(url)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True), {"host": parts.netloc}


def check(path, query, headers, now=None):
    return presigned_error("PUT", path, query, headers, SECRETS, now or datetime.now(UTC))


def test_a_presigned_put_with_its_signed_headers_passes():
    path, query, headers = presigned(ContentLength=12, ContentType="text/csv", IfNoneMatch="*")
    sent = {**headers, "content-length": "12", "content-type": "text/csv", "if-none-match": "*"}
    assert check(path, query, sent) is None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"content-length": "13"}, "SignatureDoesNotMatch"),
        ({"content-type": "text/plain"}, "SignatureDoesNotMatch"),
        ({"if-none-match": ""}, "SignatureDoesNotMatch"),
        ({"host": "127.0.0.1:4567"}, "SignatureDoesNotMatch"),
    ],
)
def test_a_put_unlike_the_signed_one_is_refused(change, code):
    path, query, headers = presigned(ContentLength=12, ContentType="text/csv", IfNoneMatch="*")
    sent = {**headers, "content-length": "12", "content-type": "text/csv", "if-none-match": "*", **change}
    refused = check(path, query, sent)
    assert refused is not None and refused[:2] == (403, code)


def test_expired_other_key_and_unknown_signer_are_refused():
    path, query, headers = presigned(ContentLength=1)
    sent = {**headers, "content-length": "1"}
    later = datetime.now(UTC) + timedelta(seconds=901)
    assert check(path, query, sent, later)[:2] == (403, "AccessDenied")
    assert check(path.replace("/2/", "/3/"), query, sent)[:2] == (403, "SignatureDoesNotMatch")
    unknown_signer = presigned_error("PUT", path, query, sent, {"other": "x"}, datetime.now(UTC))
    assert unknown_signer is not None and unknown_signer[:2] == (403, "InvalidAccessKeyId")
    assert check(path, [(k, v) for k, v in query if k != "X-Amz-Date"], sent)[0] == 400
    assert check(path, [], sent) is None  # not presigned: nothing to check here


def test_which_requests_create_objects():
    assert created_by("PUT", "/b/k/x.json", [("x-id", "PutObject")], {}) == "PutObject"
    assert created_by("PUT", "/b/k", [("X-Amz-Signature", "s")], {"x-amz-copy-source": "/b/o"}) == "CopyObject"
    assert created_by("POST", "/b/k", [("uploadId", "u")], {}) == "CompleteMultipartUpload"
    assert created_by("PUT", "/b/k", [("partNumber", "1"), ("uploadId", "u")], {}) is None
    assert created_by("PUT", "/b/k", [("tagging", "")], {}) is None
    assert created_by("PUT", "/b", [], {}) is None  # CreateBucket
    assert created_by("DELETE", "/b/k", [], {}) is None


def test_event_patterns_match_as_eventbridge_does():
    pattern: dict[str, Any] = {
        "source": ["aws.s3"],
        "detail": {
            "object": {"key": [{"wildcard": "imports/*/*/upload.*"}], "size": [{"exists": True}]},
            "reason": [{"anything-but": ["DeleteObject"]}],
            "tag": [{"exists": False}],
        },
    }
    event: dict[str, Any] = {
        "source": "aws.s3",
        "detail": {"object": {"key": "imports/1/2/upload.csv", "size": 3}, "reason": "Put"},
    }
    assert matches(pattern, event)
    assert not matches(pattern, {**event, "source": "aws.s3x"})
    assert not matches(pattern, {**event, "detail": {**event["detail"], "tag": "x"}})
    assert not matches(pattern, {**event, "detail": {**event["detail"], "reason": "DeleteObject"}})
    assert not matches(pattern, {**event, "detail": {**event["detail"], "object": {"key": "imports/1/2/input.json"}}})
    assert (
        matches({"n": [5]}, {"n": 5.0}) and not matches({"n": ["5"]}, {"n": 5}) and not matches({"b": [1]}, {"b": True})
    )
    assert matches({"k": [{"prefix": "im"}, {"suffix": ".csv"}]}, {"k": "x.csv"})
    assert matches({"k": [{"equals-ignore-case": "ABC"}]}, {"k": "abc"})
    assert matches({"k": [{"wildcard": "a\\*b*"}]}, {"k": "a*bzz"}) and not matches(
        {"k": [{"wildcard": "a\\*b"}]}, {"k": "axb"}
    )
    with pytest.raises(PatternError):
        check_pattern({"n": [{"numeric": [">", 0]}]}, "test")


class _Registry:
    """Stands in for FunctionRegistry: records invocations, failing the first `failures` of them."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls: list[Any] = []

    def invoke(self, logical_id: str, event: Any) -> Any:
        self.calls.append((logical_id, event))
        if len(self.calls) <= self.failures:
            raise RuntimeError("boom")
        return {"ok": True}


class _Sqs:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.sent.append((QueueUrl, json.loads(MessageBody)))


def _bus(failures: int) -> tuple[EventBusRuntime, _Registry, _Sqs]:
    document = {
        "Resources": {
            "Consumer": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "x/",
                    "Handler": "app.handler",
                    "EventInvokeConfig": {
                        "MaximumRetryAttempts": 1,
                        "DestinationConfig": {
                            "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}
                        },
                    },
                    "Events": {
                        "Created": {"Type": "EventBridgeRule", "Properties": {"Pattern": {"source": ["aws.s3"]}}}
                    },
                },
            }
        }
    }
    resources = PhysicalResources(parameters={}, attributes={("Dlq", "Arn"): "arn:aws:sqs:us-east-1:1:dlq"})
    registry, sqs = _Registry(failures), _Sqs()
    bus = EventBusRuntime(
        Template(Path("template.yaml"), document),
        resources,
        registry,  # type: ignore[arg-type]
        sqs,
        lambda arn: "http://queue/dlq" if arn == "arn:aws:sqs:us-east-1:1:dlq" else None,
        retry_delays=(0.01,),
    )
    return bus, registry, sqs


def test_the_bus_retries_a_failed_invocation_then_sends_it_to_the_destination():
    bus, registry, sqs = _bus(failures=5)
    assert bus.put_event({"source": "aws.other"}) == []
    assert [rule.function_id for rule in bus.put_event({"source": "aws.s3", "n": 1})] == ["Consumer"]
    assert bus.wait_idle(5)
    assert len(registry.calls) == 2  # the first attempt and MaximumRetryAttempts: 1
    ((url, record),) = sqs.sent
    assert url == "http://queue/dlq" and record["requestPayload"] == {"source": "aws.s3", "n": 1}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorType"] == "RuntimeError"


def test_the_bus_delivers_once_when_the_function_succeeds():
    bus, registry, sqs = _bus(failures=1)
    bus.put_event({"source": "aws.s3"})
    assert bus.wait_idle(5)
    assert len(registry.calls) == 2 and sqs.sent == []
