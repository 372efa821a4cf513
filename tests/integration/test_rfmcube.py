"""Rfmcube's push API with the payloads of shared/reference/001 (ids made unique per test)."""

from __future__ import annotations

import json
import uuid

MERGE_CUSTOMER = (
    '{ "triggerIntegrations": false, "customer": { "id": "1", "email": "test@rfmcube.com", '
    '"createdAt": "2020-01-01T13:06:39Z", "updatedAt": "2020-01-01T13:06:39Z" } }'
)
MERGE_ORDER = (
    '{ "triggerIntegrations": false, "order": { "id": "1", "createdAt": "2020-01-01T13:30:39Z", '
    '"updatedAt": "2020-01-01T13:30:39Z", "amount": 85.85, "customerEmail": "1test@rfmcube.com", '
    '"customerId": "1", "status": "10", "statusLabel": "Completato", "delivery": { "province": "MI" }, '
    '"items": [ { "item_id": 1342, "product_id": 43421, "brand": "nike" }, '
    '{ "item_id": 1340, "product_id": 43420, "brand": "nike" } ] } }'
)
DELETE_CUSTOMER = '{ "id": "321", "email": "test@example.com" }'


def unique(payload: str, **replacements: str) -> str:
    for old, new in replacements.items():
        payload = payload.replace(old, new)
    return payload


def rfm_headers(tenant) -> dict[str, str]:
    return {"api-key": tenant.key, "content-type": "application/json"}


def post(runtime, tenant, route, body):
    return runtime.request("POST", f"/v1/{route}", headers=rfm_headers(tenant), body=body)


def test_the_documented_payloads_work_end_to_end(runtime, tenant):
    suffix = uuid.uuid4().hex[:8]
    customer_id, order_id = f"c{suffix}", f"o{suffix}"
    email = f"{suffix}@rfmcube.com"
    merged = post(
        runtime,
        tenant,
        "merge_customer",
        unique(MERGE_CUSTOMER, **{'"id": "1"': f'"id": "{customer_id}"', "test@rfmcube.com": email}),
    )
    assert merged.status == 200, merged.body
    assert merged.json()["customerId"] == customer_id
    order = post(
        runtime,
        tenant,
        "merge_order",
        unique(
            MERGE_ORDER,
            **{
                '"id": "1"': f'"id": "{order_id}"',
                '"customerId": "1"': f'"customerId": "{customer_id}"',
                "1test@rfmcube.com": email,
            },
        ),
    )
    assert order.status == 200, order.body
    customer = runtime.request("GET", f"/v1/customers/{customer_id}", headers=tenant.headers).json()
    assert customer["email"] == email
    assert customer["attributes"] == {"createdAt": "2020-01-01T13:06:39Z", "updatedAt": "2020-01-01T13:06:39Z"}
    assert customer["stats"]["ordersCount"] == 1 and customer["stats"]["totalSales"] == 85.85
    stored = runtime.request("GET", f"/v1/orders/{order_id}", headers=tenant.headers).json()
    assert stored["delivery"] == {"province": "MI"} and len(stored["items"]) == 2

    deleted = post(
        runtime,
        tenant,
        "delete_customer",
        unique(DELETE_CUSTOMER, **{'"321"': f'"{customer_id}"', "test@example.com": "nobody@example.com"}),
    )
    assert deleted.status == 200 and deleted.json()["deletedOrders"] == 1
    assert runtime.request("GET", f"/v1/customers/{customer_id}", headers=tenant.headers).status == 404
    assert runtime.request("GET", f"/v1/orders/{order_id}", headers=tenant.headers).status == 404


