"""Idempotency-Key on the customer profile routes, through the local runtime and DynamoDB Local."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest

from bench.dynamo_meter import Call
from patron.dynamo import codec
from patron.idempotency import keys
from patron.idempotency.fingerprint import request_fingerprint
from patron.idempotency.model import decode_body
from patron.idempotency.repository import DynamoIdempotencyRepository
from patron.idempotency.service import IdempotencyStore
from tests.conftest import Tenant


@pytest.fixture
def name() -> str:
    return f"idem-{uuid.uuid4().hex[:10]}"


def keyed(tenant: Tenant, key: str | None) -> dict[str, str]:
    return {**tenant.headers, "Idempotency-Key": key} if key is not None else dict(tenant.headers)


def put(runtime, tenant: Tenant, integration_id: str, body: Any, key: str | None = None, **query: str):
    return runtime.request(
        "PUT", f"/v2/customer_profiles/{integration_id}", headers=keyed(tenant, key), body=body, query=query or None
    )


def bulk(runtime, tenant: Tenant, profiles: list[dict[str, Any]], key: str | None = None, silent: str | None = None):
    return runtime.request(
        "PUT",
        "/v2/customer_profiles",
        headers=keyed(tenant, key),
        body={"customerProfiles": profiles},
        query={"silent": silent} if silent else None,
    )


def inventory(runtime, tenant: Tenant, integration_id: str) -> Any:
    response = runtime.request(
        "GET", f"/v1/customer_profiles/{integration_id}/inventory", headers=tenant.headers, query={"profile": "true"}
    )
    return response.json()


def on_table(calls: list[Call], runtime, logical_id: str) -> list[str]:
    table = runtime.table_names[logical_id]
    return [call.operation for call in calls if table in call.tables]


def idempotency_items(runtime) -> list[dict[str, Any]]:
    client = runtime.dynamodb_client()
    table = runtime.table_names["IdempotencyTable"]
    return [
        codec.from_item(item)
        for page in client.get_paginator("scan").paginate(TableName=table)
        for item in page.get("Items", [])
    ]


def readable(item: dict[str, Any]) -> str:
    """An item as text, its stored body decompressed: what a search for personal data must look through."""
    text = json.dumps(item, default=str)
    if "bodyZ" in item:
        text += decode_body(str(item["bodyZ"]), compressed=True)
    return text


# -- replay ----------------------------------------------------------------------------------------------------


def test_a_retry_replays_the_stored_response_and_writes_nothing(runtime, tenant, name, meter):
    request = {"attributes": {"tier": "gold"}, "responseContent": ["customerProfile"]}
    first = put(runtime, tenant, name, request, key="k1")
    assert first.status == 200 and first.header("Idempotent-Replayed") is None
    # Another write without a key moves the profile on...
    assert put(runtime, tenant, name, {"attributes": {"tier": "silver"}}).status == 200
    before = inventory(runtime, tenant, name)
    mark = meter.mark()
    # ... and the retry of the first gets the first answer back, byte for byte, without writing again.
    again = put(runtime, tenant, name, request, key="k1")
    calls = meter.since(mark)
    assert again.status == 200
    assert again.body == first.body
    assert again.header("Idempotent-Replayed") == "true"
    assert again.header("Content-Type") == first.header("Content-Type")
    assert json.loads(again.body)["customerProfile"]["attributes"] == {"tier": "gold"}
    assert inventory(runtime, tenant, name) == before
    assert before["profile"]["attributes"] == {"tier": "silver"}
    # One call: the claim's conditional Put, whose failure returns the stored record (no read, no profile write).
    assert [call.operation for call in calls] == ["PutItem"]
    assert calls[0].error == "ConditionalCheckFailedException"


def test_the_same_document_serialised_differently_replays(runtime, tenant, name):
    first = put(runtime, tenant, name, {"attributes": {"a": 1, "b": [1, 2]}}, key="k1")
    again = put(runtime, tenant, name, '{ "attributes" : { "b": [1,2], "a": 1.0 } }', key="k1")
    assert again.header("Idempotent-Replayed") == "true" and again.body == first.body


def test_the_same_key_with_a_different_body_is_422(runtime, tenant, name):
    put(runtime, tenant, name, {"attributes": {"a": 1}}, key="k1")
    response = put(runtime, tenant, name, {"attributes": {"a": 2}}, key="k1")
    assert response.status == 422 and response.json()["code"] == "idempotency_key_reused"
    other_path = put(runtime, tenant, f"{name}-2", {"attributes": {"a": 1}}, key="k1")
    assert other_path.status == 422
    assert inventory(runtime, tenant, name)["profile"]["attributes"] == {"a": 1}


def test_keys_are_scoped_by_application(runtime, tenant, other_tenant, name):
    put(runtime, tenant, name, {"attributes": {"a": 1}}, key="shared")
    theirs = put(runtime, other_tenant, name, {"attributes": {"a": 2}}, key="shared")
    assert theirs.status == 200 and theirs.header("Idempotent-Replayed") is None
    assert inventory(runtime, tenant, name)["profile"]["attributes"] == {"a": 1}
    assert inventory(runtime, other_tenant, name)["profile"]["attributes"] == {"a": 2}


@pytest.mark.parametrize("key", ["", "x" * 256, "schlüssel"])
def test_a_malformed_key_is_400_naming_the_header(runtime, tenant, name, key):
    response = put(runtime, tenant, name, {"attributes": {"a": 1}}, key=key)
    assert response.status == 400
    assert response.json()["errors"][0]["path"] == "header.Idempotency-Key"
    assert (
        runtime.request("GET", f"/v1/customer_profiles/{name}/inventory", headers=tenant.headers).status == 404
    )  # nothing was written


def test_a_4xx_answer_is_replayed(runtime, tenant, name):
    # Rule-engine parts without runRuleEngine=true: a 400 decided by the route, after the key was claimed.
    refused = {"attributes": {"a": 1}, "responseContent": ["triggeredCampaigns"]}
    first = put(runtime, tenant, name, refused, key="k1")
    again = put(runtime, tenant, name, refused, key="k1")
    assert first.status == again.status == 400
    assert again.body == first.body and again.header("Idempotent-Replayed") == "true"


def test_bulk_updates_replay_their_204_or_their_profiles(runtime, tenant, name):
    profiles = [{"integrationId": f"{name}-{i}", "attributes": {"n": i}} for i in range(3)]
    silent = bulk(runtime, tenant, profiles, key="b1")
    assert silent.status == 204
    replayed = bulk(runtime, tenant, profiles, key="b1")
    assert replayed.status == 204 and replayed.body == b"" and replayed.header("Idempotent-Replayed") == "true"
    loud = bulk(runtime, tenant, profiles, key="b2", silent="no")
    assert bulk(runtime, tenant, profiles, key="b2", silent="no").body == loud.body
    # Same key, same body, another query: another request.
    assert bulk(runtime, tenant, profiles, key="b1", silent="no").status == 422


def test_a_keyed_erasure_replays_its_204_instead_of_404(runtime, tenant, name):
    put(runtime, tenant, name, {"attributes": {"a": 1}})
    headers = keyed(tenant, "erase-1")
    assert runtime.request("DELETE", f"/v1/customer_data/{name}", headers=headers).status == 204
    retry = runtime.request("DELETE", f"/v1/customer_data/{name}", headers=headers)
    assert retry.status == 204 and retry.header("Idempotent-Replayed") == "true"
    assert runtime.request("DELETE", f"/v1/customer_data/{name}", headers=tenant.headers).status == 404


# -- in flight, abandoned, expired: the conditions DynamoDB evaluates -----------------------------------------


def seed_record(runtime, tenant: Tenant, key: str, request_body: Any, path: str, **attributes: Any) -> None:
    """A record as another request would have left it, written straight to the table."""
    now_ms = int(time.time() * 1000)
    item = {
        "PK": keys.record_pk(tenant.application_id, key),
        "SK": keys.RECORD_SK,
        "fingerprint": request_fingerprint(
            "PUT",
            "/v2/customer_profiles/{integrationId}",
            {"integrationId": path},
            {},
            json.dumps(request_body).encode(),
        ),
        "owner": "another-request",
        "startedAt": now_ms,
        "lockedUntil": now_ms + 20_000,
        "expiresAt": now_ms // 1000 + 3600,
        **attributes,
    }
    runtime.dynamodb_client().put_item(TableName=runtime.table_names["IdempotencyTable"], Item=codec.to_item(item))


def test_a_key_in_flight_is_409_until_its_lock_passes_then_taken_over(runtime, tenant, name):
    body = {"attributes": {"a": 1}}
    seed_record(runtime, tenant, "k1", body, name)
    busy = put(runtime, tenant, name, body, key="k1")
    assert busy.status == 409 and busy.json()["code"] == "idempotency_key_in_flight"
    assert busy.header("Retry-After") == "1"
    assert put(runtime, tenant, name, {"attributes": {"a": 2}}, key="k1").status == 422
    # The request holding it was stopped (its Lambda timed out): past the lock, the next claim takes over.
    abandoned_ms = int(time.time() * 1000) - 1
    seed_record(runtime, tenant, "k1", body, name, startedAt=abandoned_ms - 20_000, lockedUntil=abandoned_ms)
    taken = put(runtime, tenant, name, body, key="k1")
    assert taken.status == 200 and taken.header("Idempotent-Replayed") is None
    assert put(runtime, tenant, name, body, key="k1").header("Idempotent-Replayed") == "true"


def test_an_expired_record_not_yet_swept_by_ttl_counts_as_absent(runtime, tenant, name):
    seed_record(
        runtime,
        tenant,
        "k1",
        {"attributes": {"old": True}},
        name,
        expiresAt=int(time.time()) - 1,
        status=200,
        headers={},
        body='{"stale":true}',
    )
    fresh = put(runtime, tenant, name, {"attributes": {"a": 1}}, key="k1")
    assert fresh.status == 200 and fresh.header("Idempotent-Replayed") is None
    assert "stale" not in fresh.body.decode()


def test_concurrent_requests_with_one_key_run_the_route_once(runtime, tenant, name):
    # A bulk update of 300 profiles keeps the first request in flight long enough for the others to meet it.
    profiles = [{"integrationId": f"{name}-{i}", "attributes": {"n": i}} for i in range(300)]
    start = threading.Barrier(6)
    results: list[Any] = []
    lock = threading.Lock()

    def send() -> None:
        start.wait()
        response = bulk(runtime, tenant, profiles, key="race", silent="no")
        with lock:
            results.append(response)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ran = [r for r in results if r.status == 200 and r.header("Idempotent-Replayed") is None]
    replayed = [r for r in results if r.status == 200 and r.header("Idempotent-Replayed") == "true"]
    busy = [r for r in results if r.status == 409]
    assert len(ran) == 1 and len(ran) + len(replayed) + len(busy) == 6
    assert busy, "the others met the first in flight"
    assert all(r.body == ran[0].body for r in replayed)
    assert bulk(runtime, tenant, profiles, key="race", silent="no").body == ran[0].body


# -- cost ------------------------------------------------------------------------------------------------------


def test_round_trips_with_and_without_a_key(runtime, tenant, name, meter):
    body = {"attributes": {"a": 1}, "responseContent": ["customerProfile"]}
    mark = meter.mark()
    put(runtime, tenant, name, body)
    assert on_table(meter.since(mark), runtime, "IdempotencyTable") == []
    mark = meter.mark()
    put(runtime, tenant, name, body, key="k1")
    calls = meter.since(mark)
    # Claim, the reference to the profile (so erasure finds the stored response), completion.
    assert on_table(calls, runtime, "IdempotencyTable") == ["PutItem", "BatchWriteItem", "UpdateItem"]
    assert on_table(calls, runtime, "ProfilesTable") == ["UpdateItem"]
    mark = meter.mark()
    put(runtime, tenant, name, body, key="k1")
    assert [call.operation for call in meter.since(mark)] == ["PutItem"]
    mark = meter.mark()
    runtime.request("DELETE", f"/v1/customer_data/{name}", headers=keyed(tenant, "d1"))
    # A 204 has no body, so its own record needs no reference. Claim; then the erasure forgets the stored
    # responses about the person (the earlier PUT's record and its reference: one Query, one BatchWrite each for
    # references and records); then complete.
    assert on_table(meter.since(mark), runtime, "IdempotencyTable") == [
        "PutItem",
        "Query",
        "BatchWriteItem",
        "BatchWriteItem",
        "UpdateItem",
    ]


# -- erasure ---------------------------------------------------------------------------------------------------


def test_forgetting_a_subject_leaves_no_trace_of_it_in_the_idempotency_table(runtime, tenant, name):
    canary = f"canary-{uuid.uuid4().hex}"
    other = f"idem-{uuid.uuid4().hex[:10]}"
    person = {"email": f"{canary}@example.com", "address": {"street": canary}}
    big = {**person, "history": [f"{canary}-{i}" for i in range(200)]}  # stored compressed
    assert (
        put(runtime, tenant, name, {"attributes": person, "responseContent": ["customerProfile"]}, key="k1").status
        == 200
    )
    assert (
        put(runtime, tenant, name, {"attributes": big, "responseContent": ["customerProfile"]}, key="k2").status == 200
    )
    both = [{"integrationId": name, "attributes": {"note": canary}}, {"integrationId": other}]
    assert bulk(runtime, tenant, both, key="k3", silent="no").status == 200
    assert bulk(runtime, tenant, both, key="k4").status == 204
    assert put(runtime, tenant, other, {"attributes": {"b": 1}}, key="k5").status == 200
    items = idempotency_items(runtime)
    assert any(canary in readable(item) for item in items)
    assert any("bodyZ" in item and canary in readable(item) for item in items)
    assert any(name in readable(item) for item in items)

    store = IdempotencyStore(
        DynamoIdempotencyRepository(runtime.dynamodb_client(), runtime.table_names["IdempotencyTable"])
    )
    assert store.forget_subject(tenant.application_id, name) == 3  # k1, k2, k3; k4 (a 204) names nobody

    items = idempotency_items(runtime)
    assert [item for item in items if canary in readable(item)] == []
    assert [item for item in items if name in readable(item)] == []
    assert [item for item in items if f"#SUBJECT#{name}" in str(item["PK"])] == []
    mine = {str(item["PK"]) for item in items if str(item["PK"]).startswith(f"APP#{tenant.application_id}#IDEM#")}
    assert mine == {keys.record_pk(tenant.application_id, key) for key in ("k4", "k5")}
    # Forgotten: the same key and request run again.
    rerun = put(runtime, tenant, name, {"attributes": person, "responseContent": ["customerProfile"]}, key="k1")
    assert rerun.status == 200 and rerun.header("Idempotent-Replayed") is None


def test_customer_order_and_rfmcube_writes_replay_with_a_key(runtime, tenant):
    customer, order = f"idem-{uuid.uuid4().hex[:8]}", f"idem-o-{uuid.uuid4().hex[:8]}"
    calls = [
        ("PUT", f"/v1/customers/{customer}", {"attributes": {"a": 1}}),
        ("PUT", f"/v1/orders/{order}", {"customerId": customer, "createdAt": "2024-01-01", "amount": 5}),
        ("PUT", f"/v1/orders/{order}/status", {"status": "10"}),
        ("POST", "/v1/merge_customer", json.dumps({"customer": {"id": customer, "b": 2}})),
        ("DELETE", f"/v1/orders/{order}", None),
    ]
    for index, (method, path, body) in enumerate(calls):
        headers = {**tenant.headers, "Idempotency-Key": f"multi-{index}-{customer}"}
        first = runtime.request(method, path, headers=headers, body=body)
        again = runtime.request(method, path, headers=headers, body=body)
        assert first.status == 200, (path, first.body)
        assert again.status == 200 and again.header("Idempotent-Replayed") == "true", path
        assert again.body == first.body
