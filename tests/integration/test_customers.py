"""Customers with identifiers through the local runtime and DynamoDB Local: claims, lookups, versions, erasure."""

from __future__ import annotations

import json
import threading
import uuid

import pytest


def new_id() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}"


def email() -> str:
    return f"Person.{uuid.uuid4().hex[:8]}@Example.COM"


def put(runtime, tenant, integration_id, body, headers=None):
    return runtime.request(
        "PUT", f"/v1/customers/{integration_id}", headers={**tenant.headers, **(headers or {})}, body=body
    )


def find(runtime, tenant, **query):
    return runtime.request("GET", "/v1/customers", headers=tenant.headers, query=query)


def test_identifiers_are_normalised_stored_and_looked_up_by_any(runtime, tenant):
    customer, address = new_id(), email()
    response = put(
        runtime,
        tenant,
        customer,
        {
            "email": f"  {address} ",
            "phone": "+39 (02) 1234-5678",
            "crmId": " CRM-1 ",
            "deviceIds": ["dev-a", "dev-b"],
            "attributes": {"tier": "gold"},
        },
    )
    assert response.status == 200, response.body
    body = response.json()
    assert body["email"] == address.casefold()
    assert body["phone"] == "+390212345678"
    assert body["crmId"] == "CRM-1" and body["deviceIds"] == ["dev-a", "dev-b"]
    assert body["version"] == 1 and response.header("ETag") == '"1"'
    for query in (
        {"email": address.upper()},
        {"phone": "0039 02 1234 5678"},
        {"crmId": "CRM-1"},
        {"deviceId": "dev-b"},
    ):
        found = find(runtime, tenant, **query)
        assert found.status == 200, query
        assert found.json()["integrationId"] == customer


def test_an_identifier_belongs_to_one_customer_and_is_released_on_change(runtime, tenant):
    first, second, address = new_id(), new_id(), email()
    assert put(runtime, tenant, first, {"email": address}).status == 200
    taken = put(runtime, tenant, second, {"email": address, "attributes": {"a": 1}})
    assert taken.status == 409
    assert taken.json()["code"] == "identifier_taken" and taken.json()["errors"][0]["path"] == "email"
    assert runtime.request("GET", f"/v1/customers/{second}", headers=tenant.headers).status == 404  # nothing written
    assert put(runtime, tenant, first, {"email": email()}).status == 200  # first moves to another address
    assert put(runtime, tenant, second, {"email": address}).status == 200  # the old one is free again
    assert find(runtime, tenant, email=address).json()["integrationId"] == second
    assert put(runtime, tenant, second, {"email": None}).json()["email"] is None
    assert find(runtime, tenant, email=address).status == 404


def test_another_application_has_its_own_identifiers_and_sees_none_of_ours(runtime, tenant, other_tenant):
    customer, address = new_id(), email()
    put(runtime, tenant, customer, {"email": address})
    assert find(runtime, other_tenant, email=address).status == 404
    assert runtime.request("GET", f"/v1/customers/{customer}", headers=other_tenant.headers).status == 404
    assert put(runtime, other_tenant, new_id(), {"email": address}).status == 200  # not taken there


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "02 1234 5678"}, "phone"),  # no country code: refused, not guessed
        ({"phone": "+12"}, "phone"),
        ({"crmId": "   "}, "crmId"),
        ({"deviceIds": ["ok", ""]}, "deviceIds[1]"),
        ({"deviceIds": [f"d{i}" for i in range(21)]}, "deviceIds"),
        ({"email": 7}, "email"),
        ({"mail": "x@y.z"}, "mail"),
    ],
)
def test_bad_identifiers_are_400_with_their_path_and_write_nothing(runtime, tenant, body, path):
    customer = new_id()
    response = put(runtime, tenant, customer, body)
    assert response.status == 400
    assert path in [error["path"] for error in response.json()["errors"]]
    assert runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers).status == 404


def test_lookups_need_exactly_one_identifier(runtime, tenant):
    assert find(runtime, tenant).status == 400
    assert find(runtime, tenant, email="a@b.c", phone="+391234567").status == 400
    assert find(runtime, tenant, email="nobody@example.com").status == 404
    assert find(runtime, tenant, email="not an email").status == 404


def test_if_match_makes_the_write_conditional(runtime, tenant):
    customer = new_id()
    assert put(runtime, tenant, customer, {"attributes": {"a": 1}}, {"If-Match": '"1"'}).status == 409  # not new
    created = put(runtime, tenant, customer, {"attributes": {"a": 1}}, {"If-Match": "0"})
    assert created.status == 200 and created.json()["version"] == 1
    stale = put(runtime, tenant, customer, {"attributes": {"a": 2}}, {"If-Match": "0"})
    assert stale.status == 409 and stale.json()["code"] == "version_conflict"
    fresh = put(runtime, tenant, customer, {"attributes": {"a": 3}}, {"If-Match": created.header("ETag")})
    assert fresh.status == 200 and fresh.json()["attributes"] == {"a": 3} and fresh.json()["version"] == 2
    assert put(runtime, tenant, customer, {}, {"If-Match": "abc"}).status == 400


def test_sixteen_concurrent_writers_lose_no_update(runtime, tenant):
    """16 parallel writers on one customer, each changing the email and adding its own attribute: every
    answer is 200 or 409, every 200's attribute is there, no 409's is, and the email is one that was sent."""
    customer = new_id()
    put(runtime, tenant, customer, {"email": email()})
    sent = {index: email() for index in range(16)}
    results: dict[int, int] = {}
    barrier = threading.Barrier(16)

    def writer(index: int) -> None:
        barrier.wait()
        response = put(runtime, tenant, customer, {"email": sent[index], "attributes": {f"w{index}": index}})
        results[index] = response.status

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results.values()) <= {200, 409}
    final = runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers).json()
    succeeded = {index for index, status in results.items() if status == 200}
    assert succeeded, results
    assert set(final["attributes"]) == {f"w{index}" for index in succeeded}
    assert final["version"] == 1 + len(succeeded)
    assert final["email"] in {sent[index].casefold() for index in succeeded}
    # Exactly one customer holds the final email; every other address sent is free.
    for index, address in sent.items():
        owner = find(runtime, tenant, email=address)
        if address.casefold() == final["email"]:
            assert owner.json()["integrationId"] == customer
        else:
            assert owner.status == 404, (index, results[index])


def test_sixteen_concurrent_claims_of_one_email_have_one_winner(runtime, tenant):
    address = email()
    statuses: list[int] = []
    barrier = threading.Barrier(16)

    def claim() -> None:
        barrier.wait()
        statuses.append(put(runtime, tenant, new_id(), {"email": address}).status)

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 15


def test_erasure_releases_identifiers_and_leaves_no_trace(runtime, tenant):
    customer, address = new_id(), email()
    canary = uuid.uuid4().hex
    put(
        runtime,
        tenant,
        customer,
        {
            "email": address,
            "phone": "+4915112345678",
            "crmId": canary,
            "deviceIds": [f"dev-{canary}"],
            "attributes": {"note": canary},
        },
    )
    assert runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 204
    client = runtime.dynamodb_client()
    for table in runtime.table_names.values():
        for page in client.get_paginator("scan").paginate(TableName=table):
            text = json.dumps(page.get("Items", []), default=repr)  # binary: ruleset bodies
            assert canary not in text and address.casefold() not in text and customer not in text
    assert find(runtime, tenant, email=address).status == 404
    assert put(runtime, tenant, new_id(), {"email": address}).status == 200  # the address is free again
