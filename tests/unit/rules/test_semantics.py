"""What conditions answer: exact decimals, absent and wrong-typed values, time in the application's timezone,
every function. Each answer is asked of the compiled closure and of the interpreter alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from patron.promotions.rules import (
    Compiler,
    EventFacts,
    Facts,
    Interpreter,
    ProfileFacts,
    TimeFacts,
    compile_item_value,
    compile_value,
    parse,
)
from tests.unit.rules.builders import SCHEMA, facts, item

CART = facts(
    [
        item("A-1", "60", 1, "shoes", position=0, attributes={"color": "red", "weight": 2}),
        item("A-2", "50", 2, "shoes", position=1, attributes={"color": "blue"}),
        item("GIFT-1", "0", 1, None, position=2, name="Gift"),
    ],
    coupon_codes=("SUMMER",),
    session_attributes={"channel": "web", "vip": True, "score": 7, "legacy": "yes", "on": True, "n": 3, "f": 0.1},
    profile=ProfileFacts(
        integration_id="p-1",
        attributes={"tier": "gold", "points": "many", "birthday": "1990-05-02T00:00:00Z"},
        closed_sessions=0,
        total_sales=Decimal("120.50"),
        last_order_at=datetime(2026, 2, 1, 12, tzinfo=UTC),
    ),
    event=EventFacts(type="newsletter_signup", attributes={"rating": 5}),
    additional_costs={"shipping": Decimal("4.90")},
)


def holds(text: str, on: Facts = CART) -> bool:
    compiled = Compiler(SCHEMA).condition(text)(on)
    assert compiled is Interpreter(SCHEMA).condition(parse(text), on), text
    return compiled


def value(text: str, on: Facts = CART) -> Any:
    compiled = compile_value(text, schema=SCHEMA)(on)
    interpreted = Interpreter(SCHEMA).evaluate(parse(text), on)
    assert repr(compiled) == repr(interpreted), text
    return compiled


def test_arithmetic_is_exact() -> None:
    assert holds("0.1 + 0.2 == 0.3")
    assert value("0.1 + 0.2") == Decimal("0.3")
    assert value("session.attributes.f * 3") == Decimal("0.3")  # a float attribute is read by its text
    assert value("10 / 4") == Decimal("2.5")
    assert value("round(10 / 3, 2)") == Decimal("3.33")
    assert value("round(2.5)") == Decimal(3)  # half up, as money is rounded
    assert value("round(-2.5)") == Decimal(-3)
    assert (value("floor(-1.5)"), value("ceil(1.2)"), value("abs(-3)")) == (Decimal(-2), Decimal(2), Decimal(3))


def test_division_by_zero_is_absent_and_compares_false() -> None:
    assert value("session.total / 0") is None
    assert holds("session.total / 0 == null")
    assert not holds("session.total / 0 > 0")
    assert not holds("session.total / 0 <= 0")
    assert holds("not (session.total / 0 > 0)")
    assert value("1 / (session.total - session.total)") is None


def test_an_overflow_is_absent_not_an_exception() -> None:
    huge = facts(session_attributes={"big": Decimal("9E+999990")})
    assert value("session.attributes.big * session.attributes.big * session.attributes.big", huge) is None
    assert not holds("session.attributes.big * session.attributes.big > 0", huge)
    assert holds("session.attributes.big * session.attributes.big == null", huge)


def test_absent_values() -> None:
    anonymous = facts(profile=None, event=None)
    assert not holds('profile.attributes.tier == "gold"', anonymous)
    assert holds('profile.attributes.tier != "gold"', anonymous)  # != is exactly `not ==`
    assert holds("profile.attributes.tier == null", anonymous)
    assert not holds("profile.totalSales >= 0", anonymous)
    assert not holds("event.type == null and false", anonymous)
    assert holds("event.type == null", anonymous)
    assert value("profile.totalSales + 1", anonymous) is None
    assert value("coalesce(profile.totalSales, 0) + 1", anonymous) == Decimal(1)
    assert value("min(profile.totalSales, 5)", anonymous) is None
    assert value("additionalCosts.wrapping") is None
    assert holds("additionalCosts.wrapping == null")


def test_undeclared_attributes_are_dynamic_and_never_raise() -> None:
    assert holds("session.attributes.n == 3")  # an int from JSON is a number
    assert not holds('session.attributes.n == "3"')  # different types are never equal
    assert holds('session.attributes.n != "3"')
    assert not holds('session.attributes.n > "2"')
    assert not holds("session.attributes.legacy > 2")
    assert not holds("session.attributes.legacy")  # only `true` is true in a condition
    assert holds("session.attributes.vip")
    assert holds("session.attributes.on")
    assert not holds("session.attributes.on == 1")  # true is not 1
    assert not holds("session.attributes.missing > 0")
    assert value("session.attributes.legacy * 2") is None
    assert value('session.attributes.legacy + "!"') == "yes!"
    assert value("session.attributes.n + 1") == Decimal(4)


def test_declared_attributes_of_the_wrong_type_are_absent() -> None:
    assert value("profile.attributes.points") is None  # declared number, holds "many"
    assert not holds("profile.attributes.points >= 0")
    assert holds("profile.attributes.points == null")
    assert holds('profile.attributes.birthday < timestamp("2000-01-01T00:00:00Z")')  # a time read from its text


def test_the_session_items_and_costs() -> None:
    assert holds('session.cartItemTotal >= 100 and count(items, item.category == "shoes") >= 2')
    assert value("session.cartItemTotal") == Decimal(160)
    assert value('sum(items, item.price * item.quantity, item.category == "shoes")') == Decimal(160)
    assert value("sum(items, item.quantity)") == Decimal(4)
    assert value("count(items)") == Decimal(3)
    assert value('min(items, item.price, item.category == "shoes")') == Decimal(50)
    assert value("max(items, item.attributes.weight)") == Decimal(2)
    assert value('min(items, item.price, item.category == "hats")') is None
    assert holds('any(items, item.attributes.color == "red")')
    assert holds('any(items, item.name == "Gift" and item.category == null)')
    assert not holds("all(items, item.price > 0)")
    assert holds('all(items, item.category in ["shoes", "hats"] or item.price == 0)')
    assert holds("all(items, item.price > 1000)", facts([]))  # every one of no items
    assert value("count(items, item.position >= 1)") == Decimal(2)
    assert holds("additionalCosts.shipping == 4.90 and session.additionalCostTotal == 4.9")
    assert value('sum(additionalCosts, cost.price, cost.name == "shipping")') == Decimal("4.90")
    assert holds('any(additionalCosts, startsWith(cost.name, "ship"))')


def test_membership_and_strings() -> None:
    assert holds('"SUMMER" in session.couponCodes')
    assert holds('"WINTER" not in session.couponCodes')
    assert holds('contains(session.couponCodes, "SUMMER")')
    assert holds('session.state in ["open", "closed"]')
    assert holds('startsWith(session.attributes.channel, "we") and endsWith(session.attributes.channel, "eb")')
    assert holds('contains(session.attributes.channel, "e")')
    assert not holds("contains(session.attributes.legacy, 1)")
    assert holds('upper(session.attributes.channel) == "WEB" and lower("ÀB") == "àb"')
    assert holds('len(session.couponCodes) == 1 and len("héllo") == 5')
    assert holds('session.state + "-" + "x" == "open-x"')
    assert holds("3 in [1, 2, 3] and not (session.attributes.on in [1])")
    assert holds('[1, 2] == [1, 2] and ["a"] != ["b"]')


@pytest.mark.parametrize(
    ("instant", "zone", "weekday", "hour", "day"),
    [
        (datetime(2026, 5, 2, 22, 30, tzinfo=UTC), UTC, 6, 22, date(2026, 5, 2)),  # Saturday night in UTC
        (datetime(2026, 5, 2, 22, 30, tzinfo=UTC), timezone(timedelta(hours=2)), 7, 0, date(2026, 5, 3)),
        (datetime(2026, 5, 4, 3, 0, tzinfo=UTC), timezone(timedelta(hours=-5)), 7, 22, date(2026, 5, 3)),
    ],
)
def test_time_is_read_in_the_applications_timezone(
    instant: datetime, zone: timezone, weekday: int, hour: int, day: date
) -> None:
    on = Facts(session=CART.session, time=TimeFacts(instant, zone))
    assert value("time.weekday", on) == weekday
    assert value("time.hour", on) == hour
    assert value("time.date", on) == day
    assert value("time.instant", on) == instant
    assert holds(f'time.date == date("{day.isoformat()}")', on)
    assert holds("time.weekday in [6, 7]", on) == (weekday >= 6)


def test_days_since_counts_calendar_days_in_the_applications_timezone() -> None:
    on = facts(
        profile=ProfileFacts(integration_id="p", last_order_at=datetime(2026, 4, 30, 23, 30, tzinfo=UTC)),
        now=datetime(2026, 5, 2, 0, 30, tzinfo=UTC),
    )
    assert value("daysSince(profile.lastOrderAt)", on) == 2
    assert value('daysSince(date("2026-05-10"))', on) == -8
    assert value("daysSince(profile.firstOrderAt)", on) is None


def test_compiled_conditions_read_the_facts_when_called() -> None:
    """The evaluator lowers totals between campaigns (cascading discounts): a condition sees the current value."""
    on = facts([item("A-1", "100")])
    condition = Compiler().condition("session.total >= 100")
    assert condition(on)
    on.session.total = Decimal("90")
    assert not condition(on)


def test_shared_aggregates_are_computed_once_per_request() -> None:
    compiler = Compiler(share_aggregates=True)
    first = compiler.condition('count(items, item.category == "shoes") >= 2')
    second = compiler.condition('session.total > 0 and count(items, item.category == "shoes") == 2')
    on = facts([item("A-1", "1"), item("A-2", "1")])
    assert first(on) and second(on)
    assert len(on.memo) == 1  # one aggregate, shared
    on.items = (item("A-1", "1"),)
    assert first(on)  # the memo still holds the request's count ...
    on.changed()
    assert not first(on)  # ... until whoever changed the facts says so


def test_a_per_item_value_reads_the_item() -> None:
    amount = compile_item_value("item.price * item.quantity * 0.1", "number")
    line = item("A-1", "19.99", 3)
    assert amount(CART, line) == Decimal("5.997")
    assert compile_item_value("item.attributes.color", "number")(CART, item(attributes={"color": "red"})) is None


def test_a_value_of_another_type_than_expected_is_none() -> None:
    assert compile_value("session.attributes.legacy", "number")(CART) is None
    assert compile_value("session.attributes.legacy", "string")(CART) == "yes"
    assert compile_value("session.attributes.legacy", "dynamic")(CART) == "yes"
    assert compile_value("session.attributes.n")(CART) == Decimal(3)


def test_loyalty_functions_read_the_customers_standing_in_a_program() -> None:
    from patron.promotions.rules import LoyaltyFacts

    on = facts([item("A-1", "10")])
    on.loyalty = {
        1: LoyaltyFacts(active={"": Decimal("1200.50"), "beauty": Decimal(5)}, pending={"": Decimal(40)}, tier="Gold")
    }
    assert value("loyaltyPoints(1)", on) == Decimal("1200.50")
    assert value('loyaltyPoints(1, "beauty")', on) == 5
    assert value('loyaltyPoints(1, "unknown")', on) == 0
    assert value("pendingLoyaltyPoints(1)", on) == 40
    assert holds('loyaltyTier(1) == "Gold" and loyaltyPoints(1) >= 1000', on)
    assert value("loyaltyPoints(2)", on) is None  # a program the facts do not hold: absent
    assert not holds("loyaltyPoints(2) >= 0", on)
    on.loyalty = None  # an anonymous session
    assert value("loyaltyTier(1)", on) is None and not holds("loyaltyPoints(1) >= 0", on)


@pytest.mark.parametrize(
    "text",
    ["loyaltyPoints(session.total)", "loyaltyPoints(1.5)", "loyaltyPoints(0)", "loyaltyPoints(1, session.state)"],
)
def test_loyalty_functions_take_literal_program_ids_and_subledgers(text: str) -> None:
    from patron.promotions.rules import RuleError

    with pytest.raises(RuleError) as raised:
        Compiler(SCHEMA).condition(f"{text} >= 1")
    assert "literal" in str(raised.value)


def test_audience_membership_reads_the_profiles_audiences() -> None:
    member = facts([], profile=ProfileFacts(integration_id="p-2", audiences=[7, 12]))
    assert holds("7 in profile.audiences", member) and holds("12 in profile.audiences", member)
    assert not holds("8 in profile.audiences", member)
    assert holds("8 not in profile.audiences", member)
    assert holds("contains(profile.audiences, 12)", member)
    # No profile (an anonymous session): no audience, and no error.
    anonymous = facts([])
    assert not holds("7 in profile.audiences", anonymous)
    assert not holds("7 in profile.audiences")  # a profile in no audience
