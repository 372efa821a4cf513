"""The import worker's first stage, decoding a chunk, rejects a record it cannot decode alone; and the rule that
tells a record's fault (rejected) from the infrastructure's (the chunk fails, SQS delivers it again). The other
stages are exercised on the local runtime: tests/integration/test_import_bad_records.py."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from patron.dynamo.batch import UnprocessedItemsError
from patron.errors import MalformedJsonError, ServiceUnavailableError, ValidationError
from patron.imports.formats import ImportReader, chunked
from patron.imports.model import Rejection
from patron.imports.service import _chunk_body
from patron.imports.writer import decode_chunk, fails_the_chunk


def chunk_of(*records: bytes, indices: list[int] | None = None, problems: str = "[]") -> bytes:
    """A chunk as the split writes it (patron.imports.service), its customers' JSON text as given."""
    numbers = json.dumps(list(range(len(records))) if indices is None else indices)
    return f'{{"indices": {numbers}, "problems": {problems}, "customers": ['.encode() + b", ".join(records) + b"]}"


def test_a_chunk_the_split_wrote_decodes_at_once():
    document = b'{"customers": [{"id": "a"}, 7, {"id": "b", "orders": [{"id": "o", "amount": 1.50}]}]}'
    [chunk] = list(chunked(ImportReader(io.BytesIO(document), "json")))
    decoded = decode_chunk(_chunk_body(chunk))
    assert decoded.numbers == [0, 2]
    assert decoded.customers == [{"id": "a"}, {"id": "b", "orders": [{"id": "o", "amount": Decimal("1.50")}]}]
    assert decoded.rejections == [Rejection("1", "customers[1]", "invalid_value")]


@pytest.mark.parametrize(
    ("bad", "path", "reason"),
    [
        (b'{"id": "x", "amount": NaN}', "customers[5]", "malformed_json"),
        (b'{"id": "x",}', "customers[5]", "malformed_json"),
        (b'{"id": "x", "note": "caf\xe9"}', "customers[5].note", "invalid_text"),  # Latin-1, not UTF-8
        (b'["caf\xe9"]', "customers[5]", "invalid_value"),
    ],
)
def test_a_record_that_cannot_be_decoded_is_rejected_alone(bad, path, reason):
    raw = chunk_of(
        b'{"id": "a"}',
        bad,
        b'{"id": "b"}',
        indices=[4, 5, 6],
        problems='[{"index": 3, "path": "customers[3]", "reason": "too_large"}]',
    )
    decoded = decode_chunk(raw)
    assert (decoded.numbers, decoded.customers) == ([4, 6], [{"id": "a"}, {"id": "b"}])
    assert decoded.rejections == [Rejection("3", "customers[3]", "too_large"), Rejection("5", path, reason)]


def test_a_record_with_a_lone_surrogate_split_before_the_reader_refused_it_is_rejected_alone():
    # The chunk, as the split wrote it then: it kept the worker failing until the process failed.
    order = b'{"id": "o", "createdAt": "2020-01-01T00:00:00Z", "amount": 1, "status": "\\ud800"}'
    bad = b'{"id": "bad1", "orders": [' + order + b"]}"
    decoded = decode_chunk(chunk_of(b'{"id": "ok1"}', bad, b'{"id": "ok2", "name": "\\ud83d\\ude00"}'))
    assert decoded.numbers == [0, 2] and decoded.customers == [{"id": "ok1"}, {"id": "ok2", "name": "😀"}]
    assert decoded.rejections == [Rejection("1", "customers[1].orders[0].status", "invalid_text")]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"indices": [0, 1], "problems": [], "customers": [{"id": "a"}, {"id": "b"}',  # truncated
        b'{"indices": [0, 1], "problems": [], "customers": [{"id": "a"}]}',  # a number without its record
        b'{"indices": [0], "problems": [], "customers": [{"id": "a"} {"id": "b"}]}',  # no comma: where is b?
        b'{"indices": [0, NaN], "problems": [], "customers": [{"id": "a"}, {"id": "b"}]}',
    ],
)
def test_a_chunk_whose_own_structure_is_broken_fails_whole(raw):
    with pytest.raises((MalformedJsonError, ValueError)):
        decode_chunk(raw)


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}}, "PutItem")


@pytest.mark.parametrize(
    ("error", "fails"),
    [
        # The infrastructure's: a retry may cure it, so the chunk fails and SQS delivers it again.
        (client_error("ProvisionedThroughputExceededException"), True),
        (client_error("ThrottlingException"), True),
        (client_error("RequestLimitExceeded"), True),
        (client_error("InternalServerError"), True),
        (client_error("ServiceUnavailable"), True),
        (client_error("AccessDeniedException"), True),
        (client_error("ResourceNotFoundException"), True),
        (client_error("TransactionConflictException"), True),
        (EndpointConnectionError(endpoint_url="https://dynamodb"), True),
        (ReadTimeoutError(endpoint_url="https://dynamodb"), True),
        (ConnectTimeoutError(endpoint_url="https://dynamodb"), True),
        (NoCredentialsError(), True),
        (ServiceUnavailableError(), True),
        (UnprocessedItemsError("kept unprocessed"), True),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        # The record's: DynamoDB or botocore refused its content, a rule refused it, or the code met a value it
        # did not foresee. The record is rejected and the rest of its chunk lands.
        (client_error("ValidationException"), False),
        (ParamValidationError(report="a value of the wrong type"), False),
        (ValidationError("The customer update is invalid."), False),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), False),
        (TypeError("unhashable type"), False),
        (KeyError("id"), False),
        (RecursionError(), False),
    ],
)
def test_an_exception_fails_the_chunk_only_when_it_is_the_infrastructures(error, fails):
    assert fails_the_chunk(error) is fails
