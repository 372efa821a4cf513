"""What the engine answers: Talon.One's effects, with the names and props of the official SDK's models
(`Effect` and each `…EffectProps`), so a `talon-one-sdk` client acts on them unchanged.

Amounts are `Decimal`, rounded to the currency's minor unit; the wire encodes them as JSON numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec


class _Props(msgspec.Struct, frozen=True, omit_defaults=True, rename="camel"):
    pass


class SetDiscountProps(_Props, frozen=True):
    name: str
    value: Decimal
    scope: str | None = None
    desired_value: Decimal | None = None


class SetDiscountPerItemProps(_Props, frozen=True):
    name: str
    value: Decimal
    position: int
    sub_position: int | None = None
    desired_value: Decimal | None = None
    scope: str | None = None
    total_discount: Decimal | None = None
    desired_total_discount: Decimal | None = None


class SetDiscountPerAdditionalCostProps(_Props, frozen=True):
    name: str
    additional_cost_id: int
    additional_cost: str
    value: Decimal
    desired_value: Decimal | None = None


class AddFreeItemProps(_Props, frozen=True):
    sku: str
    name: str
    desired_quantity: int | None = None


class ShowNotificationProps(_Props, frozen=True):
    notification_type: str
    title: str
    body: str


class CustomEffectProps(_Props, frozen=True):
    effect_id: int
    name: str
    payload: dict[str, Any]
    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None


class UpdateAttributeProps(_Props, frozen=True):
    path: str
    value: Any


class TriggerWebhookProps(_Props, frozen=True):
    webhook_id: int
    webhook_name: str


class AcceptCouponProps(_Props, frozen=True):
    """`acceptCoupon`: the coupon is valid and its campaign applied; the session's close redeems it."""

    value: str


class AcceptReferralProps(_Props, frozen=True):
    """`acceptReferral`: the referral code is valid and its campaign applied; the session's close redeems it."""

    value: str


class RollbackReferralProps(_Props, frozen=True):
    """`rollbackReferral`: a redeemed referral code given back (cancel, reopen)."""

    value: str


class CouponCreatedProps(_Props, frozen=True):
    """`couponCreated`: a rule created a coupon for the customer (at close; `value` is its code)."""

    value: str
    profile_id: str


class ReserveCouponProps(_Props, frozen=True):
    """`reserveCoupon`: the coupon on scope reserved for the session's customer (at close). For a coupon the same
    rule created, `couponValue` is its code, filled in by the close as `couponCreated`'s `value` is."""

    coupon_value: str
    profile_integration_id: str
    is_new_reservation: bool  # False: the customer held the reservation already (nothing written)


class ReferralCreatedProps(_Props, frozen=True):
    """`referralCreated`: a rule created a referral code for the customer, its advocate (at close; `value` is the
    code, filled in by the close)."""

    value: str


class AddLoyaltyPointsProps(_Props, frozen=True):
    name: str
    program_id: int
    sub_ledger_id: str
    value: Decimal
    recipient_integration_id: str
    transaction_uuid: str = msgspec.field(name="transactionUUID")
    start_date: str | None = None  # None: awaits an action (`awaitsActivation`)
    expiry_date: str | None = None  # None: never
    desired_value: Decimal | None = None
    awaits_activation: bool | None = None
    validity_duration: str | None = None
    card_identifier: str | None = None  # a card-based program's: the card whose ledger gets the points
    cart_item_position: int | None = None  # per item: the line these points are for


class DeductLoyaltyPointsProps(_Props, frozen=True):
    rule_title: str
    program_id: int
    sub_ledger_id: str
    value: Decimal
    transaction_uuid: str = msgspec.field(name="transactionUUID")
    name: str
    card_identifier: str | None = None  # a card-based program's: the card whose ledger gives the points


class ChangeLoyaltyTierLevelProps(_Props, frozen=True):
    """`changeLoyaltyTierLevel`: the tier the customer moved up to (`expiryDate` set when settled)."""

    rule_title: str
    program_id: int
    sub_ledger_id: str
    new_tier_name: str
    previous_tier_name: str | None = None
    expiry_date: str | None = None


class AddToAudienceProps(_Props, frozen=True):
    """`addToAudience`: the session's customer joins the audience (written at close, or at once for an event).
    `audienceName` and `profileId` are filled in by the session or event, which read the audience and profile."""

    audience_id: int
    audience_name: str
    profile_integration_id: str
    profile_id: int | None = None


class RemoveFromAudienceProps(_Props, frozen=True):
    """`removeFromAudience`: the session's customer leaves the audience (as `addToAudience` joins it)."""

    audience_id: int
    audience_name: str
    profile_integration_id: str
    profile_id: int | None = None


class RollbackLoyaltyPointsProps(_Props, frozen=True):
    """`rollbackAddedLoyaltyPoints` (what a cancel took back of the points the close added) and
    `rollbackDeductedLoyaltyPoints` (the points it gave back): `transactionUUID` is the rollback's own entry."""

    program_id: int
    sub_ledger_id: str
    value: Decimal
    recipient_integration_id: str
    transaction_uuid: str = msgspec.field(name="transactionUUID")
    card_identifier: str | None = None  # a card-based program's: the card whose ledger it changed


