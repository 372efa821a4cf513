"""Loyalty points changed by hand through the management API, against DynamoDB Local: an addition, a deduction
and a transfer are each one transaction with an entry per member; a reference makes a retry change nothing; a
deduction beyond the balance is refused; an integration key, another application's key, an unknown program or
member are refused."""

from __future__ import annotations

import uuid
from typing import Any

from patron.applications.model import Scope
from tests.conftest import Tenant
from tests.integration.test_session_loyalty import balances, loyalty_tenant, new_id, session

MEMBER = "/v1/management/loyalty_programs/{program}/profile/{member}"


def management(runtime: Any, tenant: Tenant) -> dict[str, str]:
    key = runtime.applications().create_key(tenant.application_id, Scope.MANAGEMENT, "desk").secret
    return {"Authorization": f"ApiKey-v1 {key}"}


def call(runtime: Any, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    return runtime.request("POST", path, headers=headers, body=body)


def member_path(member: str, action: str, program: int | str = 1) -> str:
    return MEMBER.format(program=program, member=member) + f"/{action}"


def test_points_added_deducted_and_transferred_by_hand_are_entries_of_one_transaction_each(runtime):
    tenant = loyalty_tenant(runtime)
    desk = management(runtime, tenant)
    alice, bob = new_id("alice"), new_id("bob")
    for member in (alice, bob):
        session(runtime, tenant, new_id("s"), member, 5, state="closed")  # a profile, no points (a small cart)

    added = call(runtime, desk, member_path(alice, "add_points"), {"points": 150, "name": "Apology"})
    assert added.status == 201, added.body
    [entry] = added.json()["entries"]
    assert (entry["type"], entry["amount"], entry["name"], entry["integrationId"]) == (
        "addition",
        150,
        "Apology",
        alice,
    )
    assert entry["expiryDate"]  # the program's 365 days

    taken = call(runtime, desk, member_path(alice, "deduct_points"), {"points": 20.5})
    assert taken.status == 201, taken.body
    refused = call(runtime, desk, member_path(alice, "deduct_points"), {"points": 1000})
    assert refused.status == 400 and refused.json()["code"] == "insufficient_points"

    moved = call(
        runtime,
        desk,
        "/v1/management/loyalty_programs/1/transfers",
        {"fromIntegrationId": alice, "toIntegrationId": bob, "points": 29.5, "reference": "move-1"},
    )
    assert moved.status == 201, moved.body
    assert [(e["integrationId"], e["type"]) for e in moved.json()["entries"]] == [
        (alice, "subtraction"),
        (bob, "addition"),
    ]
    assert balances(runtime, tenant, alice).json()["balance"]["activePoints"] == 100
    assert balances(runtime, tenant, bob).json()["balance"]["activePoints"] == 29.5

    # The same reference again: answered, nothing moves.
    again = call(
        runtime,
        desk,
        "/v1/management/loyalty_programs/1/transfers",
        {"fromIntegrationId": alice, "toIntegrationId": bob, "points": 29.5, "reference": "move-1"},
    )
    assert again.status == 200 and again.json()["replayed"] is True
    assert again.json()["transactionUUID"] == moved.json()["transactionUUID"]
    assert balances(runtime, tenant, alice).json()["balance"]["activePoints"] == 100


def test_bad_changes_are_refused_naming_the_field_and_nothing_moves(runtime):
    tenant = loyalty_tenant(runtime)
    desk, member = management(runtime, tenant), new_id("m")
    session(runtime, tenant, new_id("s"), member, 5, state="closed")
    for body, field in (
        ({"points": 0}, "points"),
        ({"points": -5}, "points"),
        ({"points": 1.234}, "points"),
        ({"points": "lots"}, "points"),
        ({"points": 5, "subledgerId": "nope"}, "subledgerId"),
        ({"points": 5, "validityDuration": "forever"}, "validityDuration"),
        ({"points": 5, "surprise": True}, "surprise"),
    ):
        answer = call(runtime, desk, member_path(member, "add_points"), body)
        assert answer.status == 400, (body, answer.body)
        assert field in answer.body.decode(), (body, answer.body)
    assert balances(runtime, tenant, member).json()["balance"]["activePoints"] == 0
    same = {"fromIntegrationId": member, "toIntegrationId": member, "points": 1}
    assert call(runtime, desk, "/v1/management/loyalty_programs/1/transfers", same).status == 400


def test_only_a_management_key_of_the_application_reaches_its_members(runtime):
    tenant, other = loyalty_tenant(runtime), loyalty_tenant(runtime)
    member = new_id("m")
    session(runtime, tenant, new_id("s"), member, 5, state="closed")
    body = {"points": 10}
    assert call(runtime, tenant.headers, member_path(member, "add_points"), body).status == 403
    assert call(runtime, management(runtime, other), member_path(member, "add_points"), body).status == 404
    desk = management(runtime, tenant)
    assert call(runtime, desk, member_path(member, "add_points", program=2), body).status == 404
    assert call(runtime, desk, member_path(member, "add_points", program="x"), body).status == 404
    assert call(runtime, desk, member_path(f"nobody-{uuid.uuid4().hex[:6]}", "add_points"), body).status == 404
