"""The loyalty expiry job against DynamoDB Local, through the local runtime's LoyaltyExpiryFunction: it finds due
ledgers by Querying the time indexes (never a Scan), stores what time did (pending points activated, points
expired) and records the outbox events in the same transaction, each once however often it runs."""

from __future__ import annotations

import importlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from patron.dynamo import codec
from tests.conftest import Tenant
from tests.integration.test_loyalty_management import call, management, member_path
from tests.integration.test_session_loyalty import balances, loyalty_tenant, new_id, session

JOB = {"job": "loyalty-expiry"}


def run_job(runtime: Any) -> dict[str, Any]:
    report: dict[str, Any] = runtime.registry.invoke("LoyaltyExpiryFunction", JOB)
    assert report["finished"] is True
    return report


def outbox_of(runtime: Any, tenant: Tenant, member: str) -> list[dict[str, Any]]:
    """The member's outbox records (GSI1 by customer, then each record read)."""
    client, table = runtime.dynamodb_client(), runtime.table_names["OutboxTable"]
    keys = client.query(
        TableName=table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues=codec.to_item({":pk": f"APP#{tenant.application_id}#CUSTOMER#{member}"}),
    )["Items"]
    found = [client.get_item(TableName=table, Key={"PK": k["PK"], "SK": k["SK"]}, ConsistentRead=True) for k in keys]
    return [codec.from_item(item["Item"]) for item in found if "Item" in item]


