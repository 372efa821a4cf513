"""A coupon as the domain sees it (Talon.One's `Coupon`), and the rule that turns a presented code into the code
stored.

Codes and case. Case sensitivity is an application setting (Talon.One's "application case"). In a case-sensitive
application a code is stored and matched exactly as sent. In a case-insensitive one it is stored upper-cased
(`str.upper`, Unicode's full mapping: `straße` becomes `STRASSE`), and every presented code is upper-cased before
it is looked up, so `summer25`, `Summer25` and `SUMMER25` name one coupon. Nothing else is changed in either mode:
no trimming, no Unicode normalisation (a code is compared as the characters the shop sent). Changing the setting
later does not rewrite stored codes: coupons created while sensitive with lower-case letters cannot be found once
the application is insensitive.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from patron.promotions.money import ZERO

# A code sits at the end of a partition key (2,048 bytes) and of a sort key (1,024 bytes) in the ledgers table;
# 1,000 bytes leaves room for the fixed parts. Talon.One's generated patterns are at most 100 characters.
MAX_CODE_BYTES = 1000


def normalise_code(code: str, case_sensitive: bool) -> str:
    """The code as stored and looked up (see the module's docstring)."""
    return code if case_sensitive else code.upper()


def code_issue(code: str) -> str | None:
    """Why a code cannot be stored (None when it can): empty, too long for a key, or not valid text."""
    if not code:
        return "A coupon code cannot be empty."
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError:
        return "A coupon code must be valid text."
    if size > MAX_CODE_BYTES:
        return f"A coupon code holds at most {MAX_CODE_BYTES} bytes of UTF-8."
    return None


class Coupon(msgspec.Struct, frozen=True):
    """One coupon. Limits of 0 mean unlimited, as in Talon.One (campaign limits still apply). Times are aware."""

    value: str  # the code, normalised (normalise_code)
    campaign_id: int
    id: int
    created: datetime
    usage_limit: int = 0
    usage_counter: int = 0
    discount_limit: Decimal | None = None  # a gift card's value: the total discount the code may give
    discount_counter: Decimal = ZERO  # what its redemptions gave so far
    reservation_limit: int = 0
    reservation_counter: int = 0
    profile_limit: int = 0  # redemptions per customer profile (Talon.One's per-profile `limits`)
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    recipient_integration_id: str | None = None  # a personal code: only this profile may redeem it
    reservation_mandatory: bool = False  # redeemable only by a profile that reserved it
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    batch_id: str | None = None
    imported: bool = False  # created from an imported file rather than generated or sent one by one

    @property
    def discount_remainder(self) -> Decimal | None:
        """What the code can still give (None: no discount limit). Never negative, even if a limit was lowered
        below what was already given."""
        if self.discount_limit is None:
            return None
        return max(self.discount_limit - self.discount_counter, ZERO)

    @property
    def uses_left(self) -> int | None:
        """Redemptions left (None: unlimited)."""
        if not self.usage_limit:
            return None
        return max(self.usage_limit - self.usage_counter, 0)

    @property
    def reservations_left(self) -> int | None:
        if not self.reservation_limit:
            return None
        return max(self.reservation_limit - self.reservation_counter, 0)


class Holding(msgspec.Struct, frozen=True):
    """What one profile holds of one coupon: its redemptions of it, its reservation, whether it is the recipient of
    the personal code. A profile with none of these has no holding."""

    used: int = 0
    reserved_at: datetime | None = None
    recipient: bool = False

    @property
    def reserved(self) -> bool:
        return self.reserved_at is not None
