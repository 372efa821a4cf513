"""Talon.One's `Coupon` as Patron answers it (the management API, reservations, sessions' `coupons` and
`createdCoupons`): kept apart from the management bodies so the sessions function imports no creation code."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from patron.clock import iso
from patron.coupons.model import Coupon

MAX_COUNT_LIMIT = 999_999  # Talon.One's bound of a usage or reservation limit (as patron.coupons.service)


class _Wire(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    pass


class CouponLimit(_Wire, kw_only=True):
    """Talon.One's LimitConfig as a coupon takes it: redemptions per customer profile."""

    action: Literal["redeemCoupon"]
    limit: Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT_LIMIT)]
    entities: Annotated[list[Literal["Profile"]], msgspec.Meta(min_length=1, max_length=1)]
    period: Literal["overall"] | None = None


class _CouponFields(msgspec.Struct, kw_only=True, rename="camel"):
    """The fields Talon.One's Coupon and InventoryCoupon begin with, in their order (`coupon_fields` fills them)."""

    id: int
    created: str
    campaign_id: int
    value: str
    usage_limit: int
    usage_counter: int
    discount_limit: Decimal | None = None
    discount_counter: Decimal
    discount_remainder: Decimal | None = None
    reservation_limit: int
    reservation_counter: int
    start_date: str | None = None
    expiry_date: str | None = None


def coupon_fields(coupon: Coupon) -> dict[str, Any]:
    """`_CouponFields` of a coupon, as keyword arguments of either answer."""
    return {
        "id": coupon.id,
        "created": iso(coupon.created),
        "campaign_id": coupon.campaign_id,
        "value": coupon.value,
        "usage_limit": coupon.usage_limit,
        "usage_counter": coupon.usage_counter,
        "discount_limit": coupon.discount_limit,
        "discount_counter": coupon.discount_counter,
        "discount_remainder": coupon.discount_remainder,
        "reservation_limit": coupon.reservation_limit,
        "reservation_counter": coupon.reservation_counter,
        "start_date": iso(coupon.start_date) if coupon.start_date else None,
        "expiry_date": iso(coupon.expiry_date) if coupon.expiry_date else None,
    }


class CouponView(_CouponFields, kw_only=True, forbid_unknown_fields=True):
    """Talon.One's Coupon, with its counters and what is left of them."""

    limits: list[CouponLimit] = []
    attributes: dict[str, Any] = {}
    recipient_integration_id: str | None = None
    batch_id: str | None = None
    is_reservation_mandatory: bool = False
    implicitly_reserved: bool = False
    imported: bool = False
    # Patron: redemptions and reservations left (null: unlimited).
    uses_left: int | None = None
    reservations_left: int | None = None


def coupon_view(coupon: Coupon) -> CouponView:
    limits = [CouponLimit(action="redeemCoupon", limit=coupon.profile_limit, entities=["Profile"])]
    return CouponView(
        **coupon_fields(coupon),
        limits=limits if coupon.profile_limit else [],
        attributes=dict(coupon.attributes),
        recipient_integration_id=coupon.recipient_integration_id,
        batch_id=coupon.batch_id,
        is_reservation_mandatory=coupon.reservation_mandatory,
        imported=coupon.imported,
        uses_left=coupon.uses_left,
        reservations_left=coupon.reservations_left,
    )


# The customer inventory's coupons (patron.coupons.inventory builds them): here, so every function answering a
# profile imports no inventory code.
CouponState = Literal["active", "used", "expired", "pending", "disabled"]


class LimitConfig(msgspec.Struct, kw_only=True):
    action: str
    limit: int
    entities: list[str]


class InventoryCoupon(_CouponFields, kw_only=True, omit_defaults=True):
    """talon_one.models.InventoryCoupon."""

    limits: list[LimitConfig] | None = None
    attributes: dict[str, Any]
    recipient_integration_id: str | None = None
    # false: a personal code (reserved for its recipient only); true: any number of profiles may reserve it.
    reservation: bool
    batch_id: str | None = None
    is_reservation_mandatory: bool
    implicitly_reserved: bool
    profile_redemption_count: int
    state: CouponState
