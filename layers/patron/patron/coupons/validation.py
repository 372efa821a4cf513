"""Whether a presented coupon may be used in a session, or Talon.One's reason for rejecting it. Pure: everything it
needs is read before (the coupon and the profile's holding of it, in the session's batch read) and passed in.

The order of the checks. Talon.One documents each reason (`RejectCouponEffectProps.rejectionReason`) but not the
order it applies them in, so a coupon failing several checks could be reported by any of them. Patron answers the
first failing check of this list:

1. `CouponNotFound`: no coupon has the code.
2. `CouponPartOfNotRunningCampaign`: its campaign is not running, so none of its rules is evaluated at all.
3. `CouponRecipientDoesNotMatch`: a personal code presented by another profile or by an anonymous session (Talon.One
   gives this reason for both). Before the dates, so a stranger learns nothing of someone else's code.
4. `CouponStartDateInFuture`, then 5. `CouponExpired`: its validity period.
6. `ProfileRequired`: the coupon counts per profile or must be reserved, and the session has no profile.
7. `CouponReservationRequired`: reservation is mandatory and this profile has not reserved it.
8. `CouponLimitReached`: its redemptions, or its discount limit, are used up.
9. `ProfileLimitReached`: this profile's redemptions of it are used up.

Facts that do not change come before counters, which do: a coupon that is both expired and used up is reported
expired, the reason that stays true, and a rejection from a counter is the only kind a retry may overturn.
`CouponRejectedByCondition`, `CampaignLimitReached`, `EffectCouldNotBeApplied` and
`CouponPartOfNotTriggeredCampaign` are the engine's to give: they depend on the campaign's rules and budgets.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from patron.coupons.model import Coupon, Holding


class CouponRejection(StrEnum):
    """Talon.One's `rejectionReason` values this module decides (their wire names)."""

    NOT_FOUND = "CouponNotFound"
    CAMPAIGN_NOT_RUNNING = "CouponPartOfNotRunningCampaign"
    RECIPIENT_DOES_NOT_MATCH = "CouponRecipientDoesNotMatch"
    START_DATE_IN_FUTURE = "CouponStartDateInFuture"
    EXPIRED = "CouponExpired"
    PROFILE_REQUIRED = "ProfileRequired"
    RESERVATION_REQUIRED = "CouponReservationRequired"
    LIMIT_REACHED = "CouponLimitReached"
    PROFILE_LIMIT_REACHED = "ProfileLimitReached"


NO_HOLDING = Holding()


def rejection(
    coupon: Coupon | None,
    *,
    now: datetime,
    profile_id: str | None,
    campaign_running: bool,
    holding: Holding = NO_HOLDING,
) -> CouponRejection | None:
    """Why `coupon` cannot be used now by the session's profile (`profile_id`, None: anonymous), or None when it
    can. `holding` is what that profile holds of the coupon (its redemptions, its reservation)."""
    if coupon is None:
        return CouponRejection.NOT_FOUND
    if not campaign_running:
        return CouponRejection.CAMPAIGN_NOT_RUNNING
    personal = coupon.recipient_integration_id is not None
    if personal and profile_id != coupon.recipient_integration_id:
        return CouponRejection.RECIPIENT_DOES_NOT_MATCH
    if coupon.start_date is not None and now < coupon.start_date:
        return CouponRejection.START_DATE_IN_FUTURE
    if coupon.expiry_date is not None and now >= coupon.expiry_date:
        return CouponRejection.EXPIRED
    if profile_id is None and (coupon.profile_limit or coupon.reservation_mandatory):
        return CouponRejection.PROFILE_REQUIRED
    # A personal code is its recipient's by construction: reserved for them without a reservation of their own.
    if coupon.reservation_mandatory and not (holding.reserved or personal):
        return CouponRejection.RESERVATION_REQUIRED
    if coupon.uses_left == 0 or coupon.discount_remainder == 0:
        return CouponRejection.LIMIT_REACHED
    if coupon.profile_limit and holding.used >= coupon.profile_limit:
        return CouponRejection.PROFILE_LIMIT_REACHED
    return None
