"""GET /v1/customer_data/{integrationId}: everything Patron holds about a person, as one document (GDPR Art. 15)."""

from __future__ import annotations

import uuid
from typing import Any


def test_the_export_holds_the_profile_identifiers_consents_and_orders(runtime, tenant, other_tenant):
    customer = f"exp-{uuid.uuid4().hex[:8]}"
    body = {
        "email": f"{customer}@example.com",
        "phone": "+393331234567",
        "attributes": {"tier": "gold"},
        "consents": {"email": {"value": True, "source": "web-form"}},
    }
    assert runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body=body).status == 200
    for n in range(3):
        order = {"customerId": customer, "createdAt": f"2024-0{n + 1}-01", "amount": 10 + n, "delivery": {"city": "X"}}
        assert runtime.request("PUT", f"/v1/orders/{customer}-{n}", headers=tenant.headers, body=order).status == 200
    response = runtime.request("GET", f"/v1/customer_data/{customer}", headers=tenant.headers)
    assert response.status == 200, response.body
    document = response.json()
    assert document["integrationId"] == customer and document["exportedAt"]
    profile = document["profile"]
    assert profile["email"] == body["email"] and profile["attributes"] == {"tier": "gold"}
    assert profile["consents"]["email"]["value"] is True
    assert sorted(order["orderId"] for order in document["orders"]) == [f"{customer}-{n}" for n in range(3)]
    assert all(order["delivery"] == {"city": "X"} for order in document["orders"])  # every field as stored
    # Another application's person, and nobody at all, are 404.
    theirs = runtime.request("GET", f"/v1/customer_data/{customer}", headers=other_tenant.headers)
    assert theirs.status == 404 and theirs.json()["code"] == "customer_not_found"
    assert runtime.request("GET", f"/v1/customer_data/{customer}-x", headers=tenant.headers).status == 404
    # After an erasure there is nothing left to export.
    assert runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 204
    assert runtime.request("GET", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 404


def test_every_context_holding_personal_data_is_wired_in(runtime):
    """Listed once (patron.customers.wiring.personal_data), and so in every function that merges, erases or exports."""
    from functions.customer_profiles.app import services as profiles
    from functions.customers.app import services as customers
    from functions.import_worker.app import chunk_writer
    from functions.rfmcube.app import services as rfmcube

    users: list[Any] = [
        profiles().eraser,
        profiles().exporter,
        customers().merger,
        rfmcube().merger,
        rfmcube().eraser,
        chunk_writer()._merger,
    ]
    for user in users:
        sections = [holder.section for holder in user._holders]
        assert sections == [
            "orders",
            "coupons",
            "referrals",
            "loyalty",
            "audiences",
            "events",
            "storedAnswers",
            "notifications",
        ]
