"""Idempotency-Key on routes marked idempotent: the rules of patron.idempotency, against the in-memory fake."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from patron.errors import ServiceUnavailableError, ValidationError
from patron.http.api import Request, Response, RestApi
from patron.idempotency.fingerprint import request_fingerprint
from patron.idempotency.model import (
    MAX_KEY_LENGTH,
    IdempotencyRecord,
    StoredResponse,
    decode_body,
    encode_body,
    parse_key,
)
from patron.idempotency.repository import DynamoIdempotencyRepository
from patron.idempotency.service import CLOCK_SKEW_MS, DEFAULT_LEASE_MS, IdempotencyStore
from tests.fakes import InMemoryIdempotencyRepository

TTL = 3600
APP = 7


class FakeClock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)

    @property
    def ms(self) -> int:
        return int(self.moment.timestamp() * 1000)


class Harness:
    """A RestApi with test routes over an IdempotencyStore on the fake repository."""

    def __init__(self, repository: InMemoryIdempotencyRepository | None = None) -> None:
        self.clock = FakeClock()
        self.repository = repository or InMemoryIdempotencyRepository()
        self.store = IdempotencyStore(self.repository, ttl_seconds=TTL, clock=self.clock)
        self.api = RestApi(max_body_bytes=lambda: 10_000, idempotency=lambda: self.store)
        self.runs: list[Request] = []
        self.nested: list[dict[str, Any]] = []
        self.nested_event: dict[str, Any] | None = None
        api = self.api

        @api.route("PUT", "/things/{id}", idempotent=True, subjects=lambda request, answer: [request.path_params["id"]])
        def put_thing(request: Request) -> Response:
            self.runs.append(request)
            if self.nested_event is not None:
                # A second request with the same key while this one is in flight.
                event, self.nested_event = self.nested_event, None
                self.nested.append(api.resolve(event))
            body = request.json()
            action = body.get("do", "ok")
            if action == "invalid":
                raise ValidationError("The thing is invalid.")
            if action == "unavailable":
                raise ServiceUnavailableError()
            if action == "crash":
                raise RuntimeError("boom")
            if action == "silent":
                return Response(status=204)
            if action == "huge":
                # Random bytes as hex do not compress enough to fit an item.
                return Response.json({"blob": os.urandom(300 * 1024).hex()})
            return Response.json({"id": request.path_params["id"], "run": len(self.runs), "body": body}, status=201)

        @api.route("DELETE", "/things/{id}", idempotent=True)
        def delete_thing(request: Request) -> Response:
            self.runs.append(request)
            return Response(status=204)

        @api.route("PUT", "/plain")
        def plain(request: Request) -> Response:
            self.runs.append(request)
            return Response.json({"run": len(self.runs)})

    def resolve(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        return self.api.resolve(event, context)


def event(
    key: str | None = "k1",
    body: Any = None,
    method: str = "PUT",
    resource: str = "/things/{id}",
    thing: str = "t1",
    query: dict[str, str] | None = None,
    app: int = APP,
    headers: dict[str, str] | None = None,
    multi: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        all_headers["Idempotency-Key"] = key
    return {
        "httpMethod": method,
        "resource": resource,
        "path": resource.replace("{id}", thing),
        "pathParameters": {"id": thing} if "{id}" in resource else None,
        "queryStringParameters": query,
        "headers": all_headers,
        "multiValueHeaders": multi or {name: [value] for name, value in all_headers.items()},
        "body": json.dumps(body if body is not None else {"n": 1}) if method == "PUT" else None,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": "r1",
            "authorizer": {"applicationId": str(app), "scope": "integration", "keyId": "kid"},
        },
    }


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response["body"] else None


@pytest.fixture
def h() -> Harness:
    return Harness()


# -- without a key ---------------------------------------------------------------------------------------------


def test_without_the_header_the_store_is_never_called(h):
    first = h.resolve(event(key=None))
    second = h.resolve(event(key=None))
    assert first["statusCode"] == second["statusCode"] == 201
    assert len(h.runs) == 2
    assert h.repository.calls == []
    assert "Idempotent-Replayed" not in second["headers"]


def test_a_route_not_marked_idempotent_ignores_the_header(h):
    h.resolve(event(resource="/plain"))
    h.resolve(event(resource="/plain"))
    assert len(h.runs) == 2 and h.repository.calls == []


# -- replay ----------------------------------------------------------------------------------------------------


def test_the_same_request_again_replays_the_stored_response_without_running_the_route(h):
    first = h.resolve(event())
    assert first["statusCode"] == 201 and "Idempotent-Replayed" not in first["headers"]
    again = h.resolve(event())
    assert len(h.runs) == 1
    assert again["statusCode"] == 201
    assert again["body"] == first["body"]  # byte for byte
    assert again["headers"] == {**first["headers"], "Idempotent-Replayed": "true"}
    # The first request cost a claim and a completion (plus one subject reference); the replay one claim.
    assert h.repository.calls == ["claim", "add_subjects", "complete", "claim"]


def test_the_same_json_written_differently_is_the_same_request(h):
    h.resolve(event(body={"a": 1, "b": {"x": [1, 2], "y": 1.10}}))
    spaced = event()
    spaced["body"] = '{ "b" : {"y": 1.1, "x": [1,2]},\n "a": 1.0 }'
    again = h.resolve(spaced)
    assert len(h.runs) == 1 and again["headers"]["Idempotent-Replayed"] == "true"


def test_the_header_name_is_case_insensitive(h):
    h.resolve(event())
    lower = event(key=None, headers={"idempotency-key": "k1"})
    assert h.resolve(lower)["headers"]["Idempotent-Replayed"] == "true"
    assert len(h.runs) == 1


def test_another_api_key_of_the_same_application_replays(h):
    h.resolve(event())
    other_key = event()
    other_key["requestContext"]["authorizer"]["keyId"] = "another"
    assert h.resolve(other_key)["headers"]["Idempotent-Replayed"] == "true"


# -- reuse, scope ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changed",
    [
        {"body": {"n": 2}},
        {"thing": "t2"},
        {"query": {"dry": "true"}},
        {"method": "DELETE"},
    ],
    ids=["body", "path-parameter", "query", "method"],
)
def test_the_same_key_with_another_request_is_422(h, changed):
    h.resolve(event())
    response = h.resolve(event(**changed))
    assert response["statusCode"] == 422
    assert body_of(response)["code"] == "idempotency_key_reused"
    assert len(h.runs) == 1


def test_keys_are_scoped_by_application(h):
    h.resolve(event(app=7, body={"n": 1}))
    other = h.resolve(event(app=8, body={"n": 2}))
    assert other["statusCode"] == 201 and "Idempotent-Replayed" not in other["headers"]
    assert len(h.runs) == 2
    assert h.resolve(event(app=7, body={"n": 1}))["headers"]["Idempotent-Replayed"] == "true"


# -- the key itself --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["", "x" * (MAX_KEY_LENGTH + 1), "clé", "tab\there", "line\nbreak", "\x7f"],
    ids=["empty", "too-long", "non-ascii", "tab", "newline", "delete"],
)
def test_a_malformed_key_is_400_naming_the_header(h, key):
    response = h.resolve(event(key=key))
    assert response["statusCode"] == 400
    assert [{k: e[k] for k in ("path", "code", "message")} for e in body_of(response)["errors"]] == [
        {
            "path": "header.Idempotency-Key",
            "code": "invalid_value",
            "message": "Expected one value of 1 to 255 printable ASCII characters.",
        }
    ]
    assert h.runs == [] and h.repository.calls == []


def test_two_different_keys_in_one_request_are_400(h):
    response = h.resolve(event(key=None, multi={"Idempotency-Key": ["a", "b"]}, headers={"Idempotency-Key": "b"}))
    assert response["statusCode"] == 400 and h.runs == []


@pytest.mark.parametrize("key", ["x" * MAX_KEY_LENGTH, "a", "order 42 / retry#1 ~!", "550e8400-e29b-41d4-a716"])
def test_printable_ascii_keys_up_to_255_characters_are_accepted(key):
    assert parse_key(key) == key


# -- what is stored --------------------------------------------------------------------------------------------


def test_a_4xx_answer_is_stored_and_replayed(h):
    first = h.resolve(event(body={"do": "invalid"}))
    assert first["statusCode"] == 400
    again = h.resolve(event(body={"do": "invalid"}))
    assert again["statusCode"] == 400 and again["body"] == first["body"]
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert len(h.runs) == 1


@pytest.mark.parametrize(("action", "status"), [("unavailable", 503), ("crash", 500)])
def test_a_5xx_or_an_exception_releases_the_key_so_a_retry_runs(h, action, status):
    failed = h.resolve(event(body={"do": action}))
    assert failed["statusCode"] == status
    assert h.repository.records == {}
    assert "boom" not in failed["body"]
    # The retry, even with another body, runs: the key was never bound to a processed request.
    retried = h.resolve(event(body={"n": 1}))
    assert retried["statusCode"] == 201 and "Idempotent-Replayed" not in retried["headers"]
    assert len(h.runs) == 2


def test_a_response_too_large_to_store_is_answered_and_releases_the_key(h):
    first = h.resolve(event(body={"do": "huge"}))
    assert first["statusCode"] == 200
    assert h.repository.records == {}
    h.resolve(event(body={"do": "huge"}))
    assert len(h.runs) == 2


def test_large_bodies_are_stored_compressed_and_come_back_exactly():
    body = json.dumps({"items": [{"name": f"n{i}", "v": "é" * 10} for i in range(200)]}, ensure_ascii=False)
    stored, compressed = encode_body(body)
    assert compressed and len(stored) < len(body.encode()) / 3
    assert decode_body(stored, compressed) == body
    assert encode_body('{"small":1}') == ('{"small":1}', False)
    lone = '{"x":"\ud800"}'  # not valid UTF-8 text: kept exactly, in the compressed (binary-safe) form
    assert decode_body(*encode_body(lone)) == lone


# -- in flight -------------------------------------------------------------------------------------------------


def test_the_same_key_while_the_first_is_in_flight_is_409_with_retry_after(h):
    h.nested_event = event()
    first = h.resolve(event())
    assert first["statusCode"] == 201
    (nested,) = h.nested
    assert nested["statusCode"] == 409
    assert body_of(nested)["code"] == "idempotency_key_in_flight"
    assert nested["headers"]["Retry-After"] == "1"
    assert len(h.runs) == 1
    assert h.resolve(event())["headers"]["Idempotent-Replayed"] == "true"


def test_another_request_with_the_key_while_in_flight_is_422(h):
    h.nested_event = event(body={"n": 2})
    h.resolve(event())
    assert h.nested[0]["statusCode"] == 422


def abandoned_record(h: Harness, lease_ms: int, fingerprint: str) -> IdempotencyRecord:
    """What a Lambda stopped mid-request leaves behind: a record in flight, never completed nor released."""
    now = h.clock.ms
    record = IdempotencyRecord(
        application_id=APP,
        key="k1",
        fingerprint=fingerprint,
        owner="killed-lambda",
        started_at_ms=now,
        locked_until_ms=now + lease_ms,
        expires_at=now // 1000 + TTL,
    )
    assert h.repository.claim(record, now) is None
    return record


def test_an_abandoned_in_flight_record_is_taken_over_once_its_lock_passes(h):
    first = event()
    fingerprint = request_fingerprint("PUT", "/things/{id}", {"id": "t1"}, {}, first["body"].encode())
    abandoned_record(h, lease_ms=20_000, fingerprint=fingerprint)
    h.clock.advance(19)
    assert h.resolve(event())["statusCode"] == 409
    h.clock.advance(1.001)
    taken = h.resolve(event())
    assert taken["statusCode"] == 201 and len(h.runs) == 1
    # The stopped request, were it to finish after all, no longer owns the record and cannot overwrite it.
    assert not h.repository.complete(APP, "k1", "killed-lambda", StoredResponse(status=200, body="{}"))
    assert h.resolve(event())["body"] == taken["body"]


class ClaimSpy(InMemoryIdempotencyRepository):
    def __init__(self) -> None:
        super().__init__()
        self.claimed: list[IdempotencyRecord] = []

    def claim(self, record: IdempotencyRecord, now_ms: int) -> IdempotencyRecord | None:
        self.claimed.append(record)
        return super().claim(record, now_ms)


class LambdaContext:
    def get_remaining_time_in_millis(self) -> int:
        return 20_000


def test_the_lock_lasts_the_invocations_remaining_time_or_else_lambdas_longest():
    h = Harness(ClaimSpy())
    assert isinstance(h.repository, ClaimSpy)
    h.resolve(event(key="k1"), LambdaContext())
    h.resolve(event(key="k2"))  # no Lambda context (a script, a test)
    locks = [record.locked_until_ms - record.started_at_ms for record in h.repository.claimed]
    assert locks == [20_000 + CLOCK_SKEW_MS, DEFAULT_LEASE_MS + CLOCK_SKEW_MS]


# -- expiry ----------------------------------------------------------------------------------------------------


def test_a_record_replays_until_its_ttl_and_is_absent_after_even_if_not_yet_swept(h):
    h.resolve(event(body={"n": 1}))
    h.clock.advance(TTL - 1)
    assert h.resolve(event(body={"n": 1}))["headers"]["Idempotent-Replayed"] == "true"
    h.clock.advance(1)
    assert (APP, "k1") in h.repository.records  # expired, not yet swept
    # Expired: the key is free again, for any request.
    fresh = h.resolve(event(body={"n": 2}))
    assert fresh["statusCode"] == 201 and "Idempotent-Replayed" not in fresh["headers"]
    assert len(h.runs) == 2


# -- erasure ---------------------------------------------------------------------------------------------------


def test_a_response_with_a_body_is_tagged_with_its_subjects_and_forgotten_with_them(h):
    h.resolve(event(key="k1", thing="alice", body={"email": "alice@example.com"}))
    h.resolve(event(key="k2", thing="alice", body={"email": "alice@example.org"}))
    h.resolve(event(key="k3", thing="bob"))
    assert set(h.repository.subjects) == {(APP, "alice"), (APP, "bob")}
    assert h.store.forget_subject(APP, "alice") == 2
    assert set(h.repository.records) == {(APP, "k3")}
    assert (APP, "alice") not in h.repository.subjects
    assert "alice" not in repr(h.repository.records)
    # Forgotten means forgotten: the same key and request run again.
    again = h.resolve(event(key="k1", thing="alice", body={"email": "alice@example.com"}))
    assert "Idempotent-Replayed" not in again["headers"] and len(h.runs) == 4


def test_a_response_without_a_body_stores_no_subject_references(h):
    h.resolve(event(body={"do": "silent"}))
    h.resolve(event(key="k2", method="DELETE"))
    assert h.repository.subjects == {}
    assert "add_subjects" not in h.repository.calls
    assert h.resolve(event(body={"do": "silent"}))["statusCode"] == 204


def test_subjects_that_cannot_be_stored_ids_are_not_referenced(h):
    too_long = "x" * 1025
    h.resolve(event(thing=too_long))
    assert h.repository.subjects == {}
    assert len(h.repository.records) == 1


def test_a_request_holding_text_that_cannot_be_stored_is_refused_before_the_store(h):
    answer = h.resolve(event(key="k2", thing="\ud800"))
    assert answer["statusCode"] == 400 and '"path":"id"' in answer["body"]
    assert h.repository.records == {} and h.runs == []


def test_a_failing_subjects_callable_releases_the_key_and_still_answers():
    h = Harness()

    def broken(request: Request, answer: Any) -> list[str]:
        raise RuntimeError("no")

    @h.api.route("PUT", "/broken", idempotent=True, subjects=broken)
    def route(request: Request) -> Response:
        h.runs.append(request)
        return Response.json({"ok": True})

    assert h.resolve(event(resource="/broken"))["statusCode"] == 200
    assert h.repository.records == {}  # untagged, so not stored


# -- registration and fingerprints -----------------------------------------------------------------------------


def test_an_idempotent_route_needs_a_store():
    api = RestApi(max_body_bytes=lambda: 100)
    with pytest.raises(ValueError, match="idempotency"):
        api.route("PUT", "/x", idempotent=True)
    with pytest.raises(ValueError, match="subjects"):
        api.route("PUT", "/x", subjects=lambda request, answer: [])


def fp(body: bytes | str, **overrides: Any) -> str:
    arguments: dict[str, Any] = {"method": "PUT", "resource": "/r/{id}", "path_params": {"id": "1"}, "query": {}}
    arguments.update(overrides)
    return request_fingerprint(body=body.encode() if isinstance(body, str) else body, **arguments)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ('{"a":1,"b":2}', '{ "b": 2, "a": 1 }'),
        ('{"n": 1.10}', '{"n": 1.1}'),
        ('{"n": 100}', '{"n": 1E2}'),
        ('{"n": 0.0}', '{"n": -0}'),
        ('{"s": "\\u00e9"}', '{"s": "é"}'),
    ],
)
def test_equal_json_documents_have_equal_fingerprints(one, other):
    assert fp(one) == fp(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ('{"a":[1,2]}', '{"a":[2,1]}'),
        ('{"a":"1"}', '{"a":1}'),
        ('{"a":true}', '{"a":1}'),
        ('{"a":null}', "{}"),
        ("not json", "not  json"),
        ("", "{}"),
    ],
)
def test_different_documents_have_different_fingerprints(one, other):
    assert fp(one) != fp(other)


def test_method_resource_path_parameters_and_query_are_part_of_the_fingerprint():
    base = fp("{}")
    assert fp("{}", method="POST") != base
    assert fp("{}", resource="/s/{id}") != base
    assert fp("{}", path_params={"id": "2"}) != base
    assert fp("{}", query={"silent": "no"}) != base
    assert fp("{}", query={"a": "1", "b": "2"}) == fp("{}", query={"b": "2", "a": "1"})


def test_a_body_nested_too_deep_to_walk_still_has_a_fingerprint():
    deep = "[" * 5000 + "]" * 5000
    assert fp(deep) != fp("[]")


# -- the DynamoDB repository's batches -------------------------------------------------------------------------


class BatchClient:
    """A DynamoDB client that leaves the first `unprocessed` calls' items unprocessed (as when throttled)."""

    def __init__(self, unprocessed: int, all_of_them: bool = False) -> None:
        self.unprocessed = unprocessed
        self.all_of_them = all_of_them
        self.sent: list[int] = []
        self._lock = threading.Lock()

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        with self._lock:
            self.sent.append(len(requests))
            if self.unprocessed:
                self.unprocessed -= 1
                return {"UnprocessedItems": {table: requests if self.all_of_them else requests[1:]}}
        return {"UnprocessedItems": {}}


def repository_over(client: BatchClient) -> DynamoIdempotencyRepository:
    return DynamoIdempotencyRepository(client, "table", sleep=lambda _: None)  # type: ignore[arg-type]


def test_unprocessed_batch_items_are_retried():
    client = BatchClient(unprocessed=2)
    repository_over(client).add_subjects(APP, "k", ["a", "b", "c"], expires_at=1)
    assert client.sent == [3, 2, 1]


def test_batch_items_left_unprocessed_after_every_retry_are_a_503():
    client = BatchClient(unprocessed=100, all_of_them=True)
    with pytest.raises(ServiceUnavailableError):
        repository_over(client).add_subjects(APP, "k", ["a", "b", "c"], expires_at=1)


def test_many_subjects_are_written_25_to_a_call():
    client = BatchClient(unprocessed=0)
    repository_over(client).add_subjects(APP, "k", [f"s{i}" for i in range(60)], expires_at=1)
    assert sorted(client.sent) == [10, 25, 25]
