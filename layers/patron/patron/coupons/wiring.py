"""Builders of the coupon service (the management API's, the CLI's and `make run`'s way to create and read
coupons)."""

from __future__ import annotations

from typing import Any, Literal

from patron.clock import SystemClock
from patron.coupons.repository import DynamoCouponRepository
from patron.coupons.service import CouponService
from patron.promotions.definitions import Ruleset
from patron.promotions.store import DynamoRulesetRepository, RulesetRepository


class LiveRulesetSource:
    """The application's live ruleset, read at each call (the pointer, then its version): creations are rare, and a
    campaign just published must take coupons at once."""

    def __init__(self, rulesets: RulesetRepository):
        self._rulesets = rulesets

    def live(self, application_id: int) -> Ruleset | None:
        pointer = self._rulesets.live(application_id)
        if pointer is None:
            return None
        stored = self._rulesets.version(application_id, pointer.version)
        return stored.ruleset if stored is not None else None


def coupon_service(
    client: Any, config_table: str, ledgers_table: str, method: Literal["partiql", "put"] = "partiql"
) -> CouponService:
    return CouponService(
        DynamoCouponRepository(client, ledgers_table, method=method),
        LiveRulesetSource(DynamoRulesetRepository(client, config_table)),
        SystemClock(),
    )
