"""Campaigns on events through the local runtime: `POST /v2/events` (custom events) and `PUT
/v2/customer_profiles/{id}?runRuleEngine=true` (talon_profile_created / talon_profile_updated): effects answered,
budgets consumed once per event, profile attributes set by rules, webhooks in the outbox, dry writing nothing,
tenants apart."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from tests.conftest import Tenant
from tests.integration.rulesets import publish

SETTINGS = {"settings": {"currency": "EUR", "timezone": "Europe/Rome"}}
REVIEW = {
    "id": 11,
    "name": "Thanks for a good review",
    "limits": [{"action": "setDiscountEffect", "limit": 2}],
    "rules": [
        {
            "title": "Four stars or more",
            "condition": 'event.type == "review_written" and event.attributes.rating >= 4',
            "effects": [
                {"type": "updateAttribute", "target": "profile", "attribute": "reviewer", "value": "true"},
                {
                    "type": "triggerWebhook",
                    "webhookId": 3,
                    "webhookName": "thank-reviewer",
                    "payload": {"profile": "${profile.integrationId}", "rating": "${event.attributes.rating}"},
                },
                {"type": "showNotification", "title": "Thanks", "body": "Rated ${event.attributes.rating}"},
            ],
        }
    ],
}
WELCOME = {
    "id": 12,
    "name": "Welcome",
    "rules": [
        {
            "title": "New profile",
            "condition": 'event.type == "talon_profile_created"',
            "effects": [{"type": "customEffect", "name": "welcome", "payload": {"tier": "${profile.attributes.tier}"}}],
        }
    ],
}
UPDATED = {
    "id": 13,
    "name": "Gold members",
    "rules": [
        {
            "title": "Became gold",
            "condition": 'event.type == "talon_profile_updated" and profile.attributes.tier == "gold"',
            "effects": [
                {"type": "updateAttribute", "target": "profile", "attribute": "goldSince", "value": "time.date"}
            ],
        }
    ],
}


def track(runtime: Any, tenant: Tenant, body: dict[str, Any], **query: str) -> Any:
    return runtime.request("POST", "/v2/events", headers=tenant.headers, body=body, query=query or None)


def review(profile_id: str, rating: int, **extra: Any) -> dict[str, Any]:
    return {"type": "review_written", "profileId": profile_id, "attributes": {"rating": rating}, **extra}


def profile_of(runtime: Any, tenant: Tenant, profile_id: str) -> Any:
    answer = runtime.request(
        "GET", f"/v1/customer_profiles/{profile_id}/inventory", headers=tenant.headers, query={"profile": "true"}
    )
    return answer


def webhooks(runtime: Any, application_id: int) -> list[dict[str, Any]]:
    client = runtime.dynamodb_client()
    items = client.scan(TableName=runtime.table_names["OutboxTable"]).get("Items", [])
    records = [{name: TypeDeserializer().deserialize(value) for name, value in item.items()} for item in items]
    return [r for r in records if r["kind"] == "webhook" and r["PK"].startswith(f"APP#{application_id}#")]


def test_a_custom_event_answers_its_effects_and_applies_them(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [REVIEW]})
    customer = f"c-{uuid.uuid4().hex[:8]}"
    body = review(customer, 5, responseContent=["customerProfile", "event", "triggeredCampaigns", "ruleFailureReasons"])
    answer = track(runtime, tenant, body)
    assert answer.status == 200, answer.json()
    state = answer.json()
    kinds = [effect["effectType"] for effect in state["effects"]]
    assert kinds == ["updateAttribute", "triggerWebhook", "showNotification"]
    assert state["effects"][2]["props"]["body"] == "Rated 5"
    assert state["customerProfile"]["integrationId"] == customer
    assert state["customerProfile"]["attributes"]["reviewer"] is True
    assert state["event"]["type"] == "review_written" and state["event"]["profileId"] == customer
    assert [campaign["id"] for campaign in state["triggeredCampaigns"]] == [11]
    assert state["triggeredCampaigns"][0]["frontendState"] == "running"
    assert state["ruleFailureReasons"] == []
    # The profile was created with the attribute the rule set; the webhook waits in the outbox with its payload.
    stored = profile_of(runtime, tenant, customer).json()["profile"]
    assert stored["attributes"] == {"reviewer": True}
    (record,) = webhooks(runtime, tenant.application_id)
    assert record["customerId"] == customer
    assert record["payload"]["webhookId"] == 3 and record["payload"]["campaignId"] == 11
    assert record["payload"]["body"] == {"profile": customer, "rating": Decimal(5)}


def test_an_event_the_conditions_refuse_triggers_nothing(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [REVIEW]})
    customer = f"c-{uuid.uuid4().hex[:8]}"
    answer = track(runtime, tenant, review(customer, 2, responseContent=["triggeredCampaigns"]))
    assert answer.status == 200
    assert answer.json()["effects"] == [] and answer.json()["triggeredCampaigns"] == []
    assert webhooks(runtime, tenant.application_id) == []


def test_redemptions_of_an_event_campaign_are_counted_once_per_event(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [REVIEW]})
    answers = [
        track(runtime, tenant, review(f"c-{index}", 5, responseContent=["ruleFailureReasons"])) for index in range(3)
    ]
    assert [len(a.json()["effects"]) for a in answers] == [3, 3, 0]
    reasons = answers[2].json()["ruleFailureReasons"]
    assert {reason["details"] for reason in reasons} == {"CampaignLimitReached"}
    assert len(webhooks(runtime, tenant.application_id)) == 2


def test_a_dry_event_answers_effects_and_writes_nothing(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [REVIEW]})
    customer = f"c-{uuid.uuid4().hex[:8]}"
    answer = track(runtime, tenant, review(customer, 5), dry="true")
    assert answer.status == 200 and len(answer.json()["effects"]) == 3
    assert profile_of(runtime, tenant, customer).status == 404
    assert webhooks(runtime, tenant.application_id) == []
    # Not consumed: both redemptions are still there.
    again = [track(runtime, tenant, review(f"{customer}-{index}", 5)) for index in range(2)]
    assert [len(a.json()["effects"]) for a in again] == [3, 3]


def test_evaluable_campaign_ids_are_for_dry_events_and_evaluate_disabled_campaigns(runtime, tenant):
    disabled = {**REVIEW, "state": "disabled"}
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [disabled]})
    customer = f"c-{uuid.uuid4().hex[:8]}"
    refused = track(runtime, tenant, review(customer, 5, evaluableCampaignIds=[11]))
    assert refused.status == 400 and refused.json()["errors"][0]["path"] == "evaluableCampaignIds"
    assert track(runtime, tenant, review(customer, 5)).json()["effects"] == []
    dry = track(runtime, tenant, review(customer, 5, evaluableCampaignIds=[11]), dry="true")
    assert len(dry.json()["effects"]) == 3


def test_built_in_event_types_and_bad_bodies_are_refused_with_every_path(runtime, tenant):
    built_in = track(runtime, tenant, {"type": "talon_session_closed", "profileId": "x"})
    assert built_in.status == 400 and built_in.json()["errors"][0]["code"] == "built_in_event"
    bad = track(runtime, tenant, {"type": "", "profileId": 5, "attributes": [], "extra": 1})
    assert bad.status == 400
    paths = {issue["path"] for issue in bad.json()["errors"]}
    assert {"type", "profileId", "attributes", "extra"} <= paths


def test_silent_no_answers_the_profile(runtime, tenant):
    customer = f"c-{uuid.uuid4().hex[:8]}"
    answer = track(runtime, tenant, {"type": "page_viewed", "profileId": customer}, silent="no")
    assert answer.status == 200 and answer.json()["customerProfile"]["integrationId"] == customer
    assert "customerProfile" not in track(runtime, tenant, {"type": "page_viewed", "profileId": customer}).json()


def test_an_anonymous_event_is_evaluated_without_a_profile(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [REVIEW]})
    answer = track(runtime, tenant, {"type": "review_written", "attributes": {"rating": 5}})
    assert answer.status == 200
    # The profile attribute cannot land anywhere; the effects are still answered, the webhook recorded.
    assert [e["effectType"] for e in answer.json()["effects"]][:2] == ["updateAttribute", "triggerWebhook"]


def test_profile_update_with_run_rule_engine_triggers_created_then_updated(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [WELCOME, UPDATED]})
    customer = f"c-{uuid.uuid4().hex[:8]}"
    path = f"/v2/customer_profiles/{customer}"
    content = {"responseContent": ["customerProfile", "triggeredCampaigns", "event"]}
    created = runtime.request(
        "PUT",
        path,
        headers=tenant.headers,
        query={"runRuleEngine": "true"},
        body={"attributes": {"tier": "silver"}, **content},
    )
    assert created.status == 200, created.json()
    state = created.json()
    assert [(e["campaignId"], e["effectType"]) for e in state["effects"]] == [(12, "customEffect")]
    assert state["effects"][0]["props"]["payload"] == {"tier": "silver"}
    assert state["event"]["type"] == "talon_profile_created"
    updated = runtime.request(
        "PUT",
        path,
        headers=tenant.headers,
        query={"runRuleEngine": "true"},
        body={"attributes": {"tier": "gold"}, **content},
    )
    state = updated.json()
    assert state["event"]["type"] == "talon_profile_updated"
    assert [(e["campaignId"], e["effectType"]) for e in state["effects"]] == [(13, "updateAttribute")]
    assert "goldSince" in state["customerProfile"]["attributes"]
    stored = profile_of(runtime, tenant, customer).json()["profile"]["attributes"]
    assert stored["tier"] == "gold" and stored["goldSince"] == state["customerProfile"]["attributes"]["goldSince"]


def test_a_dry_profile_update_evaluates_the_profile_it_would_make_and_writes_nothing(runtime, tenant):
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [UPDATED]})
    customer = f"c-{uuid.uuid4().hex[:8]}"
    path = f"/v2/customer_profiles/{customer}"
    runtime.request("PUT", path, headers=tenant.headers, body={"attributes": {"tier": "silver"}})
    dry = runtime.request(
        "PUT",
        path,
        headers=tenant.headers,
        query={"runRuleEngine": "true", "dry": "true"},
        body={"attributes": {"tier": "gold"}},
    )
    assert dry.status == 200 and [e["campaignId"] for e in dry.json()["effects"]] == [13]
    assert profile_of(runtime, tenant, customer).json()["profile"]["attributes"] == {"tier": "silver"}


def test_rule_engine_parts_without_run_rule_engine_are_400(runtime, tenant):
    customer = f"c-{uuid.uuid4().hex[:8]}"
    path = f"/v2/customer_profiles/{customer}"
    answer = runtime.request(
        "PUT", path, headers=tenant.headers, body={"attributes": {"a": 1}, "responseContent": ["triggeredCampaigns"]}
    )
    assert answer.status == 400 and answer.json()["errors"][0]["code"] == "rule_engine_required"
    assert profile_of(runtime, tenant, customer).status == 404


def test_another_tenants_campaigns_never_apply(runtime, tenant, other_tenant):
    publish(runtime, other_tenant.application_id, {**SETTINGS, "campaigns": [REVIEW]})
    answer = track(runtime, tenant, review(f"c-{uuid.uuid4().hex[:8]}", 5))
    assert answer.status == 200 and answer.json()["effects"] == []


def test_campaigns_written_for_carts_do_not_fire_on_events(runtime, tenant):
    vip = {
        "id": 14,
        "name": "VIP cart discount",
        "rules": [
            {
                "title": "VIP",
                "condition": 'profile.attributes.tier == "vip"',
                "effects": [{"type": "updateAttribute", "target": "profile", "attribute": "seen", "value": "true"}],
            }
        ],
    }
    publish(runtime, tenant.application_id, {**SETTINGS, "campaigns": [vip, WELCOME]})
    customer = f"c-{uuid.uuid4().hex[:8]}"
    answer = runtime.request(
        "PUT",
        f"/v2/customer_profiles/{customer}",
        headers=tenant.headers,
        query={"runRuleEngine": "true"},
        body={"attributes": {"tier": "vip"}},
    )
    assert [effect["campaignId"] for effect in answer.json()["effects"]] == [12]
    assert track(runtime, tenant, {"type": "page_viewed", "profileId": customer}).json()["effects"] == []
