"""Index keys: facts a condition cannot be true without, read from its tree, so a ruleset can index campaigns and
a cart evaluates only those whose keys it has (ARCHITECTURE: "The promotions engine").

Conservative by construction: a field is None when nothing is known, and a set only when the condition is false
for every request without one of its values. Recognised, in top-level `and`s and in `or`s whose every branch
says the same kind of thing:

    event.type == "newsletter_signup"             event.type in ["a", "b"]
    "SUMMER" in session.couponCodes               contains(session.couponCodes, "SUMMER")
    any(items, item.category == "shoes")          count(items, item.sku in ["A", "B"]) >= 1  (> 0, == 2, ...)
    sum(items, v, item.category == "x") > 0       min/max(items, v, item.sku == "y") compared with anything
    session.storeIntegrationId == "store-7"       profile.attributes.tier in ["gold", "vip"]

The last kind, a string field equal to one of some strings (`fields`), covers the session's own string fields, the
profile's integration id and the session's, profile's and event's attributes: the compiled reader answers a string
only when the raw value is that very string (values.coercer), so the raw value decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

import msgspec

from patron.promotions.rules.facts import Facts
from patron.promotions.rules.tree import (
    Aggregate,
    And,
    Boolean,
    Call,
    Compare,
    CompareOperator,
    Get,
    In,
    ListOf,
    Node,
    Number,
    Or,
    String,
)

_EVENT_TYPE = ["event", "type"]
_COUPON_VALID = ["coupon", "valid"]
_REFERRAL_VALID = ["referral", "valid"]
_COUPON_CODES = ["session", "couponCodes"]
_ITEM_FIELDS: dict[tuple[str, ...], str] = {("item", "sku"): "skus", ("item", "category"): "categories"}
# The string fields an equality can key, by their dotted name; attributes are read by `field_reader` too.
_STRING_FIELDS: dict[str, Callable[[Facts], object]] = {
    "session.integrationId": lambda f: f.session.integration_id,
    "session.state": lambda f: f.session.state,
    "session.storeIntegrationId": lambda f: f.session.store_integration_id,
    "session.referralCode": lambda f: f.session.referral_code,
    "profile.integrationId": lambda f: None if f.profile is None else f.profile.integration_id,
}
_ATTRIBUTE_OWNERS = ("session", "profile", "event")
_MIRRORED: dict[CompareOperator, CompareOperator] = {
    "==": "==",
    "!=": "!=",
    "<": ">",
    "<=": ">=",
    ">": "<",
    ">=": "<=",
}


class Requirements(msgspec.Struct, frozen=True):
    event_types: frozenset[str] | None = None  # the event's type is one of these
    coupon_codes: frozenset[str] | None = None  # one of these is among the session's coupon codes
    skus: frozenset[str] | None = None  # a cart item has one of these SKUs
    categories: frozenset[str] | None = None  # a cart item is in one of these categories
    # (field, strings), sorted by field: each field (`session.storeIntegrationId`) holds one of its strings.
    fields: tuple[tuple[str, frozenset[str]], ...] = ()
    # `coupon.valid`: a valid coupon of the campaign itself is presented (the index keys it by the campaign's id;
    # `admits`, which knows no campaign, leaves it to the condition).
    coupon: bool = False
    referral: bool = False  # `referral.valid`: likewise, the campaign's own valid referral code

    def admits(self, facts: Facts) -> bool:
        """False when the facts lack a requirement: the condition is then false, whatever else they hold."""
        if self.event_types is not None and (facts.event is None or facts.event.type not in self.event_types):
            return False
        codes = self.coupon_codes
        if codes is not None and not any(code in codes for code in facts.session.coupon_codes):
            return False
        if self.skus is not None and not any(item.sku in self.skus for item in facts.items):
            return False
        categories = self.categories
        if categories is not None and not any(item.category in categories for item in facts.items):
            return False
        for field, allowed in self.fields:
            value = field_reader(field)(facts)
            if type(value) is not str or value not in allowed:
                return False
        return True


def field_reader(field: str) -> Callable[[Facts], object]:
    """The raw value of a keyed field (`session.storeIntegrationId`, `profile.attributes.tier`); None if absent."""
    known = _STRING_FIELDS.get(field)
    if known is not None:
        return known
    owner, _, name = field.split(".", 2)
    if owner == "session":
        return lambda f: f.session.attributes.get(name)
    if owner == "profile":
        return lambda f: None if f.profile is None else f.profile.attributes.get(name)
    return lambda f: None if f.event is None else f.event.attributes.get(name)


NOTHING_KNOWN = Requirements()


def requirements(tree: Node) -> Requirements:
    return _of(tree)


def requirements_of_any(trees: Iterable[Node]) -> Requirements:
    """What a campaign requires: it triggers when any of its rules' conditions holds."""
    found: Requirements | None = None
    for tree in trees:
        found = requirements(tree) if found is None else either(found, requirements(tree))
    return found or NOTHING_KNOWN


