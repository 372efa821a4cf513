"""What a condition reads: plain slotted objects the evaluator fills once per request.

Compiled conditions read these at call time, so the evaluator may change a session's totals between campaigns
(cascading discounts) and later conditions see the change. Numbers are `Decimal` (ints given to the constructors
are converted); attribute dicts hold JSON values as the wire brought them and are read by the rules in
`values.normalize`. The language's names are camelCase, as in Talon.One's session JSON (docs/rules.md):

    session.cartItemTotal -> facts.session.cart_item_total      item.sku -> ItemFacts.sku
    profile.closedSessions -> facts.profile.closed_sessions     time.weekday -> facts.time.weekday
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)


def _number(value: Decimal | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def _instant(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("an instant needs a timezone")
    return value


class SessionFacts:
    __slots__ = (
        "additional_cost_total",
        "attributes",
        "cart_item_total",
        "coupon_codes",
        "first_session",
        "integration_id",
        "referral_code",
        "state",
        "store_integration_id",
        "total",
    )

    def __init__(
        self,
        *,
        integration_id: str = "",
        total: Decimal | int = ZERO,
        cart_item_total: Decimal | int = ZERO,
        additional_cost_total: Decimal | int = ZERO,
        state: str = "open",
        attributes: Mapping[str, Any] | None = None,
        store_integration_id: str | None = None,
        coupon_codes: Iterable[str] = (),
        referral_code: str | None = None,
        first_session: bool = False,
    ):
        self.integration_id = integration_id
        self.total = _number(total)
        self.cart_item_total = _number(cart_item_total)
        self.additional_cost_total = _number(additional_cost_total)
        self.state = state
        self.attributes: Mapping[str, Any] = attributes or {}
        self.store_integration_id = store_integration_id
        self.coupon_codes = tuple(coupon_codes)
        self.referral_code = referral_code
        self.first_session = first_session


class ItemFacts:
    """A cart item: `price` per unit, `position` its index in the session's cartItems (from 0)."""

    __slots__ = ("attributes", "category", "name", "position", "price", "quantity", "sku")

    def __init__(
        self,
        *,
        sku: str,
        price: Decimal | int,
        quantity: Decimal | int = 1,
        position: Decimal | int = 0,
        name: str | None = None,
        category: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ):
        self.sku = sku
        self.name = name
        self.category = category
        self.price = _number(price)
        self.quantity = _number(quantity)
        self.position = _number(position)
        self.attributes: Mapping[str, Any] = attributes or {}


class ProfileFacts:
    """The customer's profile; `Facts.profile` is None for an anonymous session."""

    __slots__ = (
        "attributes",
        "audiences",
        "average_order_value",
        "closed_sessions",
        "first_order_at",
        "integration_id",
        "last_order_at",
        "orders_count",
        "total_sales",
    )

    def __init__(
        self,
        *,
        integration_id: str,
        attributes: Mapping[str, Any] | None = None,
        closed_sessions: Decimal | int = 0,
        total_sales: Decimal | int = ZERO,
        orders_count: Decimal | int = 0,
        average_order_value: Decimal | None = None,
        first_order_at: datetime | None = None,
        last_order_at: datetime | None = None,
        audiences: Iterable[int] = (),
    ):
        self.integration_id = integration_id
        # The ids of the audiences the profile belongs to, as numbers (the language's one numeric type).
        self.audiences = tuple(Decimal(one) for one in sorted(audiences))
        self.attributes: Mapping[str, Any] = attributes or {}
        self.closed_sessions = _number(closed_sessions)
        self.total_sales = _number(total_sales)
        self.orders_count = _number(orders_count)
        self.average_order_value = average_order_value
        self.first_order_at = _instant(first_order_at)
        self.last_order_at = _instant(last_order_at)


class EventFacts:
    """The event being tracked; `Facts.event` is None when a session (not an event) is evaluated."""

    __slots__ = ("attributes", "type")

    def __init__(self, *, type: str, attributes: Mapping[str, Any] | None = None):
        self.type = type
        self.attributes: Mapping[str, Any] = attributes or {}


