"""Coupons through the person's lifecycle and the customer inventory, through the local runtime against DynamoDB
Local: a merge moves an anonymous profile's reservations and personal codes to the customer (who can then redeem
the code), an erasure takes the person out of every coupon and keeps the coupons' counters, an anonymisation keeps
the redemption counts under the tombstone, the export lists the coupons, the inventory answers each coupon's
state, and another application sees none of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from patron.coupons import items
from patron.dynamo import codec
from tests.conftest import Tenant, new_tenant
from tests.integration.coupons import add_coupon, coupon_campaign, stored
from tests.integration.rulesets import publish

NOW = datetime.now(UTC)
DAY = timedelta(days=1)
CAMPAIGN = coupon_campaign(discount=5)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def tenant_with_campaign(runtime: Any) -> Tenant:
    tenant = new_tenant(runtime)
    publish(runtime, tenant.application_id, {"settings": {"currency": "EUR"}, "campaigns": [CAMPAIGN]})
    return tenant


def personal_code(runtime: Any, tenant: Tenant, code: str, recipient: str, **fields: Any) -> None:
    """A personal code as the coupons service creates one: the coupon and its recipient's holding."""
    coupon = add_coupon(runtime, tenant, code, recipient_integration_id=recipient, **fields)
    item = items.recipient_holding_item(tenant.application_id, coupon)
    runtime.dynamodb_client().put_item(TableName=runtime.table_names["LedgersTable"], Item=codec.to_item(item))


def reserve(runtime: Any, tenant: Tenant, code: str, *profiles: str) -> None:
    body = {"integrationIDs": list(profiles)}
    answer = runtime.request("POST", f"/v1/coupon_reservations/{code}", headers=tenant.headers, body=body)
    assert answer.status == 201, answer.body


def reserving(runtime: Any, tenant: Tenant, code: str) -> list[str]:
    answer = runtime.request("GET", f"/v1/coupon_reservations/customerprofiles/{code}", headers=tenant.headers)
    return sorted(profile["integrationId"] for profile in answer.json()["data"])


def session(runtime: Any, tenant: Tenant, session_id: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    answer = runtime.request(
        "PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body={"customerSession": body}
    )
    assert answer.status == 200, answer.body
    return [
        (e["effectType"], e["props"].get("rejectionReason") or e["props"]["value"]) for e in answer.json()["effects"]
    ]


def redeem(runtime: Any, tenant: Tenant, profile: str, code: str) -> list[tuple[str, Any]]:
    session_id = uid("s")
    cart = [{"sku": "sku-1", "price": 50, "quantity": 1}]
    session(runtime, tenant, session_id, {"profileId": profile, "cartItems": cart, "couponCodes": [code]})
    return session(runtime, tenant, session_id, {"state": "closed"})


def reservation_entries(runtime: Any, tenant: Tenant, code: str) -> list[str]:
    """Who reserved a coupon, profile or not (the reservations route lists only existing profiles)."""
    answer = runtime.dynamodb_client().query(
        TableName=runtime.table_names["LedgersTable"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues=codec.to_item({":pk": items.reservations_pk(tenant.application_id, code)}),
    )
    return sorted(str(item["SK"]["S"]) for item in answer["Items"])


def inventory(runtime: Any, tenant: Tenant, profile: str) -> Any:
    path = f"/v1/customer_profiles/{profile}/inventory?coupons=true"
    return runtime.request("GET", path, headers=tenant.headers)


def states(runtime: Any, tenant: Tenant, profile: str) -> dict[str, tuple[str, int]]:
    answer = inventory(runtime, tenant, profile)
    assert answer.status == 200, answer.body
    return {c["value"]: (c["state"], c["profileRedemptionCount"]) for c in answer.json()["coupons"]}


def ledger_items_naming(runtime: Any, person: str) -> list[dict[str, Any]]:
    client, table = runtime.dynamodb_client(), runtime.table_names["LedgersTable"]
    found = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        found += [codec.from_item(item) for item in page["Items"] if person in str(item)]
    return found


def test_a_merge_moves_reservations_and_personal_codes_to_the_customer(runtime):
    tenant = tenant_with_campaign(runtime)
    device, customer = uid("dev"), uid("cust")
    anonymous = runtime.request("PUT", f"/v1/devices/{device}", headers=tenant.headers, body={}).json()
    anonymous_id = anonymous["integrationId"]
    add_coupon(runtime, tenant, "WALLET-1", reservation_limit=5)
    add_coupon(runtime, tenant, "BOTH-1", reservation_limit=5)
    personal_code(runtime, tenant, "PERSONAL-1", anonymous_id)
    reserve(runtime, tenant, "WALLET-1", anonymous_id)
    reserve(runtime, tenant, "BOTH-1", anonymous_id, customer)
    assert redeem(runtime, tenant, anonymous_id, "WALLET-1")[0] == ("acceptCoupon", "WALLET-1")

    claimed = runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={"deviceIds": [device]})
    assert claimed.status == 200, claimed.body
    assert runtime.request("GET", f"/v1/customers/{anonymous_id}", headers=tenant.headers).status == 404

    assert reserving(runtime, tenant, "WALLET-1") == [customer]
    assert reserving(runtime, tenant, "BOTH-1") == [customer]  # reserved by both: kept once
    assert stored(runtime, tenant, "BOTH-1").reservation_counter == 1
    assert stored(runtime, tenant, "PERSONAL-1").recipient_integration_id == customer
    assert states(runtime, tenant, customer) == {
        "WALLET-1": ("active", 1),  # the anonymous profile's redemption counts as the customer's
        "BOTH-1": ("active", 0),
        "PERSONAL-1": ("active", 0),
    }
    assert ledger_items_naming(runtime, anonymous_id) == []
    # The personal code is the customer's now: they redeem it, and the absorbed id could not.
    assert redeem(runtime, tenant, customer, "PERSONAL-1")[0] == ("acceptCoupon", "PERSONAL-1")
    assert redeem(runtime, tenant, anonymous_id, "PERSONAL-1")[0] == ("rejectCoupon", "CouponRecipientDoesNotMatch")


def seeded_customer(runtime: Any, tenant: Tenant) -> str:
    """A customer who redeemed SHARED once, reserved WALLET and holds a personal code."""
    customer = uid("cust")
    assert runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={}).status == 200
    add_coupon(runtime, tenant, "SHARED-1", usage_limit=10)
    add_coupon(runtime, tenant, "WALLET-1", reservation_limit=5)
    personal_code(runtime, tenant, "PERSONAL-1", customer)
    reserve(runtime, tenant, "WALLET-1", customer, "someone-else")
    assert redeem(runtime, tenant, customer, "SHARED-1")[0] == ("acceptCoupon", "SHARED-1")
    return customer