def test_a_guest_with_only_an_email_is_one_customer_found_by_email(runtime, tenant):
    email = f"guest-{uuid.uuid4().hex[:8]}@shop.example"
    for _ in range(2):
        post(runtime, tenant, "merge_customer", json.dumps({"customer": {"email": email, "name": "Guest"}}))
    first = post(
        runtime,
        tenant,
        "merge_order",
        json.dumps(
            {
                "order": {
                    "id": f"g{uuid.uuid4().hex[:8]}",
                    "createdAt": "2021-05-01T00:00:00Z",
                    "amount": 12,
                    "customerEmail": email,
                }
            }
        ),
    )
    assert first.status == 200
    guest = runtime.request("GET", "/v1/customers", headers=tenant.headers, query={"email": email}).json()
    assert guest["integrationId"] == first.json()["customerId"]
    assert guest["attributes"] == {"name": "Guest"} and guest["stats"]["ordersCount"] == 1
    deleted = post(runtime, tenant, "delete_customer", json.dumps({"email": email}))
    assert deleted.status == 200
    assert runtime.request("GET", "/v1/customers", headers=tenant.headers, query={"email": email}).status == 404


def test_delete_customer_searches_by_id_then_email_and_404s_when_neither_exists(runtime, tenant):
    email = f"p{uuid.uuid4().hex[:8]}@shop.example"
    customer_id = f"c{uuid.uuid4().hex[:8]}"
    post(runtime, tenant, "merge_customer", json.dumps({"customer": {"id": customer_id, "email": email}}))
    # The id matches nobody; the email finds the customer.
    found = post(runtime, tenant, "delete_customer", json.dumps({"id": "missing", "email": email}))
    assert found.status == 200
    missing = post(runtime, tenant, "delete_customer", json.dumps({"id": "missing", "email": email}))
    assert missing.status == 404 and missing.json()["code"] == "customer_not_found"


def test_rfmcube_payload_errors_name_the_field(runtime, tenant):
    cases = [
        ("merge_customer", {"customer": {"email": "nope"}}, "customer.email"),
        ("merge_customer", {"customer": {}}, "customer.id"),
        ("merge_customer", {"triggerIntegrations": "yes", "customer": {"id": "x"}}, "triggerIntegrations"),
        ("merge_customer", {"client": {"id": "x"}}, "client"),
        ("merge_order", {"order": {"id": "1", "amount": 1, "customerId": "c"}}, "order.createdAt"),
        ("merge_order", {"order": {"createdAt": "2020-01-01", "amount": 1, "customerId": "c"}}, "order.id"),
        ("delete_customer", {}, "id"),
    ]
    for route, body, path in cases:
        response = post(runtime, tenant, route, json.dumps(body))
        assert response.status == 400, (route, body)
        assert path in [error["path"] for error in response.json()["errors"]], (route, response.json())


def test_another_applications_customer_cannot_be_deleted(runtime, tenant, other_tenant):
    customer_id = f"c{uuid.uuid4().hex[:8]}"
    post(runtime, tenant, "merge_customer", json.dumps({"customer": {"id": customer_id}}))
    assert post(runtime, other_tenant, "delete_customer", json.dumps({"id": customer_id})).status == 404
    assert runtime.request("GET", f"/v1/customers/{customer_id}", headers=tenant.headers).status == 200


def test_trigger_integrations_records_the_change_in_the_outbox(runtime, tenant):
    def outbox_entities() -> list[str]:
        client = runtime.dynamodb_client()
        items = client.scan(TableName=runtime.table_names["OutboxTable"]).get("Items", [])
        return [item["entityId"]["S"] for item in items]

    suffix = uuid.uuid4().hex[:8]
    quiet = post(runtime, tenant, "merge_customer", json.dumps({"customer": {"id": f"q{suffix}"}}))
    loud = post(
        runtime, tenant, "merge_customer", json.dumps({"triggerIntegrations": True, "customer": {"id": f"l{suffix}"}})
    )
    order = post(
        runtime,
        tenant,
        "merge_order",
        json.dumps(
            {
                "triggerIntegrations": True,
                "order": {"id": f"o{suffix}", "createdAt": "2024-01-01", "amount": 1, "customerId": f"l{suffix}"},
            }
        ),
    )
    assert quiet.status == loud.status == order.status == 200
    recorded = outbox_entities()
    assert f"l{suffix}" in recorded and f"o{suffix}" in recorded
    assert f"q{suffix}" not in recorded