class CouponFacts:
    """A valid coupon the session presents, for the campaign it belongs to: `coupon.*` while that campaign is
    evaluated (`Facts.coupon`). `discount_remainder` is None when the coupon has no discount limit; `usage_limit`
    0 when its redemptions are unlimited. `reserved` and `reservations_left` (None: unlimited) are for the
    `reserveCoupon` effect only (no condition reads them): whether the session's profile holds a reservation of it,
    and how many more profiles may reserve it."""

    __slots__ = (
        "attributes",
        "campaign_id",
        "discount_remainder",
        "id",
        "reservations_left",
        "reserved",
        "usage_counter",
        "usage_limit",
        "value",
    )

    def __init__(
        self,
        *,
        id: int,
        value: str,
        campaign_id: int,
        attributes: Mapping[str, Any] | None = None,
        usage_counter: Decimal | int = 0,
        usage_limit: Decimal | int = 0,
        discount_remainder: Decimal | None = None,
        reserved: bool = False,
        reservations_left: int | None = None,
    ):
        self.id = id
        self.value = value
        self.campaign_id = campaign_id
        self.attributes: Mapping[str, Any] = attributes or {}
        self.usage_counter = _number(usage_counter)
        self.usage_limit = _number(usage_limit)
        self.discount_remainder = discount_remainder
        self.reserved = reserved
        self.reservations_left = reservations_left


class LoyaltyFacts:
    """The customer's standing in one loyalty program, as of the evaluation: active and pending points by
    subledger ("" the main ledger) and the tier (patron.loyalty.tiers), read by `loyaltyPoints(...)` and
    `loyaltyTier(...)`."""

    __slots__ = ("active", "pending", "tier")

    def __init__(self, *, active: Mapping[str, Decimal], pending: Mapping[str, Decimal], tier: str | None = None):
        self.active = active
        self.pending = pending
        self.tier = tier


class ReferralFacts:
    """The valid referral code the session presents, for its campaign: `referral.*` while that campaign is evaluated
    (`Facts.referral`)."""

    __slots__ = ("advocate", "attributes", "campaign_id", "code", "friend", "id")

    def __init__(
        self,
        *,
        id: int,
        code: str,
        campaign_id: int,
        advocate: str,
        friend: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ):
        self.id = id
        self.code = code
        self.campaign_id = campaign_id
        self.advocate = advocate
        self.friend = friend
        self.attributes: Mapping[str, Any] = attributes or {}


class TimeFacts:
    """The evaluation's instant, and its calendar fields in the application's timezone. `weekday` is ISO's:
    1 = Monday ... 7 = Sunday; `hour` 0-23."""

    __slots__ = ("date", "day", "hour", "instant", "minute", "month", "weekday", "year", "zone")

    def __init__(self, instant: datetime, zone: tzinfo = UTC):
        if instant.tzinfo is None:
            raise ValueError("the evaluation's instant needs a timezone")
        local = instant.astimezone(zone)
        self.instant = instant.astimezone(UTC)
        self.zone = zone
        self.date: date = local.date()
        self.year = Decimal(local.year)
        self.month = Decimal(local.month)
        self.day = Decimal(local.day)
        self.weekday = Decimal(local.isoweekday())
        self.hour = Decimal(local.hour)
        self.minute = Decimal(local.minute)


class Facts:
    """One evaluation's facts. `additional_costs` maps a cost's name (`shipping`) to its price.

    `memo` holds aggregates shared by many campaigns (`Compiler(share_aggregates=True)`), computed once per request:
    whoever changes the facts after a condition ran (cascading discounts) calls `changed()`.

    `coupons` holds the valid coupon presented for each coupon campaign (by campaign id); `coupon` is the one of the
    campaign being evaluated, set by the evaluator before that campaign's conditions run. `referrals` and `referral`
    likewise for the session's referral code.
    """

    __slots__ = (
        "additional_costs",
        "coupon",
        "coupons",
        "event",
        "event_counts",
        "items",
        "loyalty",
        "memo",
        "profile",
        "referral",
        "referrals",
        "session",
        "time",
    )

    def __init__(
        self,
        *,
        session: SessionFacts,
        time: TimeFacts,
        items: Iterable[ItemFacts] = (),
        additional_costs: Mapping[str, Decimal] | None = None,
        profile: ProfileFacts | None = None,
        event: EventFacts | None = None,
        coupons: Mapping[int, CouponFacts] | None = None,
        referrals: Mapping[int, ReferralFacts] | None = None,
        loyalty: Mapping[int, LoyaltyFacts] | None = None,
        event_counts: Mapping[str, Mapping[date, int]] | None = None,
    ):
        self.session = session
        # Per event type the customer's events by UTC day (`eventCount`); None without a customer.
        self.event_counts = event_counts
        # By program id; None for an anonymous session (no member: the loyalty functions are absent).
        self.loyalty = loyalty
        self.coupons: Mapping[int, CouponFacts] = coupons or {}
        self.coupon: CouponFacts | None = None
        self.referrals: Mapping[int, ReferralFacts] = referrals or {}
        self.referral: ReferralFacts | None = None
        self.items = tuple(items)
        self.additional_costs: Mapping[str, Decimal] = additional_costs or {}
        self.profile = profile
        self.event = event
        self.time = time
        self.memo: dict[object, Any] = {}

    def changed(self) -> None:
        self.memo.clear()
