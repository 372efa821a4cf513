"""Coupons in the ledgers table: keys, items, and the conditional writes a close, a cancel and a reservation make
(docs/data-model.md, "LedgersTable — coupons").

- coupon: `APP#<application>#COUPON#<code>` / `COUPON`, with its counters, so a session's BatchGetItem fetches the
  coupons it names by code and a redemption is one conditional update of the item it read;
- holding: `APP#<application>#HOLDER#<integrationId>` / `COUPON#<code>`, what a profile holds of a coupon (its
  redemptions, its reservation, a personal code's recipient): read with the coupon, one Query lists a profile's;
- reservation entry: `APP#<application>#RESERVATIONS#<code>` / `<integrationId>`, the profiles that reserved a
  coupon (a partition of its own: an integration id fills a sort key's 1,024 bytes alone).

The code is stored only in the keys (every write is charged for the whole item). Items and values are Python values
as codec.from_item gives them and committer's builders take them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.clock import iso
from patron.coupons.model import Coupon, Holding
from patron.dynamo import committer
from patron.errors import ConflictError
from patron.promotions.money import ZERO
from patron.promotions.stored import storable_attributes

COUPON_SK = "COUPON"
HOLDING_PREFIX = "COUPON#"


class CouponExhaustedError(ConflictError):
    """A coupon's (or a profile's) redemptions or discount ran out since the read: decide again with fresh items."""

    def __init__(self) -> None:
        super().__init__("A coupon was used up meanwhile; try again.", code="coupon_exhausted")


class CouponChangedError(ConflictError):
    """A coupon was deleted or its counters moved under a give-back: read it again."""

    def __init__(self) -> None:
        super().__init__("A coupon changed meanwhile; try again.", code="coupon_changed")


class AlreadyReservedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("The profile has already reserved this coupon.", code="coupon_already_reserved")


class ReservationLimitReachedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("The coupon cannot be reserved any more.", code="coupon_reservation_limit_reached")


class NotReservedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("The profile has not reserved this coupon.", code="coupon_not_reserved")


# -- keys ---------------------------------------------------------------------------------------------------------


def coupon_pk(application_id: int, code: str) -> str:
    return f"APP#{application_id}#COUPON#{code}"


def coupon_key(application_id: int, code: str) -> dict[str, str]:
    return {"PK": coupon_pk(application_id, code), "SK": COUPON_SK}


def holder_pk(application_id: int, integration_id: str) -> str:
    return f"APP#{application_id}#HOLDER#{integration_id}"


def holding_key(application_id: int, integration_id: str, code: str) -> dict[str, str]:
    return {"PK": holder_pk(application_id, integration_id), "SK": HOLDING_PREFIX + code}


def reservations_pk(application_id: int, code: str) -> str:
    return f"APP#{application_id}#RESERVATIONS#{code}"


def reservation_key(application_id: int, code: str, integration_id: str) -> dict[str, str]:
    return {"PK": reservations_pk(application_id, code), "SK": integration_id}


def code_of(coupon_item_pk: str) -> str:
    """The code a coupon's partition key names (a code may itself hold '#': it is the key's last field)."""
    return coupon_item_pk.split("#", 3)[3]


# -- items --------------------------------------------------------------------------------------------------------


