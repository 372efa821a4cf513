"""An in-memory CouponRepository (type-checked against the Protocol) and a live-ruleset source."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from msgspec.structs import replace

from patron.coupons.batches import BatchStatus, CouponBatch
from patron.coupons.model import Coupon
from patron.coupons.repository import CouponExistsError, CouponRepository
from patron.promotions.definitions import Ruleset


class FakeCouponRepository:
    def __init__(self) -> None:
        self.coupons_by_key: dict[tuple[int, str], Coupon] = {}
        self.holdings: set[tuple[int, str, str]] = set()
        self.batches: dict[tuple[int, str], CouponBatch] = {}
        self.parts: dict[tuple[int, str, int], list[str]] = {}
        self.counters: dict[int, int] = {}
        self.insert_calls = 0

    def allocate_ids(self, application_id: int, count: int) -> int:
        self.counters[application_id] = self.counters.get(application_id, 0) + count
        return self.counters[application_id] - count + 1

    def put_coupon(self, application_id: int, coupon: Coupon) -> None:
        if (application_id, coupon.value) in self.coupons_by_key:
            raise CouponExistsError()
        self.coupons_by_key[(application_id, coupon.value)] = coupon
        self.put_holdings(application_id, [coupon])

    def insert_coupons(self, application_id: int, coupons: Sequence[Coupon]) -> list[bool]:
        self.insert_calls += 1
        existed = []
        for coupon in coupons:
            there = (application_id, coupon.value) in self.coupons_by_key
            if not there:
                self.coupons_by_key[(application_id, coupon.value)] = coupon
            existed.append(there)
        return existed

    def put_holdings(self, application_id: int, coupons: Sequence[Coupon]) -> None:
        for coupon in coupons:
            if coupon.recipient_integration_id is not None:
                self.holdings.add((application_id, coupon.recipient_integration_id, coupon.value))

    def existing(self, application_id: int, codes: Sequence[str]) -> set[str]:
        return {code for code in codes if (application_id, code) in self.coupons_by_key}

    def coupon(self, application_id: int, code: str) -> Coupon | None:
        return self.coupons_by_key.get((application_id, code))

    def coupons(self, application_id: int, codes: Sequence[str]) -> dict[str, Coupon]:
        return {
            code: self.coupons_by_key[(application_id, code)]
            for code in codes
            if (application_id, code) in self.coupons_by_key
        }

    def put_batch(self, batch: CouponBatch) -> None:
        self.batches[(batch.application_id, batch.batch_id)] = batch

    def finish_batch(self, application_id: int, batch_id: str, consumed: int, finished: datetime) -> None:
        batch = self.batches[(application_id, batch_id)]
        self.batches[(application_id, batch_id)] = replace(
            batch, status=BatchStatus.CREATED, consumed=consumed, finished=finished
        )

    def batch(self, application_id: int, batch_id: str) -> CouponBatch | None:
        return self.batches.get((application_id, batch_id))

    def put_part(self, application_id: int, batch_id: str, part: int, codes: Sequence[str]) -> None:
        self.parts[(application_id, batch_id, part)] = list(codes)

    def part(self, application_id: int, batch_id: str, part: int) -> list[str]:
        return self.parts.get((application_id, batch_id, part), [])


class FixedRulesets:
    def __init__(self, rulesets: dict[int, Ruleset] | None = None):
        self.rulesets = rulesets or {}

    def live(self, application_id: int) -> Ruleset | None:
        return self.rulesets.get(application_id)


_typed: CouponRepository = FakeCouponRepository()
