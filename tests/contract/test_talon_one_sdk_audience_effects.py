"""`addToAudience` / `removeFromAudience` through the official talon-one-sdk IntegrationApi: a closed session's
effects parse as the SDK's AddToAudienceEffectProps and RemoveFromAudienceEffectProps, and the profile's
audienceMemberships (talon_one.AudienceMembership) show the change."""

from __future__ import annotations

import uuid

import talon_one

from tests.contract.test_talon_one_sdk import base_url, integration_api
from tests.integration.rulesets import publish

__all__ = ["base_url"]  # the module's server fixture, shared


def test_membership_effects_parse_as_talon_ones(runtime, base_url, tenant):
    api = integration_api(base_url, tenant.key)
    vip = api.create_audience_v2(talon_one.NewAudience(name="VIP"))
    trial = api.create_audience_v2(talon_one.NewAudience(name="Trial"))
    customer = f"sdk-{uuid.uuid4().hex[:8]}"
    joining = talon_one.CustomerProfileAudienceRequestItem(
        action="add", profileIntegrationId=customer, audienceId=trial.id
    )
    api.update_customer_profile_audiences(talon_one.CustomerProfileAudienceRequest(data=[joining]))
    rule = {
        "title": "Big spenders become VIPs",
        "condition": "session.total >= 100",
        "effects": [
            {"type": "addToAudience", "audienceId": vip.id},
            {"type": "removeFromAudience", "audienceId": trial.id},
        ],
    }
    campaign = {"id": 1, "name": "VIP upgrade", "rules": [rule]}
    publish(runtime, tenant.application_id, {"settings": {"currency": "EUR"}, "campaigns": [campaign]})

    session = talon_one.NewCustomerSessionV2(
        profileId=customer,
        state="closed",
        cartItems=[talon_one.CartItem(name="Bag", sku="BAG-1", quantity=1, price=150)],
    )
    answer = api.update_customer_session_v2(
        f"sdk-s-{uuid.uuid4().hex[:8]}", talon_one.IntegrationRequest(customerSession=session)
    )
    effects = {effect.effect_type: effect.props for effect in answer.effects or []}
    added = talon_one.AddToAudienceEffectProps.from_dict(effects["addToAudience"])
    removed = talon_one.RemoveFromAudienceEffectProps.from_dict(effects["removeFromAudience"])
    assert added is not None and removed is not None
    assert (added.audience_id, added.audience_name, added.profile_integration_id) == (vip.id, "VIP", customer)
    assert (removed.audience_id, removed.audience_name) == (trial.id, "Trial")
    assert isinstance(added.profile_id, int) and removed.profile_id == added.profile_id
    profile = api.get_customer_inventory(customer, profile=True).profile
    assert profile is not None
    assert [(one.id, one.name) for one in profile.audience_memberships or []] == [(vip.id, "VIP")]
