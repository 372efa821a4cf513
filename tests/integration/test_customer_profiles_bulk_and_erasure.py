"""PUT /v2/customer_profiles (bulk, silent) and DELETE /v1/customer_data/{integrationId}."""

from __future__ import annotations

import json
import uuid

import pytest

from patron.profiles.model import MAX_ATTRIBUTE_VALUE_BYTES


def ids(count: int) -> list[str]:
    prefix = uuid.uuid4().hex[:8]
    return [f"bulk-{prefix}-{index}" for index in range(count)]


def read(runtime, tenant, integration_id):
    return runtime.request(
        "GET", f"/v1/customer_profiles/{integration_id}/inventory", headers=tenant.headers, query={"profile": "true"}
    )


def bulk(runtime, tenant, profiles, silent=None):
    query = {"silent": silent} if silent else None
    return runtime.request(
        "PUT", "/v2/customer_profiles", headers=tenant.headers, query=query, body={"customerProfiles": profiles}
    )


def test_bulk_update_is_silent_by_default_and_writes_every_profile(runtime, tenant):
    names = ids(40)
    response = bulk(runtime, tenant, [{"integrationId": n, "attributes": {"n": i}} for i, n in enumerate(names)])
    assert response.status == 204 and response.body == b""
    for index, name in enumerate(names):
        assert read(runtime, tenant, name).json()["profile"]["attributes"] == {"n": index}


def test_bulk_update_with_silent_no_answers_each_profile_in_order(runtime, tenant):
    first, second = ids(2)
    bulk(runtime, tenant, [{"integrationId": first, "attributes": {"keep": True, "drop": 1}}])
    response = bulk(
        runtime,
        tenant,
        [
            {"integrationId": first, "attributes": {"drop": None, "added": "x"}},
            {"integrationId": second},
            {"integrationId": first, "attributes": {"added": "y"}},
        ],
        silent="no",
    )
    assert response.status == 200
    states = response.json()["integrationStates"]
    assert [state["customerProfile"]["integrationId"] for state in states] == [first, second, first]
    assert states[0]["customerProfile"]["attributes"] == {"keep": True, "added": "y"}
    assert states[1]["customerProfile"]["attributes"] == {}


def test_bulk_update_with_one_bad_item_is_400_with_its_path_and_writes_nothing(runtime, tenant):
    names = ids(3)
    profiles = [{"integrationId": n, "attributes": {"a": 1}} for n in names]
    profiles[2]["attributes"] = {"big": "x" * (MAX_ATTRIBUTE_VALUE_BYTES + 1)}
    response = bulk(runtime, tenant, profiles)
    assert response.status == 400
    assert response.json()["errors"][0]["path"] == "customerProfiles[2].attributes.big"
    assert all(read(runtime, tenant, n).status == 404 for n in names)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"customerProfiles": [{"attributes": {}}]}, "customerProfiles[0].integrationId"),
        ({"customerProfiles": [{"integrationId": 7}]}, "customerProfiles[0].integrationId"),
        ({"customerProfiles": {}}, "customerProfiles"),
        ({}, "customerProfiles"),
        ({"customerProfiles": [{"integrationId": "a", "attribute": {}}]}, "customerProfiles[0].attribute"),
    ],
)
def test_bulk_update_shape_errors_name_the_field(runtime, tenant, body, path):
    response = runtime.request("PUT", "/v2/customer_profiles", headers=tenant.headers, body=body)
    assert response.status == 400
    assert response.json()["errors"][0]["path"] == path


def test_bulk_update_refuses_more_than_1000_profiles(runtime, tenant):
    profiles = [{"integrationId": f"c{i}"} for i in range(1001)]
    response = bulk(runtime, tenant, profiles)
    assert response.status == 400 and response.json()["errors"][0]["code"] == "too_many"


def test_bulk_update_refuses_an_unknown_silent_value(runtime, tenant):
    response = bulk(runtime, tenant, [{"integrationId": "x"}], silent="maybe")
    assert response.status == 400 and response.json()["errors"][0]["path"] == "query.silent"


def test_delete_customer_data_erases_the_profile(runtime, tenant, other_tenant):
    (name,) = ids(1)
    runtime.request("PUT", f"/v2/customer_profiles/{name}", headers=tenant.headers, body={"attributes": {"a": 1}})
    assert runtime.request("DELETE", f"/v1/customer_data/{name}", headers=other_tenant.headers).status == 404
    assert read(runtime, tenant, name).status == 200  # another application cannot erase it
    assert runtime.request("DELETE", f"/v1/customer_data/{name}", headers=tenant.headers).status == 204
    assert read(runtime, tenant, name).status == 404
    assert runtime.request("DELETE", f"/v1/customer_data/{name}", headers=tenant.headers).status == 404


def scan_for(runtime, needle: str) -> list[str]:
    """Every table of the runtime, scanned (tests only) for a value anywhere in any item."""
    client = runtime.dynamodb_client()
    hits = []
    for logical_id, table in runtime.table_names.items():
        for page in client.get_paginator("scan").paginate(TableName=table):
            hits += [logical_id for item in page.get("Items", []) if needle in json.dumps(item, default=repr)]
    return hits


def test_erasure_leaves_no_trace_of_the_person_in_any_table(runtime, tenant):
    (name,) = ids(1)
    canary = f"canary-{uuid.uuid4().hex}"
    runtime.request(
        "PUT",
        f"/v2/customer_profiles/{name}",
        headers=tenant.headers,
        body={"attributes": {"email": f"{canary}@example.com", "address": {"street": canary}, "tags": [canary]}},
    )
    bulk(runtime, tenant, [{"integrationId": name, "attributes": {"note": canary}}])
    assert scan_for(runtime, canary) and scan_for(runtime, name)
    assert runtime.request("DELETE", f"/v1/customer_data/{name}", headers=tenant.headers).status == 204
    assert scan_for(runtime, canary) == []
    assert scan_for(runtime, name) == []
