"""Talon.One's wire shapes for customer profiles (talon-one-sdk: CustomerProfileIntegrationRequestV2,
CustomerProfileIntegrationResponseV2, CustomerInventory, CustomerProfile), mapped to and from the entity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgspec

from patron.coupons.view import InventoryCoupon
from patron.profiles import model
from patron.referrals.wire import InventoryReferral

ResponseContent = Literal[
    "customerProfile", "triggeredCampaigns", "loyalty", "event", "awardedGiveaways", "ruleFailureReasons"
]


class AudiencesChanges(msgspec.Struct, forbid_unknown_fields=True):
    adds: list[int] = []
    deletes: list[int] = []


class CustomerProfileIntegrationRequestV2(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    attributes: dict[str, Any] | None = None
    evaluable_campaign_ids: list[int] | None = None
    audiences_changes: AudiencesChanges | None = None
    response_content: list[ResponseContent] | None = None


class MultipleCustomerProfileIntegrationRequestItem(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    integration_id: str
    attributes: dict[str, Any] | None = None


class MultipleCustomerProfileIntegrationRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    customer_profiles: list[MultipleCustomerProfileIntegrationRequestItem]


class CustomerProfile(msgspec.Struct, rename="camel"):
    """talon_one.models.CustomerProfile."""

    id: int
    created: str
    integration_id: str
    attributes: dict[str, Any]
    account_id: int
    closed_sessions: int
    total_sales: Decimal
    # Deprecated in Talon.One and always null there.
    loyalty_memberships: None
    audience_memberships: list[dict[str, Any]]
    last_activity: str
    sandbox: bool


class CustomerProfileIntegrationResponseV2(msgspec.Struct, rename="camel"):
    """Without the rule engine: no effects, coupons or referrals yet; the profile when responseContent asks."""

    effects: list[dict[str, Any]]
    created_coupons: list[dict[str, Any]]
    created_referrals: list[dict[str, Any]]
    customer_profile: CustomerProfile | msgspec.UnsetType = msgspec.UNSET


class CustomerInventory(msgspec.Struct):
    """The parts asked for (the profile, the referrals, the coupons, the loyalty ledgers)."""

    profile: CustomerProfile | msgspec.UnsetType = msgspec.UNSET
    referrals: list[InventoryReferral] | msgspec.UnsetType = msgspec.UNSET
    coupons: list[InventoryCoupon] | msgspec.UnsetType = msgspec.UNSET
    loyalty: Any | msgspec.UnsetType = msgspec.UNSET  # patron.loyalty.wire.LoyaltyView


class CustomerProfileUpdateV2Response(msgspec.Struct, rename="camel"):
    customer_profile: CustomerProfile


class MultipleCustomerProfileIntegrationResponseV2(msgspec.Struct, rename="camel"):
    """One CustomerProfileUpdateV2Response per request item, in order."""

    integration_states: list[CustomerProfileUpdateV2Response]


def profile_response(
    profile: model.CustomerProfile, account_id: int, memberships: list[dict[str, Any]] | None = None
) -> CustomerProfile:
    """`memberships`: the profile's live audiences as AudienceMembership ({id, name}), read by the caller (the
    profile item holds only their ids); [] when the caller did not read them."""
    return CustomerProfile(
        id=profile.profile_id,
        created=profile.created,
        integration_id=profile.integration_id,
        attributes=profile.attributes,
        account_id=account_id,
        closed_sessions=profile.closed_sessions,
        total_sales=profile.total_sales,
        loyalty_memberships=None,
        audience_memberships=memberships or [],
        last_activity=profile.last_activity,
        sandbox=False,
    )


def update_response(
    profile: model.CustomerProfile, account_id: int, include_profile: bool
) -> CustomerProfileIntegrationResponseV2:
    return CustomerProfileIntegrationResponseV2(
        effects=[],
        created_coupons=[],
        created_referrals=[],
        customer_profile=profile_response(profile, account_id) if include_profile else msgspec.UNSET,
    )


def inventory_response(
    profile: model.CustomerProfile,
    account_id: int,
    include_profile: bool,
    coupons: list[InventoryCoupon] | None = None,
    referrals: list[InventoryReferral] | None = None,
    loyalty: Any = None,
    memberships: list[dict[str, Any]] | None = None,
) -> CustomerInventory:
    return CustomerInventory(
        profile=profile_response(profile, account_id, memberships) if include_profile else msgspec.UNSET,
        referrals=referrals if referrals is not None else msgspec.UNSET,
        coupons=coupons if coupons is not None else msgspec.UNSET,
        loyalty=loyalty if loyalty is not None else msgspec.UNSET,
    )


def bulk_update_response(
    profiles: list[model.CustomerProfile], account_id: int
) -> MultipleCustomerProfileIntegrationResponseV2:
    return MultipleCustomerProfileIntegrationResponseV2(
        integration_states=[CustomerProfileUpdateV2Response(profile_response(p, account_id)) for p in profiles]
    )