def _of(node: Node) -> Requirements:
    match node:
        case And(args=args):
            found = NOTHING_KNOWN
            for arg in args:
                found = _both(found, _of(arg))
            return found
        case Or(args=args) if args:
            branches = [_of(arg) for arg in args]
            found = branches[0]
            for branch in branches[1:]:
                found = either(found, branch)
            return found
        case Get() if _is(node, _COUPON_VALID):
            return Requirements(coupon=True)
        case Get() if _is(node, _REFERRAL_VALID):
            return Requirements(referral=True)
        case Compare():
            return _comparison(node)
        case In(element=element, collection=collection, negated=False):
            if isinstance(element, String) and _is(collection, _COUPON_CODES):
                return Requirements(coupon_codes=frozenset([element.value]))
            strings = _strings(collection)
            if strings is not None and _is(element, _EVENT_TYPE):
                return Requirements(event_types=strings)
            if strings is not None and (field := _keyed_field(element)) is not None:
                return Requirements(fields=((field, strings),))
        case Call(function="contains", args=[collection, String(value=code)]) if _is(collection, _COUPON_CODES):
            return Requirements(coupon_codes=frozenset([code]))
        case Aggregate(function="any", over="items", where=where) if where is not None:
            return _item(where)
    return NOTHING_KNOWN


def _comparison(node: Compare) -> Requirements:
    left, right, operator = node.left, node.right, node.operator
    if not isinstance(left, Get | Aggregate):
        left, right, operator = right, left, _MIRRORED[operator]
    if operator == "==" and isinstance(right, String) and _is(left, _EVENT_TYPE):
        return Requirements(event_types=frozenset([right.value]))
    if operator == "==" and isinstance(right, Boolean) and right.value is True and _is(left, _COUPON_VALID):
        return Requirements(coupon=True)
    if operator == "==" and isinstance(right, Boolean) and right.value is True and _is(left, _REFERRAL_VALID):
        return Requirements(referral=True)
    if operator == "==" and isinstance(right, String) and (field := _keyed_field(left)) is not None:
        return Requirements(fields=((field, frozenset([right.value])),))
    if not isinstance(left, Aggregate) or left.over != "items" or left.where is None:
        return NOTHING_KNOWN
    if left.function in ("min", "max"):
        # Absent without a matching item, and absent is never ordered, nor equal to a number.
        if operator != "!=" and (operator != "==" or isinstance(right, Number)):
            return _item(left.where)
        return NOTHING_KNOWN
    if not isinstance(right, Number) or left.function not in ("count", "sum"):
        return NOTHING_KNOWN
    # Without a matching item a count is 0 and a sum is 0: what does the comparison need to be false at 0?
    if _holds_at_zero(operator, right.value):
        return NOTHING_KNOWN
    return _item(left.where)


