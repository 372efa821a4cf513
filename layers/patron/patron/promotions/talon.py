"""Campaigns in Talon.One's shape (`talon_one.models.Campaign`, `LimitConfig`): the `triggeredCampaigns` of a
session, event or profile answer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, UnsetType

from patron.promotions.definitions import Campaign as CampaignDefinition
from patron.promotions.definitions import CampaignState, LimitPeriod

if TYPE_CHECKING:
    from patron.promotions.ruleset import CompiledRuleset

# Talon.One's campaign features; a definition's others (none today) are left out of the answer.
_FEATURES = frozenset({"coupons", "referrals", "loyalty", "giveaways", "strikethrough", "achievements"})


class LimitConfig(msgspec.Struct, rename="camel"):
    action: str
    limit: Decimal
    entities: list[str]
    period: str | UnsetType = UNSET


class Campaign(msgspec.Struct, rename="camel"):
    """talon_one.models.Campaign: every required member. `userId` is 0 (campaigns are code, published by a key or
    an operator, not a console user); `created` and `updated` are when the live version was published."""

    id: int
    created: str
    application_id: int
    user_id: int
    name: str
    description: str
    attributes: dict[str, Any]
    state: str
    active_ruleset_id: int
    tags: list[str]
    features: list[str]
    limits: list[LimitConfig]
    type: str
    frontend_state: str
    stores_imported: bool
    updated: str
    start_time: str | UnsetType = UNSET
    end_time: str | UnsetType = UNSET


def _frontend_state(campaign: CampaignDefinition, start: datetime | None, end: datetime | None, now: datetime) -> str:
    if campaign.state is not CampaignState.ENABLED:
        return campaign.state.value  # disabled, archived
    if end is not None and now >= end:
        return "expired"
    if start is not None and now < start:
        return "scheduled"
    return "running"


def _instant(moment: datetime | None) -> str | UnsetType:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else UNSET


def triggered_campaigns(
    ruleset: CompiledRuleset, ids: Iterable[int], application_id: int, published: str, now: datetime
) -> list[Campaign]:
    """The campaigns `ids` names (each once, in the order the ruleset lists them), as Talon.One answers them."""
    wanted = set(ids)
    answered: list[Campaign] = []
    for definition in ruleset.ruleset.campaigns:
        indexed = ruleset.campaigns.get(definition.id)
        if definition.id not in wanted or indexed is None:
            continue
        compiled = indexed.campaign
        answered.append(
            Campaign(
                id=definition.id,
                created=published,
                application_id=application_id,
                user_id=0,
                name=definition.name,
                description=definition.description,
                attributes=dict(definition.attributes),
                state=definition.state.value,
                active_ruleset_id=ruleset.version,
                tags=list(definition.tags),
                features=[feature for feature in definition.features if feature in _FEATURES],
                limits=[
                    LimitConfig(
                        action=limit.action.value,
                        limit=limit.limit,
                        entities=[entity.value for entity in limit.entities],
                        period=limit.period.value if limit.period is not LimitPeriod.OVERALL else UNSET,
                    )
                    for limit in definition.limits
                ],
                type="advanced",
                frontend_state=_frontend_state(definition, compiled.start, compiled.end, now),
                stores_imported=False,
                updated=published,
                start_time=_instant(compiled.start),
                end_time=_instant(compiled.end),
            )
        )
    return answered
