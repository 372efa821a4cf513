"""A profile's coupons as the customer inventory answers them (`GET /v1/customer_profiles/{integrationId}/inventory
?coupons=true`, Talon.One's `InventoryCoupon`), and the state of each (docs/data-model.md, "A person's coupons").

Which coupons. Talon.One lists "the coupons reserved by this profile, hard and soft reservations": a holding the
profile reserved, and a personal code made out to it (reserved for its recipient by construction). A holding that
only counts redemptions of a public code (`WELCOME10`, used by many) is not listed, nor a coupon deleted since.

The state, the first of these that holds (`coupon_state`; `now` the request's time):

1. `disabled`: the coupon's campaign cannot accept it: it is not in the live ruleset, is not enabled (disabled,
   archived), lacks the `coupons` feature, or its schedule has ended (endTime <= now). As in Talon.One, a campaign
   that has not started yet does not make its coupons disabled: they are `active` (usable once it runs).
2. `pending`: the coupon's startDate is after now.
3. `used`: the coupon cannot be redeemed again: its usage limit or its discount limit is used up, or this profile's
   redemptions reached the coupon's per-profile limit; or it has expired after this profile redeemed it.
4. `expired`: expiryDate <= now, the profile never having redeemed it.
5. `active`: otherwise.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from patron.clock import Clock, SystemClock
from patron.coupons.holdings import DynamoHoldings
from patron.coupons.model import Coupon, Holding
from patron.coupons.view import CouponState, InventoryCoupon, LimitConfig, coupon_fields
from patron.dynamo import codec

if TYPE_CHECKING:
    from patron.promotions.store import LiveRulesets
    from patron.settings import Tables


class CampaignSchedule(msgspec.Struct, frozen=True):
    """What a coupon's state needs of its campaign in the live ruleset."""

    accepts_coupons: bool  # enabled, with the coupons feature
    start: datetime | None = None
    end: datetime | None = None


def coupon_state(coupon: Coupon, holding: Holding, campaign: CampaignSchedule | None, now: datetime) -> CouponState:
    """The coupon's state for the profile holding `holding` (the module's rule); `campaign` None: its campaign is
    not in the live ruleset."""
    if campaign is None or not campaign.accepts_coupons or (campaign.end is not None and now >= campaign.end):
        return "disabled"
    if coupon.start_date is not None and now < coupon.start_date:
        return "pending"
    expired = coupon.expiry_date is not None and now >= coupon.expiry_date
    exhausted = (
        coupon.uses_left == 0
        or coupon.discount_remainder == 0
        or (coupon.profile_limit > 0 and holding.used >= coupon.profile_limit)
    )
    if exhausted or (expired and holding.used > 0):
        return "used"
    if expired:
        return "expired"
    return "active"


def listed(coupon: Coupon | None, holding: Holding, integration_id: str) -> bool:
    """Whether the inventory lists the holding: reserved, or a personal code made out to the profile."""
    return coupon is not None and (holding.reserved or coupon.recipient_integration_id == integration_id)


def inventory_coupon(coupon: Coupon, holding: Holding, state: CouponState) -> InventoryCoupon:
    limits = [LimitConfig(action="redeemCoupon", limit=coupon.profile_limit, entities=["Profile"])]
    return InventoryCoupon(
        **coupon_fields(coupon),
        limits=limits if coupon.profile_limit else None,
        attributes=dict(coupon.attributes),
        recipient_integration_id=coupon.recipient_integration_id,
        reservation=coupon.recipient_integration_id is None,
        batch_id=coupon.batch_id,
        is_reservation_mandatory=coupon.reservation_mandatory,
        implicitly_reserved=False,
        profile_redemption_count=holding.used,
        state=state,
    )


class LiveCampaigns:
    """The live campaigns' schedules of an application: the ruleset pointer read (or given), its version compiled
    once per Lambda instance (patron.promotions.store.LiveRulesets, imported at the first use: the functions that
    never ask keep their cold start)."""

    def __init__(self, client: Any, tables: Tables, cache_size: int = 16):
        self._client = client
        self._tables = tables
        self._rulesets: LiveRulesets | None = None
        self._cache: OrderedDict[tuple[int, int], dict[int, CampaignSchedule]] = OrderedDict()
        self._size = cache_size

    def pointer(self, application_id: int) -> tuple[str, dict[str, str]]:
        """(table, key) of the live-version pointer, for a caller's BatchGetItem."""
        from patron.promotions.store import pointer_key

        return self._tables.config, pointer_key(application_id)

    def __call__(self, application_id: int) -> Mapping[int, CampaignSchedule]:
        table, key = self.pointer(application_id)
        found = self._client.get_item(TableName=table, Key=codec.to_item(key), ConsistentRead=True).get("Item")
        return self.at(application_id, int(codec.from_item(found)["version"]) if found else None)

    def at(self, application_id: int, version: int | None) -> Mapping[int, CampaignSchedule]:
        """The campaigns of a version (None: nothing published: no campaign)."""
        if version is None:
            return {}
        key = (application_id, version)
        schedules = self._cache.get(key)
        if schedules is None:
            if self._rulesets is None:
                from patron.promotions.store import LiveRulesets

                self._rulesets = LiveRulesets(self._client, self._tables)
            compiled = self._rulesets.compiled(application_id, version)
            schedules = {
                campaign_id: CampaignSchedule(
                    indexed.enabled and indexed.campaign.coupons, indexed.campaign.utc_start, indexed.campaign.utc_end
                )
                for campaign_id, indexed in compiled.campaigns.items()
            }
            self._cache[key] = schedules
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return schedules


class CouponInventory:
    """A profile's listed coupons: one Query of its holdings (a page of 50 at a time), then per page one
    BatchGetItem of their coupons, the first one also reading the live-ruleset pointer."""

    def __init__(self, holdings: DynamoHoldings, campaigns: LiveCampaigns, clock: Clock | None = None):
        self._holdings = holdings
        self._campaigns = campaigns
        self._clock = clock or SystemClock()

    def coupons(self, application_id: int, integration_id: str) -> list[InventoryCoupon]:
        now = self._clock.now()
        pointer_table, pointer = self._campaigns.pointer(application_id)
        campaigns: Mapping[int, CampaignSchedule] | None = None
        answered: list[InventoryCoupon] = []
        for page, extra in self._holdings.pages(application_id, integration_id, extra=[(pointer_table, pointer)]):
            if campaigns is None:
                version = next((int(item["version"]) for item in extra if item.get("SK") == pointer["SK"]), None)
                campaigns = self._campaigns.at(application_id, version) if page else {}
            for held in page:
                holding, coupon = held.holding, held.coupon
                if coupon is not None and listed(coupon, holding, integration_id):
                    state = coupon_state(coupon, holding, campaigns.get(coupon.campaign_id), now)
                    answered.append(inventory_coupon(coupon, holding, state))
        return answered
