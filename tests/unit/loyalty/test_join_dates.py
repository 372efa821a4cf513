"""When a member joins a program, by its `joinPolicy`: never (`not_join`), at its first earning (`points_earned`),
or when its first points become active (`points_activated`, a future start answered only once it has come)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from patron.loyalty.ledger import Ledger, Lot, earn, spend
from patron.loyalty.program import join_date, joined_by
from patron.promotions.definitions import LoyaltyProgram

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def program(policy: str) -> LoyaltyProgram:
    return msgspec.convert({"id": 1, "name": "p", "joinPolicy": policy}, LoyaltyProgram)


def earned(starts: datetime | None) -> Ledger:
    return earn(Ledger(as_of=T0), "", Lot("a", Decimal(10), starts, None), T0)


def test_not_join_never_joins():
    assert join_date(program("not_join"), None, earned(T0), T0) is None


def test_points_earned_joins_at_the_first_earning_even_of_pending_points():
    later = T0 + timedelta(days=10)
    assert join_date(program("points_earned"), None, earned(later), T0) == T0.isoformat()
    assert join_date(program("points_earned"), None, Ledger(as_of=T0), T0) is None


def test_points_activated_joins_when_the_first_points_start():
    later = T0 + timedelta(days=10)
    assert join_date(program("points_activated"), None, earned(T0), T0) == T0.isoformat()
    joined = join_date(program("points_activated"), None, earned(later), T0)
    assert joined == later.isoformat()
    assert joined_by(joined, T0) is None and joined_by(joined, later) == later.isoformat()
    assert join_date(program("points_activated"), None, earned(None), T0) is None  # awaiting an action


def test_a_join_date_once_set_stays():
    spent = spend(earned(T0), "", Decimal(10), T0).ledger
    first = (T0 - timedelta(days=1)).isoformat()
    assert join_date(program("points_activated"), first, spent, T0) == first
    assert join_date(program("points_activated"), None, spent, T0) == T0.isoformat()