def test_an_erasure_takes_the_person_out_of_every_coupon_and_keeps_its_counters(runtime):
    tenant = tenant_with_campaign(runtime)
    customer = seeded_customer(runtime, tenant)
    exported = runtime.request("GET", f"/v1/customer_data/{customer}", headers=tenant.headers).json()
    coupons = {entry["code"]: entry for entry in exported["coupons"]}
    assert datetime.fromisoformat(coupons["WALLET-1"].pop("reservedAt")) <= datetime.now(UTC)
    assert coupons == {
        "SHARED-1": {
            "code": "SHARED-1",
            "campaignId": 10,
            "state": "active",
            "profileRedemptionCount": 1,
            "reservedAt": None,
            "recipient": False,
        },
        "WALLET-1": {
            "code": "WALLET-1",
            "campaignId": 10,
            "state": "active",
            "profileRedemptionCount": 0,
            "recipient": False,
        },
        "PERSONAL-1": {
            "code": "PERSONAL-1",
            "campaignId": 10,
            "state": "active",
            "profileRedemptionCount": 0,
            "reservedAt": None,
            "recipient": True,
        },
    }

    assert runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 204
    assert ledger_items_naming(runtime, customer) == []  # holdings, reservation entries, the recipient
    assert reservation_entries(runtime, tenant, "WALLET-1") == ["someone-else"]
    assert stored(runtime, tenant, "WALLET-1").reservation_counter == 1
    assert stored(runtime, tenant, "PERSONAL-1").recipient_integration_id is None  # the coupon stays
    assert stored(runtime, tenant, "SHARED-1").usage_counter == 1  # what the campaign gave stays counted
    assert runtime.request("GET", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 404


def test_an_anonymised_erasure_keeps_the_redemption_counts_under_the_tombstone(runtime):
    tenant = tenant_with_campaign(runtime)
    customer = seeded_customer(runtime, tenant)
    erased = runtime.request("DELETE", f"/v1/customer_data/{customer}?anonymise=true", headers=tenant.headers)
    assert erased.status == 204
    assert ledger_items_naming(runtime, customer) == []
    client, table = runtime.dynamodb_client(), runtime.table_names["LedgersTable"]
    kept = [
        codec.from_item(item)
        for page in client.get_paginator("scan").paginate(TableName=table)
        for item in page["Items"]
        if item["PK"]["S"].startswith(f"APP#{tenant.application_id}#HOLDER#anonymous-")
    ]
    assert [(item["SK"], item.get("used"), sorted(item)) for item in kept] == [
        ("COUPON#SHARED-1", 1, ["PK", "SK", "used"])
    ]
    assert stored(runtime, tenant, "WALLET-1").reservation_counter == 1


def test_the_inventory_answers_each_coupons_state(runtime):
    tenant = tenant_with_campaign(runtime)
    customer = uid("cust")
    assert runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={}).status == 200
    assert inventory(runtime, tenant, customer).json() == {"coupons": []}  # no holdings
    add_coupon(runtime, tenant, "ACTIVE-1")
    add_coupon(runtime, tenant, "USED-1", usage_limit=1)
    add_coupon(runtime, tenant, "PENDING-1", start_date=NOW + DAY)
    add_coupon(runtime, tenant, "DISABLED-1", campaign_id=99)  # its campaign is not live
    add_coupon(runtime, tenant, "PUBLIC-1")  # redeemed without a reservation: not listed
    for code in ("ACTIVE-1", "USED-1", "PENDING-1", "DISABLED-1"):
        reserve(runtime, tenant, code, customer)
    assert redeem(runtime, tenant, customer, "USED-1")[0] == ("acceptCoupon", "USED-1")
    assert redeem(runtime, tenant, customer, "PUBLIC-1")[0] == ("acceptCoupon", "PUBLIC-1")
    # Expired after the reservation (a reservation of an expired coupon is refused).
    add_coupon(runtime, tenant, "EXPIRED-1", expiry_date=NOW + DAY)
    reserve(runtime, tenant, "EXPIRED-1", customer)
    add_coupon(runtime, tenant, "EXPIRED-1", expiry_date=NOW - DAY)

    assert states(runtime, tenant, customer) == {
        "ACTIVE-1": ("active", 0),
        "USED-1": ("used", 1),
        "PENDING-1": ("pending", 0),
        "DISABLED-1": ("disabled", 0),
        "EXPIRED-1": ("expired", 0),
    }
    both = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory?coupons=true&profile=true", headers=tenant.headers
    ).json()
    assert both["profile"]["integrationId"] == customer and len(both["coupons"]) == 5
    refused = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory?giveaways=true", headers=tenant.headers
    )
    assert refused.status == 400 and refused.json()["code"] == "giveaways_unavailable"


