"""Referral codes created through the Integration API and the local runtime (DynamoDB Local, the template's IAM
grants enforced): one code, one per advocate (silent or not), the case setting, a created code redeemed in a
session, the campaign checks, another application's campaign, hostile input answered 400 with every path and nothing
written, and 1,000 advocates timed against the Lambda's 10 s."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest

from patron.dynamo import codec
from patron.referrals import items
from tests.conftest import Tenant, new_tenant
from tests.integration.referrals import referral_campaign
from tests.integration.rulesets import publish, tenant_with

CAMPAIGN = referral_campaign("referral.valid")
PLAIN: dict[str, Any] = {"id": 1, "name": "No referrals", "rules": [{"title": "Always", "condition": "true"}]}


def tenant_with_campaign(runtime: Any, case_sensitive: bool = True) -> Tenant:
    return tenant_with(runtime, CAMPAIGN, PLAIN, caseSensitiveCodes=case_sensitive)


def create(runtime: Any, tenant: Tenant, body: Any, headers: dict[str, str] | None = None) -> Any:
    return runtime.request("POST", "/v1/referrals", headers={**tenant.headers, **(headers or {})}, body=body)


def create_many(runtime: Any, tenant: Tenant, body: Any, silent: str | None = None) -> Any:
    query = {"silent": silent} if silent else None
    return runtime.request(
        "POST", "/v1/referrals_for_multiple_advocates", headers=tenant.headers, body=body, query=query
    )


def referral_items(runtime: Any, application_id: int) -> list[dict[str, Any]]:
    """The application's referral items and entries (a scan of the test's ledgers table, tests only)."""
    client = runtime.dynamodb_client()
    found = []
    for page in client.get_paginator("scan").paginate(TableName=runtime.table_names["LedgersTable"]):
        found += [
            codec.from_item(item)
            for item in page["Items"]
            if item["PK"]["S"].startswith((f"APP#{application_id}#REFERRAL#", f"APP#{application_id}#REFPROFILE#"))
        ]
    return found


def test_one_code_for_an_advocate_and_a_friend(runtime):
    tenant = tenant_with_campaign(runtime)
    body = {
        "campaignId": 20,
        "advocateProfileIntegrationId": "adam",
        "friendProfileIntegrationId": "fran",
        "startDate": "2026-01-01T00:00:00Z",
        "expiryDate": "2030-01-01T00:00:00+01:00",
        "usageLimit": 3,
        "attributes": {"channel": "mail"},
    }
    answer = create(runtime, tenant, body)
    assert answer.status == 201, answer.body
    referral = answer.json()
    assert re.fullmatch(r"[A-Z0-9]{8}", referral["code"])
    assert {k: referral[k] for k in ("campaignId", "advocateProfileIntegrationId", "friendProfileIntegrationId")} == {
        "campaignId": 20,
        "advocateProfileIntegrationId": "adam",
        "friendProfileIntegrationId": "fran",
    }
    assert (referral["usageLimit"], referral["usageCounter"], referral["batchId"]) == (3, 0, None)
    assert referral["expiryDate"] == "2029-12-31T23:00:00.000Z" and referral["attributes"] == {"channel": "mail"}
    assert isinstance(referral["id"], int) and referral["created"]
    stored = {(item["PK"], item["SK"]) for item in referral_items(runtime, tenant.application_id)}
    code = referral["code"]
    app = tenant.application_id
    assert stored == {
        (f"APP#{app}#REFERRAL#{code}", "REFERRAL"),
        (f"APP#{app}#REFPROFILE#adam", f"ADVOCATE#{code}"),
        (f"APP#{app}#REFPROFILE#fran", f"NAMED#{code}"),
    }
    second = create(runtime, tenant, {"campaignId": 20, "advocateProfileIntegrationId": "adam"})
    assert second.status == 201 and second.json()["id"] == referral["id"] + 1
    assert second.json()["code"] != code and second.json()["usageLimit"] == 0


def test_a_created_code_is_redeemed_in_a_session_and_listed_in_the_inventory(runtime):
    tenant = tenant_with_campaign(runtime)
    code = create(runtime, tenant, {"campaignId": 20, "advocateProfileIntegrationId": "adam"}).json()["code"]
    session = {
        "customerSession": {
            "profileId": "fran",
            "referralCode": code,
            "cartItems": [{"sku": "s", "price": 40, "quantity": 1}],
            "state": "closed",
        }
    }
    closed = runtime.request(
        "PUT", f"/v2/customer_sessions/s-{uuid.uuid4().hex[:8]}", headers=tenant.headers, body=session
    )
    assert closed.status == 200, closed.body
    assert [e["effectType"] for e in closed.json()["effects"]] == ["acceptReferral", "setDiscount"]
    key = codec.to_item(items.referral_key(tenant.application_id, code))
    item = runtime.dynamodb_client().get_item(TableName=runtime.table_names["LedgersTable"], Key=key)["Item"]
    assert item["usageCounter"]["N"] == "1"
    runtime.request("PUT", "/v2/customer_profiles/adam", headers=tenant.headers, body={"attributes": {}})
    inventory = runtime.request(
        "GET", "/v1/customer_profiles/adam/inventory", headers=tenant.headers, query={"referrals": "true"}
    )
    assert inventory.status == 200, inventory.body
    assert [r["code"] for r in inventory.json()["referrals"]] == [code]


def test_many_advocates_silent_and_not(runtime):
    tenant = tenant_with_campaign(runtime)
    body = {
        "campaignId": 20,
        "advocateProfileIntegrationIds": ["ann", "bob", "cid"],
        "validCharacters": list("ABCDEF23"),
        "referralPattern": "REF-####-##",
        "usageLimit": 1,
    }
    silent = create_many(runtime, tenant, body)
    assert silent.status == 204 and silent.body in (b"", "", None)
    loud = create_many(runtime, tenant, body, silent="no")
    assert loud.status == 201, loud.body
    answer = loud.json()
    assert answer["totalResultSize"] == 3
    assert [r["advocateProfileIntegrationId"] for r in answer["data"]] == ["ann", "bob", "cid"]
    assert all(re.fullmatch(r"REF-[A-F23]{4}-[A-F23]{2}", r["code"]) for r in answer["data"])
    assert len({r["batchId"] for r in answer["data"]}) == 1 and answer["data"][0]["batchId"]
    stored = referral_items(runtime, tenant.application_id)
    assert sum(1 for item in stored if item["SK"] == "REFERRAL") == 6
    assert sum(1 for item in stored if str(item["SK"]).startswith("ADVOCATE#")) == 6
    assert create_many(runtime, tenant, body, silent="maybe").status == 400


def test_codes_are_upper_cased_when_the_application_says_so(runtime):
    tenant = tenant_with_campaign(runtime, case_sensitive=False)
    body = {"campaignId": 20, "advocateProfileIntegrationIds": ["ann"], "validCharacters": list("abcdef")}
    answer = create_many(runtime, tenant, {**body, "referralPattern": "ref-######"}, silent="no")
    assert answer.status == 201, answer.body
    assert re.fullmatch(r"REF-[A-F]{6}", answer.json()["data"][0]["code"])


def test_the_campaign_must_be_live_and_take_referrals(runtime):
    tenant = tenant_with_campaign(runtime)
    plain = create(runtime, tenant, {"campaignId": 1, "advocateProfileIntegrationId": "adam"})
    assert plain.status == 400 and plain.json()["code"] == "referrals_feature_required"
    assert plain.json()["errors"][0]["path"] == "campaignId"
    missing = create(runtime, tenant, {"campaignId": 404, "advocateProfileIntegrationId": "adam"})
    assert missing.status == 404 and missing.json()["code"] == "campaign_not_found"
    assert missing.json()["errors"][0]["path"] == "campaignId"
    unpublished = new_tenant(runtime)
    many = create_many(runtime, unpublished, {"campaignId": 20, "advocateProfileIntegrationIds": ["a"]})
    assert many.status == 404 and many.json()["code"] == "campaign_not_found"
    assert referral_items(runtime, tenant.application_id) == []


def test_another_applications_campaign_is_not_found_and_leaks_nothing(runtime):
    owner = tenant_with_campaign(runtime)
    other = new_tenant(runtime)
    publish(runtime, other.application_id, {"settings": {"currency": "EUR"}, "campaigns": [PLAIN]})
    answer = create(runtime, other, {"campaignId": 20, "advocateProfileIntegrationId": "adam"})
    assert answer.status == 404 and answer.json()["code"] == "campaign_not_found"
    assert "Refer a friend" not in str(answer.body) and str(owner.application_id) not in answer.json()["message"]
    # The owner's codes are its own: a code of one application names nothing in another.
    code = create(runtime, owner, {"campaignId": 20, "advocateProfileIntegrationId": "adam"}).json()["code"]
    session = {"customerSession": {"profileId": "fran", "referralCode": code}}
    theirs = runtime.request(
        "PUT", f"/v2/customer_sessions/s-{uuid.uuid4().hex[:8]}", headers=other.headers, body=session
    )
    effects = [(e["effectType"], e["props"].get("rejectionReason")) for e in theirs.json()["effects"]]
    assert effects == [("rejectReferral", "ReferralNotFound")]
    assert referral_items(runtime, other.application_id) == []


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, ["campaignId"]),
        ({"campaignId": "20", "advocateProfileIntegrationId": "adam"}, ["campaignId"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": 7}, ["advocateProfileIntegrationId"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": ""}, ["advocateProfileIntegrationId"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": " \t"}, ["advocateProfileIntegrationId"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": "a\u0000b"}, ["advocateProfileIntegrationId"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": "x" * 1001}, ["advocateProfileIntegrationId"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": "é" * 600}, ["advocateProfileIntegrationId"]),
        (
            {"campaignId": 20, "advocateProfileIntegrationId": "adam", "friendProfileIntegrationId": "adam"},
            ["friendProfileIntegrationId"],
        ),
        ({"campaignId": 20, "advocateProfileIntegrationId": "adam", "usageLimit": 1_000_000}, ["usageLimit"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": "adam", "usageLimit": -1}, ["usageLimit"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": "adam", "usageLimit": 1.5}, ["usageLimit"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": "adam", "startDate": "2026-01-01"}, ["startDate"]),
        (
            {
                "campaignId": 20,
                "advocateProfileIntegrationId": "adam",
                "startDate": "2027-01-01T00:00:00Z",
                "expiryDate": "2026-01-01T00:00:00Z",
            },
            ["expiryDate"],
        ),
        ({"campaignId": 20, "advocateProfileIntegrationId": "adam", "attributes": []}, ["attributes"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": "adam", "attributes": {"a": "x" * 20_000}}, ["attributes"]),
        ({"campaignId": 20, "advocateProfileIntegrationId": "adam", "surprise": 1}, None),
        ([1, 2], ["$"]),
        (
            '{"campaignId": 20, "advocateProfileIntegrationId": "a\\ud800"}',
            ["advocateProfileIntegrationId"],
        ),
        (
            '{"campaignId": 20, "advocateProfileIntegrationId": "adam", "attributes": {"k": "\\udfff"}}',
            ["attributes.k"],
        ),
    ],
)
def test_hostile_single_creation_is_refused_with_its_paths(runtime, body, paths):
    tenant = tenant_with_campaign(runtime)
    answer = create(runtime, tenant, body)
    assert answer.status == 400, answer.body
    if paths is not None:
        assert [e["path"] for e in answer.json()["errors"]][: len(paths)] == paths, answer.body
    assert referral_items(runtime, tenant.application_id) == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"campaignId": 20, "advocateProfileIntegrationIds": []}, "advocateProfileIntegrationIds"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": "ann"}, "advocateProfileIntegrationIds"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["a"] * 1001}, "advocateProfileIntegrationIds"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["ann", 3]}, "advocateProfileIntegrationIds[1]"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["ann", ""]}, "advocateProfileIntegrationIds[1]"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["ann", "ann"]}, "advocateProfileIntegrationIds[1]"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["a"], "validCharacters": ["AB"]}, "validCharacters[0]"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["a"], "validCharacters": ["A"]}, "validCharacters"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["a"], "referralPattern": "#"}, "referralPattern"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["a"], "referralPattern": "###"}, "referralPattern"),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["a"], "referralPattern": "ABCDEF"}, "referralPattern"),
        (
            {
                "campaignId": 20,
                "advocateProfileIntegrationIds": [f"a{n}" for n in range(200)],
                "referralPattern": "AB##",
            },
            "advocateProfileIntegrationIds",
        ),
        ({"campaignId": 20, "advocateProfileIntegrationIds": ["a"], "friendProfileIntegrationId": "b"}, None),
    ],
)
def test_hostile_batch_creation_is_refused_with_its_path(runtime, body, path):
    tenant = tenant_with_campaign(runtime)
    answer = create_many(runtime, tenant, body, silent="no")
    assert answer.status == 400, answer.body
    if path is not None:
        assert path in [e["path"] for e in answer.json()["errors"]], answer.body
    assert referral_items(runtime, tenant.application_id) == []


def test_a_retried_request_with_its_idempotency_key_creates_once(runtime):
    tenant = tenant_with_campaign(runtime)
    body = {"campaignId": 20, "advocateProfileIntegrationId": "adam"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first, again = create(runtime, tenant, body, key), create(runtime, tenant, body, key)
    assert first.status == again.status == 201 and first.json() == again.json()
    assert sum(1 for item in referral_items(runtime, tenant.application_id) if item["SK"] == "REFERRAL") == 1


def test_a_thousand_advocates_well_inside_the_lambdas_timeout(runtime):
    tenant = tenant_with_campaign(runtime)
    body = {"campaignId": 20, "advocateProfileIntegrationIds": [f"advocate-{n:04d}" for n in range(1000)]}
    started = time.perf_counter()
    answer = create_many(runtime, tenant, body, silent="no")
    elapsed = time.perf_counter() - started
    assert answer.status == 201, answer.body
    codes = {r["code"] for r in answer.json()["data"]}
    assert len(codes) == 1000 and answer.json()["totalResultSize"] == 1000
    print(f"\n1,000 advocates: {elapsed:.2f} s")  # noqa: T201 - the figure docs/referrals.md quotes
    assert elapsed < 10
