"""Redemptions and give-backs, in any order and with stale reads, never take a coupon's counters past its limits
or below zero, and always equal what the redemptions still standing gave. Checked on an in-memory model of the
conditional updates `items` builds (many sequences), and the model checked against DynamoDB's own semantics
(moto, in-process, the ledgers table's key schema from template.yaml) on fewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from patron.coupons import items
from patron.coupons.model import Coupon
from patron.coupons.validation import rejection
from patron.dynamo import codec, committer
from patron_local.dynamodb_local import PROJECT_ROOT, table_definitions
from patron_local.template import Template

TABLE, APP = "Ledgers", 1
NOW = datetime(2026, 6, 1, tzinfo=UTC)
PROFILES = ("p-1", "p-2", None)


class Refused(Exception):
    pass


def _values(write: committer.Write) -> dict[str, Any]:
    return codec.from_item(write.request.get("ExpressionAttributeValues", {}))


def _key(write: committer.Write) -> tuple[str, str]:
    key = codec.from_item(write.request["Key"])
    return str(key["PK"]), str(key["SK"])


def _applied(write: committer.Write, item: dict[str, Any] | None) -> dict[str, Any]:
    """The item after `write`, or Refused: each update expression items builds, and its condition, by hand."""
    v, expression = _values(write), write.request["UpdateExpression"]
    current = dict(item or {})
    if expression.startswith("SET #usageCounter = #usageCounter + "):
        ok = item is not None and (current["usageLimit"] == 0 or current["usageCounter"] < current["usageLimit"])
        if ":room" in v:
            ok = ok and current.get("discountLimit") == v[":discountLimit"] and current["discountCounter"] <= v[":room"]
        else:
            ok = ok and "discountLimit" not in current
        sign = 1
    elif expression.startswith("SET #usageCounter = #usageCounter - "):
        ok = item is not None and current["usageCounter"] >= 1 and current["discountCounter"] >= v[":discount"]
        sign = -1
    elif expression == "SET #used = if_not_exists(#used, :zero) + :one":
        ok = ":limit" not in v or "used" not in current or current["used"] < v[":limit"]
        current["used"] = current.get("used", 0) + 1
        return current if ok else _refuse()
    elif expression == "SET #used = #used - :one":
        ok = "used" in current and current["used"] >= 1
        return {**current, "used": current.get("used", 0) - 1} if ok else _refuse()
    else:
        raise AssertionError(f"the model does not know {expression!r}: teach it the new expression")
    if not ok:
        _refuse()
    current["usageCounter"] += sign
    current["discountCounter"] += sign * v[":discount"]
    return current


def _refuse() -> dict[str, Any]:
    raise Refused


@dataclass
class Model:
    """The ledgers table in memory, a plan applied whole or not at all."""

    table: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def put(self, item: dict[str, Any]) -> None:
        self.table[(item["PK"], item["SK"])] = codec.from_item(codec.to_item(item))

    def commit(self, plan: list[committer.Write]) -> Exception | None:
        staged = dict(self.table)
        for write in plan:
            try:
                staged[_key(write)] = _applied(write, staged.get(_key(write)))
            except Refused:
                assert write.failed is not None
                return write.failed()
        self.table = staged
        return None

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        return self.table.get((key["PK"], key["SK"]))


class Dynamo:
    """The same interface on DynamoDB's semantics (moto)."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb", region_name="eu-west-1")
        ledgers = table_definitions(Template.load(PROJECT_ROOT / "template.yaml"))["LedgersTable"]
        self.client.create_table(TableName=TABLE, **ledgers)
        self.committer = committer.Committer(self.client)

    def put(self, item: dict[str, Any]) -> None:
        self.client.put_item(TableName=TABLE, Item=codec.to_item(item))

    def commit(self, plan: list[committer.Write]) -> Exception | None:
        try:
            self.committer.commit(plan)
        except (items.CouponExhaustedError, items.CouponChangedError) as refused:
            return refused
        return None

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        found = self.client.get_item(TableName=TABLE, Key=codec.to_item(key), ConsistentRead=True).get("Item")
        return codec.from_item(found) if found else None


