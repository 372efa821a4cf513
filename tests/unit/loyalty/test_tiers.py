"""Tiers as Talon.One's: basic tiers follow the active balance up and down; advanced tiers (`tiersExpireIn`) go up
at once and are reevaluated only when they expire (`one_down`, `balance_based`), renewed from then
(`tier_start_date`) or at the next cycle boundary (`absolute_expiration`). A tier read at any instant is the same
whether it was carried through every instant between (the job, or other changes) or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.loyalty.ledger import Ledger, Lot, TierState, advance, earn, spend
from patron.loyalty.tiers import carried, projected
from patron.loyalty.tiers import given as give_tier
from patron.promotions.definitions import LoyaltyProgram

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TIERS = [{"name": "Bronze", "minPoints": 0}, {"name": "Silver", "minPoints": 500}, {"name": "Gold", "minPoints": 1000}]


def program(**fields: Any) -> LoyaltyProgram:
    return msgspec.convert({"id": 1, "name": "p", "tiers": TIERS, **fields}, LoyaltyProgram)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class Member:
    """A member's stored ledger, changed and read the way the services do: each change carries the tier."""

    def __init__(self, definition: LoyaltyProgram):
        self.program = definition
        self.ledger = Ledger(as_of=T0)

    def earn(self, points: int, at: datetime, starts: datetime | None = None, expires: datetime | None = None) -> None:
        lot = Lot(f"lot{at.isoformat()}{points}", Decimal(points), starts or at, expires)
        self.ledger = carried(self.ledger, earn(self.ledger, "", lot, at), self.program, at)

    def spend(self, points: int, at: datetime) -> None:
        self.ledger = carried(self.ledger, spend(self.ledger, "", Decimal(points), at).ledger, self.program, at)

    def tier(self, at: datetime) -> TierState | None:
        return carried(self.ledger, advance(self.ledger, at), self.program, at).tier


def test_basic_tiers_follow_the_active_balance_up_and_down():
    member = Member(program())
    member.earn(1200, day(1))
    assert member.tier(day(2)) == TierState("Gold", day(1))
    member.spend(800, day(3))
    assert member.tier(day(4)) == TierState("Bronze", day(3))
    member.earn(100, day(5))
    assert member.tier(day(5)) == TierState("Silver", day(5))


def test_basic_tiers_go_down_when_points_expire_at_the_instant_they_do():
    member = Member(program())
    member.earn(600, day(1), expires=day(10))
    assert member.tier(day(9)) == TierState("Silver", day(1))
    assert member.tier(day(11)) == TierState("Bronze", day(10))


def test_an_advanced_tier_is_kept_until_it_expires_then_goes_one_down_per_expiry():
    member = Member(program(tiersExpireIn="30D"))
    member.earn(1200, day(0))
    assert member.tier(day(0)) == TierState("Gold", day(0), day(30))
    member.spend(1100, day(1))
    assert member.tier(day(29)) == TierState("Gold", day(0), day(30))  # kept, whatever the balance
    assert member.tier(day(31)) == TierState("Silver", day(30), day(60))
    assert member.tier(day(61)) == TierState("Bronze", day(60), day(90))


def test_balance_based_downgrade_goes_to_the_tier_the_balance_reaches():
    member = Member(program(tiersExpireIn="30D", tiersDowngradePolicy="balance_based"))
    member.earn(1200, day(0))
    member.spend(1100, day(1))
    assert member.tier(day(31)) == TierState("Bronze", day(30), day(60))


def test_a_tier_the_balance_still_reaches_at_its_expiry_is_renewed_from_then_keeping_its_start():
    member = Member(program(tiersExpireIn="30D"))
    member.earn(1200, day(0))
    assert member.tier(day(45)) == TierState("Gold", day(0), day(60))


def test_pending_points_that_start_raise_the_tier_at_the_instant_they_start():
    member = Member(program(tiersExpireIn="30D"))
    member.earn(1200, day(0), starts=day(5))
    assert member.tier(day(4)) == TierState("Bronze", day(0), day(30))
    assert member.tier(day(6)) == TierState("Gold", day(5), day(35))


def test_the_reevaluation_counts_the_points_active_at_the_tiers_expiry():
    member = Member(program(tiersExpireIn="30D"))
    member.earn(1200, day(0), expires=day(20))  # gone before the tier expires
    member.earn(600, day(1))
    assert member.tier(day(31)) == TierState("Silver", day(30), day(60))


