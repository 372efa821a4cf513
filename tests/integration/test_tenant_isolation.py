"""Application A's key against application B's objects, on every route that addresses an object: all 404, and
B's data unchanged afterwards (also after A writes objects under the same ids, which are A's own)."""

from __future__ import annotations

import json
import uuid


def test_every_route_answers_404_for_another_applications_objects(runtime, tenant, other_tenant):
    a, b = tenant.headers, other_tenant.headers
    suffix = uuid.uuid4().hex[:8]
    customer, order, email = f"iso-{suffix}", f"iso-order-{suffix}", f"iso-{suffix}@example.com"
    assert (
        runtime.request(
            "PUT", f"/v1/customers/{customer}", headers=b, body={"email": email, "attributes": {"owner": "B"}}
        ).status
        == 200
    )
    assert (
        runtime.request(
            "PUT",
            f"/v1/orders/{order}",
            headers=b,
            body={"customerId": customer, "createdAt": "2024-01-01", "amount": 7},
        ).status
        == 200
    )
    before_customer = runtime.request("GET", f"/v1/customers/{customer}", headers=b).json()
    before_order = runtime.request("GET", f"/v1/orders/{order}", headers=b).json()

    probes = [
        ("GET", f"/v1/customer_profiles/{customer}/inventory", {"profile": "true"}, None),
        ("DELETE", f"/v1/customer_data/{customer}", None, None),
        ("GET", f"/v1/customers/{customer}", None, None),
        ("GET", "/v1/customers", {"email": email}, None),
        ("GET", f"/v1/customers/{customer}/orders", None, None),
        ("GET", f"/v1/orders/{order}", None, None),
        ("PUT", f"/v1/orders/{order}/status", None, {"status": "99"}),
        ("DELETE", f"/v1/orders/{order}", None, None),
        ("POST", "/v1/delete_customer", None, json.dumps({"id": customer, "email": email})),
    ]
    for method, path, query, body in probes:
        response = runtime.request(method, path, headers=a, query=query, body=body)
        assert response.status == 404, (method, path, response.status, response.body)

    # A's writes under the same ids create A's own objects; B's are untouched.
    assert (
        runtime.request("PUT", f"/v1/customers/{customer}", headers=a, body={"attributes": {"owner": "A"}}).status
        == 200
    )
    assert (
        runtime.request(
            "PUT",
            f"/v1/orders/{order}",
            headers=a,
            body={"customerId": customer, "createdAt": "2024-02-01", "amount": 1000},
        ).status
        == 200
    )
    assert (
        runtime.request(
            "PUT", f"/v2/customer_profiles/{customer}", headers=a, body={"attributes": {"owner": "A2"}}
        ).status
        == 200
    )
    after_customer = runtime.request("GET", f"/v1/customers/{customer}", headers=b).json()
    after_order = runtime.request("GET", f"/v1/orders/{order}", headers=b).json()
    assert after_customer == before_customer and after_order == before_order
    assert after_customer["stats"]["totalSales"] == 7


def test_sessions_and_events_of_another_application_are_404_or_its_own(runtime, tenant, other_tenant):
    a, b = tenant.headers, other_tenant.headers
    suffix = uuid.uuid4().hex[:8]
    session, customer = f"iso-s-{suffix}", f"iso-p-{suffix}"
    cart = [{"sku": "S", "price": 40, "quantity": 2}]
    closed = {"customerSession": {"profileId": customer, "state": "closed", "cartItems": cart}}
    assert runtime.request("PUT", f"/v2/customer_sessions/{session}", headers=b, body=closed).status == 200
    before = runtime.request("GET", f"/v2/customer_sessions/{session}", headers=b).json()
    profile_before = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory", headers=b, query={"profile": "true"}
    ).json()

    returned = {"return": {"returnedCartItems": [{"position": 0}]}}
    for method, path, body in (
        ("GET", f"/v2/customer_sessions/{session}", None),
        ("PUT", f"/v2/customer_sessions/{session}/reopen", None),
        ("POST", f"/v2/customer_sessions/{session}/returns", returned),
    ):
        response = runtime.request(method, path, headers=a, body=body)
        assert response.status == 404, (method, path, response.status, response.body)

    # A's session and event under B's ids are A's own; B's session and profile are untouched.
    opened = runtime.request(
        "PUT", f"/v2/customer_sessions/{session}", headers=a, body={"customerSession": {"profileId": customer}}
    )
    assert opened.status == 200
    assert runtime.request("POST", "/v2/events", headers=a, body={"type": "visit", "profileId": customer}).status == 200
    assert runtime.request("GET", f"/v2/customer_sessions/{session}", headers=b).json() == before
    profile_after = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory", headers=b, query={"profile": "true"}
    ).json()
    assert profile_after == profile_before