def coupon_item(application_id: int, coupon: Coupon) -> dict[str, Any]:
    """The coupon as stored. The counters and limits the conditional writes compare are always present (a missing
    attribute fails every comparison); the rest only when set."""
    item: dict[str, Any] = {
        **coupon_key(application_id, coupon.value),
        "id": coupon.id,
        "campaignId": coupon.campaign_id,
        "created": iso(coupon.created),
        "usageLimit": coupon.usage_limit,
        "usageCounter": coupon.usage_counter,
        "discountCounter": coupon.discount_counter,
        "reservationLimit": coupon.reservation_limit,
        "reservationCounter": coupon.reservation_counter,
    }
    optional: dict[str, Any] = {
        "discountLimit": coupon.discount_limit,
        "profileLimit": coupon.profile_limit or None,
        "startDate": iso(coupon.start_date) if coupon.start_date else None,
        "expiryDate": iso(coupon.expiry_date) if coupon.expiry_date else None,
        "recipientIntegrationId": coupon.recipient_integration_id,
        "reservationMandatory": coupon.reservation_mandatory or None,
        "attributes": storable_attributes(coupon.attributes) or None,
        "batchId": coupon.batch_id,
        "imported": coupon.imported or None,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    return item


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value is not None else None


def coupon_from_item(item: Mapping[str, Any]) -> Coupon:
    limit = item.get("discountLimit")
    return Coupon(
        value=code_of(str(item["PK"])),
        campaign_id=int(item["campaignId"]),
        id=int(item["id"]),
        created=datetime.fromisoformat(str(item["created"])),
        usage_limit=int(item["usageLimit"]),
        usage_counter=int(item["usageCounter"]),
        discount_limit=Decimal(limit) if limit is not None else None,
        discount_counter=Decimal(item.get("discountCounter", ZERO)),
        reservation_limit=int(item.get("reservationLimit", 0)),
        reservation_counter=int(item.get("reservationCounter", 0)),
        profile_limit=int(item.get("profileLimit", 0)),
        start_date=_time(item.get("startDate")),
        expiry_date=_time(item.get("expiryDate")),
        recipient_integration_id=item.get("recipientIntegrationId"),
        reservation_mandatory=bool(item.get("reservationMandatory", False)),
        attributes=dict(item.get("attributes") or {}),
        batch_id=item.get("batchId"),
        imported=bool(item.get("imported", False)),
    )


def recipient_holding_item(application_id: int, coupon: Coupon, reserved_at: datetime | None = None) -> dict[str, Any]:
    """A personal code's entry in its recipient's holdings (written with the coupon), so the recipient's inventory
    lists it without an index; `reserved_at`: the recipient reserves it too (a close's `reserveCoupon`), as `reserve`
    marks a holding."""
    if coupon.recipient_integration_id is None:
        raise ValueError("only a personal code has a recipient")
    item = {**holding_key(application_id, coupon.recipient_integration_id, coupon.value), "recipient": True}
    if reserved_at is not None:
        item["reservedAt"] = iso(reserved_at)
    return item


def reservation_entry_item(application_id: int, code: str, integration_id: str, now: datetime) -> dict[str, Any]:
    """The profile's entry in the coupon's list of reserving profiles."""
    return {**reservation_key(application_id, code, integration_id), "reservedAt": iso(now)}


def holding_from_item(item: Mapping[str, Any] | None) -> Holding:
    """A holding as read (None: the profile holds nothing of the coupon)."""
    if item is None:
        return Holding()
    return Holding(
        used=int(item.get("used", 0)),
        reserved_at=_time(item.get("reservedAt")),
        recipient=bool(item.get("recipient", False)),
    )


# -- redemption ---------------------------------------------------------------------------------------------------

_COUNTERS = {"#usageCounter": "usageCounter", "#usageLimit": "usageLimit", "#discountCounter": "discountCounter"}


# A reservation counted on the coupon, within its reservation limit (0: unlimited): `reserve`, and a close that
# redeems the coupon it reserves (one write per item in a transaction: the count joins the redemption's update).
RESERVATION_NAMES = {"#reservationCounter": "reservationCounter", "#reservationLimit": "reservationLimit"}
RESERVATION_COUNT = "#reservationCounter = #reservationCounter + :one"
RESERVATION_ROOM = "(#reservationLimit = :zero OR #reservationCounter < #reservationLimit)"


def redeem(
    table: str, application_id: int, coupon: Coupon, discount: Decimal, *, reserve: bool = False
) -> committer.Write:
    """One more use of `coupon`, and `discount` more given by it, only while its limits hold: `usageCounter <
    usageLimit` (unless 0: unlimited) and, with a discount limit, `discountCounter + discount <= discountLimit`.
    DynamoDB cannot add in a condition, so the room is computed from the limit read, and the condition requires
    that limit still be the stored one (a limit set, changed or removed meanwhile fails it: decide again).
    `reserve`: one more reservation too, within the reservation limit (`redeem_for_profile`'s `reserved_at` marks
    the profile's)."""
    names = dict(_COUNTERS)
    values: dict[str, Any] = {":one": 1, ":zero": 0, ":discount": discount}
    condition = "attribute_exists(PK) AND (#usageLimit = :zero OR #usageCounter < #usageLimit)"
    names["#discountLimit"] = "discountLimit"
    if coupon.discount_limit is None:
        condition += " AND attribute_not_exists(#discountLimit)"
    else:
        condition += " AND #discountLimit = :discountLimit AND #discountCounter <= :room"
        values[":discountLimit"] = coupon.discount_limit
        values[":room"] = coupon.discount_limit - discount
    expression = "SET #usageCounter = #usageCounter + :one, #discountCounter = #discountCounter + :discount"
    if reserve:
        names.update(RESERVATION_NAMES)
        expression += ", " + RESERVATION_COUNT
        condition += " AND " + RESERVATION_ROOM
    return committer.update(
        table,
        coupon_key(application_id, coupon.value),
        expression,
        condition=condition,
        names=names,
        values=values,
        failed=CouponExhaustedError,
    )


def give_back(table: str, application_id: int, code: str, discount: Decimal) -> committer.Write:
    """Takes back one redemption and what it gave (a cancel, a reopen: the close's own amounts, stored with the
    session). The counters never go below zero; a coupon deleted since the read fails (so the caller leaves out
    the give-back of a coupon its read did not find)."""
    return committer.update(
        table,
        coupon_key(application_id, code),
        "SET #usageCounter = #usageCounter - :one, #discountCounter = #discountCounter - :discount",
        condition="#usageCounter >= :one AND #discountCounter >= :discount",
        names={"#usageCounter": "usageCounter", "#discountCounter": "discountCounter"},
        values={":one": 1, ":discount": discount},
        failed=CouponChangedError,
    )


def redeem_for_profile(
    table: str, application_id: int, coupon: Coupon, integration_id: str, *, reserved_at: datetime | None = None
) -> committer.Write:
    """The profile's redemptions of `coupon`, one more, within its per-profile limit when it has one (counted either
    way: the inventory answers `profileRedemptionCount`). `reserved_at`: the profile reserves it too, only if it had
    not (as `reserve` marks a holding)."""
    condition: str | None = None
    values: dict[str, Any] = {":one": 1, ":zero": 0}
    names = {"#used": "used"}
    expression = "SET #used = if_not_exists(#used, :zero) + :one"
    if coupon.profile_limit:
        condition = "(attribute_not_exists(#used) OR #used < :limit)"
        values[":limit"] = coupon.profile_limit
    if reserved_at is not None:
        names["#reservedAt"] = "reservedAt"
        values[":now"] = iso(reserved_at)
        expression += ", #reservedAt = :now"
        reserving = "attribute_not_exists(#reservedAt)"
        condition = reserving if condition is None else f"{condition} AND {reserving}"
    return committer.update(
        table,
        holding_key(application_id, integration_id, coupon.value),
        expression,
        condition=condition,
        names=names,
        values=values,
        failed=CouponExhaustedError,
    )


def give_back_for_profile(table: str, application_id: int, code: str, integration_id: str) -> committer.Write:
    return committer.update(
        table,
        holding_key(application_id, integration_id, code),
        "SET #used = #used - :one",
        condition="#used >= :one",
        names={"#used": "used"},
        values={":one": 1},
        failed=CouponChangedError,
    )


# -- reservations -------------------------------------------------------------------------------------------------


def reserve(table: str, application_id: int, code: str, integration_id: str, now: datetime) -> list[committer.Write]:
    """One transaction: the profile's holding marks the reservation (not reserved yet: reserving twice is refused,
    and named first so that is the reason reported), the coupon counts it within its reservation limit, and the
    coupon's list of reserving profiles gains the profile."""
    return [
        committer.update(
            table,
            holding_key(application_id, integration_id, code),
            "SET #reservedAt = :now",
            condition="attribute_not_exists(#reservedAt)",
            names={"#reservedAt": "reservedAt"},
            values={":now": iso(now)},
            failed=AlreadyReservedError,
        ),
        committer.update(
            table,
            coupon_key(application_id, code),
            "SET " + RESERVATION_COUNT,
            condition="attribute_exists(PK) AND " + RESERVATION_ROOM,
            names=RESERVATION_NAMES,
            values={":one": 1, ":zero": 0},
            failed=ReservationLimitReachedError,
        ),
        committer.put(table, reservation_entry_item(application_id, code, integration_id, now)),
    ]


def unreserve(table: str, application_id: int, code: str, integration_id: str) -> list[committer.Write]:
    """The reverse of `reserve`, only if the profile holds the reservation."""
    return [
        committer.update(
            table,
            holding_key(application_id, integration_id, code),
            "REMOVE #reservedAt",
            condition="attribute_exists(#reservedAt)",
            names={"#reservedAt": "reservedAt"},
            failed=NotReservedError,
        ),
        committer.update(
            table,
            coupon_key(application_id, code),
            "SET #counter = #counter - :one",
            condition="#counter >= :one",
            names={"#counter": "reservationCounter"},
            values={":one": 1},
            failed=CouponChangedError,
        ),
        committer.delete(table, reservation_key(application_id, code, integration_id)),
    ]
