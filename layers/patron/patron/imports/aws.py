"""Where an import's data goes between steps: S3 objects (the input, its chunks, presigned uploads), the chunk
queue (SQS) and the process workflow (Step Functions). Only this module talks to those services."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any, Protocol

import boto3
import msgspec
from botocore.config import Config
from botocore.exceptions import ClientError

from patron.dynamo.errors import error_code
from patron.imports.formats import Readable


class ImportStorage(Protocol):
    def put(self, key: str, body: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def open(self, key: str) -> Readable:
        """The object as a stream, read in blocks (an import's input, whatever its size)."""
        ...


class ChunkQueue(Protocol):
    def send_many(self, messages: list[dict[str, Any]]) -> None:
        """Up to 10 messages in one call (SQS's batch)."""
        ...


class Workflow(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> bool:
        """Starts an execution named `name`. A name runs once: starting it again starts nothing, and answers
        False where Step Functions reports the repeat (ExecutionAlreadyExists)."""
        ...


class PresignedPut(msgspec.Struct, frozen=True):
    """A URL that lets its holder PUT one object, and the headers the PUT must carry (they are signed)."""

    url: str
    headers: dict[str, str]


class UploadStore(Protocol):
    def presign_put(self, key: str, content_length: int, content_type: str, expires_in: int) -> PresignedPut: ...
    def size(self, key: str) -> int | None:
        """The object's size in bytes; None when there is no such object."""
        ...


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

    def open(self, key: str) -> Readable:
        body: Readable = _client("s3").get_object(Bucket=self._bucket, Key=key)["Body"]
        return body


@cache
def _presigner() -> Any:
    # Signature version 4 explicitly: the signed headers (Content-Length among them) are what bind the upload.
    s3: Any = {"addressing_style": "path" if os.environ.get("AWS_ENDPOINT_URL_S3") else "auto"}
    return boto3.client("s3", config=Config(signature_version="s3v4", s3=s3))


class S3UploadStore:
    def __init__(self, bucket: str):
        self._bucket = bucket

    def presign_put(self, key: str, content_length: int, content_type: str, expires_in: int) -> PresignedPut:
        # Content-Length, Content-Type and If-None-Match: * become signed headers: S3 refuses a PUT of another
        # size or type (403 SignatureDoesNotMatch), and a second PUT to the key (412 PreconditionFailed).
        url: str = _presigner().generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ContentLength": content_length,
                "ContentType": content_type,
                "IfNoneMatch": "*",
            },
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        headers = {"Content-Length": str(content_length), "Content-Type": content_type, "If-None-Match": "*"}
        return PresignedPut(url=url, headers=headers)

    def size(self, key: str) -> int | None:
        try:
            head = _client("s3").head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])


class SqsChunkQueue:
    def __init__(self, queue_url: str):
        self._url = queue_url

    def send_many(self, messages: list[dict[str, Any]]) -> None:
        entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(messages)]
        for _ in range(5):
            failed = _client("sqs").send_message_batch(QueueUrl=self._url, Entries=entries).get("Failed") or []
            if not failed:
                return
            retry = {str(f["Id"]) for f in failed if not f.get("SenderFault")}
            if len(retry) < len(failed):
                raise RuntimeError(f"SQS refused chunk messages: {sorted(str(f.get('Code')) for f in failed)}")
            entries = [entry for entry in entries if entry["Id"] in retry]
        raise RuntimeError("SQS kept failing to take chunk messages.")


class StepFunctionsWorkflow:
    def __init__(self, state_machine_arn: str):
        self._arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        try:
            _client("stepfunctions").start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        except ClientError as exc:
            # Step Functions answers a repeated start of a running execution (same name and input) with success,
            # and one of a closed execution with ExecutionAlreadyExists: either way, it ran once.
            if error_code(exc) == "ExecutionAlreadyExists":
                return False
            raise
        return True
