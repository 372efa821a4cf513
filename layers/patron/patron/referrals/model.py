"""A referral as the domain sees it (Talon.One's `Referral`), what a profile has been referred in as a friend, and
what a close must keep to give a redemption back.

Terms (Talon.One's). The advocate is the profile the code belongs to, who shares it; the friend is the profile of a
session that presents it. A code may name its friend (`friendProfileIntegrationId`): only that profile may use it.
A code is used at most `usage_limit` times in all (0: unlimited; campaign limits still apply), and a friend is
referred at most once per campaign, whichever of the campaign's codes they present (`ReferralCustomerAlreadyReferred`).

Codes and case: as for coupons (`patron.coupons.model.normalise_code`, the application's `caseSensitiveCodes`), one
rule for both kinds of code. A referral code is at least 4 characters long: Talon.One's `Referral.code` has
`minLength: 4`, and the official SDKs refuse to read a shorter one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from patron.coupons.model import MAX_CODE_BYTES

MIN_CODE_LENGTH = 4  # Talon.One's Referral.code minLength
MAX_INTEGRATION_ID_LENGTH = 1000  # Talon.One's advocateProfileIntegrationId maxLength


def code_issue(code: str) -> str | None:
    """Why a referral code cannot be stored (None when it can): shorter than Talon.One allows, too long for a key,
    or not valid text. A presented code with an issue names no referral: the session answers `ReferralNotFound`
    without reading."""
    if len(code) < MIN_CODE_LENGTH:
        return f"A referral code holds at least {MIN_CODE_LENGTH} characters."
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError:
        return "A referral code must be valid text."
    if size > MAX_CODE_BYTES:
        return f"A referral code holds at most {MAX_CODE_BYTES} bytes of UTF-8."
    return None


class Referral(msgspec.Struct, frozen=True):
    """One referral code. Times are aware; a usage limit of 0 means unlimited, as in Talon.One."""

    code: str  # normalised (patron.coupons.model.normalise_code)
    campaign_id: int
    advocate_integration_id: str
    id: int
    created: datetime
    friend_integration_id: str | None = None  # only this profile may use the code
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    usage_limit: int = 0
    usage_counter: int = 0
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    batch_id: str | None = None
    imported: bool = False  # created from an imported file rather than generated
    # The advocate's data was erased: the code and its counters stay (the application's figures), but nobody is
    # there to reward: a session answers `AdvocateNotFound`. `advocate_integration_id` is then "" (erased) or the
    # erasure's tombstone id (anonymised).
    advocate_erased: bool = False
    # The friend the code was made out to was erased: `friend_integration_id` is "" then, which no profile matches,
    # so the code stays usable by nobody (`ReferralRecipientDoesNotMatch`), as a coupon whose recipient was erased.
    friend_erased: bool = False

    @property
    def advocate_found(self) -> bool:
        """Whether the code still has its advocate (validation.rejection's `advocate_found`)."""
        return not self.advocate_erased

    @property
    def uses_left(self) -> int | None:
        """Redemptions left (None: unlimited). Never negative, even if the limit was lowered below the counter."""
        if not self.usage_limit:
            return None
        return max(self.usage_limit - self.usage_counter, 0)


class FriendRecord(msgspec.Struct, frozen=True):
    """What one profile has been referred in as a friend: campaign id -> the code that referred it there, for the
    redemptions standing (a cancelled close gives its entry back). Read with the referral in the session's batch."""

    codes: Mapping[int, str] = msgspec.field(default_factory=dict)

    def referred_in(self, campaign_id: int) -> bool:
        return campaign_id in self.codes


NOT_REFERRED = FriendRecord()


class Redemption(msgspec.Struct, frozen=True):
    """What a close redeemed, stored with the session, so its cancel or reopen gives back exactly that: the code,
    the campaign whose once-per-friend mark it set, and the friend (the session's profile at the close)."""

    code: str
    campaign_id: int
    friend_integration_id: str


MAX_ADVOCATES = 1000  # Talon.One's advocateProfileIntegrationIds maxItems
MAX_USAGE_LIMIT = 999_999  # Talon.One's usageLimit


class ReferralTerms(msgspec.Struct, frozen=True):
    """What Talon.One's `NewReferral` gives a code besides the campaign and the advocate."""

    start_date: datetime | None = None
    expiry_date: datetime | None = None
    usage_limit: int = 0
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
