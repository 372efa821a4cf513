"""Checkout holds (beyond Talon.One): an open session that presents a coupon with limited uses holds one of them
for a while (the application's `settings.couponHoldSeconds`), so another customer cannot take the last use
between the cart and the payment (docs/coupons.md, "Checkout holds").

A hold is an attribute of the coupon item, `hold#<sessionId>` = the instant it ends, and the item counts its
hold changes in `holdVersion`. A session's update renews its holds (or releases those of coupons it no longer
presents); its close turns its hold into the redemption; its cancel releases them; a hold nobody renews simply ends
(every read compares it with the time), so a crash leaves nothing held. Expired holds are removed by the next hold
write on the coupon.

Uses left for a session = usage limit - uses - other sessions' unexpired holds. Every write that takes a use or a
hold is conditional on `holdVersion` as read: a hold taken meanwhile by another session makes the write fail and
the call read and decide again, so a held use is never taken twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from patron.clock import iso
from patron.coupons.items import (
    RESERVATION_COUNT,
    RESERVATION_NAMES,
    RESERVATION_ROOM,
    CouponChangedError,
    CouponExhaustedError,
    coupon_key,
)
from patron.coupons.model import Coupon
from patron.dynamo import committer

HOLD_PREFIX = "hold#"
VERSION = "holdVersion"


class Holds(msgspec.Struct, frozen=True):
    """A coupon's holds as read: the session holding each and when it ends."""

    version: int = 0
    until: Mapping[str, datetime] = msgspec.field(default_factory=dict)

    def others(self, now: datetime, session_id: str | None) -> int:
        """Unexpired holds of other sessions: uses this session cannot take."""
        return sum(1 for holder, end in self.until.items() if holder != session_id and end > now)

    def expired(self, now: datetime) -> list[str]:
        return [holder for holder, end in self.until.items() if end <= now]

    def held_by(self, session_id: str) -> bool:
        return session_id in self.until


NO_HOLDS = Holds()


def holds_from_item(item: Mapping[str, Any]) -> Holds:
    until = {
        name[len(HOLD_PREFIX) :]: datetime.fromisoformat(str(value))
        for name, value in item.items()
        if name.startswith(HOLD_PREFIX)
    }
    return Holds(int(item.get(VERSION, 0)), until)


def _versioned(
    holds: Holds, now: datetime, *, set_hold: tuple[str, datetime] | None, drop: list[str]
) -> dict[str, Any]:
    """The parts of an update every hold write shares: the version moved on (conditional on the one read), the
    expired holds and `drop` removed, and `set_hold` set."""
    names: dict[str, str] = {"#version": VERSION}
    values: dict[str, Any] = {":next": holds.version + 1}
    sets = ["#version = :next"]
    if set_hold is not None:
        names["#held"] = HOLD_PREFIX + set_hold[0]
        values[":until"] = iso(set_hold[1])
        sets.append("#held = :until")
    kept = {set_hold[0]} if set_hold is not None else set()
    removed = sorted((set(holds.expired(now)) | set(drop)) - kept)
    removes = []
    for index, holder in enumerate(removed):
        names[f"#gone{index}"] = HOLD_PREFIX + holder
        removes.append(f"#gone{index}")
    if holds.version:
        condition = "#version = :read"
        values[":read"] = holds.version
    else:
        condition = "attribute_not_exists(#version)"
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {"expression": expression, "condition": condition, "names": names, "values": values}


def hold(
    table: str, application_id: int, coupon: Coupon, holds: Holds, session_id: str, until: datetime, now: datetime
) -> committer.Write:
    """Takes or renews the session's hold, if no hold changed since the read and a use is still free for it."""
    parts = _versioned(holds, now, set_hold=(session_id, until), drop=[])
    condition = f"attribute_exists(PK) AND {parts['condition']}"
    values = dict(parts["values"])
    if coupon.usage_limit:
        condition += " AND usageCounter < :free"
        values[":free"] = coupon.usage_limit - holds.others(now, session_id)
    return committer.update(
        table,
        coupon_key(application_id, coupon.value),
        parts["expression"],
        condition=condition,
        names=parts["names"],
        values=values,
        failed=CouponExhaustedError,
    )


def release(
    table: str, application_id: int, code: str, holds: Holds, session_id: str, now: datetime
) -> committer.Write:
    """Ends the session's hold (a cancel, a coupon no longer presented or no longer accepted)."""
    parts = _versioned(holds, now, set_hold=None, drop=[session_id])
    return committer.update(
        table,
        coupon_key(application_id, code),
        parts["expression"],
        condition=f"attribute_exists(PK) AND {parts['condition']}",
        names=parts["names"],
        values=parts["values"],
        failed=CouponChangedError,
    )


def redeem_held(
    table: str,
    application_id: int,
    coupon: Coupon,
    discount: Decimal,
    holds: Holds,
    session_id: str,
    now: datetime,
    *,
    reserve: bool = False,
) -> committer.Write:
    """patron.coupons.items.redeem for a coupon with holds: the session's own hold becomes the use, and the other
    sessions' unexpired holds are uses it cannot take (conditional on the holds being as read). `reserve`: as
    `items.redeem`'s."""
    parts = _versioned(holds, now, set_hold=None, drop=[session_id])
    names = {**parts["names"], "#usageCounter": "usageCounter", "#usageLimit": "usageLimit"}
    names["#discountCounter"], names["#discountLimit"] = "discountCounter", "discountLimit"
    values = {**parts["values"], ":one": 1, ":discount": discount}
    condition = f"attribute_exists(PK) AND {parts['condition']}"
    if coupon.usage_limit:
        condition += " AND #usageLimit = :limit AND #usageCounter < :free"
        values[":limit"] = coupon.usage_limit
        values[":free"] = coupon.usage_limit - holds.others(now, session_id)
    else:
        condition += " AND #usageLimit = :zero"
        values[":zero"] = 0
    if coupon.discount_limit is None:
        condition += " AND attribute_not_exists(#discountLimit)"
    else:
        condition += " AND #discountLimit = :discountLimit AND #discountCounter <= :room"
        values[":discountLimit"] = coupon.discount_limit
        values[":room"] = coupon.discount_limit - discount
    counters = "#usageCounter = #usageCounter + :one, #discountCounter = #discountCounter + :discount"
    if reserve:
        names.update(RESERVATION_NAMES)
        values[":zero"] = 0
        counters += ", " + RESERVATION_COUNT
        condition += " AND " + RESERVATION_ROOM
    expression = parts["expression"].replace("SET ", f"SET {counters}, ", 1)
    return committer.update(
        table,
        coupon_key(application_id, coupon.value),
        expression,
        condition=condition,
        names=names,
        values=values,
        failed=CouponExhaustedError,
    )
