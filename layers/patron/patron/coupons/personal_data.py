"""Coupons as personal data (patron.customers.port): what a person holds of coupons (their redemptions of each, their
reservations, the personal codes made out to them) moves with a merge, goes with an erasure, stays as bare counts
under a tombstone with an anonymisation, and is listed in an export (docs/data-model.md, "A person's coupons").

The coupons themselves are the application's, not the person's: an erasure keeps every coupon and its counters
(usageCounter, discountCounter: what the campaigns gave stays counted), and only takes the person out of it: their
reservation is released (reservationCounter - 1) and a personal code no longer names them as its recipient (it can
then be redeemed by nobody: the code stays, as Talon.One keeps a deleted customer's coupons).

Each holding is handed over in one transaction conditional on what was read (patron.coupons.holdings.handover); a
holding that changed meanwhile (a session redeeming it, a reservation) is read again, at most `_PASSES` times over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from patron.clock import Clock, SystemClock, iso
from patron.coupons.holdings import DynamoHoldings, Handover, Held, HoldingChangedError, handover
from patron.coupons.inventory import CampaignSchedule, coupon_state
from patron.errors import ConflictError

_PASSES = 4

# The live campaigns' schedules for an application (None: not asked, e.g. a function that cannot read rulesets).
Campaigns = Callable[[int], Mapping[int, CampaignSchedule]]


class CouponsPersonalData:
    section = "coupons"

    def __init__(self, holdings: DynamoHoldings, table: str, campaigns: Campaigns, clock: Clock | None = None):
        self._holdings = holdings
        self._table = table
        self._campaigns = campaigns
        self._clock = clock or SystemClock()

    def absorb(self, application_id: int, survivor_id: str, absorbed_id: str) -> None:
        """The absorbed person's holdings become the survivor's: redemption counts added, a reservation kept once
        (both reserved: the absorbed one's is released), a personal code made out to the survivor."""
        self._hand_over(application_id, absorbed_id, Handover.ABSORB, survivor_id)

    def refile(self, application_id: int, from_id: str, to_id: str) -> None:
        return None  # nothing only names the person: absorb moved every holding, reservation entries with them

    def still_holds(self, application_id: int, integration_id: str) -> bool:
        return self._holdings.any(application_id, integration_id)

    def forget(self, application_id: int, integration_id: str) -> int:
        return self._hand_over(application_id, integration_id, Handover.FORGET, None)

    def anonymise(self, application_id: int, integration_id: str, tombstone_id: str) -> int:
        """As forget, but each redemption count stays under the tombstone id (per-profile figures add up), with no
        reservation and no recipient."""
        return self._hand_over(application_id, integration_id, Handover.ANONYMISE, tombstone_id)

    def export(self, application_id: int, integration_id: str) -> Any:
        now = self._clock.now()
        listed: list[dict[str, Any]] = []
        campaigns: Mapping[int, CampaignSchedule] | None = None
        for page, _ in self._holdings.pages(application_id, integration_id):
            if campaigns is None and any(held.coupon is not None for held in page):
                campaigns = self._campaigns(application_id)
            listed += [_exported(held, integration_id, campaigns or {}, now) for held in page]
        return listed

    def _hand_over(self, application_id: int, holder_id: str, how: Handover, to_id: str | None) -> int:
        """Every holding of `holder_id`, handed over; how many went. Pages go by the Query's cursor (a holding
        that lost a race stays behind it), then the whole partition is read again while any is left."""
        other = to_id if how is Handover.ABSORB else None
        done = 0
        for _ in range(_PASSES):
            left = 0
            for page, _ in self._holdings.pages(application_id, holder_id, other):
                for held in page:
                    try:
                        self._holdings.hand_over(handover(self._table, application_id, holder_id, held, how, to_id))
                        done += 1
                    except HoldingChangedError:
                        left += 1
            if not left:
                return done
        raise ConflictError(
            "The customer's coupons are being changed by other requests; try again.", "concurrent_update"
        )


def _exported(
    held: Held, integration_id: str, campaigns: Mapping[int, CampaignSchedule], now: datetime
) -> dict[str, Any]:
    holding, coupon = held.holding, held.coupon
    return {
        "code": held.code,
        "campaignId": coupon.campaign_id if coupon is not None else None,
        "state": coupon_state(coupon, holding, campaigns.get(coupon.campaign_id), now) if coupon else "deleted",
        "profileRedemptionCount": holding.used,
        "reservedAt": iso(holding.reserved_at) if holding.reserved_at else None,
        "recipient": coupon is not None and coupon.recipient_integration_id == integration_id,
    }