def test_another_application_sees_none_of_a_persons_coupons(runtime):
    tenant, other = tenant_with_campaign(runtime), tenant_with_campaign(runtime)
    customer = seeded_customer(runtime, tenant)
    assert inventory(runtime, other, customer).status == 404  # no such profile there
    assert runtime.request("PUT", f"/v1/customers/{customer}", headers=other.headers, body={}).status == 200
    assert inventory(runtime, other, customer).json() == {"coupons": []}
    assert runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=other.headers).status == 204
    assert set(states(runtime, tenant, customer)) == {"WALLET-1", "PERSONAL-1"}  # untouched by the other's erasure
    assert stored(runtime, tenant, "WALLET-1").reservation_counter == 2


def test_a_session_closed_before_a_merge_can_still_be_cancelled(runtime):
    tenant = tenant_with_campaign(runtime)
    device, customer = uid("dev"), uid("cust")
    anonymous_id = runtime.request("PUT", f"/v1/devices/{device}", headers=tenant.headers, body={}).json()[
        "integrationId"
    ]
    add_coupon(runtime, tenant, "BEFORE-MERGE", usage_limit=5)
    session_id = uid("s")
    cart = [{"sku": "sku-1", "price": 50, "quantity": 1}]
    session(
        runtime, tenant, session_id, {"profileId": anonymous_id, "cartItems": cart, "couponCodes": ["BEFORE-MERGE"]}
    )
    assert session(runtime, tenant, session_id, {"state": "closed"})[0] == ("acceptCoupon", "BEFORE-MERGE")
    claimed = runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={"deviceIds": [device]})
    assert claimed.status == 200, claimed.body
    # The redemption count moved to the customer's holding; the cancel gives the coupon's use back all the same.
    assert session(runtime, tenant, session_id, {"state": "cancelled"})[0] == ("rollbackCoupon", "BEFORE-MERGE")
    assert stored(runtime, tenant, "BEFORE-MERGE").usage_counter == 0
    gone = runtime.request("GET", f"/v1/customers/{anonymous_id}", headers=tenant.headers)
    assert gone.status == 404, gone.body  # the absorbed profile is not brought back by the cancel
