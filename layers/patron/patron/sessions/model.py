"""Customer sessions as Talon.One defines them: a cart, its state, and the documented transitions.

States and the only transitions (Talon.One's `NewCustomerSessionV2.state`):
  open -> closed, open -> cancelled                       (session update)
  closed -> cancelled                                     (session update)
  closed -> partially_returned                            (returns)
  closed -> open                                          (reopen)
  partially_returned -> cancelled                         (session update)
A session may be created open or closed. Anything else is refused with `invalid_state_transition`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import Any

import msgspec
from msgspec.structs import replace

from patron.errors import FieldIssue, ValidationError

MAX_CART_ITEMS = 1000
MAX_TOTAL_QUANTITY = 10_000


class SessionState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    PARTIALLY_RETURNED = "partially_returned"


class Via(StrEnum):
    UPDATE = "update"
    RETURN = "return"
    REOPEN = "reopen"


_TRANSITIONS: frozenset[tuple[SessionState | None, SessionState, Via]] = frozenset(
    {
        (None, SessionState.OPEN, Via.UPDATE),
        (None, SessionState.CLOSED, Via.UPDATE),
        (SessionState.OPEN, SessionState.OPEN, Via.UPDATE),
        (SessionState.OPEN, SessionState.CLOSED, Via.UPDATE),
        (SessionState.OPEN, SessionState.CANCELLED, Via.UPDATE),
        (SessionState.CLOSED, SessionState.CANCELLED, Via.UPDATE),
        (SessionState.CLOSED, SessionState.PARTIALLY_RETURNED, Via.RETURN),
        (SessionState.PARTIALLY_RETURNED, SessionState.PARTIALLY_RETURNED, Via.RETURN),
        (SessionState.CLOSED, SessionState.OPEN, Via.REOPEN),
        (SessionState.PARTIALLY_RETURNED, SessionState.CANCELLED, Via.UPDATE),
    }
)


def check_transition(current: SessionState | None, wanted: SessionState, via: Via) -> None:
    """Refuses a transition Talon.One does not document (a 400 naming both states)."""
    if (current, wanted, via) in _TRANSITIONS:
        return
    source = current.value if current else "new"
    message = f"A session cannot go from {source} to {wanted.value}"
    message += "." if via is Via.UPDATE else f" by a {via.value}."
    raise ValidationError(message, [FieldIssue("customerSession.state", "invalid_state_transition", message)])


class CartItem(msgspec.Struct, frozen=True):
    sku: str
    quantity: int
    price: Decimal
    name: str | None = None
    category: str | None = None
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    # Quantity returned so far (returns), never more than `quantity`.
    returned_quantity: int = 0
    extra: Mapping[str, Any] = msgspec.field(default_factory=dict)  # every other field, as sent (weight, ...)
    # False: sent without a price (0 unless the application's cart item catalog has one for the SKU).
    priced: bool = True
    # The catalog item's attributes when the cart was sent: rules see them under the item's own, which win.
    catalog_attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)

    @property
    def remaining_quantity(self) -> int:
        return self.quantity - self.returned_quantity


TOTAL_DIGITS = 28  # Decimal's default context: the precision every total is computed in
_EXACT_DIGITS = 400  # enough for any sum of up to 10,000 numbers DynamoDB holds (38 digits, exponents -130..125)


def check_cart(items: Sequence[CartItem], root: str = "customerSession.cartItems") -> None:
    if len(items) > MAX_CART_ITEMS:
        message = f"A session holds at most {MAX_CART_ITEMS} cart items."
        raise ValidationError(message, [FieldIssue(root, "too_many_items", message)])
    if sum(item.quantity for item in items) > MAX_TOTAL_QUANTITY:
        message = f"The cart items' quantities add up to more than {MAX_TOTAL_QUANTITY}."
        raise ValidationError(message, [FieldIssue(root, "quantity_too_large", message)])


def check_totals(session: Session, root: str = "customerSession") -> None:
    """The totals are computed and stored (a closed session's, its order's, the profile's totalSales) in Decimal's
    default context of 28 significant digits: a cart whose exact total needs more (1e40 and 0.01) would be rounded,
    so it is refused. Each line, cost and total counted exactly here."""
    with localcontext(prec=_EXACT_DIGITS):
        lines = [item.price * item.quantity for item in session.cart_items]
        exact = sum(lines, Decimal(0)) + sum(session.additional_costs.values(), Decimal(0))
        sums = [*lines, exact]
    if any(len(value.as_tuple().digits) > TOTAL_DIGITS and not value.is_zero() for value in sums):
        message = f"The cart's amounts add up to more than {TOTAL_DIGITS} significant digits."
        raise ValidationError(message, [FieldIssue(f"{root}.cartItems", "total_out_of_range", message)])


class Session(msgspec.Struct, frozen=True):
    integration_id: str
    id: int
    created: str
    updated: str
    state: SessionState
    profile_id: str | None = None  # None: anonymous
    store_integration_id: str | None = None
    coupon_codes: tuple[str, ...] = ()
    referral_code: str | None = None
    loyalty_cards: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    cart_items: tuple[CartItem, ...] = ()
    additional_costs: Mapping[str, Decimal] = msgspec.field(default_factory=dict)
    first_session: bool = True
    update_count: int = 1
    version: int = 0

    @property
    def cart_item_total(self) -> Decimal:
        return sum((item.price * item.quantity for item in self.cart_items), Decimal(0))

    @property
    def additional_cost_total(self) -> Decimal:
        return sum(self.additional_costs.values(), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.cart_item_total + self.additional_cost_total


class Unset:
    """A field the request left out: the session keeps what it had (Talon.One: omit a field to keep it)."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = Unset()
KEEP: Any = UNSET  # the name the wire uses (msgspec has its own UNSET)


class SessionChange(msgspec.Struct, frozen=True):
    """What an update sends: UNSET keeps the session's value; `couponCodes: []` and `referralCode: ""` discard."""

    state: SessionState = SessionState.OPEN
    profile_id: Any = UNSET  # str | None
    store_integration_id: Any = UNSET
    coupon_codes: Any = UNSET  # tuple[str, ...]
    referral_code: Any = UNSET  # str (empty: discard)
    loyalty_cards: Any = UNSET
    identifiers: Any = UNSET
    attributes: Any = UNSET  # Mapping[str, Any]: merged, a null removes
    cart_items: Any = UNSET  # tuple[CartItem, ...]: replaces the cart
    additional_costs: Any = UNSET  # Mapping[str, Decimal]: replaces them


def _attributes(current: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for name, value in sent.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def apply_change(session: Session, change: SessionChange, now: str) -> Session:
    """The session after an update (state checked by the caller). The cart and additional costs are replaced as
    sent; attributes merge; codes kept when omitted."""

    def pick(sent: Any, current: Any) -> Any:
        return current if sent is UNSET else sent

    referral = pick(change.referral_code, session.referral_code)
    return replace(
        session,
        state=change.state,
        updated=now,
        profile_id=session.profile_id if change.profile_id is UNSET else change.profile_id,
        store_integration_id=pick(change.store_integration_id, session.store_integration_id),
        coupon_codes=pick(change.coupon_codes, session.coupon_codes),
        referral_code=referral or None,
        loyalty_cards=pick(change.loyalty_cards, session.loyalty_cards),
        identifiers=pick(change.identifiers, session.identifiers),
        attributes=session.attributes
        if change.attributes is UNSET
        else _attributes(session.attributes, change.attributes),
        cart_items=pick(change.cart_items, session.cart_items),
        additional_costs=pick(change.additional_costs, session.additional_costs),
        update_count=session.update_count + 1,
    )


def new_session(integration_id: str, session_id: int, change: SessionChange, now: str, first: bool) -> Session:
    blank = Session(integration_id=integration_id, id=session_id, created=now, updated=now, state=change.state)
    created = apply_change(blank, change, now)
    return replace(created, update_count=1, first_session=first)
