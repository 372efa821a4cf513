"""Talon.One's customer-session shapes (`talon_one.models`: IntegrationRequest, NewCustomerSessionV2, CartItem,
IntegrationStateV2, CustomerSessionV2, ReturnIntegrationRequest, ReopenSessionResponse), as msgspec Structs.

A field the request leaves out is UNSET and keeps the session's value (Talon: "omit the parameter to keep it");
`couponCodes: []` and `referralCode: ""` discard.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from patron.coupons.view import CouponView
from patron.errors import FieldIssue
from patron.events.wire import Event
from patron.http.wire import Amount, Number
from patron.profiles.model import value_issues
from patron.promotions.effects import Effect, RuleFailureReason
from patron.promotions.talon import Campaign
from patron.referrals.wire import ReferralView
from patron.sessions.model import KEEP, Session, SessionChange, SessionState
from patron.sessions.model import CartItem as ModelCartItem

IntegrationId = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Code = Annotated[str, msgspec.Meta(max_length=100)]
Position = Annotated[int, msgspec.Meta(ge=0)]
LoyaltyCards = Annotated[list[Annotated[str, msgspec.Meta(max_length=108)]], msgspec.Meta(max_length=1)]
Identifiers = Annotated[list[Annotated[str, msgspec.Meta(max_length=1000)]], msgspec.Meta(max_length=5)]
ResponseContent = Literal[
    "customerSession",
    "customerProfile",
    "coupons",
    "triggeredCampaigns",
    "referral",
    "loyalty",
    "event",
    "awardedGiveaways",
    "ruleFailureReasons",
    "previousReturns",
    "campaignEligibility",
]


class _In(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    pass


class Product(_In, frozen=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class AdditionalCost(_In, frozen=True):
    price: Amount


class CartItem(_In, frozen=True):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    name: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    price: Amount | None = None
    category: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    returned_quantity: Annotated[int, msgspec.Meta(ge=0)] | None = None
    remaining_quantity: Annotated[int, msgspec.Meta(ge=0)] | None = None
    product: Product | None = None
    weight: Number | None = None
    height: Number | None = None
    width: Number | None = None
    length: Number | None = None
    position: Number | None = None
    attributes: dict[str, Any] | None = None
    additional_costs: dict[str, AdditionalCost] | None = None
    catalog_item_id: int | None = msgspec.field(default=None, name="catalogItemID")


class NewCustomerSessionV2(_In, frozen=True):
    profile_id: Annotated[str, msgspec.Meta(max_length=1000)] | UnsetType | None = UNSET
    store_integration_id: IntegrationId | UnsetType = UNSET
    evaluable_campaign_ids: list[Annotated[int, msgspec.Meta(ge=1)]] | UnsetType = UNSET
    coupon_codes: Annotated[list[Code], msgspec.Meta(max_length=100)] | UnsetType = UNSET
    referral_code: Code | UnsetType = UNSET
    loyalty_cards: LoyaltyCards | UnsetType = UNSET
    state: Literal["open", "closed", "cancelled"] = "open"
    cart_items: list[CartItem] | UnsetType = UNSET
    additional_costs: dict[str, AdditionalCost] | UnsetType = UNSET
    identifiers: Identifiers | UnsetType = UNSET
    attributes: dict[str, Any] | UnsetType = UNSET


class IntegrationRequest(_In, frozen=True):
    customer_session: NewCustomerSessionV2
    response_content: list[ResponseContent] | None = None


class ReturnedCartItem(_In, frozen=True):
    position: Position
    quantity: Annotated[int, msgspec.Meta(ge=1)] | None = None
    sku: str | None = None


class NewReturn(_In, frozen=True):
    returned_cart_items: Annotated[list[ReturnedCartItem], msgspec.Meta(min_length=1, max_length=1000)]


class ReturnIntegrationRequest(_In, frozen=True):
    return_: NewReturn = msgspec.field(name="return")
    response_content: list[ResponseContent] | None = None


# -- answers --------------------------------------------------------------------------------------------------


class _Out(msgspec.Struct, omit_defaults=True, rename="camel"):
    pass


class AdditionalCostOut(_Out):
    price: Decimal


class CartItemOut(_Out):
    sku: str
    quantity: int
    price: Decimal
    returned_quantity: int
    remaining_quantity: int
    position: int
    name: str | None = None
    category: str | None = None
    attributes: dict[str, Any] | None = None
    product: dict[str, Any] | None = None
    weight: Decimal | None = None
    height: Decimal | None = None
    width: Decimal | None = None
    length: Decimal | None = None
    additional_costs: dict[str, Any] | None = None
    catalog_item_id: int | None = msgspec.field(default=None, name="catalogItemID")


class CustomerSessionV2(msgspec.Struct, rename="camel"):
    """talon_one.models.CustomerSessionV2 (every required member always present)."""

    id: int
    created: str
    integration_id: str
    application_id: int
    profile_id: str | None
    coupon_codes: list[str]
    referral_code: str | None
    loyalty_cards: list[str]
    state: str
    cart_items: list[CartItemOut]
    additional_costs: dict[str, AdditionalCostOut]
    identifiers: list[str]
    attributes: dict[str, Any]
    first_session: bool
    update_count: int
    total: Decimal
    cart_item_total: Decimal
    additional_cost_total: Decimal
    updated: str
    store_integration_id: str | UnsetType = UNSET
    evaluable_campaign_ids: list[int] | UnsetType = UNSET


class ReturnedCartItemOut(msgspec.Struct, rename="camel"):
    position: int
    quantity: int


class Return(msgspec.Struct, rename="camel"):
    """talon_one.models.ModelReturn."""

    id: int
    created: str
    application_id: int
    account_id: int
    returned_cart_items: list[ReturnedCartItemOut]
    event_id: int
    session_id: int
    session_integration_id: str
    profile_integration_id: str | UnsetType = UNSET


class IntegrationStateV2(msgspec.Struct, rename="camel"):
    """talon_one.models.IntegrationStateV2: `effects`, `createdCoupons` and `createdReferrals` always; the rest as
    `responseContent` asks."""

    effects: list[Effect]
    created_coupons: list[CouponView]
    created_referrals: list[ReferralView]
    customer_session: CustomerSessionV2 | UnsetType = UNSET
    customer_profile: Any | UnsetType = UNSET  # patron.profiles.talon.CustomerProfile
    triggered_campaigns: list[Campaign] | UnsetType = UNSET
    rule_failure_reasons: list[RuleFailureReason] | UnsetType = UNSET
    coupons: list[CouponView] | UnsetType = UNSET
    referral: Any | UnsetType = UNSET  # patron.referrals.wire.ReferralView
    loyalty: Any | UnsetType = UNSET  # patron.loyalty.wire.LoyaltyView
    campaign_eligibility: list[CampaignEligibility] | UnsetType = UNSET
    event: Event | UnsetType = UNSET
    return_: Return | UnsetType = msgspec.field(default=UNSET, name="return")
    previous_returns: list[Return] | UnsetType = UNSET


class CampaignEligibility(msgspec.Struct, rename="camel"):
    """Patron's answer to `campaignEligibility` (patron.promotions.eligibility: Talon.One documents no shape)."""

    campaign_id: int
    campaign_name: str
    evaluation_group: str
    eligible: bool
    status: str


