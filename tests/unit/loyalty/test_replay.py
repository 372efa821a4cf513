"""A ledger replayed from its entries equals the ledger as it was, at every instant: random sequences of earnings
(at once, later, awaiting nothing), spendings, rollbacks of earnings and give-backs of spendings, each written
as the services write its entry; at each step and at random instants after, the replay's balances match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.loyalty.items import Entry
from patron.loyalty.ledger import Ledger, Lot, ReturnPolicy, advance, earn, give_back, revoke, spend
from patron.loyalty.replay import ledger_at
from patron.promotions.definitions import LoyaltyProgram

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROGRAM = msgspec.convert(
    {"id": 1, "name": "p", "tiers": [{"name": "S", "minPoints": 0}, {"name": "G", "minPoints": 300}]}, LoyaltyProgram
)

steps = st.lists(
    st.tuples(
        st.sampled_from(["earn", "spend", "revoke", "give back"]),
        st.integers(1, 200),
        st.integers(1, 48),  # hours since the previous step
        st.one_of(st.none(), st.integers(1, 100)),  # an earning's start, hours after (None: at once)
        st.one_of(st.none(), st.integers(1, 300)),  # an earning's validity in hours (None: unlimited)
        st.integers(0, 30),  # which earlier entry a rollback or give-back undoes
    ),
    min_size=1,
    max_size=30,
)


def figures(ledger: Ledger, at: datetime) -> dict[str, tuple[Decimal, ...]]:
    return {
        name: (b.active_points(at), b.pending_points(at), b.spent, b.expired, b.debt, b.earned, b.revoked)
        for name, b in ledger.subledgers.items()
        if b.earned or b.spent or b.debt
    }


@settings(max_examples=200, deadline=None)
@given(steps, st.integers(0, 400))
def test_a_replayed_ledger_equals_the_ledger_at_every_instant(
    sequence: list[tuple[str, int, int, int | None, int | None, int]], later: int
) -> None:
    ledger, entries, now = Ledger(as_of=T0), list[Entry](), T0
    history: list[tuple[datetime, Ledger]] = []
    for number, (kind, amount, gap, start, validity, pick) in enumerate(sequence):
        now += timedelta(hours=gap)
        txn, points = f"t{number}", Decimal(amount)
        if kind == "earn":
            starts = now + timedelta(hours=start) if start else now
            expires = starts + timedelta(hours=validity) if validity else None
            ledger = earn(ledger, "", Lot(txn, points, starts, expires), now)
            entries.append(Entry(txn, "addition", "", points, "", now, starts=starts, expires=expires))
        elif kind == "spend":
            spent = spend(ledger, "", points, now, partial=True)
            if spent.deducted <= 0:
                continue
            ledger = spent.ledger
            entries.append(Entry(txn, "subtraction", "", spent.deducted, "", now, draws=spent.draws))
        else:
            wanted = "addition" if kind == "revoke" else "subtraction"
            candidates = [e for e in entries if e.kind == wanted and e.rolls_back is None]
            if not candidates:
                continue
            undone = candidates[pick % len(candidates)]
            if any(e.rolls_back == undone.transaction_id for e in entries):
                continue  # undone once
            if kind == "revoke":
                ledger, took = revoke(
                    ledger, "", undone.transaction_id, undone.amount, now, ReturnPolicy.WITHIN_BALANCE
                )
                if took <= 0:
                    continue
                entries.append(Entry(txn, "subtraction", "", took, "", now, rolls_back=undone.transaction_id))
            else:
                ledger = give_back(ledger, "", undone.transaction_id, undone.draws, undone.into_debt, now)
                entries.append(
                    Entry(txn, "addition", "", undone.amount, "", now, starts=now, rolls_back=undone.transaction_id)
                )
        history.append((now, ledger))
    for instant, then in history:
        assert figures(ledger_at(entries, instant, PROGRAM), instant) == figures(advance(then, instant), instant)
    end = now + timedelta(hours=later)
    assert figures(ledger_at(entries, end, PROGRAM), end) == figures(advance(ledger, end), end)
