"""Every name a condition can read, its type, and how it is read from the facts (docs/rules.md lists them).

A reader takes the facts and the element an aggregate is visiting (a cart item, or an additional cost as a
(name, price) pair; None outside aggregates). Readers are shared by the compiler and the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import msgspec

from patron.promotions.rules.facts import Facts
from patron.promotions.rules.schema import (
    BOOLEAN,
    DATE,
    NUMBER,
    STRING,
    TIME,
    AttributeSchema,
    Type,
    list_of,
)
from patron.promotions.rules.values import coercer

Reader = Callable[[Facts, Any], Any]
# What `item`/`cost` name where an expression is read: inside an aggregate over items, over additional costs,
# or nowhere (None).
Binding = Literal["items", "additionalCosts"] | None

COLLECTIONS = ("items", "additionalCosts")
ELEMENT_NAMES: dict[str, str] = {"items": "item", "additionalCosts": "cost"}


class Field(msgspec.Struct, frozen=True):
    type: Type
    read: Reader
    # A cart item's own field (`item.sku` is ItemFacts.sku): the compiler reads it with `operator.attrgetter` inside
    # the hot per-item tests, one Python call fewer per item.
    item_attribute: str | None = None


class NameProblem(msgspec.Struct, frozen=True):
    code: str
    message: str


SESSION: dict[str, tuple[Type, Reader]] = {
    "integrationId": (STRING, lambda f, _: f.session.integration_id),
    "total": (NUMBER, lambda f, _: f.session.total),
    "cartItemTotal": (NUMBER, lambda f, _: f.session.cart_item_total),
    "additionalCostTotal": (NUMBER, lambda f, _: f.session.additional_cost_total),
    "state": (STRING, lambda f, _: f.session.state),
    "storeIntegrationId": (STRING, lambda f, _: f.session.store_integration_id),
    "couponCodes": (list_of(STRING), lambda f, _: f.session.coupon_codes),
    "referralCode": (STRING, lambda f, _: f.session.referral_code),
    "firstSession": (BOOLEAN, lambda f, _: f.session.first_session),
}
PROFILE: dict[str, tuple[Type, Reader]] = {
    "integrationId": (STRING, lambda f, _: None if (p := f.profile) is None else p.integration_id),
    "closedSessions": (NUMBER, lambda f, _: None if (p := f.profile) is None else p.closed_sessions),
    "totalSales": (NUMBER, lambda f, _: None if (p := f.profile) is None else p.total_sales),
    "ordersCount": (NUMBER, lambda f, _: None if (p := f.profile) is None else p.orders_count),
    "averageOrderValue": (NUMBER, lambda f, _: None if (p := f.profile) is None else p.average_order_value),
    "firstOrderAt": (TIME, lambda f, _: None if (p := f.profile) is None else p.first_order_at),
    "lastOrderAt": (TIME, lambda f, _: None if (p := f.profile) is None else p.last_order_at),
    # `5 in profile.audiences`: the profile is a member of audience 5 (an anonymous session: absent, so false).
    "audiences": (list_of(NUMBER), lambda f, _: None if (p := f.profile) is None else p.audiences),
}
EVENT: dict[str, tuple[Type, Reader]] = {
    "type": (STRING, lambda f, _: None if (e := f.event) is None else e.type),
}
# The campaign's own coupon (campaigns with the `coupons` feature): `coupon.valid` is Talon.One's "coupon code is
# valid" condition, and a rule that requires it accepts the coupon when it applies.
COUPON: dict[str, tuple[Type, Reader]] = {
    "valid": (BOOLEAN, lambda f, _: f.coupon is not None),
    "value": (STRING, lambda f, _: None if (c := f.coupon) is None else c.value),
    "usageCounter": (NUMBER, lambda f, _: None if (c := f.coupon) is None else c.usage_counter),
    "usageLimit": (NUMBER, lambda f, _: None if (c := f.coupon) is None else c.usage_limit),
    "discountRemainder": (NUMBER, lambda f, _: None if (c := f.coupon) is None else c.discount_remainder),
}
# The campaign's own referral code (campaigns with the `referrals` feature): `referral.valid` is Talon.One's
# "referral code is valid"; a rule that requires it accepts the code when it applies.
REFERRAL: dict[str, tuple[Type, Reader]] = {
    "valid": (BOOLEAN, lambda f, _: f.referral is not None),
    "code": (STRING, lambda f, _: None if (r := f.referral) is None else r.code),
    "advocateIntegrationId": (STRING, lambda f, _: None if (r := f.referral) is None else r.advocate),
    "friendIntegrationId": (STRING, lambda f, _: None if (r := f.referral) is None else r.friend),
}
TIME_FIELDS: dict[str, tuple[Type, Reader]] = {
    "instant": (TIME, lambda f, _: f.time.instant),
    "date": (DATE, lambda f, _: f.time.date),
    "year": (NUMBER, lambda f, _: f.time.year),
    "month": (NUMBER, lambda f, _: f.time.month),
    "day": (NUMBER, lambda f, _: f.time.day),
    "weekday": (NUMBER, lambda f, _: f.time.weekday),
    "hour": (NUMBER, lambda f, _: f.time.hour),
    "minute": (NUMBER, lambda f, _: f.time.minute),
}
ITEM: dict[str, tuple[Type, Reader]] = {
    "sku": (STRING, lambda _, i: i.sku),
    "name": (STRING, lambda _, i: i.name),
    "category": (STRING, lambda _, i: i.category),
    "price": (NUMBER, lambda _, i: i.price),
    "quantity": (NUMBER, lambda _, i: i.quantity),
    "position": (NUMBER, lambda _, i: i.position),
}
COST: dict[str, tuple[Type, Reader]] = {
    "name": (STRING, lambda _, c: c[0]),
    "price": (NUMBER, lambda _, c: c[1]),
}
FIELDS: dict[str, dict[str, tuple[Type, Reader]]] = {
    "session": SESSION,
    "profile": PROFILE,
    "event": EVENT,
    "coupon": COUPON,
    "referral": REFERRAL,
    "time": TIME_FIELDS,
    "item": ITEM,
    "cost": COST,
}
ATTRIBUTE_SCOPES = ("session", "profile", "event", "item", "coupon", "referral")
ROOTS = ("session", "profile", "event", "coupon", "referral", "time", "item", "cost", "additionalCosts")


def _attribute_reader(scope: str, name: str, declared: Type) -> Reader:
    coerce = coercer(declared)
    if scope == "session":
        return lambda f, _: coerce(f.session.attributes.get(name))
    if scope == "profile":
        return lambda f, _: None if (p := f.profile) is None else coerce(p.attributes.get(name))
    if scope == "event":
        return lambda f, _: None if (e := f.event) is None else coerce(e.attributes.get(name))
    if scope == "coupon":
        return lambda f, _: None if (c := f.coupon) is None else coerce(c.attributes.get(name))
    if scope == "referral":
        return lambda f, _: None if (r := f.referral) is None else coerce(r.attributes.get(name))
    return lambda _, i: coerce(i.attributes.get(name))


def _additional_cost_reader(name: str) -> Reader:
    return lambda f, _: f.additional_costs.get(name)


def resolve(path: list[str], schema: AttributeSchema, binding: Binding) -> Field | NameProblem:
    root, rest = path[0], path[1:]
    dotted = ".".join(path)
    if root in COLLECTIONS and not rest:
        return NameProblem(
            "collection_outside_aggregate",
            f"`{root}` is a collection: read it through an aggregate, e.g. count({root}) or any({root}, ...).",
        )
    if root == "additionalCosts":
        if len(rest) != 1:
            message = f"`{dotted}`: an additional cost is named once, as in additionalCosts.shipping."
            return NameProblem("unknown_name", message)
        return Field(NUMBER, _additional_cost_reader(rest[0]))
    if root not in FIELDS:
        roots = ", ".join(ROOTS)
        return NameProblem("unknown_name", f"Unknown name `{dotted}`: a name starts with one of {roots}.")
    for collection, element in ELEMENT_NAMES.items():
        if root == element and binding != collection:
            return NameProblem(
                "unbound_name",
                f"`{element}` is only defined inside an aggregate over {collection}, e.g. any({collection}, ...).",
            )
    fields = FIELDS[root]
    if rest and rest[0] == "attributes" and root in ATTRIBUTE_SCOPES:
        if len(rest) != 2:
            return NameProblem("unknown_name", f"`{dotted}`: name one attribute, as in {root}.attributes.tier.")
        scope = "item" if root == "item" else root
        declared = schema.type_of(scope, rest[1])
        return Field(declared, _attribute_reader(scope, rest[1], declared))
    if len(rest) != 1 or rest[0] not in fields:
        known = ", ".join([*fields, "attributes.<name>"] if root in ATTRIBUTE_SCOPES else fields)
        return NameProblem("unknown_name", f"Unknown name `{dotted}`: {root} has {known}.")
    kind, read = fields[rest[0]]
    # ItemFacts' attributes are named as the language names them.
    return Field(kind, read, rest[0] if root == "item" else None)
