"""Loyalty ledgers through the person's lifecycle, through the local runtime against DynamoDB Local: a merge moves
an anonymous profile's points to the customer (its lots kept), an erasure removes the person's ledgers and
entries, an anonymisation keeps the points under the tombstone, the export lists balances and transactions, and
another application's erasure touches none of them."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Tenant
from tests.integration.test_loyalty_management import call, management, member_path
from tests.integration.test_referral_lifecycle import ledger_items
from tests.integration.test_session_loyalty import balances, loyalty_tenant, new_id, session


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def customer(runtime: Any, tenant: Tenant, body: dict[str, Any] | None = None) -> str:
    person = uid("cust")
    answer = runtime.request("PUT", f"/v1/customers/{person}", headers=tenant.headers, body=body or {})
    assert answer.status == 200, answer.body
    return person


def test_a_merge_moves_an_anonymous_profiles_points_to_the_customer(runtime):
    tenant = loyalty_tenant(runtime)
    device = uid("dev")
    anonymous = runtime.request("PUT", f"/v1/devices/{device}", headers=tenant.headers, body={}).json()
    anonymous_id = anonymous["integrationId"]
    session(runtime, tenant, new_id("s"), anonymous_id, 120, state="closed")
    person = customer(runtime, tenant)
    session(runtime, tenant, new_id("s"), person, 30, state="closed")

    claimed = runtime.request("PUT", f"/v1/customers/{person}", headers=tenant.headers, body={"deviceIds": [device]})
    assert claimed.status == 200, claimed.body

    balance = balances(runtime, tenant, person).json()["balance"]
    assert balance["activePoints"] == 150
    assert ledger_items(runtime, tenant, anonymous_id) == []  # nothing left under the anonymous id
    exported = runtime.request("GET", f"/v1/customer_data/{person}", headers=tenant.headers).json()["loyalty"]
    [program] = exported["programs"]
    assert program["programId"] == 1 and program["balances"]["main"]["activePoints"] == 150
    assert sorted(entry["amount"] for entry in program["transactions"]) == ["120", "30"]
    assert len(program["balances"]["main"]["lots"]) == 2  # the lots kept as they were


def test_an_erasure_removes_the_persons_ledgers_and_entries(runtime):
    tenant = loyalty_tenant(runtime)
    person = customer(runtime, tenant)
    session(runtime, tenant, new_id("s"), person, 200, state="closed")
    assert call(runtime, management(runtime, tenant), member_path(person, "add_points"), {"points": 5}).status == 201
    assert ledger_items(runtime, tenant, person) != []
    assert runtime.request("DELETE", f"/v1/customer_data/{person}", headers=tenant.headers).status == 204
    assert ledger_items(runtime, tenant, f"#PROFILE#{person}") == []
    assert ledger_items(runtime, tenant, f"#MEMBER#{person}") == []


def test_an_anonymised_erasure_keeps_the_points_under_the_tombstone(runtime):
    tenant = loyalty_tenant(runtime)
    person = customer(runtime, tenant)
    session(runtime, tenant, new_id("s"), person, 75, state="closed")
    erased = runtime.request("DELETE", f"/v1/customer_data/{person}?anonymise=true", headers=tenant.headers)
    assert erased.status == 204
    assert ledger_items(runtime, tenant, f"#PROFILE#{person}") == []
    kept = [item for item in ledger_items(runtime, tenant, "#LOYALTY#1#PROFILE#anonymous-") if item["SK"] == "LEDGER"]
    assert len(kept) == 1 and '"75' in kept[0]["ledger"]


def test_another_applications_erasure_touches_none_of_a_persons_points(runtime):
    tenant, other = loyalty_tenant(runtime), loyalty_tenant(runtime)
    person = customer(runtime, tenant)
    session(runtime, tenant, new_id("s"), person, 40, state="closed")
    assert runtime.request("PUT", f"/v1/customers/{person}", headers=other.headers, body={}).status == 200
    assert runtime.request("DELETE", f"/v1/customer_data/{person}", headers=other.headers).status == 204
    assert balances(runtime, tenant, person).json()["balance"]["activePoints"] == 40


def test_the_inventory_answers_the_persons_ledgers(runtime):
    tenant = loyalty_tenant(runtime)
    person = customer(runtime, tenant)
    session(runtime, tenant, new_id("s"), person, 1200, state="closed")
    path = f"/v1/customer_profiles/{person}/inventory?loyalty=true"
    answer = runtime.request("GET", path, headers=tenant.headers)
    assert answer.status == 200, answer.body
    program = answer.json()["loyalty"]["programs"]["1"]
    assert program["ledger"]["currentBalance"] == 1200 and program["ledger"]["currentTier"]["name"] == "Gold"
    nobody = customer(runtime, tenant)
    empty = runtime.request("GET", f"/v1/customer_profiles/{nobody}/inventory?loyalty=true", headers=tenant.headers)
    assert empty.json()["loyalty"] == {"programs": {}}
