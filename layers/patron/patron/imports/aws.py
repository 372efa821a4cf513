"""Where an import's data goes between steps: S3 objects (the input, its chunks), the chunk queue (SQS) and
the process workflow (Step Functions). Only this module talks to those services."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any, Protocol

import boto3
from botocore.config import Config


class ImportStorage(Protocol):
    def put(self, key: str, body: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...


class ChunkQueue(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...


class Workflow(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> None: ...


@cache
def _client(service: str) -> Any:
    # Path-style S3 addressing where an endpoint is overridden (the local runtime's moto); AWS's default elsewhere.
    s3: Any = {"addressing_style": "path" if os.environ.get("AWS_ENDPOINT_URL_S3") else "auto"}
    return boto3.client(service, config=Config(s3=s3, retries={"mode": "standard"}))


class S3ImportStorage:
    def __init__(self, bucket: str):
        self._bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        _client("s3").put_object(Bucket=self._bucket, Key=key, Body=body, ServerSideEncryption="AES256")

    def get(self, key: str) -> bytes:
        body: bytes = _client("s3").get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return body


class SqsChunkQueue:
    def __init__(self, queue_url: str):
        self._url = queue_url

    def send(self, message: dict[str, Any]) -> None:
        _client("sqs").send_message(QueueUrl=self._url, MessageBody=json.dumps(message))


class StepFunctionsWorkflow:
    def __init__(self, state_machine_arn: str):
        self._arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> None:
        _client("stepfunctions").start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
