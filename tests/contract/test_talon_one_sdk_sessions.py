"""Customer sessions through the official talon-one-sdk IntegrationApi: update, read, reopen, and every effect
parsed by the SDK's own models."""

from __future__ import annotations

import uuid

import pytest
import talon_one
from talon_one.exceptions import ApiException, NotFoundException

from tests.contract.test_talon_one_sdk import base_url, integration_api
from tests.integration.coupons import add_coupon
from tests.integration.rulesets import publish

__all__ = ["base_url"]  # the module's server fixture, shared

CAMPAIGNS = {
    "settings": {"currency": "EUR", "timezone": "Europe/Rome"},
    "campaigns": [
        {
            "id": 1,
            "name": "Ten percent over 100",
            "rules": [
                {
                    "title": "Cart of 100 or more",
                    "condition": "session.cartItemTotal >= 100",
                    "effects": [
                        {"type": "setDiscount", "name": "10% off", "value": "session.total * 0.1"},
                        {"type": "showNotification", "title": "Saved", "body": "You saved ${session.total * 0.1}"},
                    ],
                }
            ],
        },
        {
            "id": 2,
            "name": "Shoes",
            "rules": [
                {
                    "title": "Two euro off each shoe",
                    "condition": 'any(items, item.category == "shoes")',
                    "effects": [
                        {
                            "type": "setDiscountPerItem",
                            "name": "2 off shoes",
                            "amount": 2,
                            "filter": 'item.category == "shoes"',
                        }
                    ],
                }
            ],
        },
    ],
}


def _request(state: str = "open") -> talon_one.IntegrationRequest:
    session = talon_one.NewCustomerSessionV2(
        profileId="sdk-profile",
        state=state,
        cartItems=[
            talon_one.CartItem(name="Runner", sku="RUN-1", quantity=2, price=60, category="shoes"),
            talon_one.CartItem(name="Socks", sku="SOCK", quantity=1, price=5, category="socks"),
        ],
        additionalCosts={"shipping": talon_one.AdditionalCost(price=4.9)},
    )
    return talon_one.IntegrationRequest(
        customerSession=session, responseContent=["customerSession", "customerProfile", "ruleFailureReasons"]
    )


def test_update_read_close_and_reopen_a_session_with_the_sdk(base_url, runtime, tenant):
    publish(runtime, tenant.application_id, CAMPAIGNS)
    api = integration_api(base_url, tenant.key)
    session_id = f"sdk-{uuid.uuid4().hex[:8]}"

    state = api.update_customer_session_v2(session_id, _request())
    assert isinstance(state, talon_one.IntegrationStateV2)
    assert state.customer_session is not None and state.customer_session.total == pytest.approx(129.9)
    by_type = {effect.effect_type: effect for effect in state.effects}
    assert set(by_type) == {"setDiscount", "showNotification", "setDiscountPerItem"}
    discount = talon_one.SetDiscountEffectProps.from_dict(by_type["setDiscount"].props)
    assert discount is not None and discount.value == pytest.approx(12.99)
    per_item = talon_one.SetDiscountPerItemEffectProps.from_dict(by_type["setDiscountPerItem"].props)
    assert per_item is not None and per_item.position == 0
    notification = talon_one.ShowNotificationEffectProps.from_dict(by_type["showNotification"].props)
    assert notification is not None and notification.title == "Saved"

    read = api.get_customer_session(session_id)
    assert isinstance(read, talon_one.IntegrationCustomerSessionResponse)
    assert read.customer_session is not None and read.customer_session.state == "open"

    closed = api.update_customer_session_v2(session_id, _request("closed"))
    assert closed.customer_profile is not None and closed.customer_profile.closed_sessions == 1

    reopened = api.reopen_customer_session(session_id)
    assert isinstance(reopened, talon_one.ReopenSessionResponse)
    rollbacks = [effect for effect in reopened.effects if effect.effect_type == "rollbackDiscount"]
    assert len(rollbacks) == 2
    for effect in rollbacks:
        assert talon_one.RollbackDiscountEffectProps.from_dict(effect.props) is not None


def test_sdk_errors_for_sessions(base_url, tenant, other_tenant):
    api = integration_api(base_url, tenant.key)
    with pytest.raises(NotFoundException):
        api.get_customer_session(f"missing-{uuid.uuid4().hex[:8]}")
    session_id = f"sdk-{uuid.uuid4().hex[:8]}"
    api.update_customer_session_v2(session_id, _request())
    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).get_customer_session(session_id)
    with pytest.raises(ApiException) as refused:
        api.reopen_customer_session(session_id)
    assert refused.value.status == 400


