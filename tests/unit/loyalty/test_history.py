"""The history routes' pure half: what expired of each addition, replayed from the entries, adds up to what the
ledger counts as expired on every sequence of earnings, spendings, give-backs and rollbacks (written as a session
writes them); listings filter, order and date entries as documented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from patron.loyalty import history
from patron.loyalty.items import Entry
from patron.loyalty.ledger import ZERO, Draw, Ledger, Lot, ReturnPolicy, advance, earn, give_back, revoke, spend
from patron.loyalty.settle import rollback_id

APP = 7
CENT = Decimal("0.01")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SUBLEDGERS = ["", "beauty"]


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("earn"),
            st.integers(1, 100).map(Decimal),
            st.sampled_from(SUBLEDGERS),
            st.one_of(st.none(), st.just(0), st.integers(0, 100)),  # start after the step (None: on_action)
            st.one_of(st.none(), st.integers(1, 200)),  # validity in hours (None: unlimited)
        ),
        st.tuples(st.just("spend"), st.integers(1, 150).map(Decimal), st.sampled_from(SUBLEDGERS)),
        st.tuples(st.just("give back"), st.integers(0, 40)),
        st.tuples(st.just("roll back"), st.integers(0, 40), st.integers(1, 4)),  # quarters: 4 a cancel, less a return
        st.tuples(st.just("job")),
    ),
    min_size=5,
    max_size=40,
)
gaps = st.lists(st.sampled_from([0, 0, 1, 5, 20, 60]), min_size=40, max_size=40)  # hours; 0: one instant


def _run(operations: list[tuple[Any, ...]], hours: list[int]) -> tuple[Ledger, list[Entry]]:
    """The ledger after the operations, and the entries a session's closes, returns and cancels would have
    written (rollbacks under `only_pending`: the one policy whose rollback takes from no other lot)."""
    ledger, now = Ledger(as_of=T0), T0
    entries: list[Entry] = []
    rolled: set[str] = set()  # spendings given back
    unreturned: dict[str, Decimal] = {}  # additions: what returns and cancels may still ask back
    for number, (operation, gap) in enumerate(zip(operations, hours, strict=False)):
        now += timedelta(hours=gap)
        match operation:
            case ("earn", amount, subledger, start, validity):
                starts = None if start is None else now + timedelta(hours=start)
                expires = starts + timedelta(hours=validity) if starts is not None and validity else None
                txn = f"earn-{number}"
                ledger = earn(ledger, subledger, Lot(txn, amount, starts, expires), now)
                entries.append(Entry(txn, "addition", subledger, amount, "Points", now, None, None, starts, expires))
                unreturned[txn] = amount
            case ("spend", amount, subledger):
                spent = spend(ledger, subledger, amount, now, partial=True)
                if spent.deducted > 0:
                    ledger = spent.ledger
                    entries.append(
                        Entry(
                            f"spend-{number}", "subtraction", subledger, spent.deducted, "Paid", now, draws=spent.draws
                        )
                    )
            case ("give back", which):
                open_ = [e for e in entries if e.kind == "subtraction" and e.draws and e.transaction_id not in rolled]
                if open_:
                    spending = open_[which % len(open_)]
                    ledger = give_back(ledger, spending.subledger, spending.transaction_id, spending.draws, ZERO, now)
                    rolled.add(spending.transaction_id)
                    back = rollback_id(APP, spending.transaction_id)
                    entries.append(
                        Entry(back, "addition", spending.subledger, spending.amount, "Rollback", now, starts=now,
                              rolls_back=spending.transaction_id)
                    )  # fmt: skip
            case ("roll back", which, quarters):
                open_ = [e for e in entries if e.transaction_id in unreturned]
                if open_:
                    addition = open_[which % len(open_)]
                    asked = addition.amount if quarters == 4 else (addition.amount * quarters / 4).quantize(CENT)
                    asked = min(asked, unreturned[addition.transaction_id])
                    unreturned[addition.transaction_id] -= asked
                    if unreturned[addition.transaction_id] <= 0:
                        del unreturned[addition.transaction_id]
                    if asked <= 0:
                        continue
                    policy = ReturnPolicy.ONLY_PENDING
                    ledger, took = revoke(ledger, addition.subledger, addition.transaction_id, asked, now, policy)
                    if took > 0:
                        back = rollback_id(APP, addition.transaction_id, f"return:{number}")
                        entries.append(
                            Entry(back, "subtraction", addition.subledger, took, "Rollback", now,
                                  rolls_back=addition.transaction_id)
                        )  # fmt: skip
            case ("job",):
                ledger = advance(ledger, now)
    return ledger, entries


@settings(max_examples=400, deadline=None)
@given(steps, gaps, st.integers(0, 400))
def test_what_expired_of_each_addition_adds_up_to_the_ledgers_expired_points(
    operations: list[tuple[Any, ...]], hours: list[int], later: int
) -> None:
    ledger, entries = _run(operations, hours)
    end = ledger.as_of + timedelta(hours=later)
    read = advance(ledger, end)
    for subledger in SUBLEDGERS:
        found = history.expired(entries, end, subledger)
        assert sum((one.amount for one in found), ZERO) == read.balance(subledger).expired
        assert all(one.addition.subledger == subledger and one.amount > 0 for one in found)
        assert all(one.amount <= one.addition.amount for one in found)
    # The open lots are the ledger's, split by status at the instant.
    lots = history.open_lots(read, True, None, end) + history.open_lots(read, False, None, end)
    assert len(lots) == sum(len(balance.lots) for balance in read.subledgers.values())


def test_points_spent_before_the_expiry_do_not_expire_and_points_given_back_after_it_do() -> None:
    ledger = earn(Ledger(as_of=T0), "", Lot("a", Decimal(100), T0, at(10)), T0)
    spent = spend(ledger, "", Decimal(60), at(1))
    entries = [
        Entry("a", "addition", "", Decimal(100), "Points", T0, "s-1", 20, T0, at(10)),
        Entry("b", "subtraction", "", Decimal(60), "Paid", at(1), draws=spent.draws),
    ]
    [expired] = history.expired(entries, at(10), None)
    assert expired.amount == 40
    assert history.expired(entries, at(9), None) == []  # not expired yet
    back = Entry("back", "addition", "", Decimal(60), "Rollback: Paid", at(11), starts=at(11), rolls_back="b")
    [expired] = history.expired([*entries, back], at(12), None)
    assert expired.amount == 100
    view = history.expired_view(1, expired)
    assert (view.transaction_uuid, view.amount, view.expiry_date) == ("a", Decimal(100), "2026-01-01T10:00:00Z")
    assert view.customer_session_id == "s-1"


def test_returns_and_a_cancel_take_from_the_lot_before_its_expiry_but_not_at_it() -> None:
    addition = Entry("a", "addition", "", Decimal(100), "Points", T0, "s", None, T0, at(10))
    returned = Entry("r1", "subtraction", "", Decimal(30), "Rollback: Points", at(2), "s", rolls_back="a")
    for when, left in [(at(9), 0), (at(10), 70)]:
        cancelled = Entry("r2", "subtraction", "", Decimal(70), "Rollback: Points", when, "s", rolls_back="a")
        assert sum(e.amount for e in history.expired([addition, returned, cancelled], at(20), "")) == left
    assert sum(e.amount for e in history.expired([addition, returned], at(20), "")) == 70


def test_open_lots_list_active_points_as_they_are_spent_and_pending_ones_as_they_start() -> None:
    ledger = Ledger(as_of=T0)
    for lot in [
        Lot("forever", Decimal(1), T0, None),
        Lot("late", Decimal(2), T0, at(300)),
        Lot("soon", Decimal(3), T0, at(100)),
        Lot("next-week", Decimal(4), at(168), at(500)),
        Lot("tomorrow", Decimal(5), at(24), None),
        Lot("on-action", Decimal(6), None, None, "30D"),
    ]:
        ledger = earn(ledger, "", lot, T0)
    active = [one.lot.id for one in history.open_lots(ledger, True, None, T0)]
    pending = [one.lot.id for one in history.open_lots(ledger, False, None, T0)]
    assert active == ["soon", "late", "forever"]
    assert pending == ["tomorrow", "next-week", "on-action"]
    assert history.open_lots(ledger, True, "beauty", T0) == []
    waiting = history.lot_view(1, history.open_lots(ledger, False, None, T0)[-1], None, T0)
    assert (waiting.start_date, waiting.expiry_date, waiting.validity_duration) == ("on_action", "unlimited", "30D")


def test_points_given_back_after_paying_a_debt_are_told_by_the_spendings_rollback() -> None:
    assert history.source_of("abc", APP) == "abc"
    assert history.source_of("abc#repaid", APP) == rollback_id(APP, "abc")


def test_transactions_are_newest_first_filtered_by_subledger_origin_and_dates() -> None:
    entries = [
        Entry("a", "addition", "", Decimal(10), "A", at(1), "s-1"),
        Entry("c", "addition", "beauty", Decimal(30), "C", at(3), None, 20),  # an event's
        Entry("b2", "subtraction", "", Decimal(5), "B2", at(2), "s-2"),
        Entry("b1", "addition", "", Decimal(20), "B1", at(2), "s-2"),
        Entry("m", "addition", "", Decimal(40), "By hand", at(2)),  # the management routes'
    ]
    ids = [entry.transaction_id for entry in history.transactions(entries, None, None, None, None)]
    assert ids == ["c", "b1", "b2", "m", "a"]  # one instant: by transaction id
    assert [e.transaction_id for e in history.transactions(entries, "", "session", at(2), at(3))] == ["b1", "b2"]
    assert [e.transaction_id for e in history.transactions(entries, "beauty", None, None, at(2))] == []
    assert [e.transaction_id for e in history.transactions(entries, None, "manual", None, None)] == ["m"]
    assert history.transactions(entries, None, "import", None, None) == []
    found, more = history.page(history.transactions(entries, None, None, None, None), 1, 2)
    assert [e.transaction_id for e in found] == ["b1", "b2"] and more
    assert history.page(entries, 3, 2)[1] is False


def test_a_give_back_is_logged_as_an_immediate_addition_lasting_as_long_as_the_lots_it_returns_to() -> None:
    draws = (Draw("x", Decimal(5), T0, at(100)), Draw("y", Decimal(5), T0, at(200)))
    spending = Entry("s", "subtraction", "", Decimal(12), "Paid", at(1), "sess", draws=draws, into_debt=Decimal(2))
    back = Entry("back", "addition", "", Decimal(12), "Rollback: Paid", at(2), "sess", starts=at(2), rolls_back="s")
    earning = Entry("e", "addition", "", Decimal(12), "Points", at(0), None, 20, at(0), None)
    backs = history.given_back([spending, back, earning])
    assert backs == {back.transaction_id: spending}
    logged = history.transaction_view(1, back, backs)
    assert (logged.kind, logged.start_date, logged.expiry_date) == ("addition", "immediate", "unlimited")  # debt
    whole = history.transaction_view(
        1, back, {back.transaction_id: Entry("s", "subtraction", "", Decimal(10), "", at(1), draws=draws)}
    )
    assert whole.expiry_date == "2026-01-09T08:00:00Z"
    taken = history.transaction_view(1, spending, backs)
    assert (taken.kind, taken.start_date, taken.expiry_date) == ("subtraction", "immediate", "unlimited")
    assert taken.flags is not None and taken.flags.creates_negative_balance
    added = history.transaction_view(1, earning, backs)
    assert (added.start_date, added.expiry_date, added.flags) == ("2026-01-01T00:00:00Z", "unlimited", None)


def test_entry_numbers_are_stable_safe_json_integers() -> None:
    numbers = {history.entry_number(f"txn-{n}") for n in range(1000)}
    assert len(numbers) == 1000 and all(0 <= n < 2**53 for n in numbers)
    assert history.entry_number("txn-1") == history.entry_number("txn-1")


def test_expirations_add_up_each_subledgers_points_per_instant_soonest_first() -> None:
    ledger = Ledger(as_of=T0)
    for subledger, lot in [
        ("", Lot("a", Decimal(1), T0, at(10))),
        ("", Lot("b", Decimal(2), T0, at(10))),
        ("beauty", Lot("c", Decimal(4), T0, at(5))),
        ("", Lot("d", Decimal(8), at(20), at(30))),  # pending: expires all the same
        ("", Lot("e", Decimal(16), T0, None)),
    ]:
        ledger = earn(ledger, subledger, lot, T0)
    found = [(e.subledger_id, e.points, e.expiry_date) for e in history.expirations(ledger, None, T0)]
    assert found == [("beauty", Decimal(4), at(5)), ("", Decimal(3), at(10)), ("", Decimal(8), at(30))]
    assert [e.points for e in history.expirations(advance(ledger, at(6)), "", at(6))] == [3, 8]
