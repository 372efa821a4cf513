"""Referrals through the person's lifecycle and the customer inventory, through the local runtime against DynamoDB
Local: a merge moves an anonymous profile's codes and what it was referred in to the customer, an erasure takes the
person out of every code and keeps the codes' counters, an anonymisation keeps the counts under the tombstone, the
export lists the codes, the inventory answers each code with its referred customers, and another application sees
none of it."""

from __future__ import annotations

import uuid
from typing import Any

from patron.dynamo import codec
from patron.referrals import items
from tests.conftest import Tenant
from tests.integration.referrals import CAMPAIGN, add_referral, stored
from tests.integration.rulesets import tenant_with
from tests.integration.test_session_referrals import CART, new_id, put


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def refer(runtime: Any, tenant: Tenant, friend: str, code: str) -> list[tuple[str, Any]]:
    """A friend's session presenting `code`, closed."""
    session_id = new_id()
    put(runtime, tenant, session_id, {"profileId": friend, "cartItems": CART, "referralCode": code})
    return put(runtime, tenant, session_id, {"state": "closed"})


def inventory(runtime: Any, tenant: Tenant, profile: str, query: str = "referrals=true") -> Any:
    return runtime.request("GET", f"/v1/customer_profiles/{profile}/inventory?{query}", headers=tenant.headers)


def codes(runtime: Any, tenant: Tenant, profile: str) -> dict[str, tuple[int, list[str]]]:
    answer = inventory(runtime, tenant, profile)
    assert answer.status == 200, answer.body
    return {r["code"]: (r["usageCounter"], r["referredCustomers"]) for r in answer.json()["referrals"]}


def ledger_items(runtime: Any, tenant: Tenant, naming: str) -> list[dict[str, Any]]:
    client, table = runtime.dynamodb_client(), runtime.table_names["LedgersTable"]
    prefix = f"APP#{tenant.application_id}#"
    found = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        found += [
            codec.from_item(item)
            for item in page["Items"]
            if item["PK"]["S"].startswith(prefix) and naming in str(item)
        ]
    return found


def customer(runtime: Any, tenant: Tenant) -> str:
    person = uid("cust")
    assert runtime.request("PUT", f"/v1/customers/{person}", headers=tenant.headers, body={}).status == 200
    return person


