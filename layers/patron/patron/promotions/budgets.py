"""Campaign budgets: which counters a limit keeps, and how much of each an evaluation may still use.

A counter is named by its campaign, action, entity (none: the whole campaign) and calendar period in the
application's timezone (`2026-12-03`, `2026-W49`, `2026-12`, `2026`; weeks are ISO weeks). Counters are consumed when
a session closes, in the close's transaction, each with a condition that it stays within its limit; cancel,
return and reopen give back exactly what the close consumed (docs/promotions.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

import msgspec

from patron.promotions.definitions import Limit, LimitAction, LimitEntity, LimitPeriod
from patron.promotions.money import ZERO


class CounterKey(msgspec.Struct, frozen=True, order=True):
    campaign_id: int
    action: str
    entity: str  # "" for the whole campaign, else "Profile" / "Session" / "Identifier"
    entity_id: str
    period: str  # "overall" or the period's label

    def label(self) -> str:
        """One string naming the counter (its item's sort key)."""
        return f"{self.campaign_id}#{self.action}#{self.entity}#{self.entity_id}#{self.period}"


def period_label(period: LimitPeriod, local: datetime) -> str:
    if period is LimitPeriod.DAILY:
        return local.date().isoformat()
    if period is LimitPeriod.WEEKLY:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period is LimitPeriod.MONTHLY:
        return f"{local.year}-{local.month:02d}"
    if period is LimitPeriod.YEARLY:
        return str(local.year)
    return "overall"


class Subjects(msgspec.Struct, frozen=True):
    """Who a session is, for limits per entity: no profile (anonymous) means per-profile limits do not bind it."""

    session_id: str
    profile_id: str | None
    identifiers: tuple[str, ...] = ()


def counter_keys(campaign_id: int, limit: Limit, subjects: Subjects, local: datetime) -> list[CounterKey]:
    """The counters `limit` binds for this session (several for an identifier limit: one per identifier)."""
    period = period_label(limit.period, local)
    if not limit.entities:
        return [CounterKey(campaign_id, limit.action.value, "", "", period)]
    entity = limit.entities[0]
    if entity is LimitEntity.PROFILE:
        ids: Iterable[str] = [subjects.profile_id] if subjects.profile_id else []
    elif entity is LimitEntity.SESSION:
        ids = [subjects.session_id]
    else:
        ids = subjects.identifiers
    return [CounterKey(campaign_id, limit.action.value, entity.value, entity_id, period) for entity_id in ids]


# A coupon's own counters live on the coupon (patron.coupons.items), not in the budget counters: an evaluation
# names them with these keys, so that what it takes of them is consumed, stored and given back as budgets are.
COUPON_ENTITY = "Coupon"


REFERRAL_ENTITY = "Referral"
OWN_CODES = (COUPON_ENTITY, REFERRAL_ENTITY)  # the counters that live on a code's own item, not in a budget


def referral_usage_key(campaign_id: int, code: str) -> CounterKey:
    """One use of the referral code (its usage counter and the friend's once-per-campaign mark)."""
    return CounterKey(campaign_id, "setDiscountEffect", REFERRAL_ENTITY, code, "overall")


def coupon_usage_key(campaign_id: int, code: str) -> CounterKey:
    """One redemption of the coupon (its usage counter, and its holder's when per-profile limits bind it)."""
    return CounterKey(campaign_id, "setDiscountEffect", COUPON_ENTITY, code, "overall")


def coupon_discount_key(campaign_id: int, code: str) -> CounterKey:
    """The discount the coupon gave (its discount counter, held to its discount limit)."""
    return CounterKey(campaign_id, "setDiscount", COUPON_ENTITY, code, "overall")


class Bound(msgspec.Struct, frozen=True):
    key: CounterKey
    limit: Decimal


class Budget:
    """The limits of one campaign for one evaluation: what has been used (read before deciding) plus what this
    evaluation takes."""

    __slots__ = ("_by_action", "bounds", "used")

    def __init__(self, bounds: list[Bound], used: Mapping[CounterKey, Decimal]):
        self.bounds = bounds
        self.used = used
        # Grouped once: `left` runs for every discount an effect grants (LimitAction is a StrEnum, so the action's
        # value is its key).
        by_action: dict[str, list[Bound]] = {}
        for bound in bounds:
            by_action.setdefault(bound.key.action, []).append(bound)
        self._by_action = by_action

    def left(self, action: LimitAction, taken: Mapping[CounterKey, Decimal]) -> Decimal | None:
        """What `action` may still take; None when no limit binds it."""
        bounds = self._by_action.get(action)
        if bounds is None:
            return None
        used = self.used
        room = min(bound.limit - used.get(bound.key, ZERO) - taken.get(bound.key, ZERO) for bound in bounds)
        return max(room, ZERO)

    def keys(self, action: LimitAction) -> list[CounterKey]:
        return [bound.key for bound in self._by_action.get(action, ())]
