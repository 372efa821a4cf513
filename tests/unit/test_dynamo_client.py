"""The bulk client's serializer writes the same requests as botocore's, cheaper, and the client really uses it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError

from patron.dynamo import client as clients
from patron.dynamo.client import WireJsonSerializer

ITEM = {
    "PK": {"S": "APP#1#ORDER#o-1"},
    "SK": {"S": "ORDER"},
    "amount": {"N": "12.50"},
    "deleted": {"BOOL": False},
    "note": {"NULL": True},
    "label": {"S": 'Completato ✓ "quoted" \\ and \n a newline'},
    "items": {"L": [{"M": {"price": {"N": "19.9"}, "brand": {"S": "nike"}}}, {"M": {}}]},
    "tags": {"SS": ["a", "b"]},
    "sizes": {"NS": ["1", "2.5"]},
}
REQUESTS: dict[str, dict[str, Any]] = {
    "BatchWriteItem": {
        "RequestItems": {
            "Orders": [{"PutRequest": {"Item": ITEM}}, {"DeleteRequest": {"Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}}}]
        },
        "ReturnConsumedCapacity": "TOTAL",
    },
    "BatchGetItem": {
        "RequestItems": {
            "Profiles": {
                "Keys": [{"PK": {"S": "APP#1#CUSTOMER#c-1"}, "SK": {"S": "PROFILE"}}],
                "ConsistentRead": True,
                "ProjectionExpression": "PK, SK, #owner",
                "ExpressionAttributeNames": {"#owner": "owner"},
            }
        }
    },
    "BatchExecuteStatement": {
        "Statements": [
            {"Statement": "INSERT INTO \"Profiles\" VALUE {'PK': ?, 'SK': ?}", "Parameters": [ITEM["PK"], ITEM["SK"]]}
        ]
    },
}


@pytest.fixture
def botocore_client() -> Iterator[Any]:
    yield boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url="http://127.0.0.1:9",
    )


@pytest.mark.parametrize("operation", sorted(REQUESTS))
def test_batch_requests_are_botocores_with_a_compact_body(botocore_client: Any, operation: str) -> None:
    model = botocore_client.meta.service_model.operation_model(operation)
    expected = botocore_client._serializer.serialize_to_request(REQUESTS[operation], model)
    written = WireJsonSerializer(botocore_client._serializer).serialize_to_request(REQUESTS[operation], model)

    assert {k: v for k, v in written.items() if k != "body"} == {k: v for k, v in expected.items() if k != "body"}
    assert json.loads(written["body"]) == json.loads(expected["body"])
    assert len(written["body"]) < len(expected["body"])


def test_binary_values_are_base64_as_botocore_writes_them(botocore_client: Any) -> None:
    binary = {"RequestItems": {"Orders": [{"PutRequest": {"Item": {"PK": {"S": "k"}, "blob": {"B": b"\x00\xff"}}}}]}}
    model = botocore_client.meta.service_model.operation_model("BatchWriteItem")
    expected = botocore_client._serializer.serialize_to_request(binary, model)
    written = WireJsonSerializer(botocore_client._serializer).serialize_to_request(binary, model)

    assert json.loads(written["body"]) == json.loads(expected["body"])
    assert json.loads(written["body"])["RequestItems"]["Orders"][0]["PutRequest"]["Item"]["blob"] == {"B": "AP8="}


def test_what_json_cannot_write_and_other_operations_are_left_to_botocore(botocore_client: Any) -> None:
    serializer = WireJsonSerializer(botocore_client._serializer)
    unwritable = {"RequestItems": {"Orders": [{"PutRequest": {"Item": {"PK": {"S": object()}}}}]}}
    model = botocore_client.meta.service_model.operation_model("BatchWriteItem")
    with pytest.raises(ParamValidationError):  # botocore's own error, naming the value's path
        serializer.serialize_to_request(unwritable, model)

    put = {"TableName": "Orders", "Item": ITEM}
    model = botocore_client.meta.service_model.operation_model("PutItem")
    assert serializer.serialize_to_request(put, model) == botocore_client._serializer.serialize_to_request(put, model)


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def test_the_bulk_client_sends_its_batches_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(name, value)
    sent: list[bytes] = []

    def answer(request: Any, **_: Any) -> Any:
        # before-send sees the request as it would go on the wire; an answer from it stands for DynamoDB's.
        sent.append(request.body)
        headers: Any = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 200, headers, _Raw(b"{}"))

    clients.bulk_dynamodb_client.cache_clear()
    try:
        client = clients.bulk_dynamodb_client()
        client.meta.events.register("before-send.dynamodb.BatchWriteItem", answer)
        client.batch_write_item(**REQUESTS["BatchWriteItem"])
    finally:
        clients.bulk_dynamodb_client.cache_clear()
    # botocore writes '": ' between a name and its value; only the compact serializer writes '":'.
    assert len(sent) == 1 and b'": ' not in sent[0]
    assert json.loads(sent[0]) == REQUESTS["BatchWriteItem"]
