"""`POST /v1/management/rulesets/simulate` through the local runtime: sessions created by PUT /v2/customer_sessions,
then re-evaluated under the live and a candidate ruleset; newest first, N of them; another application's sessions
never read; nothing written; the management scope; the DynamoDB calls (no Scan, no write)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from patron.dynamo.client import dynamodb_client
from patron_local.functions import CURRENT_FUNCTION
from tests.conftest import Tenant
from tests.integration.test_campaigns_api import FREE_SHIPPING, RULESETS, TEN_PERCENT, body, management

SIMULATE = f"{RULESETS}/simulate"
FIVE_OFF: dict[str, Any] = {
    "id": 3,
    "name": "Five off over 50",
    "rules": [
        {
            "title": "Cart of 50 or more",
            "condition": "session.cartItemTotal >= 50",
            "effects": [{"type": "setDiscount", "name": "5 off", "value": 5}],
        }
    ],
}


def twenty_percent() -> dict[str, Any]:
    changed = copy.deepcopy(TEN_PERCENT)
    changed["rules"][0]["effects"][0]["value"] = "session.total * 0.2"
    return changed


def put_session(runtime: Any, tenant: Tenant, session_id: str, price: int, state: str = "open") -> None:
    session = {
        "profileId": f"p-{session_id}",
        "state": state,
        "cartItems": [{"sku": "shoe", "price": price, "quantity": 1}],
    }
    answer = runtime.request(
        "PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body={"customerSession": session}
    )
    assert answer.status == 200, answer.body


def campaigns(answer: Any) -> dict[int, dict[str, Any]]:
    return {campaign["id"]: campaign for campaign in answer.json()["campaigns"]}


def test_simulate_reports_what_changes_per_campaign_over_the_newest_sessions(runtime, tenant, other_tenant):
    ops = management(runtime, tenant)
    assert runtime.request("POST", RULESETS, headers=ops, body=body(TEN_PERCENT)).status == 201
    run = uuid.uuid4().hex[:6]
    ids = [f"{run}-big", f"{run}-middle", f"{run}-small", f"{run}-cancelled"]
    put_session(runtime, tenant, ids[0], 120, state="closed")  # 10% = 12
    put_session(runtime, tenant, ids[1], 60)
    put_session(runtime, tenant, ids[2], 20)
    put_session(runtime, tenant, ids[3], 300)
    put_session(runtime, tenant, ids[3], 300, state="cancelled")
    # Another application's sessions, newer and larger: never read.
    other_ops = management(runtime, other_tenant)
    assert runtime.request("POST", RULESETS, headers=other_ops, body=body(TEN_PERCENT)).status == 201
    for n in range(3):
        put_session(runtime, other_tenant, f"{run}-other-{n}", 1000)
    before = runtime.request("GET", f"/v2/customer_sessions/{ids[0]}", headers=tenant.headers).json()

    answer = runtime.request("POST", SIMULATE, headers=ops, body=body(twenty_percent(), FIVE_OFF, sessions=10))
    assert answer.status == 200, answer.body
    report = answer.json()
    assert (report["basedOn"], report["sessions"], report["evaluated"], report["skipped"]) == (1, 4, 3, 1)
    assert report["sessionsChanged"] == 2
    assert (report["discountBefore"], report["discountAfter"], report["discountDifference"]) == (12, 34, 22)
    changed, added = campaigns(answer)[1], campaigns(answer)[3]
    assert (changed["change"], changed["triggeredBefore"], changed["triggeredAfter"]) == ("changed", 1, 1)
    assert (changed["discountBefore"], changed["discountAfter"], changed["changedSessions"]) == (12, 24, [ids[0]])
    assert (added["change"], added["triggeredAfter"], added["sessionsChanged"], added["discountAfter"]) == (
        "added",
        2,
        2,
        10,
    )
    assert added["changedSessions"] == [ids[1], ids[0]]  # newest first
    assert all(
        not session_id.startswith(f"{run}-other") for c in report["campaigns"] for session_id in c["changedSessions"]
    )

    # The newest N only: the cancelled session (updated last) and the small one.
    newest = runtime.request("POST", SIMULATE, headers=ops, body=body(twenty_percent(), FIVE_OFF, sessions=2)).json()
    assert (newest["sessions"], newest["evaluated"], newest["sessionsChanged"]) == (2, 1, 0)

    # Dry: the live version and the sessions are as they were.
    assert runtime.request("GET", f"{RULESETS}/live", headers=ops).json()["version"] == 1
    assert runtime.request("GET", f"/v2/customer_sessions/{ids[0]}", headers=tenant.headers).json() == before


def test_simulate_before_any_publish_compares_against_nothing(runtime, tenant):
    ops = management(runtime, tenant)
    put_session(runtime, tenant, f"{uuid.uuid4().hex[:6]}-cart", 75)
    report = runtime.request("POST", SIMULATE, headers=ops, body=body(FREE_SHIPPING, FIVE_OFF)).json()
    assert report["basedOn"] is None and (report["discountBefore"], report["discountAfter"]) == (0, 5)
    assert [(c["id"], c["change"], c["triggeredAfter"]) for c in report["campaigns"]] == [
        (2, "added", 1),
        (3, "added", 1),
    ]


def test_an_application_without_sessions_gets_an_empty_report(runtime, tenant):
    ops = management(runtime, tenant)
    report = runtime.request("POST", SIMULATE, headers=ops, body=body(TEN_PERCENT)).json()
    assert (report["sessions"], report["evaluated"], report["oldest"], report["newest"]) == (0, 0, None, None)
    assert [(c["id"], c["change"], c["triggeredAfter"]) for c in report["campaigns"]] == [(1, "added", 0)]


def test_simulate_is_a_management_route_with_bounded_sessions_and_checked_definitions(runtime, tenant):
    ops = management(runtime, tenant)
    refused = runtime.request("POST", SIMULATE, headers=tenant.headers, body=body(TEN_PERCENT))
    assert refused.status == 403
    too_many = runtime.request("POST", SIMULATE, headers=ops, body=body(TEN_PERCENT, sessions=1001))
    assert too_many.status == 400 and too_many.json()["errors"][0]["path"] == "sessions"
    assert runtime.request("POST", SIMULATE, headers=ops, body=body(TEN_PERCENT, sessions=0)).status == 400
    broken = copy.deepcopy(TEN_PERCENT)
    broken["rules"][0]["condition"] = "session.cartItemTotl >= 100"
    invalid = runtime.request("POST", SIMULATE, headers=ops, body=body(broken))
    assert invalid.status == 400 and invalid.json()["code"] == "invalid_ruleset"


def test_a_simulation_queries_the_index_and_reads_in_batches_without_writing(runtime, tenant, meter):
    ops = management(runtime, tenant)
    assert runtime.request("POST", RULESETS, headers=ops, body=body(TEN_PERCENT)).status == 201
    for n in range(3):
        put_session(runtime, tenant, f"{uuid.uuid4().hex[:6]}-{n}", 150)
    meter.reset()
    assert runtime.request("POST", SIMULATE, headers=ops, body=body(twenty_percent())).status == 200
    operations = [call.operation for call in meter.calls]
    assert "Scan" not in operations
    assert not {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"} & set(operations)
    assert operations.count("Query") == 8  # one per shard of the recent-sessions index
    assert operations.count("BatchGetItem") == 2  # the sessions, then their profiles


def test_the_campaigns_function_reads_sessions_and_profiles_only(runtime):
    """Least privilege, as the local runtime enforces the template's statements: the index and the sessions and
    profiles it names, read only; orders, identifier claims and every write stay out of reach."""
    client = dynamodb_client()
    orders, profiles = runtime.table_names["OrdersTable"], runtime.table_names["ProfilesTable"]

    def batch_get(table: str, pk: str) -> None:
        client.batch_get_item(RequestItems={table: {"Keys": [{"PK": {"S": pk}, "SK": {"S": "x"}}]}})

    token = CURRENT_FUNCTION.set("CampaignsFunction")
    try:
        client.query(
            TableName=orders,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "APP#1#RECENT#0"}},
        )
        batch_get(orders, "APP#1#SESSION#s-1")
        batch_get(profiles, "APP#1#PROFILE#p-1")
        denied = [
            lambda: batch_get(orders, "APP#1#ORDER#o-1"),
            lambda: batch_get(profiles, "APP#1#IDENT#email#a@example.com"),
            lambda: client.query(
                TableName=orders,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": "APP#1#SESSION#s-1"}},
            ),
            lambda: client.put_item(TableName=orders, Item={"PK": {"S": "APP#1#SESSION#s-1"}, "SK": {"S": "SESSION"}}),
        ]
        for call in denied:
            with pytest.raises(ClientError) as refused:
                call()
            assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    finally:
        CURRENT_FUNCTION.reset(token)
