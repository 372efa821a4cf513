"""Edge cases found in review: each answered with a precise 4xx, or handled as a demanding user expects."""

from __future__ import annotations

import json
import uuid

import pytest


def uid(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize(
    ("path", "body", "error_path"),
    [
        ("/v1/customers/guest-bob", {"email": "bob@example.com"}, "integrationId"),
        ("/v1/customers/anon-1", {}, "integrationId"),
        ("/v2/customer_profiles/guest-x", {"attributes": {}}, "integrationId"),
        ("/v1/customers/c1", {"email": "\ud800@x.com"}, "email"),
        ("/v1/customers/c1", {"phone": "+1\uff12\uff10\uff12\uff15\uff15\uff15\uff10\uff11\uff12\uff13"}, "phone"),
        ("/v1/customers/c1", {"consents": {"email\n": {"value": True}}}, "consents.email\n"),
        (
            "/v1/customers/c1",
            {"consents": {"sms": {"value": True, "time": "2999-01-01T00:00:00Z"}}},
            "consents.sms.time",
        ),
    ],
)
def test_customer_edge_cases_are_400(runtime, tenant, path, body, error_path):
    response = runtime.request("PUT", path, headers=tenant.headers, body=json.dumps(body))
    assert response.status == 400, response.body
    assert error_path in [error["path"] for error in response.json()["errors"]]


def test_a_very_long_if_match_is_400(runtime, tenant):
    response = runtime.request(
        "PUT", f"/v1/customers/{uid('c')}", headers={**tenant.headers, "If-Match": "9" * 5000}, body={}
    )
    assert response.status == 400


@pytest.mark.parametrize(
    ("fields", "error_path"),
    [
        ({"amount": 1e30}, "amount"),
        ({"amount": 0.1234567}, "amount"),
        ({"createdAt": "0999-01-01"}, "createdAt"),
        ({"createdAt": "9999-12-31T23:59:59-01:00"}, "createdAt"),
        ({"customerId": None, "customerEmail": None}, "customerId"),
    ],
)
def test_order_edge_cases_are_400(runtime, tenant, fields, error_path):
    body = {"customerId": uid("c"), "createdAt": "2024-01-01", "amount": 1, **fields}
    response = runtime.request("PUT", f"/v1/orders/{uid('o')}", headers=tenant.headers, body=body)
    assert response.status == 400, response.body
    assert error_path in [error["path"] for error in response.json()["errors"]]


def test_ids_written_as_exponents_are_refused(runtime, tenant):
    response = runtime.request(
        "POST",
        "/v1/merge_order",
        headers=tenant.headers,
        body='{"order": {"id": 1E2, "createdAt": "2024-01-01", "amount": 1, "customerId": "c"}}',
    )
    assert response.status == 400 and response.json()["errors"][0]["path"] == "order.id"


def test_sums_keep_every_digit(runtime, tenant):
    customer = uid("c")
    for amount in ("100000000000000", "0.000001"):
        body = f'{{"customerId": "{customer}", "createdAt": "2024-01-01", "amount": {amount}}}'
        assert runtime.request("PUT", f"/v1/orders/{uid('o')}", headers=tenant.headers, body=body).status == 200
    response = runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers)
    assert b'"totalSales":100000000000000.000001' in response.body


def test_a_device_customer_holds_at_most_twenty_devices_in_total(runtime, tenant):
    customer = uid("c")
    for start in range(0, 20, 10):
        devices = [f"{customer}-d{i}" for i in range(start, start + 10)]
        assert (
            runtime.request(
                "PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={"deviceIds": devices}
            ).status
            == 200
        )
    more = runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={"deviceIds": ["extra"]})
    assert more.status == 400 and more.json()["errors"][0]["code"] == "too_many"
    assert runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 204


def test_a_status_update_before_its_order_is_not_replayed_once_the_order_exists(runtime, tenant):
    order, key = uid("o"), {**tenant.headers, "Idempotency-Key": uid("k")}
    early = runtime.request("PUT", f"/v1/orders/{order}/status", headers=key, body={"status": "10"})
    assert early.status == 404
    runtime.request(
        "PUT",
        f"/v1/orders/{order}",
        headers=tenant.headers,
        body={"customerId": uid("c"), "createdAt": "2024-01-01", "amount": 3},
    )
    retried = runtime.request("PUT", f"/v1/orders/{order}/status", headers=key, body={"status": "10"})
    assert retried.status == 200 and retried.header("Idempotent-Replayed") is None


def test_merge_order_with_id_and_email_links_the_guest_to_the_customer(runtime, tenant):
    email, customer = f"{uid('g')}@shop.example", uid("c")
    guest_order = runtime.request(
        "POST",
        "/v1/merge_order",
        headers=tenant.headers,
        body=json.dumps({"order": {"id": uid("o"), "createdAt": "2024-01-01", "amount": 5, "customerEmail": email}}),
    )
    guest = guest_order.json()["customerId"]
    linked = runtime.request(
        "POST",
        "/v1/merge_order",
        headers=tenant.headers,
        body=json.dumps(
            {
                "order": {
                    "id": uid("o"),
                    "createdAt": "2024-02-01",
                    "amount": 7,
                    "customerId": customer,
                    "customerEmail": email,
                }
            }
        ),
    )
    assert linked.status == 200
    profile = runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers).json()
    assert profile["email"] == email and profile["stats"]["ordersCount"] == 2 and profile["stats"]["totalSales"] == 12
    assert runtime.request("GET", f"/v1/customers/{guest}", headers=tenant.headers).status == 404


def test_anonymised_orders_keep_product_fields_only(runtime, tenant):
    customer, order = uid("c"), uid("o")
    runtime.request(
        "PUT",
        f"/v1/orders/{order}",
        headers=tenant.headers,
        body={
            "customerId": customer,
            "createdAt": "2024-01-01",
            "amount": 9,
            "items": [{"sku": "A", "price": 9, "quantity": 1, "giftMessage": "for Maria Rossi"}],
        },
    )
    runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers, query={"anonymise": "true"})
    kept = runtime.request("GET", f"/v1/orders/{order}", headers=tenant.headers).json()
    assert kept["items"] == [{"sku": "A", "price": 9, "quantity": 1}]
