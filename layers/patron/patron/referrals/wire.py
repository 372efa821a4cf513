"""The Integration API's referral bodies: Talon.One's `NewReferral`, `NewReferralsForMultipleAdvocates`, `Referral`
and the list answer of `createReferralsForMultipleAdvocates` (camelCase, as the official SDKs send and read them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from patron.clock import iso
from patron.referrals.model import MAX_ADVOCATES, MAX_INTEGRATION_ID_LENGTH, MAX_USAGE_LIMIT, Referral, ReferralTerms

UsageLimit = Annotated[int, msgspec.Meta(ge=0, le=MAX_USAGE_LIMIT)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
IntegrationId = Annotated[str, msgspec.Meta(max_length=MAX_INTEGRATION_ID_LENGTH)]
CampaignId = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Advocates = Annotated[list[IntegrationId], msgspec.Meta(min_length=1, max_length=MAX_ADVOCATES)]
Character = Annotated[str, msgspec.Meta(min_length=1, max_length=1)]


class _Wire(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    pass


class NewReferralRequest(_Wire, kw_only=True):
    """Talon.One's NewReferral: one code for the advocate (generated: eight characters of [A-Z0-9]), made out to
    the friend when one is named."""

    campaign_id: CampaignId
    advocate_profile_integration_id: IntegrationId
    friend_profile_integration_id: IntegrationId | None = None
    start_date: Moment | None = None
    expiry_date: Moment | None = None
    usage_limit: UsageLimit = 0
    attributes: dict[str, Any] | None = None

    def terms(self) -> ReferralTerms:
        return ReferralTerms(self.start_date, self.expiry_date, self.usage_limit, self.attributes or {})


class NewReferralsForMultipleAdvocatesRequest(_Wire, kw_only=True):
    """Talon.One's NewReferralsForMultipleAdvocates: one code per advocate, from `validCharacters` and
    `referralPattern` (`#`: a character of the set)."""

    campaign_id: CampaignId
    advocate_profile_integration_ids: Advocates
    start_date: Moment | None = None
    expiry_date: Moment | None = None
    usage_limit: UsageLimit = 0
    attributes: dict[str, Any] | None = None
    valid_characters: Annotated[list[Character], msgspec.Meta(min_length=1, max_length=256)] | None = None
    referral_pattern: Annotated[str, msgspec.Meta(min_length=3, max_length=100)] | None = None

    def terms(self) -> ReferralTerms:
        return ReferralTerms(self.start_date, self.expiry_date, self.usage_limit, self.attributes or {})


class ReferralView(_Wire, kw_only=True):
    """Talon.One's Referral."""

    id: int
    created: str
    start_date: str | None = None
    expiry_date: str | None = None
    usage_limit: int
    campaign_id: int
    advocate_profile_integration_id: str
    friend_profile_integration_id: str | None = None
    attributes: dict[str, Any] = {}
    code: str
    usage_counter: int
    batch_id: str | None = None


class ReferralsCreatedResponse(_Wire, kw_only=True):
    """The answer of `createReferralsForMultipleAdvocates` with `silent=no` (the SDK's
    CreateReferralsForMultipleAdvocates201Response)."""

    total_result_size: int
    data: list[ReferralView]


def referral_view(referral: Referral) -> ReferralView:
    return ReferralView(
        id=referral.id,
        created=iso(referral.created),
        start_date=iso(referral.start_date) if referral.start_date else None,
        expiry_date=iso(referral.expiry_date) if referral.expiry_date else None,
        usage_limit=referral.usage_limit,
        campaign_id=referral.campaign_id,
        advocate_profile_integration_id=referral.advocate_integration_id,
        friend_profile_integration_id=referral.friend_integration_id,
        attributes=dict(referral.attributes),
        code=referral.code,
        usage_counter=referral.usage_counter,
        batch_id=referral.batch_id,
    )


def created_response(referrals: list[Referral]) -> ReferralsCreatedResponse:
    return ReferralsCreatedResponse(total_result_size=len(referrals), data=[referral_view(r) for r in referrals])


class InventoryReferral(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """talon_one.models.InventoryReferral."""

    id: int
    created: str
    start_date: str | None = None
    expiry_date: str | None = None
    usage_limit: int
    campaign_id: int
    advocate_profile_integration_id: str
    # Absent as well when the friend the code was made out to was erased (the code is then usable by nobody).
    friend_profile_integration_id: str | None = None
    attributes: dict[str, Any]
    code: str
    usage_counter: int
    batch_id: str | None = None
    referred_customers: list[str]
