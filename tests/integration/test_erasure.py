"""Erasing a person leaves no trace in any table: profile, identifiers, attributes, orders, idempotency
records. Anonymised erasure keeps the order figures under a tombstone id with no personal data."""

from __future__ import annotations

import json
import uuid
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from patron.idempotency.model import decode_body

_deserializer = TypeDeserializer()


def everything(runtime) -> str:
    """Every item of every table as text, stored response bodies decompressed."""
    client = runtime.dynamodb_client()
    texts = []
    for table in runtime.table_names.values():
        for page in client.get_paginator("scan").paginate(TableName=table):
            for raw in page.get("Items", []):
                item: dict[str, Any] = {k: _deserializer.deserialize(v) for k, v in raw.items()}
                texts.append(json.dumps(item, default=repr))  # repr: binary attributes (ruleset bodies)
                if "bodyZ" in item:
                    texts.append(decode_body(str(item["bodyZ"]), compressed=True))
    return "\n".join(texts)


def seed(runtime, tenant, canary: str) -> tuple[str, str]:
    customer = f"person-{canary[:12]}"
    email = f"{canary[:12]}@example.com"
    headers = {**tenant.headers, "Idempotency-Key": f"k-{canary[:8]}"}
    assert (
        runtime.request(
            "PUT",
            f"/v2/customer_profiles/{customer}",
            headers=headers,
            body={"attributes": {"note": canary}, "responseContent": ["customerProfile"]},
        ).status
        == 200
    )
    assert (
        runtime.request(
            "PUT",
            f"/v1/customers/{customer}",
            headers={**tenant.headers, "Idempotency-Key": f"c-{canary[:8]}"},
            body={"email": email, "phone": "+393331234567", "crmId": f"crm-{canary}", "deviceIds": [f"dev-{canary}"]},
        ).status
        == 200
    )
    for index in range(3):
        assert (
            runtime.request(
                "PUT",
                f"/v1/orders/ord-{canary[:8]}-{index}",
                headers={**tenant.headers, "Idempotency-Key": f"o-{canary[:8]}-{index}"},
                body={
                    "customerId": customer,
                    "createdAt": f"2024-0{index + 1}-01",
                    "amount": 10 + index,
                    "delivery": {"street": f"{canary} street"},
                    "items": [{"sku": "A1", "quantity": 1}],
                },
            ).status
            == 200
        )
    # Audience memberships name the person in the audience's partition and on the profile; a member attribute too.
    audiences = [
        runtime.request("POST", "/v2/audiences", headers=tenant.headers, body={"name": f"aud-{i}"}).json()["id"]
        for i in range(2)
    ]
    add = {"data": [{"action": "add", "profileIntegrationId": customer, "audienceId": audiences[0]}]}
    keyed = {**tenant.headers, "Idempotency-Key": f"a-{canary[:8]}"}
    assert runtime.request("POST", "/v2/customer_audiences", headers=keyed, body=add).status == 204
    changes = {"audiencesChanges": {"adds": [audiences[1]], "deletes": []}}
    assert (
        runtime.request("PUT", f"/v2/customer_profiles/{customer}", headers=tenant.headers, body=changes).status == 200
    )
    attributes = {"memberNote": f"{canary} member"}
    path = f"/v2/audience_customers/{audiences[0]}/attributes"
    assert runtime.request("PUT", path, headers=tenant.headers, body=attributes).status == 204
    assert runtime.wait_idle(60)
    # A tracked custom event, stored with the person and counted (docs/events.md).
    event = {"type": "store_visit", "profileId": customer, "attributes": {"note": f"{canary} event"}}
    assert runtime.request("POST", "/v2/events", headers=tenant.headers, body=event).status == 200
    # Changes recorded for third-party integrations name the person too.
    trigger = {"triggerIntegrations": True, "customer": {"id": customer, "email": email}}
    assert runtime.request("POST", "/v1/merge_customer", headers=tenant.headers, body=json.dumps(trigger)).status == 200
    return customer, email


def test_erasure_leaves_no_canary_anywhere(runtime, tenant):
    canary = uuid.uuid4().hex
    customer, email = seed(runtime, tenant, canary)
    text = everything(runtime)
    assert canary in text and customer in text and email in text
    assert text.count(f"{canary} street") > 3  # the orders and their stored idempotent answers
    assert f"M#{customer}" in text and f"{canary} member" in text  # memberships and a member attribute
    assert f"{canary} event" in text  # the tracked event
    assert runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 204
    text = everything(runtime)
    assert canary not in text
    assert customer not in text
    assert email not in text
    assert runtime.request("GET", f"/v1/orders/ord-{canary[:8]}-0", headers=tenant.headers).status == 404


def test_anonymised_erasure_keeps_the_figures_and_no_personal_data(runtime, tenant):
    canary = uuid.uuid4().hex
    customer, email = seed(runtime, tenant, canary)
    response = runtime.request(
        "DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers, query={"anonymise": "true"}
    )
    assert response.status == 204
    text = everything(runtime)
    assert canary not in text and customer not in text and email not in text
    order = runtime.request("GET", f"/v1/orders/ord-{canary[:8]}-2", headers=tenant.headers).json()
    assert order["amount"] == 12 and order["items"] == [{"sku": "A1", "quantity": 1}] and "delivery" not in order
    tombstone = order["customerId"]
    assert tombstone.startswith("anonymous-")
    stats = runtime.request("GET", f"/v1/customers/{tombstone}", headers=tenant.headers).json()["stats"]
    assert (stats["ordersCount"], stats["totalSales"]) == (3, 33)


def test_answers_given_to_a_device_before_a_merge_are_erased_with_the_customer(runtime, tenant):
    canary = uuid.uuid4().hex
    device, customer = f"dev-{canary[:10]}", f"person-{canary[:10]}"
    keyed = {**tenant.headers, "Idempotency-Key": f"d-{canary[:8]}"}
    seen = runtime.request("PUT", f"/v1/devices/{device}", headers=keyed, body={"attributes": {"note": canary}})
    assert seen.status == 200
    anonymous = seen.json()["integrationId"]
    claimed = runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={"deviceIds": [device]})
    assert claimed.status == 200 and claimed.json()["attributes"] == {"note": canary}
    assert runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 204
    text = everything(runtime)
    assert canary not in text and device not in text and anonymous not in text and customer not in text
