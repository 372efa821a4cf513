"""Audiences through the local runtime and DynamoDB Local: the six routes, a profile update's audiencesChanges, the
memberships profile reads answer, the background removals and member attributes, and the person's lifecycle."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Tenant


def create(runtime, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = runtime.request("POST", "/v2/audiences", headers=tenant.headers, body={"name": "VIP", **body})
    assert response.status == 201, response.body
    return response.json()


def act(runtime, tenant: Tenant, *actions: tuple[str, str, int]):
    data = [{"action": a, "profileIntegrationId": p, "audienceId": i} for a, p, i in actions]
    return runtime.request("POST", "/v2/customer_audiences", headers=tenant.headers, body={"data": data})


def memberships(runtime, tenant: Tenant, customer: str) -> list[dict[str, Any]]:
    response = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory", headers=tenant.headers, query={"profile": "true"}
    )
    assert response.status == 200, response.body
    return response.json()["profile"]["audienceMemberships"]


@pytest.fixture
def customer() -> str:
    return f"aud-{uuid.uuid4().hex[:10]}"


def test_an_audience_is_created_renamed_and_answered_in_talon_shape(runtime, tenant):
    audience = create(runtime, tenant, description="Our best")
    assert audience["name"] == "VIP" and audience["description"] == "Our best" and audience["id"] > 0
    assert "integrationId" not in audience and audience["createdIn3rdParty"] is False
    renamed = runtime.request(
        "PUT", f"/v2/audiences/{audience['id']}", headers=tenant.headers, body={"name": "Gold"}
    ).json()
    assert renamed["name"] == "Gold" and renamed["id"] == audience["id"] and renamed["created"] == audience["created"]


def test_mirroring_a_third_party_audience_twice_is_409_and_free_again_after_deletion(runtime, tenant):
    mirror = {"integration": "segment", "integrationId": f"seg-{uuid.uuid4().hex[:8]}"}
    first = create(runtime, tenant, **mirror)
    assert first["createdIn3rdParty"] is True and first["integration"] == "segment"
    again = runtime.request("POST", "/v2/audiences", headers=tenant.headers, body={"name": "Again", **mirror})
    assert again.status == 409 and again.json()["code"] == "audience_exists"
    # The same id from another integration is another audience.
    create(runtime, tenant, integration="mparticle", integrationId=mirror["integrationId"])
    assert runtime.request("DELETE", f"/v2/audiences/{first['id']}", headers=tenant.headers).status == 204
    create(runtime, tenant, **mirror)


def test_members_are_added_and_removed_and_profile_reads_answer_them(runtime, tenant, customer):
    vip, gold = create(runtime, tenant), create(runtime, tenant, name="Gold")
    assert act(runtime, tenant, ("add", customer, vip["id"]), ("add", customer, gold["id"])).status == 204
    # Adding created the profile.
    assert memberships(runtime, tenant, customer) == [
        {"id": vip["id"], "name": "VIP"},
        {"id": gold["id"], "name": "Gold"},
    ]
    assert act(runtime, tenant, ("delete", customer, gold["id"])).status == 204
    assert memberships(runtime, tenant, customer) == [{"id": vip["id"], "name": "VIP"}]
    # The last action on a pair wins.
    assert act(runtime, tenant, ("delete", customer, vip["id"]), ("add", customer, vip["id"])).status == 204
    assert memberships(runtime, tenant, customer) == [{"id": vip["id"], "name": "VIP"}]


def test_an_unknown_audience_is_404_and_nothing_is_written(runtime, tenant, customer):
    vip = create(runtime, tenant)
    response = act(runtime, tenant, ("add", customer, vip["id"]), ("add", customer, 999_999))
    assert response.status == 404 and response.json()["code"] == "audience_not_found"
    assert runtime.request("GET", f"/v1/customer_profiles/{customer}/inventory", headers=tenant.headers).status == 404


def test_bad_actions_are_400_with_every_path(runtime, tenant):
    data = [
        {"action": "join", "profileIntegrationId": "a", "audienceId": 1},
        {"action": "add", "profileIntegrationId": "", "audienceId": 1},
        {"action": "add", "profileIntegrationId": "b", "audienceId": "1"},
    ]
    response = runtime.request("POST", "/v2/customer_audiences", headers=tenant.headers, body={"data": data})
    assert response.status == 400
    paths = {error["path"] for error in response.json()["errors"]}
    assert {"data[0].action", "data[2].audienceId"} <= paths
    ok = [{"action": "add", "profileIntegrationId": "", "audienceId": 1}]
    response = runtime.request("POST", "/v2/customer_audiences", headers=tenant.headers, body={"data": ok})
    assert response.status == 400 and response.json()["errors"][0]["path"] == "data[0].profileIntegrationId"
    too_many = [{"action": "add", "profileIntegrationId": f"p{i}", "audienceId": 1} for i in range(1001)]
    response = runtime.request("POST", "/v2/customer_audiences", headers=tenant.headers, body={"data": too_many})
    assert response.status == 400 and response.json()["errors"][0]["path"] == "data"


def test_a_profile_update_changes_its_audiences_and_answers_them(runtime, tenant, customer):
    vip, gold = create(runtime, tenant), create(runtime, tenant, name="Gold")
    body = {
        "audiencesChanges": {"adds": [vip["id"], gold["id"]], "deletes": []},
        "responseContent": ["customerProfile"],
    }
    answer = runtime.request("PUT", f"/v2/customer_profiles/{customer}", headers=tenant.headers, body=body)
    assert answer.status == 200, answer.body
    assert [m["id"] for m in answer.json()["customerProfile"]["audienceMemberships"]] == [vip["id"], gold["id"]]
    body = {"audiencesChanges": {"adds": [], "deletes": [vip["id"]]}}
    assert runtime.request("PUT", f"/v2/customer_profiles/{customer}", headers=tenant.headers, body=body).status == 200
    assert memberships(runtime, tenant, customer) == [{"id": gold["id"], "name": "Gold"}]
    unknown = {"attributes": {"x": 1}, "audiencesChanges": {"adds": [987_654], "deletes": []}}
    answer = runtime.request("PUT", f"/v2/customer_profiles/{customer}", headers=tenant.headers, body=unknown)
    assert answer.status == 404
    inventory = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory", headers=tenant.headers, query={"profile": "true"}
    ).json()
    assert "x" not in inventory["profile"]["attributes"]  # nothing written


def test_deleting_an_audience_answers_at_once_and_removes_its_memberships_in_the_background(runtime, tenant):
    vip, gold = create(runtime, tenant), create(runtime, tenant, name="Gold")
    people = [f"del-{uuid.uuid4().hex[:8]}" for _ in range(130)]  # more than one page of the job
    for start in range(0, len(people), 50):
        chunk = people[start : start + 50]
        assert act(runtime, tenant, *[("add", p, vip["id"]) for p in chunk]).status == 204
    assert act(runtime, tenant, ("add", people[0], gold["id"])).status == 204
    assert runtime.request("DELETE", f"/v2/audiences/{vip['id']}", headers=tenant.headers).status == 204
    # Invisible at once.
    assert memberships(runtime, tenant, people[0]) == [{"id": gold["id"], "name": "Gold"}]
    renamed = runtime.request("PUT", f"/v2/audiences/{vip['id']}", headers=tenant.headers, body={"name": "x"})
    assert renamed.status == 404
    assert act(runtime, tenant, ("add", people[1], vip["id"])).status == 404
    assert runtime.wait_idle(60)
    # Gone from every profile item and from the audience's partition, audience item included.
    client, table = runtime.dynamodb_client(), runtime.table_names["ProfilesTable"]
    for person in people[:5]:
        item = client.get_item(
            TableName=table, Key={"PK": {"S": f"APP#{tenant.application_id}#PROFILE#{person}"}, "SK": {"S": "PROFILE"}}
        )["Item"]
        assert f"m:{vip['id']}" not in item
    left = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"APP#{tenant.application_id}#AUDIENCE#{vip['id']}"}},
    )
    assert left["Items"] == []
    assert runtime.request("DELETE", f"/v2/audiences/{vip['id']}", headers=tenant.headers).status == 404


def test_emptying_an_audience_keeps_it_and_keeps_members_added_afterwards(runtime, tenant):
    vip = create(runtime, tenant)
    before, after = f"e1-{uuid.uuid4().hex[:8]}", f"e2-{uuid.uuid4().hex[:8]}"
    assert act(runtime, tenant, ("add", before, vip["id"])).status == 204
    assert runtime.request("DELETE", f"/v2/audiences/{vip['id']}/memberships", headers=tenant.headers).status == 204
    assert act(runtime, tenant, ("add", after, vip["id"])).status == 204
    assert runtime.wait_idle(60)
    assert memberships(runtime, tenant, before) == []
    assert memberships(runtime, tenant, after) == [{"id": vip["id"], "name": "VIP"}]
    missing = runtime.request("DELETE", "/v2/audiences/999999/memberships", headers=tenant.headers)
    assert missing.status == 404


def test_attributes_are_set_on_every_member(runtime, tenant):
    vip, other = create(runtime, tenant), create(runtime, tenant, name="Other")
    members = [f"at-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    outsider = f"at-out-{uuid.uuid4().hex[:8]}"
    assert act(runtime, tenant, *[("add", p, vip["id"]) for p in members], ("add", outsider, other["id"])).status == 204
    answer = runtime.request(
        "PUT",
        f"/v2/audience_customers/{vip['id']}/attributes",
        headers=tenant.headers,
        body={"segment": "vip", "score": 7},
    )
    assert answer.status == 204, answer.body
    assert runtime.wait_idle(60)
    for person in members:
        profile = runtime.request(
            "GET", f"/v1/customer_profiles/{person}/inventory", headers=tenant.headers, query={"profile": "true"}
        ).json()["profile"]
        assert profile["attributes"] == {"segment": "vip", "score": 7}
    outside = runtime.request(
        "GET", f"/v1/customer_profiles/{outsider}/inventory", headers=tenant.headers, query={"profile": "true"}
    ).json()["profile"]
    assert outside["attributes"] == {}
    bad = runtime.request(
        "PUT", f"/v2/audience_customers/{vip['id']}/attributes", headers=tenant.headers, body={"segment": 5}
    )
    assert bad.status == 400 and bad.json()["errors"][0]["path"] == "segment"
    missing = runtime.request("PUT", "/v2/audience_customers/999999/attributes", headers=tenant.headers, body={"a": 1})
    assert missing.status == 404


def test_the_persons_export_lists_their_audiences(runtime, tenant, customer):
    vip, gone = create(runtime, tenant), create(runtime, tenant, name="Gone")
    assert act(runtime, tenant, ("add", customer, vip["id"]), ("add", customer, gone["id"])).status == 204
    assert runtime.request("DELETE", f"/v2/audiences/{gone['id']}", headers=tenant.headers).status == 204
    document = runtime.request("GET", f"/v1/customer_data/{customer}", headers=tenant.headers).json()
    assert document["audiences"] == [{"id": vip["id"], "name": "VIP"}]


def test_a_campaign_for_an_audience_applies_to_its_members_only(runtime):
    from tests.integration.rulesets import tenant_with

    member, outsider = f"vip-{uuid.uuid4().hex[:8]}", f"out-{uuid.uuid4().hex[:8]}"
    ten = {"type": "setDiscount", "name": "VIP ten", "value": "session.total * 0.1"}
    tenant = tenant_with(
        runtime,
        {"id": 1, "name": "VIPs", "rules": [{"title": "VIP", "condition": "1 in profile.audiences", "effects": [ten]}]},
    )
    vip = create(runtime, tenant)
    assert vip["id"] == 1
    assert act(runtime, tenant, ("add", member, vip["id"])).status == 204
    cart = [{"sku": "S-1", "name": "Shoe", "quantity": 1, "price": 100}]

    def discounts(profile: str) -> list[str]:
        body = {"customerSession": {"profileId": profile, "cartItems": cart}}
        answer = runtime.request("PUT", f"/v2/customer_sessions/s-{profile}", headers=tenant.headers, body=body)
        assert answer.status == 200, answer.body
        return [effect["effectType"] for effect in answer.json()["effects"]]

    assert discounts(member) == ["setDiscount"]
    assert discounts(outsider) == []
    # Leaving the audience: the next update of the member's session no longer gets it.
    assert act(runtime, tenant, ("delete", member, vip["id"])).status == 204
    assert discounts(member) == []


def test_a_dry_profile_update_shows_its_audiences_and_writes_none(runtime, tenant, customer):
    vip = create(runtime, tenant)
    body = {"audiencesChanges": {"adds": [vip["id"]], "deletes": []}, "responseContent": ["customerProfile"]}
    answer = runtime.request(
        "PUT", f"/v2/customer_profiles/{customer}", headers=tenant.headers, body=body, query={"dry": "true"}
    )
    assert answer.status == 200, answer.body
    assert answer.json()["customerProfile"]["audienceMemberships"] == [{"id": vip["id"], "name": "VIP"}]
    assert runtime.request("GET", f"/v1/customer_profiles/{customer}/inventory", headers=tenant.headers).status == 404