def test_absolute_expiration_reevaluates_at_each_cycle_boundary():
    member = Member(
        program(tiersExpireIn="1M", tiersExpirationPolicy="absolute_expiration", tierCycleStartDate=T0.isoformat())
    )
    member.earn(1200, day(14))
    assert member.tier(day(15)) == TierState("Gold", day(14), datetime(2026, 2, 1, tzinfo=UTC))
    member.spend(1200, day(16))
    assert member.tier(datetime(2026, 2, 2, tzinfo=UTC)).name == "Silver"  # type: ignore[union-attr]


def test_the_projected_tier_counts_what_will_be_active_when_the_tier_expires():
    member = Member(program(tiersExpireIn="30D"))
    member.earn(700, day(0), expires=day(20))
    member.earn(400, day(0))
    ledger = carried(member.ledger, advance(member.ledger, day(10)), member.program, day(10))
    ahead = projected(ledger, ledger.tier, member.program)
    assert ahead is not None
    assert (ahead.active_points, ahead.tier, ahead.stay_points) == (Decimal(400), "Silver", Decimal(600))


def test_a_program_without_tiers_gives_none():
    member = Member(msgspec.convert({"id": 1, "name": "p"}, LoyaltyProgram))
    member.earn(100, day(0))
    assert member.tier(day(1)) is None


changes = st.lists(
    st.tuples(
        st.sampled_from(["earn", "spend", "read"]),
        st.integers(1, 900),
        st.integers(0, 40),  # days after the previous change
        st.one_of(st.none(), st.integers(1, 60)),  # an earning's start (days after), or at once
        st.one_of(st.none(), st.integers(1, 90)),  # an earning's validity in days, or unlimited
    ),
    min_size=1,
    max_size=25,
)
policies = st.sampled_from(
    [{}, {"tiersExpireIn": "30D"}, {"tiersExpireIn": "45D", "tiersDowngradePolicy": "balance_based"}]
)


@settings(max_examples=150, deadline=None)
@given(changes, policies, st.integers(0, 200))
def test_a_tier_read_at_any_instant_is_the_same_whether_it_was_carried_through_the_instants_between(
    steps: list[tuple[str, int, int, int | None, int | None]], fields: dict[str, str], later: int
) -> None:
    """The member changed with reads between (the scheduled job, or any call) and without them: every read agrees."""
    definition = program(**fields)
    often, seldom = Member(definition), Member(definition)
    now = T0
    for kind, points, gap, start, validity in steps:
        now += timedelta(days=gap)
        if kind == "earn":
            starts = now + timedelta(days=start) if start else None
            expires = (starts or now) + timedelta(days=validity) if validity else None
            for member in (often, seldom):
                member.earn(points, now, starts, expires)
        elif kind == "spend":
            available = often.ledger.balance("").active_points(now)
            advanced = advance(often.ledger, now).balance("").active_points(now)
            assert available >= 0 and advanced >= 0
            if advanced >= points:
                for member in (often, seldom):
                    member.spend(points, now)
        else:  # a read that stores (the job): the ledger advanced, the tier carried
            often.ledger = carried(often.ledger, advance(often.ledger, now), definition, now)
        assert often.tier(now) == seldom.tier(now)
    end = now + timedelta(days=later)
    assert often.tier(end) == seldom.tier(end)


def test_a_tier_given_by_a_rule_is_held_until_it_expires_then_the_balance_decides():
    member = Member(program())
    member.earn(100, day(0))
    moved = give_tier(member.ledger, member.ledger, member.program, "Gold", "10D", day(1))
    assert moved is not None
    ledger, previous = moved
    assert previous == TierState("Bronze", day(0))
    member.ledger = carried(member.ledger, ledger, member.program, day(1))
    assert member.tier(day(5)) == TierState("Gold", day(1), day(11), given=True)
    member.spend(50, day(6))  # basic tiers, yet the given tier holds
    assert member.tier(day(7)) == TierState("Gold", day(1), day(11), given=True)
    assert member.tier(day(12)) == TierState("Bronze", day(11))


def test_a_tier_is_never_given_downwards_or_again():
    member = Member(program(tiersExpireIn="30D"))
    member.earn(700, day(0))
    assert give_tier(member.ledger, member.ledger, member.program, "Silver", None, day(1)) is None
    assert give_tier(member.ledger, member.ledger, member.program, "Bronze", None, day(1)) is None
    moved = give_tier(member.ledger, member.ledger, member.program, "Gold", None, day(1))
    assert moved is not None and moved[0].tier == TierState("Gold", day(1), day(31), given=True)
