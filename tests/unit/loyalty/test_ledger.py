"""The ledger's rules on every sequence: earn, spend, expire (time), activate, revoke and give back, in any order
and at any instants. After each step, and read at any later instant: points are conserved, no lot is empty or
negative, a negative balance means nothing is active, a balance never goes negative where that is not allowed,
reading at an instant equals reading after the scheduled job materialised any earlier instant, and spending
took the soonest-expiring lots first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.loyalty.ledger import (
    ZERO,
    Draw,
    InsufficientPoints,
    Ledger,
    Lot,
    ReturnPolicy,
    activate,
    advance,
    earn,
    give_back,
    merged,
    revoke,
    spend,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Rome")
SUBLEDGERS = ["", "beauty"]


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def conserved(ledger: Ledger) -> None:
    for name, balance in ledger.subledgers.items():
        held = sum((lot.remaining for lot in balance.lots), ZERO)
        assert balance.earned == held + balance.spent - balance.debt + balance.expired + balance.revoked, name
        assert all(lot.remaining > 0 for lot in balance.lots), name
        assert balance.debt >= 0
        if balance.debt > 0:
            assert balance.active_points(ledger.as_of) == 0


amounts = st.integers(1, 100).map(Decimal)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("earn"),
            amounts,
            st.sampled_from(SUBLEDGERS),
            st.one_of(st.none(), st.just(0), st.integers(0, 200)),  # start after the step (None: on_action)
            st.one_of(st.none(), st.integers(1, 400)),  # validity in hours (None: unlimited)
        ),
        st.tuples(st.just("spend"), st.integers(1, 150).map(Decimal), st.sampled_from(SUBLEDGERS), st.booleans()),
        st.tuples(st.just("activate"), st.integers(0, 40), st.sampled_from(SUBLEDGERS)),
        st.tuples(st.just("revoke"), st.integers(0, 40), amounts, st.sampled_from(list(ReturnPolicy))),
        st.tuples(st.just("give back"), st.integers(0, 40)),
        st.tuples(
            st.just("job"),
        ),
    ),
    min_size=8,
    max_size=40,
)
gaps = st.lists(st.integers(0, 30), min_size=40, max_size=40)  # hours between steps


def _run(
    operations: list[tuple[Any, ...]], gaps: list[int], allow_negative: bool
) -> tuple[Ledger, list[tuple[str, tuple[Draw, ...], Decimal, str]]]:
    ledger = Ledger(as_of=T0)
    earned: list[tuple[str, str]] = []  # (lot id, subledger)
    spendings: list[tuple[str, tuple[Draw, ...], Decimal, str]] = []
    now = T0
    for number, (operation, gap) in enumerate(zip(operations, gaps, strict=False)):
        now += timedelta(hours=gap)
        match operation:
            case ("earn", amount, subledger, start, validity):
                starts = None if start is None else now + timedelta(hours=start)
                expires = None
                if validity is not None and starts is not None:
                    expires = starts + timedelta(hours=validity)
                lot = Lot(f"earn-{number}", amount, starts, expires, f"{validity}h" if validity else None)
                ledger = earn(ledger, subledger, lot, now)
                earned.append((lot.id, subledger))
            case ("spend", amount, subledger, partial):
                try:
                    spent = spend(ledger, subledger, amount, now, allow_negative=allow_negative, partial=partial)
                except InsufficientPoints as refused:
                    assert not allow_negative and not partial
                    assert refused.available < amount
                    continue
                _drawn_in_order(ledger, spent.draws, subledger, now)
                assert spent.deducted == sum((d.amount for d in spent.draws), ZERO) + spent.into_debt
                assert spent.into_debt == 0 or allow_negative
                ledger = spent.ledger
                if spent.deducted > 0:
                    spendings.append((f"spend-{number}", spent.draws, spent.into_debt, subledger))
            case ("activate", which, subledger):
                if earned:
                    lot_id, _ = earned[which % len(earned)]
                    ledger = activate(ledger, subledger, [lot_id], now, ZONE)
            case ("revoke", which, amount, policy):
                if earned:
                    lot_id, subledger = earned[which % len(earned)]
                    before = ledger
                    ledger, took = revoke(ledger, subledger, lot_id, amount, now, policy)
                    assert ZERO <= took <= amount
                    if policy is not ReturnPolicy.UNLIMITED:
                        assert ledger.balance(subledger).debt == advance(before, now).balance(subledger).debt
            case ("give back", which):
                if spendings:
                    spending_id, draws, into_debt, subledger = spendings.pop(which % len(spendings))
                    ledger = give_back(ledger, subledger, spending_id, draws, into_debt, now)
            case ("job",):
                ledger = advance(ledger, now)
        conserved(ledger)
    return ledger, spendings


def _drawn_in_order(before: Ledger, draws: tuple[Draw, ...], subledger: str, now: datetime) -> None:
    """Every lot active before the spending that comes before the last one drawn (soonest expiry first,
    unlimited last) was drawn empty."""
    if not draws:
        return
    drawn = {draw.lot: draw.amount for draw in draws}
    last = draws[-1]
    key_last = (last.expires is None, last.expires or now, last.starts or now, last.lot)
    for lot in advance(before, now).balance(subledger).lots:
        if not lot.active(now):
            continue
        key = (lot.expires is None, lot.expires or now, lot.starts or now, lot.id)
        if key < key_last:
            assert drawn.get(lot.id) == lot.remaining, lot


@settings(max_examples=300, deadline=None)
@given(steps, gaps, st.booleans(), st.integers(0, 2000))
def test_every_sequence_conserves_points_and_reads_alike_whenever_the_job_ran(
    operations: list[tuple[Any, ...]], hours: list[int], allow_negative: bool, later: int
) -> None:
    ledger, _ = _run(operations, hours, allow_negative)
    # A read at any later instant: the same whether the job materialised an instant between, or not.
    end = ledger.as_of + timedelta(hours=later)
    middle = ledger.as_of + timedelta(hours=later // 2)
    assert advance(advance(ledger, middle), end) == advance(ledger, end)
    conserved(advance(ledger, end))
    if not allow_negative and not any(op[0] == "revoke" and op[3] is ReturnPolicy.UNLIMITED for op in operations):
        assert all(balance.debt == 0 for balance in ledger.subledgers.values())


@settings(max_examples=200, deadline=None)
@given(steps, gaps)
def test_giving_back_every_spending_restores_the_active_balance_when_nothing_expired_meanwhile(
    operations: list[tuple[Any, ...]], hours: list[int]
) -> None:
    # Unlimited, immediate lots only: nothing expires or waits, so a spending given back restores exactly.
    simple = [
        ("earn", op[1], op[2], 0, None) if op[0] == "earn" else op
        for op in operations
        if op[0] in ("earn", "spend", "job")
    ]
    ledger, spendings = _run(simple, hours, allow_negative=False)
    for spending_id, draws, into_debt, subledger in spendings:
        ledger = give_back(ledger, subledger, spending_id, draws, into_debt, ledger.as_of)
    for balance in ledger.subledgers.values():
        assert balance.spent == 0
        assert balance.active_points(ledger.as_of) == balance.earned


def test_spending_takes_the_soonest_expiring_lots_first_and_unlimited_ones_last() -> None:
    ledger = Ledger(as_of=T0)
    ledger = earn(ledger, "", Lot("forever", Decimal(100), T0, None), T0)
    ledger = earn(ledger, "", Lot("late", Decimal(100), T0, at(300)), T0)
    ledger = earn(ledger, "", Lot("soon", Decimal(100), T0, at(100)), T0)
    spent = spend(ledger, "", Decimal(150), at(1))
    assert [(d.lot, d.amount) for d in spent.draws] == [("soon", Decimal(100)), ("late", Decimal(50))]
    assert spent.ledger.balance().active_points(at(1)) == 150


def test_points_expire_at_their_instant_without_any_write() -> None:
    ledger = earn(Ledger(as_of=T0), "", Lot("a", Decimal(40), T0, at(10)), T0)
    assert ledger.balance().active_points(at(9)) == 40
    later = advance(ledger, at(10))
    assert later.balance().active_points(at(10)) == 0
    assert later.balance().expired == 40


def test_pending_points_pay_a_negative_balance_when_they_start() -> None:
    ledger = Ledger(as_of=T0)
    ledger = spend(ledger, "", Decimal(30), T0, allow_negative=True).ledger
    assert ledger.balance().debt == 30
    ledger = earn(ledger, "", Lot("later", Decimal(50), at(24), None), T0)
    assert advance(ledger, at(23)).balance().debt == 30
    started = advance(ledger, at(24))
    assert started.balance().debt == 0
    assert started.balance().active_points(at(24)) == 20


def test_a_spending_beyond_the_balance_is_refused_or_partial() -> None:
    ledger = earn(Ledger(as_of=T0), "", Lot("a", Decimal(10), T0, None), T0)
    with pytest.raises(InsufficientPoints):
        spend(ledger, "", Decimal(11), T0)
    partial = spend(ledger, "", Decimal(11), T0, partial=True)
    assert partial.deducted == 10
    assert partial.ledger.balance().active_points(T0) == 0


def test_on_action_points_wait_until_activated_then_run_their_validity() -> None:
    ledger = earn(Ledger(as_of=T0), "", Lot("a", Decimal(10), None, None, "2D"), T0)
    assert ledger.balance().pending_points(at(1000)) == 10
    active = activate(ledger, "", ["a"], at(5), ZONE)
    lot = active.balance().lots[0]
    assert lot.starts == at(5)
    assert lot.expires == at(5 + 48)


@pytest.mark.parametrize(
    ("policy", "took", "active_after", "debt"),
    [
        (ReturnPolicy.ONLY_PENDING, 0, 20, 0),
        (ReturnPolicy.WITHIN_BALANCE, 20, 0, 0),
        (ReturnPolicy.UNLIMITED, 100, 0, 80),
    ],
)
def test_rolling_back_spent_points_follows_the_return_policy(
    policy: ReturnPolicy, took: int, active_after: int, debt: int
) -> None:
    ledger = earn(Ledger(as_of=T0), "", Lot("order-1", Decimal(100), T0, None), T0)
    ledger = spend(ledger, "", Decimal(80), T0).ledger
    ledger, taken = revoke(ledger, "", "order-1", Decimal(100), at(1), policy)
    assert taken == took
    assert ledger.balance().active_points(at(1)) == active_after
    assert ledger.balance().debt == debt


def test_pending_points_are_rolled_back_under_every_policy() -> None:
    for policy in ReturnPolicy:
        ledger = earn(Ledger(as_of=T0), "", Lot("order-1", Decimal(100), at(48), None), T0)
        ledger, taken = revoke(ledger, "", "order-1", Decimal(100), at(1), policy)
        assert taken == 100
        assert ledger.balance().pending_points(at(1)) == 0


@settings(max_examples=100, deadline=None)
@given(steps, steps, gaps, st.booleans())
def test_two_ledgers_merged_conserve_both_and_keep_every_lot(
    first: list[tuple[Any, ...]], second: list[tuple[Any, ...]], hours: list[int], allow_negative: bool
) -> None:
    one, _ = _run(first, hours, allow_negative)
    other, _ = _run(second, hours, allow_negative)
    at = max(one.as_of, other.as_of)
    both = merged(one, other, at)
    conserved(both)
    for name in set(one.subledgers) | set(other.subledgers):
        a, b, m = advance(one, at).balance(name), advance(other, at).balance(name), both.balance(name)
        assert m.earned == a.earned + b.earned
        held = sum((lot.remaining for lot in (*a.lots, *b.lots)), ZERO) - (a.debt + b.debt)
        assert sum((lot.remaining for lot in m.lots), ZERO) - m.debt == held
