"""The official talon-one-sdk IntegrationApi's audience methods against Patron: models and statuses as the SDK
reads them (create 201 Audience, 409 on a mirrored audience again, rename 200, 204s, 404s), and the profile's
audienceMemberships as talon_one.AudienceMembership."""

from __future__ import annotations

import uuid

import pytest
import talon_one
from talon_one.exceptions import ApiException, BadRequestException, NotFoundException

from tests.contract.test_talon_one_sdk import base_url, integration_api

__all__ = ["base_url"]  # the module's server fixture, shared


def test_audiences_through_the_sdk(base_url, tenant):
    api = integration_api(base_url, tenant.key)
    created = api.create_audience_v2(talon_one.NewAudience(name="VIP", description="Our best"))
    assert isinstance(created, talon_one.Audience)
    assert created.name == "VIP" and created.description == "Our best" and created.account_id == 1
    assert created.created_in3rd_party is False and created.integration_id is None

    mirror = talon_one.NewAudience(name="Seg", integration="segment", integrationId=f"seg-{uuid.uuid4().hex[:8]}")
    mirrored = api.create_audience_v2(mirror)
    assert mirrored.integration == "segment" and mirrored.created_in3rd_party is True
    with pytest.raises(ApiException) as raised:
        api.create_audience_v2(mirror)
    assert raised.value.status == 409

    renamed = api.update_audience_v2(created.id, talon_one.UpdateAudience(name="Gold"))
    assert isinstance(renamed, talon_one.Audience) and renamed.name == "Gold" and renamed.id == created.id

    customer = f"sdk-aud-{uuid.uuid4().hex[:8]}"
    actions = talon_one.CustomerProfileAudienceRequest(
        data=[
            talon_one.CustomerProfileAudienceRequestItem(
                action="add", profileIntegrationId=customer, audienceId=created.id
            ),
            talon_one.CustomerProfileAudienceRequestItem(
                action="add", profileIntegrationId=customer, audienceId=mirrored.id
            ),
        ]
    )
    assert api.update_customer_profile_audiences(actions) is None
    profile = api.get_customer_inventory(customer, profile=True).profile
    assert profile is not None
    memberships = profile.audience_memberships or []
    assert all(isinstance(one, talon_one.AudienceMembership) for one in memberships)
    assert [(one.id, one.name) for one in memberships] == [(created.id, "Gold"), (mirrored.id, "Seg")]

    changes = talon_one.ProfileAudiencesChanges(adds=[], deletes=[mirrored.id])
    body = talon_one.CustomerProfileIntegrationRequestV2(audiencesChanges=changes, responseContent=["customerProfile"])
    answer = api.update_customer_profile_v2(customer, body)
    assert answer.customer_profile is not None
    assert [one.id for one in answer.customer_profile.audience_memberships or []] == [created.id]

    assert api.update_audience_customers_attributes(created.id, {"segment": "vip"}) is None
    assert api.delete_audience_memberships_v2(mirrored.id) is None
    assert api.delete_audience_v2(mirrored.id) is None
    with pytest.raises(NotFoundException):
        api.delete_audience_v2(mirrored.id + 1000)
    with pytest.raises(NotFoundException):
        api.update_audience_v2(mirrored.id + 1000, talon_one.UpdateAudience(name="x"))


def test_bad_audience_requests_are_400_or_404_for_the_sdk(base_url, tenant):
    api = integration_api(base_url, tenant.key)
    unknown = talon_one.CustomerProfileAudienceRequest(
        data=[talon_one.CustomerProfileAudienceRequestItem(action="add", profileIntegrationId="p", audienceId=424242)]
    )
    with pytest.raises(NotFoundException):
        api.update_customer_profile_audiences(unknown)
    with pytest.raises(BadRequestException):
        api.create_audience_v2(talon_one.NewAudience(name="x", integration="segment"))  # no integrationId
    with pytest.raises(NotFoundException):
        api.update_audience_customers_attributes(424242, {"a": 1})