def kinds_of(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((str(r["kind"]), str(r["entityId"])) for r in records)


def member_with_points(runtime: Any, tenant: Tenant, desk: dict[str, str], **points: Any) -> str:
    member = new_id("member")
    session(runtime, tenant, new_id("s"), member, 5, state="closed")  # a profile, no points (a small cart)
    added = call(runtime, desk, member_path(member, "add_points"), {"name": "Gift", **points})
    assert added.status == 201, added.body
    return member


def test_points_expire_and_the_job_records_it_once_however_often_it_runs(runtime, meter):
    tenant = loyalty_tenant(runtime)
    desk = management(runtime, tenant)
    member = member_with_points(runtime, tenant, desk, points=1200, validityDuration="3s")
    lot = call(runtime, desk, member_path(member, "add_points"), {"points": 10, "name": "Stays"})
    assert lot.status == 201

    by_hand = {(r["kind"], r["entityId"]) for r in outbox_of(runtime, tenant, member)}
    assert {kind for kind, _ in by_hand} == {"loyalty_balance", "loyalty_tier"}  # the additions' own

    def new_records() -> list[dict[str, Any]]:
        return [r for r in outbox_of(runtime, tenant, member) if (r["kind"], r["entityId"]) not in by_hand]

    meter.reset()
    run_job(runtime)  # the 1200 points expire within the notice window (30 days): noticed, once
    run_job(runtime)
    [notice] = new_records()
    assert notice["kind"] == "loyalty_expiring"
    assert notice["payload"]["points"] == 1200 and notice["payload"]["programId"] == 1

    time.sleep(3.2)
    assert balances(runtime, tenant, member).json()["balance"]["activePoints"] == 10  # exact before the job ran
    first, second = run_job(runtime), run_job(runtime)
    assert first["written"] >= 1
    records = new_records()
    kinds = [kind for kind, _ in kinds_of(records)]
    # Once each, though the job ran twice.
    assert sorted(kinds) == ["loyalty_balance", "loyalty_expired", "loyalty_expiring", "loyalty_tier"]
    expired = next(r for r in records if r["kind"] == "loyalty_expired")
    assert expired["payload"]["points"] == 1200
    tier = next(r for r in records if r["kind"] == "loyalty_tier")
    assert (tier["payload"]["fromTier"], tier["payload"]["toTier"]) == ("Gold", "Silver")
    balance = next(r for r in records if r["kind"] == "loyalty_balance")
    assert balance["payload"]["activePoints"] == 10
    assert member not in str(balance["payload"]) and member not in str(expired["payload"])  # ids in the record only
    assert second["examined"] >= second["written"]

    # The stored ledger is advanced: a balance read shows the same, and its history lists the expired points.
    assert balances(runtime, tenant, member).json()["balance"]["expiredPoints"] == 1200

    operations = {c.operation for c in meter.calls}
    assert "Scan" not in operations
    assert "Query" in operations


def test_pending_points_with_a_duration_activate_when_the_job_runs(runtime):
    tenant = loyalty_tenant(runtime)
    desk = management(runtime, tenant)
    member = member_with_points(runtime, tenant, desk, points=40, pendingDuration="2s")
    assert balances(runtime, tenant, member).json()["balance"]["pendingPoints"] == 40
    time.sleep(2.2)
    run_job(runtime)
    records = outbox_of(runtime, tenant, member)
    recorded = sorted(
        (r["payload"]["version"], r["payload"]["activePoints"], r["payload"]["pendingPoints"])
        for r in records
        if r["kind"] == "loyalty_balance"
    )
    assert recorded == [(1, 0, 40), (2, 40, 0)]  # added pending, then activated by the job

    # The ledger item itself is stored advanced; it stays in the due index for the points' expiry, a year ahead.
    client = runtime.dynamodb_client()
    key = {"PK": f"APP#{tenant.application_id}#LOYALTY#1#PROFILE#{member}", "SK": "LEDGER"}
    item = codec.from_item(
        client.get_item(TableName=runtime.table_names["LedgersTable"], Key=codec.to_item(key), ConsistentRead=True)[
            "Item"
        ]
    )
    assert item["GSI1PK"].startswith("LOYALTY#DUE#")
    assert item["GSI1SK"] > (datetime.now(UTC) + timedelta(days=300)).isoformat()


def test_points_changed_by_hand_record_the_balance_and_the_tier_in_the_same_transaction(runtime):
    tenant = loyalty_tenant(runtime)
    desk = management(runtime, tenant)
    member = member_with_points(runtime, tenant, desk, points=900)
    more = call(runtime, desk, member_path(member, "add_points"), {"points": 200, "name": "Bonus"})
    assert more.status == 201
    records = outbox_of(runtime, tenant, member)
    balances_recorded = sorted(
        (r["payload"]["version"], r["payload"]["activePoints"]) for r in records if r["kind"] == "loyalty_balance"
    )
    assert balances_recorded == [(1, 900), (2, 1100)]
    tiers = sorted(
        (r["payload"]["version"], r["payload"]["fromTier"], r["payload"]["toTier"])
        for r in records
        if r["kind"] == "loyalty_tier"
    )
    assert tiers == [(1, None, "Silver"), (2, "Silver", "Gold")]  # Silver from the first points, then Gold


def test_a_closed_session_records_its_points_balance_with_the_close(runtime):
    tenant = loyalty_tenant(runtime)
    member = new_id("member")
    session(runtime, tenant, new_id("s"), member, 50, state="closed")  # a point per euro
    [balance] = [r for r in outbox_of(runtime, tenant, member) if r["kind"] == "loyalty_balance"]
    assert balance["payload"] == {
        "programId": 1,
        "subledgerId": "",
        "version": 1,
        "activePoints": 50,
        "pendingPoints": 0,
        "negativePoints": 0,
    }


def test_a_run_out_of_time_stops_before_its_first_page_and_leaves_everything_due(runtime):
    tenant = loyalty_tenant(runtime)
    desk = management(runtime, tenant)
    member = member_with_points(runtime, tenant, desk, points=40, pendingDuration="1s")
    time.sleep(1.2)
    job = importlib.import_module(runtime.registry.functions["LoyaltyExpiryFunction"].module).expiry_job()
    report = job.run(datetime.now(UTC), lambda: True)
    assert (report.finished, report.written) == (False, 0)
    assert [r for r in outbox_of(runtime, tenant, member) if r["payload"].get("version") == 2] == []
    assert run_job(runtime)["written"] >= 1  # the next run takes it
    assert [r["kind"] for r in outbox_of(runtime, tenant, member) if r["payload"].get("version") == 2] == [
        "loyalty_balance"
    ]


def test_the_job_reevaluates_an_advanced_tier_when_it_expires_and_records_the_change(runtime):
    """Advanced tiers (`tiersExpireIn`): Gold is kept after spending until it expires; the job, at the expiry the
    time index names, moves the member one tier down and records the change once."""
    from tests.conftest import new_tenant
    from tests.integration.rulesets import publish
    from tests.integration.test_session_loyalty import EARN, PROGRAM

    tenant = new_tenant(runtime)
    program = {**PROGRAM, "tiersExpireIn": "2s"}
    publish(runtime, tenant.application_id, {"loyaltyPrograms": [program], "campaigns": [EARN]})
    desk = management(runtime, tenant)
    member = member_with_points(runtime, tenant, desk, points=1200)
    spent = call(runtime, desk, member_path(member, "deduct_points"), {"points": 1100, "name": "Spent"})
    assert spent.status == 201, spent.body
    assert balances(runtime, tenant, member, "?includeTiers=true").json()["balance"]["currentTier"]["name"] == "Gold"
    time.sleep(2.2)
    run_job(runtime)
    run_job(runtime)
    moves = [
        (r["payload"]["fromTier"], r["payload"]["toTier"])
        for r in outbox_of(runtime, tenant, member)
        if r["kind"] == "loyalty_tier"
    ]
    assert sorted(moves, key=str) == sorted([(None, "Gold"), ("Gold", "Silver")], key=str)
    assert balances(runtime, tenant, member, "?includeTiers=true").json()["balance"]["currentTier"]["name"] == "Silver"
