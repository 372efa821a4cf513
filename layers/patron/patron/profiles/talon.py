"""Talon.One's wire shapes for customer profiles (talon-one-sdk: CustomerProfileIntegrationRequestV2,
CustomerProfileIntegrationResponseV2, CustomerInventory, CustomerProfile), mapped to and from the entity."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from patron.profiles.model import CustomerProfile

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


def profile_response(profile: CustomerProfile, account_id: int) -> dict[str, Any]:
    """talon_one.models.CustomerProfile."""
    return {
        "id": profile.profile_id,
        "created": profile.created,
        "integrationId": profile.integration_id,
        "attributes": profile.attributes,
        "accountId": account_id,
        "closedSessions": profile.closed_sessions,
        "totalSales": profile.total_sales,
        # Deprecated in Talon.One and always null there.
        "loyaltyMemberships": None,
        "audienceMemberships": [],
        "lastActivity": profile.last_activity,
        "sandbox": False,
    }


def update_response(profile: CustomerProfile, account_id: int, include_profile: bool) -> dict[str, Any]:
    """CustomerProfileIntegrationResponseV2 without the rule engine: no effects, coupons or referrals created."""
    body: dict[str, Any] = {"effects": [], "createdCoupons": [], "createdReferrals": []}
    if include_profile:
        body["customerProfile"] = profile_response(profile, account_id)
    return body


def inventory_response(profile: CustomerProfile, account_id: int, include_profile: bool) -> dict[str, Any]:
    """CustomerInventory."""
    return {"profile": profile_response(profile, account_id)} if include_profile else {}


def bulk_update_response(profiles: list[CustomerProfile], account_id: int) -> dict[str, Any]:
    """MultipleCustomerProfileIntegrationResponseV2: one CustomerProfileUpdateV2Response per request item."""
    return {"integrationStates": [{"customerProfile": profile_response(p, account_id)} for p in profiles]}
