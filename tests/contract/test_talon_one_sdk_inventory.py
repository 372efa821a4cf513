"""The customer inventory's coupons and referrals through the official talon-one-sdk IntegrationApi: every coupon
parsed by the SDK's own InventoryCoupon, with the profile's redemptions and its state, every referral code by its
InventoryReferral, with its referred customers; another application's key sees a 404."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import talon_one
from talon_one.exceptions import NotFoundException

from tests.contract.test_talon_one_sdk import base_url, integration_api
from tests.integration.coupons import add_coupon
from tests.integration.referrals import CAMPAIGN as REFERRAL_CAMPAIGN
from tests.integration.referrals import add_referral
from tests.integration.rulesets import publish

__all__ = ["base_url"]  # the module's server fixture, shared

CAMPAIGN = {
    "id": 10,
    "name": "Coupons",
    "features": ["coupons"],
    "rules": [
        {
            "title": "Valid",
            "condition": "coupon.valid",
            "effects": [{"type": "setDiscount", "name": "5 off", "value": 5}],
        }
    ],
}


def test_the_inventorys_coupons_parse_as_talon_ones(runtime, base_url, tenant, other_tenant):
    publish(runtime, tenant.application_id, {"settings": {"currency": "EUR"}, "campaigns": [CAMPAIGN]})
    api = integration_api(base_url, tenant.key)
    customer = f"sdk-{uuid.uuid4().hex[:8]}"
    api.update_customer_profile_v2(customer, talon_one.CustomerProfileIntegrationRequestV2(attributes={}))
    assert api.get_customer_inventory(customer, coupons=True).coupons == []

    add_coupon(runtime, tenant, "SDK-WALLET", reservation_limit=3, usage_limit=2, profile_limit=1)
    add_coupon(runtime, tenant, "SDK-LATER", start_date=datetime.now(UTC) + timedelta(days=2))
    reservation = talon_one.CouponReservations.from_dict({"integrationIDs": [customer]})
    assert reservation is not None
    for code in ("SDK-WALLET", "SDK-LATER"):
        api.create_coupon_reservation(code, reservation)

    inventory = api.get_customer_inventory(customer, profile=True, coupons=True)
    assert isinstance(inventory, talon_one.CustomerInventory) and inventory.profile is not None
    coupons = {coupon.value: coupon for coupon in inventory.coupons or []}
    assert all(isinstance(coupon, talon_one.InventoryCoupon) for coupon in coupons.values())
    wallet = coupons["SDK-WALLET"]
    assert (wallet.state, wallet.profile_redemption_count, wallet.campaign_id) == ("active", 0, 10)
    assert (wallet.usage_limit, wallet.reservation_limit, wallet.reservation_counter) == (2, 3, 1)
    assert wallet.reservation is True and wallet.is_reservation_mandatory is False
    assert wallet.limits is not None and wallet.limits[0].limit == 1
    assert coupons["SDK-LATER"].state == "pending" and coupons["SDK-LATER"].start_date is not None

    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).get_customer_inventory(customer, coupons=True)


def test_the_inventorys_referrals_parse_as_talon_ones(runtime, base_url, tenant, other_tenant):
    publish(runtime, tenant.application_id, {"settings": {"currency": "EUR"}, "campaigns": [REFERRAL_CAMPAIGN]})
    api = integration_api(base_url, tenant.key)
    advocate, friend = (f"sdk-{uuid.uuid4().hex[:8]}" for _ in range(2))
    api.update_customer_profile_v2(advocate, talon_one.CustomerProfileIntegrationRequestV2(attributes={}))
    assert api.get_customer_inventory(advocate, referrals=True).referrals == []
    add_referral(runtime, tenant, "SDK-REF-1", advocate=advocate, usage_limit=3, attributes={"channel": "mail"})
    add_referral(runtime, tenant, "SDK-REF-2", advocate=advocate, expiry_date=datetime.now(UTC) + timedelta(days=9))
    session = talon_one.NewCustomerSessionV2(
        profileId=friend,
        referralCode="SDK-REF-1",
        state="closed",
        cartItems=[talon_one.CartItem(name="Runner", sku="RUN-1", quantity=1, price=40)],
    )
    closing = talon_one.IntegrationRequest(customerSession=session)
    api.update_customer_session_v2(f"sdk-s-{uuid.uuid4().hex[:8]}", closing)

    inventory = api.get_customer_inventory(advocate, profile=True, referrals=True)
    referrals = {referral.code: referral for referral in inventory.referrals or []}
    assert all(isinstance(referral, talon_one.InventoryReferral) for referral in referrals.values())
    first = referrals["SDK-REF-1"]
    assert (first.campaign_id, first.advocate_profile_integration_id, first.usage_counter) == (20, advocate, 1)
    assert (first.usage_limit, first.referred_customers, first.attributes) == (3, [friend], {"channel": "mail"})
    assert referrals["SDK-REF-2"].expiry_date is not None and referrals["SDK-REF-2"].referred_customers == []

    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).get_customer_inventory(advocate, referrals=True)
