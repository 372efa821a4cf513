"""`addToAudience` / `removeFromAudience` through the local runtime and DynamoDB Local (docs/audiences.md,
"Effects"): answered while a session is open, written by its close (the profile's `m:<id>` and the member item, in
the close's one transaction), at once for events and profile updates that run the rules; replays write nothing
twice; an anonymous session, an unknown, deleted or another application's audience fail the effect; a cancel keeps
the membership; a close stays one read and one write."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from patron.audiences import keys
from patron.dynamo import codec
from patron.promotions.management import RulesetInvalidError
from tests.conftest import Tenant, new_tenant
from tests.integration.rulesets import SETTINGS, publish

CART = [{"sku": "S-1", "name": "Shoe", "quantity": 1, "price": 100}]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_audience(runtime: Any, tenant: Tenant, name: str) -> int:
    response = runtime.request("POST", "/v2/audiences", headers=tenant.headers, body={"name": name})
    assert response.status == 201, response.body
    return int(response.json()["id"])


def campaign(campaign_id: int, condition: str, *effects: dict[str, Any]) -> dict[str, Any]:
    rule = {"title": f"rule {campaign_id}", "condition": condition, "effects": list(effects)}
    return {"id": campaign_id, "name": f"campaign {campaign_id}", "rules": [rule]}


def join(audience_id: int) -> dict[str, Any]:
    return {"type": "addToAudience", "audienceId": audience_id}


def leave(audience_id: int) -> dict[str, Any]:
    return {"type": "removeFromAudience", "audienceId": audience_id}


def live(runtime: Any, tenant: Tenant, *campaigns: dict[str, Any]) -> None:
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "campaigns": list(campaigns)})


def put(runtime: Any, tenant: Tenant, session_id: str, session: dict[str, Any], key: str = "") -> dict[str, Any]:
    headers = {**tenant.headers, "Idempotency-Key": key} if key else tenant.headers
    body = {"customerSession": session, "responseContent": ["ruleFailureReasons"]}
    answer = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=headers, body=body)
    assert answer.status == 200, answer.body
    return answer.json()


def membership_effects(answer: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    kinds = ("addToAudience", "removeFromAudience")
    return [(e["effectType"], e["props"]) for e in answer["effects"] if e["effectType"] in kinds]


def profile_of(runtime: Any, tenant: Tenant, customer: str) -> dict[str, Any]:
    response = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory", headers=tenant.headers, query={"profile": "true"}
    )
    assert response.status == 200, response.body
    profile: dict[str, Any] = response.json()["profile"]
    return profile


def audiences_of(runtime: Any, tenant: Tenant, customer: str) -> list[int]:
    return [one["id"] for one in profile_of(runtime, tenant, customer)["audienceMemberships"]]


def member_item(runtime: Any, tenant: Tenant, audience_id: int, customer: str) -> dict[str, Any] | None:
    key = keys.member_key(tenant.application_id, audience_id, customer)
    found = runtime.dynamodb_client().get_item(
        TableName=runtime.table_names["ProfilesTable"], Key=codec.to_item(key), ConsistentRead=True
    )
    return codec.from_item(found["Item"]) if "Item" in found else None


def test_an_open_session_announces_the_membership_and_its_close_writes_it(runtime):
    tenant, customer, session_id = new_tenant(runtime), new_id("c"), new_id("s")
    vip = create_audience(runtime, tenant, "VIP")
    live(runtime, tenant, campaign(1, "session.total >= 50", join(vip)))

    opened = put(runtime, tenant, session_id, {"profileId": customer, "cartItems": CART})
    [(kind, props)] = membership_effects(opened)
    assert kind == "addToAudience"
    assert (props["audienceId"], props["audienceName"], props["profileIntegrationId"]) == (vip, "VIP", customer)
    created = profile_of(runtime, tenant, customer)["id"]  # the call created the profile, and names its id
    assert props["profileId"] == created
    assert audiences_of(runtime, tenant, customer) == []  # tentative: nothing written while open
    assert member_item(runtime, tenant, vip, customer) is None

    closed = put(runtime, tenant, session_id, {"state": "closed"})
    [(kind, props)] = membership_effects(closed)
    assert kind == "addToAudience" and props["profileId"] == created
    assert audiences_of(runtime, tenant, customer) == [vip]
    member = member_item(runtime, tenant, vip, customer)
    assert member is not None and member["g"] == 1


def test_a_replayed_close_and_a_second_close_write_the_membership_once(runtime):
    tenant, customer = new_tenant(runtime), new_id("c")
    vip = create_audience(runtime, tenant, "VIP")
    live(runtime, tenant, campaign(1, "true", join(vip)))
    session_id, retry_key = new_id("s"), new_id("k")
    closing = {"profileId": customer, "cartItems": CART, "state": "closed"}
    put(runtime, tenant, session_id, closing, retry_key)
    assert audiences_of(runtime, tenant, customer) == [vip]
    # A mark on the member item: a second Put of it would erase the mark.
    key = codec.to_item(keys.member_key(tenant.application_id, vip, customer))
    runtime.dynamodb_client().update_item(
        TableName=runtime.table_names["ProfilesTable"],
        Key=key,
        UpdateExpression="SET #mark = :one",
        ExpressionAttributeNames={"#mark": "mark"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    replayed = put(runtime, tenant, session_id, closing, retry_key)  # the same close delivered again
    again = put(runtime, tenant, new_id("s"), closing)  # another close of a member
    for answer in (replayed, again):
        assert [kind for kind, _ in membership_effects(answer)] == ["addToAudience"]
        assert answer["ruleFailureReasons"] == []
    member = member_item(runtime, tenant, vip, customer)
    assert member is not None and member.get("mark") == 1 and member["g"] == 1
    assert audiences_of(runtime, tenant, customer) == [vip]


def test_a_removal_writes_only_for_a_member_and_an_event_applies_at_once(runtime):
    tenant, member, stranger = new_tenant(runtime), new_id("m"), new_id("x")
    vip = create_audience(runtime, tenant, "VIP")
    live(
        runtime,
        tenant,
        campaign(1, 'event.type == "vip_joined"', join(vip)),
        campaign(2, 'event.type == "vip_cancelled"', leave(vip)),
    )

    def track(customer: str, kind: str) -> dict[str, Any]:
        body = {"profileId": customer, "type": kind, "attributes": {}, "responseContent": ["ruleFailureReasons"]}
        answer = runtime.request("POST", "/v2/events", headers=tenant.headers, body=body)
        assert answer.status == 200, answer.body
        return answer.json()

    [(kind, props)] = membership_effects(track(member, "vip_joined"))  # the event creates the profile
    assert kind == "addToAudience" and props["profileId"] == profile_of(runtime, tenant, member)["id"]
    assert audiences_of(runtime, tenant, member) == [vip]
    assert member_item(runtime, tenant, vip, member) is not None
    # Leaving an audience one is not in: answered, nothing written, no error.
    assert [kind for kind, _ in membership_effects(track(stranger, "vip_cancelled"))] == ["removeFromAudience"]
    assert audiences_of(runtime, tenant, stranger) == []
    left = track(member, "vip_cancelled")
    assert [props["audienceName"] for _, props in membership_effects(left)] == ["VIP"]
    assert audiences_of(runtime, tenant, member) == []
    assert member_item(runtime, tenant, vip, member) is None
    assert track(member, "vip_cancelled")["ruleFailureReasons"] == []  # a replay: nothing to do, no failure


def test_a_profile_update_running_the_rules_joins_at_once(runtime):
    tenant, customer = new_tenant(runtime), new_id("c")
    newcomers = create_audience(runtime, tenant, "Newcomers")
    live(runtime, tenant, campaign(1, 'event.type == "talon_profile_created"', join(newcomers)))
    answer = runtime.request(
        "PUT",
        f"/v2/customer_profiles/{customer}",
        headers=tenant.headers,
        body={"attributes": {}, "responseContent": ["customerProfile"]},
        query={"runRuleEngine": "true"},
    )
    assert answer.status == 200, answer.body
    assert [kind for kind, _ in membership_effects(answer.json())] == ["addToAudience"]
    assert audiences_of(runtime, tenant, customer) == [newcomers]


def test_an_anonymous_session_or_a_missing_audience_fails_the_effect_and_writes_nothing(runtime):
    tenant, other = new_tenant(runtime), new_tenant(runtime)
    gone = create_audience(runtime, tenant, "Gone")
    elsewhere = create_audience(runtime, other, "Theirs")  # an id this application has no audience for
    live(
        runtime,
        tenant,
        campaign(1, "true", join(gone)),
        campaign(2, "true", join(elsewhere + 1000)),
    )
    assert runtime.request("DELETE", f"/v2/audiences/{gone}", headers=tenant.headers).status == 204

    anonymous = put(runtime, tenant, new_id("s"), {"cartItems": CART, "state": "closed"})
    assert membership_effects(anonymous) == []
    assert sorted(f["campaignID"] for f in anonymous["ruleFailureReasons"]) == [1, 2]

    customer = new_id("c")
    closed = put(runtime, tenant, new_id("s"), {"profileId": customer, "cartItems": CART, "state": "closed"})
    assert membership_effects(closed) == []
    failures = sorted((f["campaignID"], f["details"]) for f in closed["ruleFailureReasons"])
    assert failures == [(1, "EffectCouldNotBeApplied"), (2, "EffectCouldNotBeApplied")]
    assert audiences_of(runtime, tenant, customer) == []
    assert member_item(runtime, tenant, gone, customer) is None


def test_another_applications_audience_is_not_this_ones(runtime):
    tenant, other, customer = new_tenant(runtime), new_tenant(runtime), new_id("c")
    theirs = create_audience(runtime, other, "Theirs")
    live(runtime, tenant, campaign(1, "true", join(theirs)))  # no audience of that id here (a fresh application)
    ours = runtime.request("GET", f"/v2/audiences/{theirs}", headers=tenant.headers)
    assert ours.status in (404, 405)
    closed = put(runtime, tenant, new_id("s"), {"profileId": customer, "cartItems": CART, "state": "closed"})
    assert [f["details"] for f in closed["ruleFailureReasons"]] == ["EffectCouldNotBeApplied"]
    assert member_item(runtime, other, theirs, customer) is None


def test_a_cancel_keeps_the_membership_a_close_made(runtime):
    tenant, customer, session_id = new_tenant(runtime), new_id("c"), new_id("s")
    vip = create_audience(runtime, tenant, "VIP")
    live(runtime, tenant, campaign(1, "true", join(vip)))
    put(runtime, tenant, session_id, {"profileId": customer, "cartItems": CART, "state": "closed"})
    cancelled = put(runtime, tenant, session_id, {"state": "cancelled"})
    assert [kind for kind, _ in membership_effects(cancelled)] == []  # nothing rolled back
    assert audiences_of(runtime, tenant, customer) == [vip]


def test_an_audience_deleted_while_the_session_is_open_fails_at_close(runtime):
    tenant, customer, session_id = new_tenant(runtime), new_id("c"), new_id("s")
    vip = create_audience(runtime, tenant, "VIP")
    live(runtime, tenant, campaign(1, "true", join(vip)))
    assert membership_effects(put(runtime, tenant, session_id, {"profileId": customer, "cartItems": CART}))
    assert runtime.request("DELETE", f"/v2/audiences/{vip}", headers=tenant.headers).status == 204
    closed = put(runtime, tenant, session_id, {"state": "closed"})
    assert membership_effects(closed) == []
    assert member_item(runtime, tenant, vip, customer) is None


def test_a_member_of_an_emptied_audience_joins_again_at_the_new_generation(runtime):
    tenant, customer = new_tenant(runtime), new_id("c")
    vip = create_audience(runtime, tenant, "VIP")
    live(runtime, tenant, campaign(1, "true", join(vip)))
    put(runtime, tenant, new_id("s"), {"profileId": customer, "cartItems": CART, "state": "closed"})
    emptied = runtime.request("DELETE", f"/v2/audiences/{vip}/memberships", headers=tenant.headers)
    assert emptied.status == 204 and runtime.wait_idle(60)
    assert audiences_of(runtime, tenant, customer) == []
    again = put(runtime, tenant, new_id("s"), {"profileId": customer, "cartItems": CART, "state": "closed"})
    assert [props["audienceName"] for _, props in membership_effects(again)] == ["VIP"]
    member = member_item(runtime, tenant, vip, customer)
    assert member is not None and member["g"] == 2
    assert audiences_of(runtime, tenant, customer) == [vip]


def test_a_close_that_changes_memberships_stays_one_read_and_one_write(runtime, meter):
    tenant = new_tenant(runtime)
    vip, old = create_audience(runtime, tenant, "VIP"), create_audience(runtime, tenant, "Old")
    live(runtime, tenant, campaign(1, "true", join(vip), leave(old)))
    put(runtime, tenant, new_id("s"), {"profileId": new_id("warm"), "cartItems": CART})  # the instance knows it
    customer, session_id = new_id("c"), new_id("s")
    runtime.request(
        "POST",
        "/v2/customer_audiences",
        headers=tenant.headers,
        body={"data": [{"action": "add", "profileIntegrationId": customer, "audienceId": old}]},
    )
    put(runtime, tenant, session_id, {"profileId": customer, "cartItems": CART})
    mark = meter.mark()
    put(runtime, tenant, session_id, {"state": "closed"})
    assert [call.operation for call in meter.since(mark)] == ["BatchGetItem", "TransactWriteItems"]
    assert audiences_of(runtime, tenant, customer) == [vip]


def test_more_audiences_than_the_bound_are_refused_at_publish(runtime):
    tenant = new_tenant(runtime)
    effects = [join(number) for number in range(1, 22)]
    with pytest.raises(RulesetInvalidError) as refused:
        live(runtime, tenant, campaign(1, "true", *effects))
    [issue] = refused.value.issues
    assert issue.code == "too_many_audiences" and issue.path.endswith("effects[20].audienceId"), issue


@pytest.mark.parametrize(
    ("change", "joined_at"),
    [("emptied", 2), ("deleted", None)],
)
def test_an_audience_changed_between_the_closes_read_and_its_write_is_read_again(
    runtime, meter, monkeypatch, change, joined_at
):
    """The close read the audience at generation 1; another request empties it (generation 2) or deletes it before
    the close's transaction lands. The transaction's check on the audience fails, nothing of it is written, and the
    close reads again: it joins at the new generation, or the effect fails on the deleted audience and the close
    still lands."""
    from patron.sessions.store import SessionStore

    tenant, customer, session_id = new_tenant(runtime), new_id("c"), new_id("s")
    vip = create_audience(runtime, tenant, "VIP")
    live(runtime, tenant, campaign(1, "true", join(vip)))
    put(runtime, tenant, session_id, {"profileId": customer, "cartItems": CART})
    real, reads = SessionStore.read, []

    def another_request_between(self: SessionStore, *args: Any, **kwargs: Any) -> Any:
        found = real(self, *args, **kwargs)
        reads.append(found)
        if len(reads) == 1:
            update = "SET generation = :two" if change == "emptied" else "SET #state = :deleted"
            values = {":two": 2} if change == "emptied" else {":deleted": "deleted"}
            runtime.dynamodb_client().update_item(
                TableName=runtime.table_names["ProfilesTable"],
                Key=codec.to_item(keys.audience_key(tenant.application_id, vip)),
                UpdateExpression=update,
                ExpressionAttributeValues=codec.to_item(values),
                **({"ExpressionAttributeNames": {"#state": "state"}} if change == "deleted" else {}),
            )
        return found

    monkeypatch.setattr(SessionStore, "read", another_request_between)
    mark = meter.mark()
    closed = put(runtime, tenant, session_id, {"state": "closed"})
    operations = [call.operation for call in meter.since(mark) if meter.function_of(call) == "SessionsFunction"]
    assert operations == ["BatchGetItem", "TransactWriteItems", "BatchGetItem", "TransactWriteItems"]
    assert len(reads) == 2
    member = member_item(runtime, tenant, vip, customer)
    if joined_at is None:
        assert member is None and membership_effects(closed) == []
        [failure] = closed["ruleFailureReasons"]
        assert failure["details"] == "EffectCouldNotBeApplied"
    else:
        assert member is not None and member["g"] == joined_at
        assert audiences_of(runtime, tenant, customer) == [vip]