def test_a_merge_moves_codes_and_referrals_to_the_customer(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    device, person = uid("dev"), uid("cust")
    anonymous_id = runtime.request("PUT", f"/v1/devices/{device}", headers=tenant.headers, body={}).json()[
        "integrationId"
    ]
    add_referral(runtime, tenant, "ANON-SHARES", advocate=anonymous_id, usage_limit=5)
    add_referral(runtime, tenant, "ADAM-REF")
    add_referral(runtime, tenant, "ADAM-OTHER")
    add_referral(runtime, tenant, "FOR-ANON", friend_integration_id=anonymous_id)
    friend = uid("fran")
    assert refer(runtime, tenant, friend, "ANON-SHARES")[0] == ("acceptReferral", "ANON-SHARES")
    assert refer(runtime, tenant, anonymous_id, "ADAM-REF")[0] == ("acceptReferral", "ADAM-REF")

    claimed = runtime.request("PUT", f"/v1/customers/{person}", headers=tenant.headers, body={"deviceIds": [device]})
    assert claimed.status == 200, claimed.body

    assert stored(runtime, tenant, "ANON-SHARES").advocate_integration_id == person
    assert stored(runtime, tenant, "FOR-ANON").friend_integration_id == person
    assert codes(runtime, tenant, person) == {"ANON-SHARES": (1, [friend])}
    assert ledger_items(runtime, tenant, anonymous_id) == []
    # Referred in the campaign as the anonymous profile: the customer is, and is not referred again.
    again = put(runtime, tenant, new_id(), {"profileId": person, "cartItems": CART, "referralCode": "ADAM-OTHER"})
    assert again == [("rejectReferral", "ReferralCustomerAlreadyReferred")]
    # The code made out to the anonymous profile is the customer's now.
    for_anon = put(
        runtime, tenant, new_id(), {"profileId": anonymous_id, "cartItems": CART, "referralCode": "FOR-ANON"}
    )
    assert for_anon == [("rejectReferral", "ReferralRecipientDoesNotMatch")]


def seeded(runtime: Any, tenant: Tenant) -> tuple[str, str]:
    """A customer whose code referred a friend, and who was referred by adam's code. (customer, friend)"""
    person, friend = customer(runtime, tenant), uid("fran")
    add_referral(runtime, tenant, "CUST-REF", advocate=person, usage_limit=3)
    add_referral(runtime, tenant, "ADAM-REF")
    assert refer(runtime, tenant, friend, "CUST-REF")[0] == ("acceptReferral", "CUST-REF")
    assert refer(runtime, tenant, person, "ADAM-REF")[0] == ("acceptReferral", "ADAM-REF")
    return person, friend


def test_an_erasure_takes_the_person_out_of_every_code_and_keeps_its_counters(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    person, friend = seeded(runtime, tenant)
    exported = runtime.request("GET", f"/v1/customer_data/{person}", headers=tenant.headers).json()["referrals"]
    assert [(c["code"], c["campaignId"], c["usageCounter"], c["usageLimit"]) for c in exported["advocateCodes"]] == [
        ("CUST-REF", 20, 1, 3)
    ]
    assert exported["referredBy"] == [{"campaignId": 20, "code": "ADAM-REF"}] and exported["personalCodes"] == []

    assert runtime.request("DELETE", f"/v1/customer_data/{person}", headers=tenant.headers).status == 204
    assert ledger_items(runtime, tenant, person) == []  # advocate entry, friend record, referred entry, the id
    erased = stored(runtime, tenant, "CUST-REF")
    assert (erased.advocate_erased, erased.usage_counter) == (True, 1)  # what the campaign gave stays counted
    assert stored(runtime, tenant, "ADAM-REF").usage_counter == 1
    client, table = runtime.dynamodb_client(), runtime.table_names["LedgersTable"]
    referred = client.query(**items.referred_query(table, tenant.application_id, "CUST-REF"))["Items"]
    assert [item["SK"]["S"] for item in referred] == [friend]  # the friend's own record stays


def test_an_anonymised_erasure_keeps_the_codes_under_the_tombstone(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    person, _ = seeded(runtime, tenant)
    erased = runtime.request("DELETE", f"/v1/customer_data/{person}?anonymise=true", headers=tenant.headers)
    assert erased.status == 204
    assert ledger_items(runtime, tenant, person) == []
    kept = stored(runtime, tenant, "CUST-REF")
    assert kept.advocate_erased and kept.advocate_integration_id.startswith("anonymous-")
    client, table = runtime.dynamodb_client(), runtime.table_names["LedgersTable"]
    referred = client.query(**items.referred_query(table, tenant.application_id, "ADAM-REF"))["Items"]
    assert [item["SK"]["S"] for item in referred] == [kept.advocate_integration_id]  # the same tombstone


def test_the_inventory_answers_the_codes_with_their_referred_customers(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    person = customer(runtime, tenant)
    assert inventory(runtime, tenant, person).json() == {"referrals": []}
    add_referral(runtime, tenant, "MINE-1", advocate=person, usage_limit=5)
    add_referral(runtime, tenant, "MINE-2", advocate=person)
    add_referral(runtime, tenant, "NOT-MINE")
    friends = sorted(uid("f") for _ in range(2))
    for friend in friends:
        assert refer(runtime, tenant, friend, "MINE-1")[0] == ("acceptReferral", "MINE-1")
    assert refer(runtime, tenant, uid("g"), "NOT-MINE")[0] == ("acceptReferral", "NOT-MINE")

    assert codes(runtime, tenant, person) == {"MINE-1": (2, friends), "MINE-2": (0, [])}
    both = inventory(runtime, tenant, person, "referrals=true&coupons=true&profile=true").json()
    assert both["profile"]["integrationId"] == person and both["coupons"] == [] and len(both["referrals"]) == 2
    first = both["referrals"][0]
    assert (first["campaignId"], first["advocateProfileIntegrationId"], first["usageLimit"]) == (20, person, 5)
    assert inventory(runtime, tenant, uid("nobody")).status == 404


def test_another_application_sees_none_of_a_persons_referrals(runtime):
    tenant, other = tenant_with(runtime, CAMPAIGN), tenant_with(runtime, CAMPAIGN)
    person, _ = seeded(runtime, tenant)
    assert inventory(runtime, other, person).status == 404
    assert runtime.request("PUT", f"/v1/customers/{person}", headers=other.headers, body={}).status == 200
    assert inventory(runtime, other, person).json() == {"referrals": []}
    assert runtime.request("DELETE", f"/v1/customer_data/{person}", headers=other.headers).status == 204
    assert set(codes(runtime, tenant, person)) == {"CUST-REF"}  # untouched by the other's erasure
    assert stored(runtime, tenant, "CUST-REF").advocate_integration_id == person