coupons = st.builds(
    lambda usage, discount, per_profile: Coupon(
        "GIFT#1", 7, 1, NOW, usage_limit=usage, discount_limit=discount, profile_limit=per_profile
    ),
    st.integers(0, 4),
    st.none() | st.decimals(0, 50, places=2),
    st.integers(0, 2),
)
# A close: which profile, the discount its rule wants, how many steps old its read is (a concurrent session).
closes = st.tuples(st.just("close"), st.sampled_from(PROFILES), st.decimals(0, 30, places=2), st.integers(0, 3))
cancels = st.tuples(st.just("cancel"), st.integers(0, 50))
operations = st.lists(st.one_of(closes, cancels), max_size=30)


def run(store: Model | Dynamo, coupon: Coupon, ops: list[tuple[Any, ...]]) -> list[Any]:
    """Plays the operations; checks the invariants after each; returns what happened (outcomes and counters)."""
    store.put(items.coupon_item(APP, coupon))
    reads: list[Coupon] = [coupon]  # the coupon as each step read it
    standing: list[tuple[str | None, Decimal]] = []  # redemptions not given back: profile, discount
    trace: list[Any] = []
    for op in ops:
        if op[0] == "close":
            _, profile, wanted, age = op
            read = reads[max(0, len(reads) - 1 - age)]
            holding = store.get(items.holding_key(APP, profile, coupon.value)) if profile else None
            refused = rejection(
                read, now=NOW, profile_id=profile, campaign_running=True, holding=items.holding_from_item(holding)
            )
            outcome: Any = refused.value if refused else None
            if refused is None:
                remainder = read.discount_remainder
                discount = wanted if remainder is None else min(wanted, remainder)
                plan = [items.redeem(TABLE, APP, read, discount)]
                if profile is not None:
                    plan.append(items.redeem_for_profile(TABLE, APP, read, profile))
                failed = store.commit(plan)
                outcome = type(failed).__name__ if failed else "redeemed"
                if failed is None:
                    standing.append((profile, discount))
        elif standing:
            profile, discount = standing.pop(op[1] % len(standing))
            plan = [items.give_back(TABLE, APP, coupon.value, discount)]
            if profile is not None:
                plan.append(items.give_back_for_profile(TABLE, APP, coupon.value, profile))
            assert store.commit(plan) is None, "a give-back of a standing redemption always succeeds"
            outcome = "given back"
        else:
            continue
        stored = store.get(items.coupon_key(APP, coupon.value))
        assert stored is not None
        now_read = items.coupon_from_item(stored)
        reads.append(now_read)
        assert now_read.usage_counter == len(standing) >= 0
        assert now_read.discount_counter == sum((discount for _, discount in standing), Decimal(0)) >= 0
        if coupon.usage_limit:
            assert now_read.usage_counter <= coupon.usage_limit
        if coupon.discount_limit is not None:
            assert now_read.discount_counter <= coupon.discount_limit
        used: dict[str | None, int] = {}
        for profile, _ in standing:
            used[profile] = used.get(profile, 0) + 1
        for profile in PROFILES[:2]:
            held = items.holding_from_item(store.get(items.holding_key(APP, profile, coupon.value)))
            assert held.used == used.get(profile, 0)
            if coupon.profile_limit:
                assert held.used <= coupon.profile_limit
        trace.append((outcome, now_read.usage_counter, now_read.discount_counter))
    return trace


@settings(max_examples=400, deadline=None)
@given(coupon=coupons, ops=operations)
def test_counters_stay_within_limits_and_equal_the_standing_redemptions(coupon, ops):
    run(Model(), coupon, ops)


@settings(max_examples=25, deadline=None)
@given(coupon=coupons, ops=operations)
def test_the_model_behaves_as_dynamodb_does(coupon, ops):
    with mock_aws():
        assert run(Dynamo(), coupon, ops) == run(Model(), coupon, ops)


def test_a_stale_read_cannot_take_the_last_use_twice():
    """Two sessions read the single-use coupon unused; the second close is refused, not counted."""
    single = Coupon("SINGLE-USE-1", 7, 1, NOW, usage_limit=1)
    for store in (Model(), None):
        with mock_aws():
            target = store or Dynamo()
            trace = run(target, single, [("close", "p-1", Decimal(5), 0), ("close", "p-2", Decimal(5), 1)])
            assert [outcome for outcome, *_ in trace] == ["redeemed", "CouponExhaustedError"]