EVENT_CAMPAIGNS = {
    "settings": {"currency": "EUR", "timezone": "Europe/Rome"},
    "campaigns": [
        {
            "id": 5,
            "name": "Newsletter signup",
            "limits": [{"action": "setDiscountEffect", "limit": 100, "entities": ["Profile"], "period": "daily"}],
            "tags": ["crm"],
            "rules": [
                {
                    "title": "Signed up",
                    "condition": 'event.type == "newsletter_signup" or event.type == "talon_profile_created"',
                    "effects": [
                        {"type": "updateAttribute", "target": "profile", "attribute": "subscribed", "value": "true"},
                        {"type": "triggerWebhook", "webhookId": 2, "webhookName": "welcome-mail", "payload": {}},
                    ],
                }
            ],
        }
    ],
}


def test_track_an_event_and_run_the_rule_engine_on_a_profile_with_the_sdk(base_url, runtime, tenant):
    publish(runtime, tenant.application_id, EVENT_CAMPAIGNS)
    api = integration_api(base_url, tenant.key)
    content = ["customerProfile", "triggeredCampaigns", "ruleFailureReasons", "event"]
    event = talon_one.IntegrationEventV2Request(
        profileId=f"sdk-{uuid.uuid4().hex[:8]}", type="newsletter_signup", attributes={}, responseContent=content
    )
    tracked = api.track_event_v2(event, silent="no")
    assert isinstance(tracked, talon_one.TrackEventV2Response)
    assert [effect.effect_type for effect in tracked.effects] == ["updateAttribute", "triggerWebhook"]
    assert (tracked.effects[1].props or {})["webhookId"] == 2
    profile = tracked.customer_profile
    assert profile is not None and (profile.attributes or {})["subscribed"] is True
    (campaign,) = tracked.triggered_campaigns or []
    assert isinstance(campaign, talon_one.Campaign) and campaign.limits[0].period == "daily"
    assert tracked.event is not None and tracked.event.type == "newsletter_signup"

    profile_id = f"sdk-{uuid.uuid4().hex[:8]}"
    body = talon_one.CustomerProfileIntegrationRequestV2(attributes={"name": "Ada"}, responseContent=content)
    answer = api.update_customer_profile_v2(profile_id, body, run_rule_engine=True)
    assert isinstance(answer, talon_one.CustomerProfileIntegrationResponseV2)
    assert [effect.campaign_id for effect in answer.effects] == [5, 5]
    assert answer.event is not None and answer.event.type == "talon_profile_created"


