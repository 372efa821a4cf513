"""The time index's rules on every ledger the ledger tests generate: the next change is the earliest start or
expiry after the ledger's instant (nothing changes before it, and advancing to it changes what it says), the next
one after advancing to it is later; notices are due from the earliest unnoticed expiry; the job's records name
each expired lot once, with what of it expired, and add up to the ledger's expired points."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.loyalty import due, events
from patron.loyalty.ledger import ZERO, Ledger, Lot, advance, earn, spend
from patron.loyalty.tiers import carried
from patron.promotions.definitions import LoyaltyProgram
from tests.unit.loyalty.test_ledger import T0, _run, at, gaps, steps


def _instants(ledger: Ledger) -> list[Any]:
    return sorted(
        moment
        for balance in ledger.subledgers.values()
        for lot in balance.lots
        for moment in (lot.starts, lot.expires)
        if moment is not None
    )


@settings(max_examples=150, deadline=None)
@given(steps, gaps, st.booleans())
def test_the_next_change_is_the_earliest_future_start_or_expiry_and_the_one_after_is_later(
    operations: list[tuple[Any, ...]], hours: list[int], allow_negative: bool
) -> None:
    ledger, _ = _run(operations, hours, allow_negative)
    change = due.next_change(ledger)
    future = [moment for moment in _instants(ledger) if moment > ledger.as_of]
    if change is None:
        assert not future
        assert advance(ledger, ledger.as_of + timedelta(days=10_000)).subledgers == ledger.subledgers
        return
    assert change == min(future)
    # Nothing happens before it: the ledger read just before equals the stored one.
    assert advance(ledger, change - timedelta(microseconds=1)).subledgers == ledger.subledgers
    moved = advance(ledger, change)
    following = due.next_change(moved)
    assert following is None or following > change


@settings(max_examples=100, deadline=None)
@given(steps, gaps, st.booleans(), st.integers(1, 2000))
def test_the_records_of_a_jump_name_each_expired_lot_once_and_add_up_to_the_expired_points(
    operations: list[tuple[Any, ...]], hours: list[int], allow_negative: bool, later: int
) -> None:
    ledger, _ = _run(operations, hours, allow_negative)
    to = ledger.as_of + timedelta(hours=later)
    after = advance(ledger, to)
    change = events.Change(1, 7, "member", ledger, after, 2)
    records = events.change_records(change, to)
    expired = [record for record in records if record.kind == events.EXPIRED]
    assert len({record.entity_id for record in expired}) == len(expired)
    for name in set(ledger.subledgers) | set(after.subledgers):
        named = [r for r in expired if r.payload and r.payload["subledgerId"] == name]
        total = sum((Decimal(r.payload["points"]) for r in named if r.payload), ZERO)
        assert total == after.balance(name).expired - ledger.balance(name).expired
    # Jumping again to the same instant changes nothing: no record.
    assert events.change_records(events.Change(1, 7, "member", after, after, 3), to) == []


def test_notices_are_due_from_the_earliest_unnoticed_expiry_and_sent_once() -> None:
    lots = [
        Lot("a", Decimal(10), T0, at(24 * 40)),
        Lot("b", Decimal(5), T0, at(24 * 10)),
        Lot("c", Decimal(1), T0, None),
    ]
    ledger = Ledger(as_of=T0)
    for lot in lots:
        ledger = earn(ledger, "", lot, T0)
    assert due.next_notice(ledger, ()) == at(24 * 10)
    window = timedelta(days=30)
    assert [lot.id for _, lot in due.notices(ledger, (), T0, window)] == ["b"]  # a: 40 days away, c: never
    assert due.next_notice(ledger, ("b",)) == at(24 * 40)
    assert due.notices(ledger, ("b",), T0, window) == []
    later = advance(ledger, at(24 * 15))
    assert [lot.id for _, lot in due.notices(later, ("b",), at(24 * 15), window)] == ["a"]
    assert due.still_noticed(later, ("a", "b")) == ("a",)  # b expired: forgotten
    assert due.notices(ledger, (), T0, timedelta(0)) == []  # notices off


def test_a_change_records_its_balances_and_tier_with_keys_of_the_change() -> None:
    tiers = [{"name": "Silver", "minPoints": 0}, {"name": "Gold", "minPoints": 100}]
    program = msgspec.convert({"id": 7, "name": "p", "tiers": tiers}, LoyaltyProgram)
    empty = Ledger(as_of=T0)
    before = earn(empty, "", Lot("big", Decimal(150), T0, at(10)), T0)
    before = earn(before, "", Lot("small", Decimal(20), T0, None), T0)
    before = carried(empty, before, program, T0)  # Gold
    stored = spend(before, "", Decimal(5), at(1)).ledger  # as stored: the 5 came from the lot expiring first
    before = carried(before, stored, program, at(1))
    after = carried(before, advance(before, at(11)), program, at(11))  # the big lot expired: Silver
    change = events.Change(3, 7, "alice", before, after, 9)
    records = events.change_records(change, at(11))
    assert {(r.kind, r.entity_id) for r in records} == {
        (events.EXPIRED, f"7#{change.tag}#big"),
        (events.BALANCE, f"7#{change.tag}##9"),
        (events.TIER, f"7#{change.tag}#9"),
    }
    # Another member's change of the same program and version is recorded under other keys.
    other = events.change_records(events.Change(3, 7, "bob", before, after, 9), at(11))
    assert not {r.entity_id for r in records} & {r.entity_id for r in other}
    tier = next(r for r in records if r.kind == events.TIER)
    assert tier.payload == {"programId": 7, "version": 9, "fromTier": "Gold", "toTier": "Silver"}
    assert all(r.customer_id == "alice" and r.application_id == 3 for r in records)
    expired = next(r for r in records if r.kind == events.EXPIRED)
    assert expired.payload is not None and expired.payload["points"] == 145  # 150 less the 5 spent from it first


def test_a_tier_expiring_is_a_change_the_job_comes_back_for() -> None:
    program = msgspec.convert(
        {"id": 7, "name": "p", "tiersExpireIn": "30D", "tiers": [{"name": "S", "minPoints": 0}]}, LoyaltyProgram
    )
    empty = Ledger(as_of=T0)
    ledger = carried(empty, earn(empty, "", Lot("a", Decimal(5), T0, None), T0), program, T0)
    assert ledger.tier is not None and ledger.tier.expires == T0 + timedelta(days=30)
    assert due.next_change(ledger) == T0 + timedelta(days=30)
