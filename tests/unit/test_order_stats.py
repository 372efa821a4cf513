"""The statistics rule: exact counts, sums and first/last dates under every change."""

from decimal import Decimal

from patron.orders.model import Contribution
from patron.orders.service import recompute
from patron.profiles.stats import CustomerStats


def c(amount: str, date: str, customer: str = "alice") -> Contribution:
    return Contribution(customer, Decimal(amount), date)


def never(*_: bool) -> tuple[str | None, str | None]:
    raise AssertionError("the extremes should not be re-read here")


EMPTY = CustomerStats()


def test_a_first_sale_sets_everything():
    stats = recompute(EMPTY, "alice", None, c("10.50", "2024-01-02"), never)
    assert stats == CustomerStats(1, Decimal("10.50"), "2024-01-02", "2024-01-02")
    assert stats.average_order_value == Decimal("10.50")


def test_an_amount_change_moves_the_sum_only():
    start = CustomerStats(2, Decimal("30"), "2024-01-01", "2024-02-01")
    stats = recompute(start, "alice", c("10", "2024-01-15"), c("25", "2024-01-15"), never)
    assert stats == CustomerStats(2, Decimal("45"), "2024-01-01", "2024-02-01")


def test_cancelling_the_first_order_re_reads_the_first_date():
    start = CustomerStats(3, Decimal("60"), "2024-01-01", "2024-03-01")
    stats = recompute(
        start,
        "alice",
        c("10", "2024-01-01"),
        None,
        lambda first, last: ("2024-02-01" if first else None, "2024-03-01" if last else None),
    )
    assert stats == CustomerStats(2, Decimal("50"), "2024-02-01", "2024-03-01")


def test_cancelling_the_only_order_empties_the_statistics():
    start = CustomerStats(1, Decimal("10"), "2024-01-01", "2024-01-01")
    assert recompute(start, "alice", c("10", "2024-01-01"), None, never) == EMPTY  # no re-read needed


def test_moving_an_order_to_another_customer_moves_its_contribution():
    start = CustomerStats(1, Decimal("10"), "2024-01-01", "2024-01-01")
    moved = c("10", "2024-01-01", customer="bob")
    assert recompute(start, "alice", c("10", "2024-01-01"), moved, never) == EMPTY
    assert recompute(EMPTY, "bob", c("10", "2024-01-01"), moved, never) == CustomerStats(
        1, Decimal("10"), "2024-01-01", "2024-01-01"
    )


def test_an_order_in_the_middle_never_re_reads():
    start = CustomerStats(2, Decimal("20"), "2024-01-01", "2024-03-01")
    stats = recompute(start, "alice", c("5", "2024-02-01"), c("5", "2024-02-02"), never)
    assert stats == CustomerStats(2, Decimal("20"), "2024-01-01", "2024-03-01")


def test_a_later_date_on_the_last_order_re_reads_then_extends():
    start = CustomerStats(2, Decimal("20"), "2024-01-01", "2024-03-01")
    asked = []

    def extremes(first: bool, last: bool) -> tuple[str | None, str | None]:
        asked.append((first, last))
        return (None, "2024-01-01")

    stats = recompute(start, "alice", c("10", "2024-03-01"), c("10", "2024-04-01"), extremes)
    assert stats == CustomerStats(2, Decimal("20"), "2024-01-01", "2024-04-01")
    assert asked == [(False, True)]  # only the end the order held


def test_an_amount_change_on_the_first_and_last_order_re_reads_nothing():
    start = CustomerStats(1, Decimal("10"), "2024-01-01", "2024-01-01")
    assert recompute(start, "alice", c("10", "2024-01-01"), c("12", "2024-01-01"), never) == CustomerStats(
        1, Decimal("12"), "2024-01-01", "2024-01-01"
    )


def test_stats_of_new_orders_counts_sales_only_and_spans_their_dates():
    from patron.orders.service import stats_of

    stats = stats_of(
        "alice",
        [c("10.10", "2024-03-01"), None, c("5", "2023-12-31"), c("1", "2024-01-01", customer="bob")],
    )
    assert stats == CustomerStats(2, Decimal("15.10"), "2023-12-31", "2024-03-01")
    assert stats_of("alice", []) == EMPTY
