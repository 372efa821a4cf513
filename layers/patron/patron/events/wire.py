"""Talon.One's event shapes (`talon_one.models`: IntegrationEventV2Request, TrackEventV2Response, Event), as
msgspec Structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from patron.events.model import EventOutcome
from patron.loyalty.service import loyalty_view
from patron.loyalty.wire import LoyaltyView
from patron.profiles.talon import profile_response
from patron.promotions.effects import Effect, RuleFailureReason
from patron.promotions.talon import Campaign, triggered_campaigns

EventType = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
IntegrationId = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
# The rule engine's parts of an event or profile answer (`loyalty` and `awardedGiveaways` come with their issues).
ResponseContent = Literal[
    "customerProfile", "triggeredCampaigns", "loyalty", "event", "awardedGiveaways", "ruleFailureReasons"
]


class IntegrationEventV2Request(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    type: EventType
    profile_id: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    store_integration_id: IntegrationId | None = None
    evaluable_campaign_ids: list[Annotated[int, msgspec.Meta(ge=1)]] | None = None
    attributes: dict[str, Any] | None = None
    loyalty_cards: Annotated[list[Annotated[str, msgspec.Meta(max_length=108)]], msgspec.Meta(max_length=1)] | None = (
        None
    )
    response_content: list[ResponseContent] | None = None


class Event(msgspec.Struct, rename="camel"):
    """talon_one.models.Event."""

    id: int
    created: str
    application_id: int
    type: str
    attributes: dict[str, Any]
    effects: list[Effect]
    profile_id: str | UnsetType = UNSET
    store_integration_id: str | UnsetType = UNSET
    session_id: str | UnsetType = UNSET  # a session's built-in event: its integration id


class TrackEventV2Response(msgspec.Struct, rename="camel"):
    """talon_one.models.TrackEventV2Response (and CustomerProfileIntegrationResponseV2, the same members):
    `effects`, `createdCoupons` and `createdReferrals` always; the rest as `responseContent` asks."""

    effects: list[Effect]
    created_coupons: list[dict[str, Any]]
    created_referrals: list[dict[str, Any]]
    customer_profile: Any | UnsetType = UNSET  # patron.profiles.talon.CustomerProfile
    event: Event | UnsetType = UNSET
    triggered_campaigns: list[Campaign] | UnsetType = UNSET
    rule_failure_reasons: list[RuleFailureReason] | UnsetType = UNSET
    loyalty: LoyaltyView | UnsetType = UNSET


def event_out(outcome: EventOutcome, application_id: int) -> Event:
    event = outcome.event
    return Event(
        id=outcome.id,
        created=outcome.created,
        application_id=application_id,
        type=event.type,
        attributes=dict(event.attributes),
        effects=outcome.effects,
        profile_id=event.profile_id if event.profile_id is not None else UNSET,
        store_integration_id=event.store_integration_id or UNSET,
    )


def track_response(
    outcome: EventOutcome,
    content: set[str],
    application_id: int,
    account_id: int,
    published: str | None,
    now: datetime,
) -> TrackEventV2Response:
    """The answer: `published` is when the live ruleset version went live (None: no ruleset)."""
    answer = TrackEventV2Response(effects=outcome.effects, created_coupons=[], created_referrals=[])
    if "customerProfile" in content and outcome.profile is not None:
        answer.customer_profile = profile_response(outcome.profile, account_id)
    if "event" in content:
        answer.event = event_out(outcome, application_id)
    if "triggeredCampaigns" in content:
        ruleset = outcome.ruleset
        answer.triggered_campaigns = (
            triggered_campaigns(ruleset, outcome.triggered, application_id, published, now)
            if ruleset is not None and published is not None
            else []
        )
    if "ruleFailureReasons" in content:
        answer.rule_failure_reasons = outcome.failures
    if "loyalty" in content:
        answer.loyalty = loyalty_view(outcome.loyalty(), now, application_id)
    return answer
