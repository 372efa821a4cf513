"""Whether a presented referral code may be used in a session, or Talon.One's reason for rejecting it. Pure:
everything it needs is read before (the referral by its code and the session profile's friend record, in the
session's one BatchGetItem) and passed in.

The order of the checks. Talon.One documents each reason (`RejectReferralEffectProps.rejectionReason`, the
`ReferralRejectionReason` enum) but not the order it applies them in, so a code failing several checks could be
reported by any of them. Patron answers the first failing check of this list, on the principles of
`patron.coupons.validation`:

1. `ReferralNotFound`: no referral has the code.
2. `ReferralPartOfNotRunningCampaign`: its campaign is not running, so none of its rules is evaluated at all.
3. `AdvocateNotFound`: the code's advocate is gone (the caller says so; see `rejection`): nobody to reward.
4. `ReferralRecipientIdSameAsAdvocate`: the advocate presents their own code. Before the recipient check: the
   advocate knows their code, so telling them it is theirs reveals nothing.
5. `ReferralRecipientDoesNotMatch`: the code names its friend, and the session's profile is another one or the
   session is anonymous. Before the dates, so a stranger learns nothing of someone else's code.
6. `ReferralStartDateInFuture`, then 7. `ReferralExpired`: its validity period (start inclusive, expiry exclusive).
8. `ProfileRequired`: an anonymous session presents a code naming no friend. Talon.One's referral reasons have none
   for this case; Patron borrows the coupons' reason: a referral refers someone, and "once per campaign" cannot be
   kept for nobody.
9. `ReferralCustomerAlreadyReferred`: this profile was referred in the code's campaign already (by any of its codes,
   this one included), by a close still standing.
10. `ReferralLimitReached`: the code's redemptions are used up.

Facts that do not change come before what closes and cancels move; of those, the friend's mark before the code's
counter: the friend would be refused with any code of the campaign, a used-up code by no other. A rejection from 9
or 10 is the only kind a retry may overturn (a close cancelled meanwhile). `ReferralRejectedByCondition`,
`CampaignLimitReached`, `ProfileLimitReached`, `EffectCouldNotBeApplied` and `ReferralPartOfNotTriggeredCampaign` are
the engine's to give: they depend on the campaign's rules and budgets.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from patron.referrals.model import NOT_REFERRED, FriendRecord, Referral


class ReferralRejection(StrEnum):
    """Talon.One's `rejectionReason` values this module decides (their wire names)."""

    NOT_FOUND = "ReferralNotFound"
    CAMPAIGN_NOT_RUNNING = "ReferralPartOfNotRunningCampaign"
    ADVOCATE_NOT_FOUND = "AdvocateNotFound"
    SAME_AS_ADVOCATE = "ReferralRecipientIdSameAsAdvocate"
    RECIPIENT_DOES_NOT_MATCH = "ReferralRecipientDoesNotMatch"
    START_DATE_IN_FUTURE = "ReferralStartDateInFuture"
    EXPIRED = "ReferralExpired"
    PROFILE_REQUIRED = "ProfileRequired"
    ALREADY_REFERRED = "ReferralCustomerAlreadyReferred"
    LIMIT_REACHED = "ReferralLimitReached"


def rejection(
    referral: Referral | None,
    *,
    now: datetime,
    profile_id: str | None,
    campaign_running: bool,
    friend: FriendRecord = NOT_REFERRED,
    advocate_found: bool = True,
) -> ReferralRejection | None:
    """Why `referral` cannot be used now by the session's profile (`profile_id`, None: anonymous), or None when it
    can. `friend` is that profile's friend record (what it has been referred in). `advocate_found`: False when the
    caller knows the advocate's profile is gone (an erased advocate); the session does not read the advocate's
    profile to find out (a second round trip), so it passes True unless the referral item says otherwise."""
    if referral is None:
        return ReferralRejection.NOT_FOUND
    if not campaign_running:
        return ReferralRejection.CAMPAIGN_NOT_RUNNING
    if not advocate_found:
        return ReferralRejection.ADVOCATE_NOT_FOUND
    if profile_id is not None and profile_id == referral.advocate_integration_id:
        return ReferralRejection.SAME_AS_ADVOCATE
    if referral.friend_integration_id is not None and profile_id != referral.friend_integration_id:
        return ReferralRejection.RECIPIENT_DOES_NOT_MATCH
    if referral.start_date is not None and now < referral.start_date:
        return ReferralRejection.START_DATE_IN_FUTURE
    if referral.expiry_date is not None and now >= referral.expiry_date:
        return ReferralRejection.EXPIRED
    if profile_id is None:
        return ReferralRejection.PROFILE_REQUIRED
    if friend.referred_in(referral.campaign_id):
        return ReferralRejection.ALREADY_REFERRED
    if referral.uses_left == 0:
        return ReferralRejection.LIMIT_REACHED
    return None
