"""Referral creation through the official talon-one-sdk IntegrationApi: create_referral parsed by the SDK's own
Referral, create_referrals_for_multiple_advocates with silent=no (its 201 list) and yes (204, nothing to parse); a
created code then redeemed by a friend's session; another application's key cannot use the campaign."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import talon_one
from talon_one.exceptions import NotFoundException

from tests.contract.test_talon_one_sdk import base_url, integration_api
from tests.integration.referrals import CAMPAIGN
from tests.integration.rulesets import publish

__all__ = ["base_url"]  # the module's server fixture, shared


def test_create_referral_parses_as_talon_ones_and_is_redeemed(runtime, base_url, tenant, other_tenant):
    publish(runtime, tenant.application_id, {"settings": {"currency": "EUR"}, "campaigns": [CAMPAIGN]})
    api = integration_api(base_url, tenant.key)
    advocate, friend = (f"sdk-{uuid.uuid4().hex[:8]}" for _ in range(2))
    expiry = datetime.now(UTC) + timedelta(days=30)
    new = talon_one.NewReferral(
        campaignId=20,
        advocateProfileIntegrationId=advocate,
        friendProfileIntegrationId=friend,
        expiryDate=expiry,
        usageLimit=1,
        attributes={"channel": "mail"},
    )
    referral = api.create_referral(new)
    assert isinstance(referral, talon_one.Referral)
    assert (referral.campaign_id, referral.advocate_profile_integration_id) == (20, advocate)
    assert (referral.friend_profile_integration_id, referral.usage_limit, referral.usage_counter) == (friend, 1, 0)
    assert referral.attributes == {"channel": "mail"} and len(referral.code) == 8
    assert referral.expiry_date is not None and abs((referral.expiry_date - expiry).total_seconds()) < 1

    session = talon_one.NewCustomerSessionV2(
        profileId=friend,
        referralCode=referral.code,
        state="closed",
        cartItems=[talon_one.CartItem(name="Runner", sku="RUN-1", quantity=1, price=40)],
    )
    closed = api.update_customer_session_v2(
        f"sdk-s-{uuid.uuid4().hex[:8]}", talon_one.IntegrationRequest(customerSession=session)
    )
    assert [effect.effect_type for effect in closed.effects or []] == ["acceptReferral", "setDiscount"]

    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).create_referral(new)


def test_create_referrals_for_multiple_advocates_silent_and_not(runtime, base_url, tenant):
    publish(runtime, tenant.application_id, {"settings": {"currency": "EUR"}, "campaigns": [CAMPAIGN]})
    api = integration_api(base_url, tenant.key)
    advocates = [f"sdk-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    body = talon_one.NewReferralsForMultipleAdvocates(
        campaignId=20,
        advocateProfileIntegrationIds=advocates,
        validCharacters=list("ABCDEFGH"),
        referralPattern="SDK-#####",
        usageLimit=2,
    )
    created = api.create_referrals_for_multiple_advocates(body, silent="no")
    assert isinstance(created, talon_one.CreateReferralsForMultipleAdvocates201Response)
    assert created.total_result_size == 3
    assert [r.advocate_profile_integration_id for r in created.data] == advocates
    assert all(isinstance(r, talon_one.Referral) and r.code.startswith("SDK-") for r in created.data)
    assert len({r.batch_id for r in created.data}) == 1

    silent = api.create_referrals_for_multiple_advocates_with_http_info(body, silent="yes")
    assert silent.status_code == 204 and silent.data is None
    default = api.create_referrals_for_multiple_advocates_with_http_info(body)
    assert default.status_code == 204
