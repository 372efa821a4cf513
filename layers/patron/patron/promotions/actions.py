"""Each effect definition as a `CompiledEffect`: a function of the evaluation scope that appends Talon.One effects.

The expressions inside are already compiled (`ruleset.py`): functions of the facts (or of the facts and an item)
answering a `Decimal`, a string, or None when the expression has no value (an absent attribute, a division by
zero): an effect whose amount has no value gives nothing and says why in the rule failure reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from patron.loyalty.program import MAX_POINTS, points
from patron.profiles.model import integration_id_issue
from patron.promotions.definitions import DiscountScope, ItemDistribution
from patron.promotions.effects import (
    AddFreeItemProps,
    AddLoyaltyPointsProps,
    AddToAudienceProps,
    ChangeLoyaltyTierLevelProps,
    CouponCreatedProps,
    CustomEffectProps,
    DeductLoyaltyPointsProps,
    ReferralCreatedProps,
    RemoveFromAudienceProps,
    ReserveCouponProps,
    SetDiscountPerAdditionalCostProps,
    SetDiscountPerItemProps,
    SetDiscountProps,
    ShowNotificationProps,
    TriggerWebhookProps,
    UpdateAttributeProps,
)
from patron.promotions.evaluator import (
    EFFECT_COULD_NOT_BE_APPLIED,
    RESERVATION_LIMIT_REACHED,
    CompiledEffect,
    CouponToCreate,
    CouponToReserve,
    LoyaltyChange,
    ReferralToCreate,
    Scope,
    Webhook,
)
from patron.promotions.money import ZERO

HUNDRED = Decimal(100)

Value = Callable[[Any], Any]  # facts -> value
ItemValue = Callable[[Any, Any], Any]  # facts, item facts -> value
ItemFilter = Callable[[Any], list[int]]  # facts -> the positions of the items it reaches
Payload = Callable[[Any], dict[str, Any]]


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return None


def _desired(scope: Scope, value: Any) -> Decimal | None:
    amount = _amount(value)
    return None if amount is None else max(scope.money.round(amount), ZERO)


def set_discount(name: str, value: Value, discount_scope: DiscountScope) -> CompiledEffect:
    def apply(scope: Scope, effect_index: int) -> None:
        desired = _desired(scope, value(scope.facts))
        if desired is None:
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return
        pricing = scope.pricing
        if discount_scope is DiscountScope.CART_ITEMS:
            room, take = pricing.cart_items_room(), pricing.take_cart_items
        elif discount_scope is DiscountScope.ADDITIONAL_COSTS:
            room, take = pricing.additional_costs_room(), pricing.take_additional_costs
        else:
            room, take = pricing.session_room(), pricing.take_session
        granted = scope.grant(desired, room, effect_index)
        if granted <= 0:
            return
        take(granted)
        props = SetDiscountProps(
            name=name,
            value=granted,
            scope=discount_scope.value,
            desired_value=desired if granted < desired else None,
        )
        scope.outcome.effects.append(scope.effect("setDiscount", props))

    return apply


def set_discount_per_item(
    name: str,
    matches: ItemFilter | None,
    percent: ItemValue | None,
    amount: ItemValue | None,
    distribution: ItemDistribution,
    cap: Value | None,
) -> CompiledEffect:
    per_unit = distribution is ItemDistribution.UNIT

    def apply(scope: Scope, effect_index: int) -> None:
        facts, pricing = scope.facts, scope.pricing
        items = facts.items
        chosen = list(range(len(items))) if matches is None else matches(facts)
        if not chosen:
            return
        limit = None if cap is None else _desired(scope, cap(facts))
        if distribution is ItemDistribution.PRO_RATA:
            _pro_rata(scope, effect_index, name, chosen, percent, amount, limit)
            return
        given = ZERO
        grant, effects, lines = scope.grant, scope.outcome.effects, pricing.lines
        for index in chosen:
            item, line = items[index], lines[index]
            if per_unit:
                if line.quantity < 1:
                    continue
                # Every unit of a line has the same price and the same facts: one desired value for them all.
                each = _item_desired(scope, facts, item, line.price, percent, amount)
                if each is None:
                    scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
                    return
                units = pricing.units(index)  # (built now if not yet, as later discounts expect)
                for unit in range(line.quantity):
                    desired = each
                    if limit is not None:
                        desired = min(desired, max(limit - given, ZERO))
                    room = min(units[unit], pricing.items_left, pricing.total_left)  # pricing.unit_room
                    granted = grant(desired, room, effect_index) if desired > 0 else ZERO
                    if granted <= 0:
                        continue
                    pricing.take_unit(index, unit, granted)
                    given += granted
                    props = SetDiscountPerItemProps(
                        f"{name}#{index}.{unit}", granted, index, unit, desired if granted < desired else None, "price"
                    )
                    effects.append(scope.effect("setDiscountPerItem", props))
                continue
            whole = _item_desired(scope, facts, item, line.total, percent, amount)
            if whole is None:
                scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
                return
            desired = whole if limit is None else min(whole, max(limit - given, ZERO))
            granted = grant(desired, pricing.line_room(index), effect_index) if desired > 0 else ZERO
            if granted <= 0:
                continue
            pricing.take_line(index, granted)
            given += granted
            props = SetDiscountPerItemProps(
                f"{name}#{index}", granted, index, None, desired if granted < desired else None, "price"
            )
            effects.append(scope.effect("setDiscountPerItem", props))

    return apply


def _item_desired(
    scope: Scope, facts: Any, item: Any, base: Decimal, percent: ItemValue | None, amount: ItemValue | None
) -> Decimal | None:
    if percent is not None:
        rate = _amount(percent(facts, item))
        return None if rate is None else _desired(scope, base * rate / HUNDRED)
    assert amount is not None
    return _desired(scope, amount(facts, item))


def _pro_rata(
    scope: Scope,
    effect_index: int,
    name: str,
    chosen: list[int],
    percent: ItemValue | None,
    amount: ItemValue | None,
    limit: Decimal | None,
) -> None:
    """One total shared by the matching items in proportion to what is left of each (whole minor units that
    add up exactly): `amount` read once (on the first matching item), or `percent` of their total."""
    facts, pricing = scope.facts, scope.pricing
    # Shares follow what is left of each item; together they never take more than the items' or session's rest.
    weights = [pricing.lines_left[index] for index in chosen]
    room = min(sum(weights, ZERO), pricing.items_left, pricing.total_left)
    if percent is not None:
        rate = _amount(percent(facts, facts.items[chosen[0]]))
        desired = None if rate is None else _desired(scope, room * rate / HUNDRED)
    else:
        assert amount is not None
        desired = _desired(scope, amount(facts, facts.items[chosen[0]]))
    if desired is None:
        scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
        return
    if limit is not None:
        desired = min(desired, limit)
    total = scope.grant(desired, room, effect_index)
    if total <= 0:
        return
    shares = scope.money.split(total, weights)
    for index, share in zip(chosen, shares, strict=True):
        if share <= 0:
            continue
        pricing.take_line(index, share)
        props = SetDiscountPerItemProps(
            name=f"{name}#{index}",
            value=share,
            position=index,
            scope="price",
            total_discount=total,
            desired_total_discount=desired if total < desired else None,
        )
        scope.outcome.effects.append(scope.effect("setDiscountPerItem", props))


def set_discount_per_additional_cost(
    name: str, cost: str, cost_id: int, percent: Value | None, amount: Value | None
) -> CompiledEffect:
    def apply(scope: Scope, effect_index: int) -> None:
        pricing = scope.pricing
        if cost not in pricing.additional_costs:
            return
        if percent is not None:
            rate = _amount(percent(scope.facts))
            base = pricing.additional_costs[cost]
            desired = None if rate is None else _desired(scope, base * rate / HUNDRED)
        else:
            assert amount is not None
            desired = _desired(scope, amount(scope.facts))
        if desired is None:
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return
        granted = scope.grant(desired, pricing.cost_room(cost), effect_index)
        if granted <= 0:
            return
        pricing.take_cost(cost, granted)
        props = SetDiscountPerAdditionalCostProps(
            name=name,
            additional_cost_id=cost_id,
            additional_cost=cost,
            value=granted,
            desired_value=desired if granted < desired else None,
        )
        scope.outcome.effects.append(scope.effect("setDiscountPerAdditionalCost", props))

    return apply


def add_free_item(sku: str, name: str) -> CompiledEffect:
    def apply(scope: Scope, effect_index: int) -> None:
        scope.outcome.effects.append(scope.effect("addFreeItem", AddFreeItemProps(sku=sku, name=name)))

    return apply


def show_notification(kind: str, title: Callable[[Any], str], body: Callable[[Any], str]) -> CompiledEffect:
    def apply(scope: Scope, effect_index: int) -> None:
        props = ShowNotificationProps(notification_type=kind, title=title(scope.facts), body=body(scope.facts))
        scope.outcome.effects.append(scope.effect("showNotification", props))

    return apply


def custom_effect(name: str, effect_id: int, payload: Payload) -> CompiledEffect:
    def apply(scope: Scope, effect_index: int) -> None:
        props = CustomEffectProps(effect_id=effect_id, name=name, payload=payload(scope.facts))
        scope.outcome.effects.append(scope.effect("customEffect", props))

    return apply


def update_attribute(target: str, attribute: str, value: Value) -> CompiledEffect:
    def apply(scope: Scope, effect_index: int) -> None:
        result = value(scope.facts)
        if result is None:
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return
        updates = scope.outcome.profile_attributes if target == "profile" else scope.outcome.session_attributes
        updates[attribute] = result
        path = f"{target}.attributes.{attribute}" if target == "profile" else f"attributes.{attribute}"
        scope.outcome.effects.append(scope.effect("updateAttribute", UpdateAttributeProps(path=path, value=result)))

    return apply


def trigger_webhook(webhook_id: int, webhook_name: str, payload: Payload) -> CompiledEffect:
    def apply(scope: Scope, effect_index: int) -> None:
        body: Mapping[str, Any] = payload(scope.facts)
        scope.outcome.webhooks.append(Webhook(scope.campaign.id, webhook_id, webhook_name, body))
        props = TriggerWebhookProps(webhook_id=webhook_id, webhook_name=webhook_name)
        scope.outcome.effects.append(scope.effect("triggerWebhook", props))

    return apply


def create_coupon(
    prefix: str,
    usage_limit: int,
    discount_limit: Value | None,
    valid_days: int | None,
    attributes: Mapping[str, Any],
) -> CompiledEffect:
    """At close only (the session's state says so): the coupon to create for the customer, its effect answered with
    the code the close draws. An anonymous session has no customer to create it for: the effect fails."""

    def apply(scope: Scope, effect_index: int) -> None:
        facts = scope.facts
        if facts.session.state != "closed":
            return
        if facts.profile is None:
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return
        limit = None
        if discount_limit is not None:
            limit = _desired(scope, discount_limit(facts))
            if limit is None or limit <= 0:
                scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
                return
        profile_id = facts.profile.integration_id
        request = CouponToCreate(
            scope.campaign.id, profile_id, prefix, usage_limit, limit, valid_days, attributes, scope.rule_index
        )
        scope.outcome.coupons_to_create.append(request)
        scope.outcome.effects.append(scope.effect("couponCreated", CouponCreatedProps(value="", profile_id=profile_id)))

    return apply


def reserve_coupon(created: bool) -> CompiledEffect:
    """At close only: the coupon on scope reserved for the session's customer. `created` (the rule has a
    `createCoupon` before this effect): the coupon that effect creates, whose reservation the close writes with it
    (none created: nothing on scope, the effect fails); otherwise the presented coupon the rule is triggered by. The
    reservation a customer holds already is answered `isNewReservation: false` and written again by nobody."""

    def apply(scope: Scope, effect_index: int) -> None:
        facts = scope.facts
        if facts.session.state != "closed":
            return
        if facts.profile is None:
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return
        profile_id = facts.profile.integration_id
        if created:
            _reserve_created(scope, effect_index, profile_id)
        else:
            _reserve_presented(scope, effect_index, profile_id)

    return apply


def _reserve_created(scope: Scope, effect_index: int, profile_id: str) -> None:
    made = scope.outcome.coupons_to_create
    campaign_id, rule_index = scope.campaign.id, scope.rule_index
    position = next(
        (
            at
            for at in range(len(made) - 1, -1, -1)
            if (made[at].campaign_id, made[at].rule_index) == (campaign_id, rule_index)
        ),
        None,
    )
    if position is None:  # the rule's createCoupon failed: no coupon on scope
        scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
        return
    request = made[position]
    if not request.reserved:
        made[position] = msgspec.structs.replace(request, reserved=True)
    # The code is the close's to draw: it fills `couponValue` in as it does the `couponCreated` before this effect.
    props = ReserveCouponProps(
        coupon_value="", profile_integration_id=profile_id, is_new_reservation=not request.reserved
    )
    scope.outcome.effects.append(scope.effect("reserveCoupon", props))


def _reserve_presented(scope: Scope, effect_index: int, profile_id: str) -> None:
    coupon = scope.facts.coupon
    if scope.coupon_id is None or coupon is None:  # the rule is not triggered by a coupon: none on scope
        scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
        return
    code = coupon.value
    held = coupon.reserved or any(reservation.code == code for reservation in scope.outcome.coupons_to_reserve)
    if not held:
        left = coupon.reservations_left
        if left is not None and left < 1:
            scope.fail(RESERVATION_LIMIT_REACHED, effect_index, coupon.id, code)
            return
        scope.outcome.coupons_to_reserve.append(CouponToReserve(scope.campaign.id, code, profile_id))
    props = ReserveCouponProps(coupon_value=code, profile_integration_id=profile_id, is_new_reservation=not held)
    scope.outcome.effects.append(scope.effect("reserveCoupon", props))


def create_referral(
    prefix: str, usage_limit: int, valid_days: int | None, attributes: Mapping[str, Any]
) -> CompiledEffect:
    """At close only (as `create_coupon`): a referral code of the campaign whose advocate is the session's customer,
    its effect answered with the code the close draws. An anonymous session has no advocate: the effect fails."""

    def apply(scope: Scope, effect_index: int) -> None:
        facts = scope.facts
        if facts.session.state != "closed":
            return
        if facts.profile is None:
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return
        advocate = facts.profile.integration_id
        request = ReferralToCreate(scope.campaign.id, advocate, prefix, usage_limit, valid_days, attributes)
        scope.outcome.referrals_to_create.append(request)
        scope.outcome.effects.append(scope.effect("referralCreated", ReferralCreatedProps(value="")))

    return apply


def loyalty_points(
    add: bool,
    program_id: int,
    subledger: str,
    name: str,
    value: Value,
    pending: str = "immediate",
    validity: str = "unlimited",
    card_based: bool = False,
    recipient: Value | None = None,
) -> CompiledEffect:
    """`addLoyaltyPoints` (`add`) or `deductLoyaltyPoints`: the points asked for (two decimals, rounded down),
    recorded as a change the session settles against the customer's ledger (which fills in the transaction id,
    the dates and what a deduction could take). An anonymous session has no ledger: the effect fails (in a
    card-based program the session's card holds the ledger: the settlement fails the effect without one); a value
    that is not a positive number of points gives nothing. An addition's `recipient` names another earner."""

    def apply(scope: Scope, effect_index: int) -> None:
        facts = scope.facts
        earner = _earner(scope, effect_index, recipient, card_based)
        if earner is None:
            return
        asked = value(facts)
        if asked is None or not asked.is_finite() or asked <= 0:
            return
        amount = min(points(asked), MAX_POINTS)
        if amount <= 0:
            return
        profile_id, other = earner
        change = LoyaltyChange(
            add,
            program_id,
            subledger,
            name or scope.rule_name,
            amount,
            profile_id,
            scope.campaign.id,
            pending,
            validity,
            recipient=other,
        )
        scope.outcome.loyalty_changes.append(change)
        if add:
            props: Any = AddLoyaltyPointsProps(change.name, program_id, subledger, amount, profile_id, "")
            scope.outcome.effects.append(scope.effect("addLoyaltyPoints", props))
        else:
            props = DeductLoyaltyPointsProps(scope.rule_name, program_id, subledger, amount, "", change.name)
            scope.outcome.effects.append(scope.effect("deductLoyaltyPoints", props))

    return apply


def loyalty_points_per_item(
    program_id: int,
    subledger: str,
    name: str,
    matches: ItemFilter | None,
    value: ItemValue,
    pending: str,
    validity: str,
    card_based: bool = False,
    recipient: Value | None = None,
) -> CompiledEffect:
    """`addLoyaltyPoints` with `perItem`: `value` read for each cart line (of those `matches` keeps) with `item`
    that line, two decimals rounded down; one change for them all (one addition, one lot), settled into one effect
    per line (patron.loyalty.settle). Lines with no positive points give nothing."""

    def apply(scope: Scope, effect_index: int) -> None:
        facts = scope.facts
        earner = _earner(scope, effect_index, recipient, card_based)
        if earner is None:
            return
        items = facts.items
        lines: dict[int, Decimal] = {}
        for index in range(len(items)) if matches is None else matches(facts):
            asked = value(facts, items[index])
            if asked is None or not asked.is_finite() or asked <= 0:
                continue
            amount = min(points(asked), MAX_POINTS)
            if amount > 0:
                lines[index] = amount
        total = min(sum(lines.values(), ZERO), MAX_POINTS)
        if total <= 0:
            return
        profile_id, other = earner
        change = LoyaltyChange(
            True, program_id, subledger, name or scope.rule_name, total, profile_id, scope.campaign.id,
            pending, validity, lines=lines, recipient=other,
        )  # fmt: skip
        scope.outcome.loyalty_changes.append(change)
        props = AddLoyaltyPointsProps(change.name, program_id, subledger, total, profile_id, "")
        scope.outcome.effects.append(scope.effect("addLoyaltyPoints", props))

    return apply


def _earner(
    scope: Scope, effect_index: int, recipient: Value | None, card_based: bool
) -> tuple[str, str | None] | None:
    """Whose ledger a points effect changes: (integration id, the recipient when it is not the session's customer);
    None when it fails. The session's customer (anonymous: none, but in a card-based program, whose ledger is the
    session's card's), or `recipient`'s value: an integration id that could name a profile (whether one does,
    the session learns from its read)."""
    profile = scope.facts.profile
    own = profile.integration_id if profile is not None else None
    if recipient is None:
        if own is None and not card_based:
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return None
        return own or "", None
    named = recipient(scope.facts)
    if not isinstance(named, str) or integration_id_issue(named) is not None:
        scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
        return None
    return named, None if named == own else named


def loyalty_tier(program_id: int, tier: str, expires_in: str | None, card_based: bool = False) -> CompiledEffect:
    """`changeLoyaltyTierLevel`: a change the session settles against the customer's ledger (an upgrade only;
    the settlement drops the effect for a customer already in that tier or higher). Anonymous: the effect fails,
    but in a card-based program, whose ledger is the session's card (the settlement fails it without one)."""

    def apply(scope: Scope, effect_index: int) -> None:
        profile = scope.facts.profile
        if profile is None and not card_based:  # a card-based program's ledger is the session's card
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return
        holder = profile.integration_id if profile is not None else ""
        change = LoyaltyChange(
            False,
            program_id,
            "",
            scope.rule_name,
            ZERO,
            holder,
            scope.campaign.id,
            validity=expires_in or "",
            tier=tier,
        )
        scope.outcome.loyalty_changes.append(change)
        props = ChangeLoyaltyTierLevelProps(scope.rule_name, program_id, "", tier)
        scope.outcome.effects.append(scope.effect("changeLoyaltyTierLevel", props))

    return apply


def audience_membership(audience_id: int, join: bool) -> CompiledEffect:
    """`addToAudience` (`join`) or `removeFromAudience`: answered in an open session, written by the close (or at
    once for an event), which reads the audience, fills in its name and the profile's id, and fails the effect for
    an audience that does not exist or was deleted (patron.sessions.memberships). The evaluation reads nothing: it
    stays pure. An anonymous session has no customer to add: the effect fails."""
    kind, props_of = ("addToAudience", AddToAudienceProps) if join else ("removeFromAudience", RemoveFromAudienceProps)

    def apply(scope: Scope, effect_index: int) -> None:
        profile = scope.facts.profile
        if profile is None:
            scope.fail(EFFECT_COULD_NOT_BE_APPLIED, effect_index)
            return
        props = props_of(audience_id=audience_id, audience_name="", profile_integration_id=profile.integration_id)
        scope.outcome.effects.append(scope.effect(kind, props))

    return apply
