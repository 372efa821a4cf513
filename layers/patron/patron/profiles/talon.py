"""Talon.One's wire shapes for customer profiles (talon-one-sdk: CustomerProfileIntegrationRequestV2,
CustomerProfileIntegrationResponseV2, CustomerInventory, CustomerProfile), mapped to and from the entity."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from patron.profiles.model import CustomerProfile

ResponseContent = Literal[
    "customerProfile", "triggeredCampaigns", "loyalty", "event", "awardedGiveaways", "ruleFailureReasons"
]


class AudiencesChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adds: list[int] = Field(default_factory=list)
    deletes: list[int] = Field(default_factory=list)


class CustomerProfileIntegrationRequestV2(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    attributes: dict[str, Any] | None = None
    evaluable_campaign_ids: list[int] | None = Field(default=None, alias="evaluableCampaignIds")
    audiences_changes: AudiencesChanges | None = Field(default=None, alias="audiencesChanges")
    response_content: list[ResponseContent] | None = Field(default=None, alias="responseContent")


def profile_response(profile: CustomerProfile, account_id: int) -> dict[str, Any]:
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
