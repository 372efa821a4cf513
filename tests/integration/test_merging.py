"""Anonymous profiles (a device seen before its customer, an Rfmcube guest) merging into known customers:
attributes, consents, orders, statistics and identifiers, after which the device or email resolves to the
survivor."""

from __future__ import annotations

import json
import uuid


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_a_device_keeps_an_anonymous_profile_that_merges_into_its_customer(runtime, tenant):
    device, customer = uid("dev"), uid("cust")
    seen = runtime.request(
        "PUT",
        f"/v1/devices/{device}",
        headers=tenant.headers,
        body={
            "attributes": {"lastPage": "/shoes", "tier": "anonymous"},
            "consents": {"push": {"value": True, "time": "2024-01-01T00:00:00Z"}},
        },
    )
    assert seen.status == 200, seen.body
    anonymous = seen.json()
    assert anonymous["integrationId"].startswith("anon-") and anonymous["deviceIds"] == [device]
    again = runtime.request("PUT", f"/v1/devices/{device}", headers=tenant.headers, body={"attributes": {"visits": 2}})
    assert again.json()["integrationId"] == anonymous["integrationId"]  # the same anonymous profile
    order = uid("ord")
    assert (
        runtime.request(
            "PUT",
            f"/v1/orders/{order}",
            headers=tenant.headers,
            body={"customerId": anonymous["integrationId"], "createdAt": "2024-02-01", "amount": 30},
        ).status
        == 200
    )

    known = runtime.request(
        "PUT",
        f"/v1/customers/{customer}",
        headers=tenant.headers,
        body={
            "email": f"{customer}@example.com",
            "deviceIds": [device],
            "attributes": {"tier": "gold"},
            "consents": {"push": {"value": False, "time": "2023-01-01T00:00:00Z"}},
        },
    )
    assert known.status == 200, known.body
    merged = known.json()
    assert merged["attributes"] == {"tier": "gold", "lastPage": "/shoes", "visits": 2}  # the customer's win
    assert merged["consents"]["push"]["value"] is True  # the later decision stands
    assert merged["deviceIds"] == [device]
    assert merged["stats"]["ordersCount"] == 1 and merged["stats"]["totalSales"] == 30
    assert runtime.request("GET", f"/v1/orders/{order}", headers=tenant.headers).json()["customerId"] == customer
    assert runtime.request("GET", f"/v1/customers/{anonymous['integrationId']}", headers=tenant.headers).status == 404
    found = runtime.request("GET", "/v1/customers", headers=tenant.headers, query={"deviceId": device})
    assert found.json()["integrationId"] == customer
    # From now on the device's activity lands on the customer.
    later = runtime.request("PUT", f"/v1/devices/{device}", headers=tenant.headers, body={"attributes": {"visits": 3}})
    assert later.json()["integrationId"] == customer and later.json()["attributes"]["visits"] == 3


def test_an_rfmcube_guest_merges_when_the_customer_id_arrives(runtime, tenant):
    email = f"{uid('guest')}@shop.example"
    order = uid("ord")
    placed = runtime.request(
        "POST",
        "/v1/merge_order",
        headers=tenant.headers,
        body=json.dumps(
            {"order": {"id": order, "createdAt": "2021-05-01T00:00:00Z", "amount": 12, "customerEmail": email}}
        ),
    )
    guest = placed.json()["customerId"]
    assert guest.startswith("guest-")
    customer = uid("c")
    merged = runtime.request(
        "POST",
        "/v1/merge_customer",
        headers=tenant.headers,
        body=json.dumps({"customer": {"id": customer, "email": email, "name": "Ada"}}),
    )
    assert merged.status == 200, merged.body
    assert merged.json()["customerId"] == customer
    profile = runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers).json()
    assert profile["email"] == email and profile["stats"]["ordersCount"] == 1
    assert runtime.request("GET", f"/v1/customers/{guest}", headers=tenant.headers).status == 404
    assert (
        runtime.request("GET", "/v1/customers", headers=tenant.headers, query={"email": email}).json()["integrationId"]
        == customer
    )


def test_a_known_customers_identifier_is_never_taken_over(runtime, tenant):
    email = f"{uid('x')}@example.com"
    first, second = uid("c"), uid("c")
    runtime.request("PUT", f"/v1/customers/{first}", headers=tenant.headers, body={"email": email})
    taken = runtime.request("PUT", f"/v1/customers/{second}", headers=tenant.headers, body={"email": email})
    assert taken.status == 409 and taken.json()["code"] == "identifier_taken"
    assert runtime.request("GET", f"/v1/customers/{first}", headers=tenant.headers).json()["email"] == email


def test_bad_device_requests_are_400(runtime, tenant):
    assert runtime.request("PUT", "/v1/devices/%20", headers=tenant.headers, body={}).status == 400
    bad = runtime.request("PUT", f"/v1/devices/{uid('d')}", headers=tenant.headers, body={"email": "x@y.z"})
    assert bad.status == 400 and bad.json()["errors"][0]["path"] == "email"