class IntegrationCustomerSessionResponse(msgspec.Struct, rename="camel"):
    customer_session: CustomerSessionV2
    effects: list[Effect]


class ReopenSessionResponse(msgspec.Struct, rename="camel"):
    effects: list[Effect]


# -- conversions ----------------------------------------------------------------------------------------------

_KEPT = ("product", "weight", "height", "width", "length", "additional_costs", "catalog_item_id")


def _cart_item(item: CartItem) -> ModelCartItem:
    extra = {
        name: msgspec.to_builtins(value, builtin_types=(Decimal,))
        for name in _KEPT
        if (value := getattr(item, name)) is not None
    }
    return ModelCartItem(
        sku=item.sku,
        quantity=item.quantity,
        price=Decimal(item.price) if item.price is not None else Decimal(0),
        name=item.name,
        category=item.category,
        attributes=item.attributes or {},
        returned_quantity=min(item.returned_quantity or 0, item.quantity),
        extra=extra,
        priced=item.price is not None,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return Decimal(value)  # the wire's Number and Amount
    raise TypeError(f"unexpected {type(value).__name__}")


def storage_issues(sent: NewCustomerSessionV2) -> list[FieldIssue]:
    """Every value of the session as sent that DynamoDB could not store (a number past its 38 digits or its
    range, text that is not text), with its path: refused before anything is decided."""
    values = msgspec.to_builtins(sent, builtin_types=(Decimal,), enc_hook=_plain)
    return value_issues(values, "customerSession")


def change_of(sent: NewCustomerSessionV2) -> SessionChange:
    def given(value: Any, convert: Any = None) -> Any:
        if value is UNSET:
            return KEEP
        return convert(value) if convert is not None else value

    return SessionChange(
        state=SessionState(sent.state),
        profile_id=given(sent.profile_id, lambda value: value or None),
        store_integration_id=given(sent.store_integration_id),
        coupon_codes=given(sent.coupon_codes, tuple),
        referral_code=given(sent.referral_code),
        loyalty_cards=given(sent.loyalty_cards, tuple),
        identifiers=given(sent.identifiers, tuple),
        attributes=given(sent.attributes),
        cart_items=given(sent.cart_items, lambda items: tuple(_cart_item(item) for item in items)),
        additional_costs=given(
            sent.additional_costs, lambda costs: {name: Decimal(cost.price) for name, cost in costs.items()}
        ),
    )


def _cart_item_out(position: int, item: ModelCartItem) -> CartItemOut:
    extra = dict(item.extra)
    return CartItemOut(
        sku=item.sku,
        quantity=item.quantity,
        price=item.price,
        returned_quantity=item.returned_quantity,
        remaining_quantity=item.remaining_quantity,
        position=position,
        name=item.name,
        category=item.category,
        attributes=dict(item.attributes) or None,
        product=extra.get("product"),
        weight=extra.get("weight"),
        height=extra.get("height"),
        width=extra.get("width"),
        length=extra.get("length"),
        additional_costs=extra.get("additional_costs"),
        catalog_item_id=extra.get("catalog_item_id"),
    )


def session_out(session: Session, application_id: int) -> CustomerSessionV2:
    return CustomerSessionV2(
        id=session.id,
        created=session.created,
        integration_id=session.integration_id,
        application_id=application_id,
        profile_id=session.profile_id,
        coupon_codes=list(session.coupon_codes),
        referral_code=session.referral_code,
        loyalty_cards=list(session.loyalty_cards),
        state=session.state.value,
        cart_items=[_cart_item_out(position, item) for position, item in enumerate(session.cart_items)],
        additional_costs={name: AdditionalCostOut(price) for name, price in session.additional_costs.items()},
        identifiers=list(session.identifiers),
        attributes=dict(session.attributes),
        first_session=session.first_session,
        update_count=session.update_count,
        total=session.total,
        cart_item_total=session.cart_item_total,
        additional_cost_total=session.additional_cost_total,
        updated=session.updated,
        store_integration_id=session.store_integration_id if session.store_integration_id else UNSET,
    )


def return_out(record: dict[str, Any], session: Session, application_id: int, account_id: int) -> Return:
    """A stored return (StoredSession.returns) in Talon.One's shape. Returns stored before they had ids answer the
    milliseconds of their instant for both."""
    fallback = int(datetime.fromisoformat(str(record["at"]).replace("Z", "+00:00")).timestamp() * 1000)
    return Return(
        id=int(record.get("id", fallback)),
        created=str(record["at"]),
        application_id=application_id,
        account_id=account_id,
        returned_cart_items=[ReturnedCartItemOut(int(i["position"]), int(i["quantity"])) for i in record["items"]],
        event_id=int(record.get("eventId", fallback)),
        session_id=session.id,
        session_integration_id=session.integration_id,
        profile_integration_id=session.profile_id or UNSET,
    )
