"""Every write route feeds the attribute catalog and refuses a value of another type, naming the field where
the caller sent it, and writing nothing."""

from __future__ import annotations

import json
import uuid


def name() -> str:
    return uuid.uuid4().hex[:10]


def catalog(runtime, tenant, entity):
    response = runtime.request("GET", f"/v1/attributes/{entity}", headers=tenant.headers)
    return {row["name"]: row["type"] for row in response.json()["data"]}


def mismatch(response, path):
    assert response.status == 400, response.body
    errors = response.json()["errors"]
    assert {"path": path, "code": "attribute_type_mismatch"} in [{"path": e["path"], "code": e["code"]} for e in errors]


def test_profile_routes_learn_types_and_refuse_others(runtime, tenant):
    first, second = name(), name()
    ok = runtime.request(
        "PUT",
        f"/v2/customer_profiles/{first}",
        headers=tenant.headers,
        body={"attributes": {"age": 30, "birthday": "1990-05-01", "vip": True}},
    )
    assert ok.status == 200
    assert catalog(runtime, tenant, "customer") == {"age": "number", "birthday": "date", "vip": "boolean"}
    mismatch(
        runtime.request(
            "PUT", f"/v2/customer_profiles/{second}", headers=tenant.headers, body={"attributes": {"age": "thirty"}}
        ),
        "attributes.age",
    )
    mismatch(
        runtime.request(
            "PUT",
            "/v2/customer_profiles",
            headers=tenant.headers,
            body={
                "customerProfiles": [
                    {"integrationId": second, "attributes": {"age": 1}},
                    {"integrationId": second, "attributes": {"vip": "yes"}},
                ]
            },
        ),
        "customerProfiles[1].attributes.vip",
    )
    mismatch(
        runtime.request(
            "PUT", f"/v1/customers/{second}", headers=tenant.headers, body={"attributes": {"birthday": "someday"}}
        ),
        "attributes.birthday",
    )
    mismatch(
        runtime.request(
            "POST", "/v1/merge_customer", headers=tenant.headers, body={"customer": {"id": second, "age": "old"}}
        ),
        "customer.age",
    )
    assert runtime.request("GET", f"/v1/customers/{second}", headers=tenant.headers).status == 404


def test_order_routes_feed_the_order_and_product_catalogs(runtime, tenant):
    order = {
        "customerId": name(),
        "createdAt": "2024-01-01",
        "amount": 5,
        "delivery": {"province": "MI"},
        "items": [{"sku": "A1", "brand": "nike", "quantity": 1}],
    }
    assert runtime.request("PUT", f"/v1/orders/{name()}", headers=tenant.headers, body=order).status == 200
    assert catalog(runtime, tenant, "order")["delivery"] == "object"
    assert catalog(runtime, tenant, "product") == {"brand": "string", "quantity": "number", "sku": "string"}
    bad = {**order, "delivery": "by courier"}
    target = name()
    mismatch(runtime.request("PUT", f"/v1/orders/{target}", headers=tenant.headers, body=bad), "delivery")
    bad_item = {**order, "items": [{"sku": "A2"}, {"quantity": "two"}]}
    mismatch(runtime.request("PUT", f"/v1/orders/{target}", headers=tenant.headers, body=bad_item), "items[1].quantity")
    rfm = {"order": {**bad, "id": target}}
    mismatch(runtime.request("POST", "/v1/merge_order", headers=tenant.headers, body=json.dumps(rfm)), "order.delivery")
    assert runtime.request("GET", f"/v1/orders/{target}", headers=tenant.headers).status == 404


def test_catalogs_are_per_application(runtime, tenant, other_tenant):
    runtime.request("PUT", f"/v2/customer_profiles/{name()}", headers=tenant.headers, body={"attributes": {"k": 1}})
    ok = runtime.request(
        "PUT", f"/v2/customer_profiles/{name()}", headers=other_tenant.headers, body={"attributes": {"k": "text"}}
    )
    assert ok.status == 200
    assert catalog(runtime, other_tenant, "customer")["k"] == "string"