def _holds_at_zero(operator: CompareOperator, bound: Decimal) -> bool:
    zero = Decimal(0)
    return {
        "==": zero == bound,
        "!=": zero != bound,
        "<": zero < bound,
        "<=": zero <= bound,
        ">": zero > bound,
        ">=": zero >= bound,
    }[operator]


def _item(condition: Node) -> Requirements:
    """What one cart item must be for `condition` (about that item) to hold: its SKU or category in a set."""
    match condition:
        case And(args=args):
            found = NOTHING_KNOWN
            for arg in args:
                found = _same_item(found, _item(arg))
            return found
        case Or(args=args) if args:
            branches = [_item(arg) for arg in args]
            found = branches[0]
            for branch in branches[1:]:
                found = either(found, branch)
            return found
        case Compare(operator="==", left=left, right=right):
            if isinstance(left, String):
                left, right = right, left
            if isinstance(left, Get) and isinstance(right, String):
                return _item_field(left, frozenset([right.value]))
        case In(element=Get() as element, collection=collection, negated=False):
            strings = _strings(collection)
            if strings is not None:
                return _item_field(element, strings)
    return NOTHING_KNOWN


def _item_field(field: Get, allowed: frozenset[str]) -> Requirements:
    match _ITEM_FIELDS.get(tuple(field.path)):
        case "skus":
            return Requirements(skus=allowed)
        case "categories":
            return Requirements(categories=allowed)
    return NOTHING_KNOWN


def _keyed_field(node: Node) -> str | None:
    """The dotted name of a string field or attribute an equality can key, or None."""
    if not isinstance(node, Get):
        return None
    path = node.path
    dotted = ".".join(path)
    if dotted in _STRING_FIELDS:
        return dotted
    if len(path) == 3 and path[0] in _ATTRIBUTE_OWNERS and path[1] == "attributes":
        return dotted
    return None


def _is(node: Node, path: list[str]) -> bool:
    return isinstance(node, Get) and node.path == path


def _strings(node: Node) -> frozenset[str] | None:
    if isinstance(node, ListOf) and all(isinstance(element, String) for element in node.elements):
        return frozenset(element.value for element in node.elements if isinstance(element, String))
    return None


def _smaller(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Two requirements that must both hold (perhaps on different items, different codes): either one is a sound
    key; the smaller is the more selective."""
    if a is None:
        return b
    if b is None:
        return a
    return a if len(a) <= len(b) else b


def _intersection(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Two requirements on the same single value (the one event's type, one item's SKU) both hold."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    return None if a is None or b is None else a | b


def _both(a: Requirements, b: Requirements) -> Requirements:
    fields = dict(a.fields)
    for field, allowed in b.fields:  # one value per field: both hold only on their common strings
        fields[field] = fields[field] & allowed if field in fields else allowed
    return Requirements(
        event_types=_intersection(a.event_types, b.event_types),
        coupon_codes=_smaller(a.coupon_codes, b.coupon_codes),
        skus=_smaller(a.skus, b.skus),
        categories=_smaller(a.categories, b.categories),
        fields=tuple(sorted(fields.items())),
        coupon=a.coupon or b.coupon,
        referral=a.referral or b.referral,
    )


def _same_item(a: Requirements, b: Requirements) -> Requirements:
    return Requirements(skus=_intersection(a.skus, b.skus), categories=_intersection(a.categories, b.categories))


def either(a: Requirements, b: Requirements) -> Requirements:
    """What is required when `a` or `b` holds: a key of each kind both have, their values united."""
    theirs = dict(b.fields)
    return Requirements(
        event_types=_union(a.event_types, b.event_types),
        coupon_codes=_union(a.coupon_codes, b.coupon_codes),
        skus=_union(a.skus, b.skus),
        categories=_union(a.categories, b.categories),
        fields=tuple((field, allowed | theirs[field]) for field, allowed in a.fields if field in theirs),
        coupon=a.coupon and b.coupon,
        referral=a.referral and b.referral,
    )