class RejectionProps(_Props, frozen=True):
    """`rejectCoupon` and `rejectReferral`."""

    value: str
    rejection_reason: str
    condition_index: int | None = None
    effect_index: int | None = None
    details: str | None = None
    campaign_exclusion_reason: str | None = None


class RollbackCouponProps(_Props, frozen=True):
    """`rollbackCoupon`: a redeemed coupon given back (cancel, reopen)."""

    value: str


class RollbackDiscountProps(_Props, frozen=True):
    name: str
    value: Decimal
    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    additional_cost_id: int | None = None
    additional_cost: str | None = None
    scope: str | None = None


Props = (
    SetDiscountProps
    | SetDiscountPerItemProps
    | SetDiscountPerAdditionalCostProps
    | AddFreeItemProps
    | ShowNotificationProps
    | CustomEffectProps
    | UpdateAttributeProps
    | TriggerWebhookProps
    | AcceptCouponProps
    | CouponCreatedProps
    | ReserveCouponProps
    | ReferralCreatedProps
    | AcceptReferralProps
    | RollbackReferralProps
    | RejectionProps
    | RollbackCouponProps
    | RollbackDiscountProps
    | AddToAudienceProps
    | RemoveFromAudienceProps
)

DISCOUNT_TYPES = frozenset({"setDiscount", "setDiscountPerItem", "setDiscountPerAdditionalCost"})


class Effect(msgspec.Struct, frozen=True, omit_defaults=True, rename="camel"):
    campaign_id: int
    ruleset_id: int
    rule_index: int
    rule_name: str
    effect_type: str
    props: Any  # one of Props; the type is named by effect_type (kept untagged, as Talon answers it)
    triggered_by_coupon: int | None = None
    evaluation_group_id: int | None = msgspec.field(default=None, name="evaluationGroupID")
    evaluation_group_mode: str | None = None

    @property
    def discount(self) -> Decimal:
        """What this effect takes off the session (0 for effects that are not discounts)."""
        if self.effect_type in DISCOUNT_TYPES:
            value: Decimal = self.props.value
            return value
        return Decimal(0)

    def rollback(self) -> Effect | None:
        """The effect cancel and reopen answer for this one: `rollbackDiscount` for a discount, `rollbackCoupon` for
        an accepted coupon; none for the others (attribute updates and free items are not rolled back, as Talon.One
        documents). A return rolls back the discounts of the returned items only (sessions.service)."""
        props = self.props
        if isinstance(props, SetDiscountProps):
            rolled = RollbackDiscountProps(name=props.name, value=props.value, scope=props.scope)
        elif isinstance(props, SetDiscountPerItemProps):
            rolled = RollbackDiscountProps(
                name=props.name,
                value=props.value,
                cart_item_position=props.position,
                cart_item_sub_position=props.sub_position,
                scope=props.scope,
            )
        elif isinstance(props, AcceptCouponProps):
            return msgspec.structs.replace(self, effect_type="rollbackCoupon", props=RollbackCouponProps(props.value))
        elif isinstance(props, AcceptReferralProps):
            rolled_referral = RollbackReferralProps(props.value)
            return msgspec.structs.replace(self, effect_type="rollbackReferral", props=rolled_referral)
        elif isinstance(props, SetDiscountPerAdditionalCostProps):
            rolled = RollbackDiscountProps(
                name=props.name,
                value=props.value,
                additional_cost_id=props.additional_cost_id,
                additional_cost=props.additional_cost,
            )
        else:
            return None
        return msgspec.structs.replace(self, effect_type="rollbackDiscount", props=rolled)


class RuleFailureReason(msgspec.Struct, frozen=True, omit_defaults=True):
    """Why a campaign or rule did not apply (Talon's `RuleFailureReason`; its ids are spelt `campaignID`)."""

    campaign_id: int = msgspec.field(name="campaignID")
    campaign_name: str = msgspec.field(name="campaignName")
    ruleset_id: int = msgspec.field(name="rulesetID")
    rule_index: int | None = msgspec.field(default=None, name="ruleIndex")
    rule_name: str | None = msgspec.field(default=None, name="ruleName")
    coupon_id: int | None = msgspec.field(default=None, name="couponID")
    coupon_value: str | None = msgspec.field(default=None, name="couponValue")
    referral_id: int | None = msgspec.field(default=None, name="referralID")
    referral_value: str | None = msgspec.field(default=None, name="referralValue")
    condition_index: int | None = msgspec.field(default=None, name="conditionIndex")
    effect_index: int | None = msgspec.field(default=None, name="effectIndex")
    details: str | None = None
    evaluation_group_id: int | None = msgspec.field(default=None, name="evaluationGroupID")
    evaluation_group_mode: str | None = msgspec.field(default=None, name="evaluationGroupMode")