def test_returns_events_and_previous_returns_parse_with_the_sdk(base_url, runtime, tenant):
    publish(runtime, tenant.application_id, CAMPAIGNS)
    api = integration_api(base_url, tenant.key)
    session_id = f"sdk-{uuid.uuid4().hex[:8]}"
    api.update_customer_session_v2(session_id, _request("closed"))
    body = talon_one.ReturnIntegrationRequest.from_dict(
        {"return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}, "responseContent": ["event"]}
    )
    assert body is not None
    state = api.return_cart_items(session_id, body)
    assert isinstance(state, talon_one.IntegrationStateV2)
    assert state.event is not None and state.event.type == "talon_session_partially_returned"
    assert state.var_return is not None and state.var_return.returned_cart_items[0].quantity == 1
    request = _request()
    request.customer_session.state = "cancelled"
    request.response_content = ["event", "previousReturns"]
    cancelled = api.update_customer_session_v2(session_id, request)
    assert cancelled.event is not None and cancelled.event.type == "talon_session_revoked"
    assert [r.id for r in cancelled.previous_returns or []] == [state.var_return.id]


COUPON_CAMPAIGNS = {
    "settings": {"currency": "EUR", "timezone": "Europe/Rome"},
    "campaigns": [
        {
            "id": 9,
            "name": "Welcome coupon",
            "features": ["coupons"],
            "rules": [
                {
                    "title": "Coupon code is valid",
                    "condition": "coupon.valid",
                    "effects": [{"type": "setDiscount", "name": "10% off", "value": "session.total * 0.1"}],
                }
            ],
        }
    ],
}


def test_coupons_accepted_rejected_and_rolled_back_parse_with_the_sdk(base_url, runtime, tenant):
    publish(runtime, tenant.application_id, COUPON_CAMPAIGNS)
    add_coupon(runtime, tenant, "SDK-WELCOME", campaign_id=9, usage_limit=1)
    api = integration_api(base_url, tenant.key)
    session_id = f"sdk-{uuid.uuid4().hex[:8]}"
    request = _request("closed")
    request.customer_session.coupon_codes = ["SDK-WELCOME", "SDK-NOPE"]
    closed = api.update_customer_session_v2(session_id, request)
    kinds = [effect.effect_type for effect in closed.effects]
    assert kinds == ["acceptCoupon", "setDiscount", "rejectCoupon"]
    accepted = talon_one.AcceptCouponEffectProps.from_dict(closed.effects[0].props)
    assert accepted is not None and accepted.value == "SDK-WELCOME"
    assert closed.effects[1].triggered_by_coupon == closed.effects[0].triggered_by_coupon
    rejected = talon_one.RejectCouponEffectProps.from_dict(closed.effects[2].props)
    assert rejected is not None and (rejected.value, rejected.rejection_reason) == ("SDK-NOPE", "CouponNotFound")

    reopened = api.reopen_customer_session(session_id)
    rolled = [effect for effect in reopened.effects if effect.effect_type == "rollbackCoupon"]
    assert len(rolled) == 1
    props = talon_one.RollbackCouponEffectProps.from_dict(rolled[0].props)
    assert props is not None and props.value == "SDK-WELCOME"


def test_coupon_reservations_with_the_sdk(base_url, runtime, tenant):
    publish(runtime, tenant.application_id, COUPON_CAMPAIGNS)
    add_coupon(runtime, tenant, "SDK%WALLET", campaign_id=9, reservation_limit=5)
    api = integration_api(base_url, tenant.key)
    profile_id = f"sdk-{uuid.uuid4().hex[:8]}"
    api.update_customer_profile_v2(profile_id, talon_one.CustomerProfileIntegrationRequestV2(attributes={}))
    body = talon_one.CouponReservations(integrationIDs=[profile_id])
    # The SDK URL-encodes the code itself (a raw client sends SDK%25WALLET: see test_coupon_reservations.py).
    coupon = api.create_coupon_reservation("SDK%WALLET", body)
    assert isinstance(coupon, talon_one.Coupon)
    assert (coupon.value, coupon.reservation_counter) == ("SDK%WALLET", 1)
    listed = api.get_reserved_customers("SDK%WALLET")
    assert [profile.integration_id for profile in listed.data] == [profile_id]
    api.delete_coupon_reservation("SDK%WALLET", body)
    assert api.get_reserved_customers("SDK%WALLET").total_result_size == 0
    with pytest.raises(NotFoundException):
        api.create_coupon_reservation("SDK-MISSING", body)


CREATING_CAMPAIGNS = {
    "settings": {"currency": "EUR", "timezone": "Europe/Rome"},
    "campaigns": [
        {
            "id": 11,
            "name": "Wallet and referrals",
            "features": ["coupons", "referrals"],
            "rules": [
                {
                    "title": "Referral code is valid",
                    "condition": "referral.valid",
                    "effects": [{"type": "setDiscount", "name": "Friend's 5 off", "value": 5}],
                },
                {
                    "title": "Cart of 100 or more",
                    "condition": "session.cartItemTotal >= 100",
                    "effects": [
                        {"type": "createCoupon", "prefix": "SDK-", "validDays": 30},
                        {"type": "reserveCoupon"},
                        {"type": "createReferral", "prefix": "SDKREF-"},
                    ],
                },
            ],
        }
    ],
}


def test_created_coupons_reservations_and_referral_codes_parse_with_the_sdk(base_url, runtime, tenant):
    publish(runtime, tenant.application_id, CREATING_CAMPAIGNS)
    api = integration_api(base_url, tenant.key)
    closed = api.update_customer_session_v2(f"sdk-{uuid.uuid4().hex[:8]}", _request("closed"))
    assert [effect.effect_type for effect in closed.effects] == ["couponCreated", "reserveCoupon", "referralCreated"]
    created = talon_one.CouponCreatedEffectProps.from_dict(closed.effects[0].props)
    reserved = talon_one.ReserveCouponEffectProps.from_dict(closed.effects[1].props)
    referred = talon_one.ReferralCreatedEffectProps.from_dict(closed.effects[2].props)
    assert created is not None and reserved is not None and referred is not None
    (coupon,) = closed.created_coupons
    assert isinstance(coupon, talon_one.Coupon) and coupon.value == created.value
    assert (reserved.coupon_value, reserved.profile_integration_id, reserved.is_new_reservation) == (
        created.value,
        "sdk-profile",
        True,
    )
    assert [profile.integration_id for profile in api.get_reserved_customers(created.value).data] == ["sdk-profile"]
    (referral,) = closed.created_referrals
    assert isinstance(referral, talon_one.Referral)
    assert (referral.code, referral.advocate_profile_integration_id) == (referred.value, "sdk-profile")

    friend = talon_one.NewCustomerSessionV2(
        profileId=f"sdk-friend-{uuid.uuid4().hex[:6]}",
        referralCode=referred.value,
        cartItems=[talon_one.CartItem(name="Socks", sku="SOCK", quantity=1, price=5)],
    )
    answer = api.update_customer_session_v2(
        f"sdk-{uuid.uuid4().hex[:8]}", talon_one.IntegrationRequest(customerSession=friend)
    )
    assert [effect.effect_type for effect in answer.effects] == ["acceptReferral", "setDiscount"]
    assert answer.created_referrals == []
