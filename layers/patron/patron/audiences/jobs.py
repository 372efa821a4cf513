"""The background work on every member of an audience, as messages of the audience queue.

A job names its application, audience and kind, and where it stands (`cursor`: the last member done). The worker
does pages of members while its invocation has time, then sends the job on with its cursor: memory stays one page,
and a million members is a chain of messages, each a bounded piece of work. Every step is idempotent (a removal is
conditional on the member's generation, an attribute update sets the same values again), so a message delivered
twice, or a chain started twice, ends in the same state.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any, Protocol

import boto3
import msgspec
from botocore.config import Config

from patron.http import jsonbody


class JobKind(StrEnum):
    REMOVE = "remove"  # memberships of generations below `below` (all: None), then a deleted audience's item
    ATTRIBUTES = "attributes"  # set these profile attributes on every member


class AudienceJob(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    kind: JobKind
    application_id: int
    audience_id: int
    below: int | None = None
    attributes: dict[str, Any] | None = None
    cursor: str | None = None

    def encode(self) -> str:
        """JSON with every number exact (attribute values are Decimals, as a request brought them)."""
        return jsonbody.dumps(msgspec.to_builtins(self, builtin_types=(Decimal,)))

    @classmethod
    def decode(cls, body: str) -> AudienceJob:
        return msgspec.convert(jsonbody.loads(body), cls)


class JobQueue(Protocol):
    def send(self, job: AudienceJob) -> None: ...


@cache
def _sqs() -> Any:
    return boto3.client("sqs", config=Config(retries={"mode": "standard"}))


class SqsJobQueue:
    def __init__(self, queue_url: str):
        self._url = queue_url

    def send(self, job: AudienceJob) -> None:
        _sqs().send_message(QueueUrl=self._url, MessageBody=job.encode())
