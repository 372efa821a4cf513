"""Hostile and edge-case input on every profile route: always a precise 4xx with a path, never a 500, and
nothing written."""

from __future__ import annotations

import uuid

import pytest

from patron.profiles.model import MAX_ATTRIBUTES_PER_REQUEST


def customer() -> str:
    return f"hostile-{uuid.uuid4().hex[:10]}"


def exists(runtime, tenant, integration_id: str) -> bool:
    response = runtime.request(
        "GET", f"/v1/customer_profiles/{integration_id}/inventory", headers=tenant.headers, query={"profile": "true"}
    )
    return response.status == 200


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"attributes": {"n": 0e999999}}', None),  # a zero is a zero: accepted
        ('{"attributes": {"n": 1e999999}}', "attributes.n"),
        ('{"attributes": {"n": ' + "9" * 5000 + "}}", "attributes.n"),
        ('{"attributes": {"m": {"": 1}}}', "attributes.m."),
        ('{"attributes": {"s": "\\ud800"}}', "attributes.s"),
        ('{"attributes": {"\\ud800": 1}}', "attributes.\\ud800"),
        ('{"attributes": {"m": {"\\udfff": 1}}}', "attributes.m.\\udfff"),
    ],
)
def test_odd_values_are_refused_with_their_path_or_stored_exactly(runtime, tenant, body, path):
    name = customer()
    response = runtime.request("PUT", f"/v2/customer_profiles/{name}", headers=tenant.headers, body=body)
    if path is None:
        assert response.status == 200
        return
    assert response.status == 400, response.body
    assert response.json()["errors"][0]["path"] == path
    assert not exists(runtime, tenant, name)


def test_too_many_attributes_in_one_request_is_400_not_a_storage_error(runtime, tenant):
    name = customer()
    attributes = {f"attr{i}": i for i in range(MAX_ATTRIBUTES_PER_REQUEST + 1)}
    response = runtime.request(
        "PUT", f"/v2/customer_profiles/{name}", headers=tenant.headers, body={"attributes": attributes}
    )
    assert response.status == 400 and response.json()["errors"][0]["code"] == "too_many"
    at_limit = {f"attr{i}": i for i in range(MAX_ATTRIBUTES_PER_REQUEST)}
    response = runtime.request(
        "PUT", f"/v2/customer_profiles/{name}", headers=tenant.headers, body={"attributes": at_limit}
    )
    assert response.status == 200  # the limit itself fits one update expression


@pytest.mark.parametrize("integration_id", ["%F0%9F%98%80" * 300, "x" * 1001])
def test_overlong_ids_are_400_on_every_route(runtime, tenant, integration_id):
    put = runtime.request("PUT", f"/v2/customer_profiles/{integration_id}", headers=tenant.headers, body={})
    get = runtime.request(
        "GET", f"/v1/customer_profiles/{integration_id}/inventory", headers=tenant.headers, query={"profile": "true"}
    )
    delete = runtime.request("DELETE", f"/v1/customer_data/{integration_id}", headers=tenant.headers)
    for response in (put, get, delete):
        assert response.status == 400
        assert response.json()["errors"][0]["path"] == "integrationId"


def grow(runtime, tenant, name: str) -> set[str]:
    """A profile of about 375 KB, written in two requests under the 256 KB body limit."""
    names: set[str] = set()
    for prefix, count in (("f", 13), ("h", 12)):
        chunk = {f"{prefix}{i}": "x" * 15000 for i in range(count)}
        response = runtime.request(
            "PUT", f"/v2/customer_profiles/{name}", headers=tenant.headers, body={"attributes": chunk}
        )
        assert response.status == 200
        names |= set(chunk)
    return names


def test_a_profile_that_would_pass_400_kb_is_400_and_keeps_its_data(runtime, tenant):
    name = customer()
    stored_names = grow(runtime, tenant, name)
    more = {f"g{i}": "y" * 15000 for i in range(3)}  # +45 KB
    response = runtime.request(
        "PUT", f"/v2/customer_profiles/{name}", headers=tenant.headers, body={"attributes": more}
    )
    assert response.status == 400
    assert response.json()["errors"][0] == {
        "path": "attributes",
        "code": "profile_too_large",
        "message": "The profile would exceed the 400 KB stored limit.",
        "title": "profile_too_large",
        "details": "The profile would exceed the 400 KB stored limit.",
        "source": {"pointer": "/attributes"},
    }
    stored = runtime.request(
        "GET", f"/v1/customer_profiles/{name}/inventory", headers=tenant.headers, query={"profile": "true"}
    ).json()["profile"]["attributes"]
    assert set(stored) == stored_names


def test_bulk_with_hostile_items_writes_nothing(runtime, tenant):
    names = [customer() for _ in range(5)]
    profiles = [{"integrationId": n, "attributes": {"a": 1}} for n in names]
    profiles[3]["attributes"] = {"m": {"": 1}}
    profiles[4]["attributes"] = {f"k{i}": i for i in range(MAX_ATTRIBUTES_PER_REQUEST + 1)}
    response = runtime.request(
        "PUT", "/v2/customer_profiles", headers=tenant.headers, body={"customerProfiles": profiles}
    )
    assert response.status == 400
    paths = {error["path"] for error in response.json()["errors"]}
    assert {"customerProfiles[3].attributes.m.", "customerProfiles[4].attributes"} <= paths
    assert not any(exists(runtime, tenant, n) for n in names)


def test_bulk_names_the_item_that_would_pass_400_kb(runtime, tenant):
    big, small = customer(), customer()
    grow(runtime, tenant, big)
    more = {f"g{i}": "y" * 15000 for i in range(3)}
    response = runtime.request(
        "PUT",
        "/v2/customer_profiles",
        headers=tenant.headers,
        body={
            "customerProfiles": [
                {"integrationId": small, "attributes": {"a": 1}},
                {"integrationId": big, "attributes": more},
            ]
        },
    )
    assert response.status == 400
    assert [{k: e[k] for k in ("path", "code", "message")} for e in response.json()["errors"]] == [
        {
            "path": "customerProfiles[1].attributes",
            "code": "profile_too_large",
            "message": "The profile would exceed the 400 KB stored limit.",
        }
    ]
    assert exists(runtime, tenant, small)  # independent profiles: the valid one stands (documented)


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
    ],
)
def test_other_content_types_with_json_bodies_are_read_as_json(runtime, tenant, headers):
    response = runtime.request(
        "PUT", f"/v2/customer_profiles/{customer()}", headers={**tenant.headers, **headers}, body='{"attributes": {}}'
    )
    assert response.status == 200


def test_weird_query_strings_are_refused_or_ignored_never_500(runtime, tenant):
    name = customer()
    for query in ("runRuleEngine=&dry=", "dry=TRUE&dry=false", "%ff=%fe", "silent"):
        response = runtime.request("PUT", f"/v2/customer_profiles/{name}?{query}", headers=tenant.headers, body={})
        assert response.status in (200, 400), (query, response.status)
