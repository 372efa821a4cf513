"""The decide step with hand-built campaigns: which campaigns apply in each evaluation mode, discounts never
exceeding what they apply to, budgets granting part of a discount with its desiredValue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from patron.promotions import actions
from patron.promotions.budgets import Bound, Budget, CounterKey
from patron.promotions.definitions import DiscountScope, EvaluationMode, ItemDistribution
from patron.promotions.evaluator import (
    CompiledCampaign,
    CompiledGroup,
    CompiledRule,
    Request,
    evaluate,
)
from patron.promotions.money import Money
from patron.promotions.pricing import Line, Pricing

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
EUR = Money("EUR")


@dataclass
class Item:
    sku: str
    price: Decimal
    quantity: int
    category: str = ""


@dataclass
class Facts:
    items: list[Item]
    total: Decimal = Decimal(0)
    flags: dict[str, Any] = field(default_factory=dict)


def cart(*lines: tuple[str, str, int], costs: dict[str, str] | None = None) -> tuple[Facts, Pricing]:
    items = [Item(sku, Decimal(price), quantity) for sku, price, quantity in lines]
    pricing = Pricing(
        [Line(position, item.sku, item.quantity, item.price) for position, item in enumerate(items)],
        {name: Decimal(value) for name, value in (costs or {}).items()},
    )
    return Facts(items, total=pricing.total_left), pricing


def always(_: Any) -> bool:
    return True


def constant(value: str) -> Any:
    return lambda *_: Decimal(value)


def campaign(campaign_id: int, *effects: Any, condition: Any = always, group: int = 0) -> CompiledCampaign:
    rule = CompiledRule(index=0, title=f"rule {campaign_id}", condition=condition, effects=effects)
    return CompiledCampaign(campaign_id, f"campaign {campaign_id}", group, 0, None, None, [rule])


def run(
    groups: list[CompiledGroup],
    facts: Facts,
    pricing: Pricing,
    budgets: dict[int, Budget] | None = None,
    cascading: bool = False,
) -> Any:
    def refresh(facts: Facts, pricing: Pricing) -> None:
        facts.total = pricing.total_left

    request = Request(
        facts=facts,
        pricing=pricing,
        now=NOW,
        budgets=lambda c: (budgets or {}).get(c.id, Budget([], {})),
        cascading=cascading,
        money=EUR,
        ruleset_id=7,
        refresh_facts=refresh,
    )
    return evaluate(groups, request)


def group(mode: EvaluationMode, *campaigns: CompiledCampaign, group_id: int = 1) -> CompiledGroup:
    return CompiledGroup(group_id, f"group {group_id}", mode, campaigns)


def ten_off(campaign_id: int, amount: str = "10", **kwargs: Any) -> CompiledCampaign:
    effect = actions.set_discount(f"off {campaign_id}", constant(amount), DiscountScope.SESSION_TOTAL)
    return campaign(campaign_id, effect, **kwargs)


def test_a_session_discount_is_capped_by_the_session_total():
    facts, pricing = cart(("a", "30", 1))
    result = run([group(EvaluationMode.STACKABLE, ten_off(1, "50"))], facts, pricing)
    (effect,) = result.effects
    assert effect.props.value == Decimal("30.00") and effect.props.desired_value == Decimal("50.00")
    assert (effect.campaign_id, effect.ruleset_id, effect.effect_type) == (1, 7, "setDiscount")


def test_stackable_applies_every_campaign_and_list_order_only_the_first_that_triggers():
    never = campaign(
        1, actions.set_discount("x", constant("1"), DiscountScope.SESSION_TOTAL), condition=lambda f: False
    )
    facts, pricing = cart(("a", "100", 1))
    stacked = run([group(EvaluationMode.STACKABLE, never, ten_off(2), ten_off(3))], facts, pricing)
    assert [e.campaign_id for e in stacked.effects] == [2, 3]
    facts, pricing = cart(("a", "100", 1))
    first = run([group(EvaluationMode.LIST_ORDER, never, ten_off(2), ten_off(3))], facts, pricing)
    assert [e.campaign_id for e in first.effects] == [2]


def test_exclusive_stops_every_later_group_and_highest_discount_picks_the_largest():
    facts, pricing = cart(("a", "100", 1))
    result = run(
        [
            group(EvaluationMode.EXCLUSIVE, ten_off(1), ten_off(2)),
            group(EvaluationMode.STACKABLE, ten_off(3), group_id=2),
        ],
        facts,
        pricing,
    )
    assert [e.campaign_id for e in result.effects] == [1]
    facts, pricing = cart(("a", "100", 1))
    best = run(
        [group(EvaluationMode.HIGHEST_DISCOUNT, ten_off(1, "5"), ten_off(2, "20"), ten_off(3, "20"))], facts, pricing
    )
    assert [(e.campaign_id, e.props.value) for e in best.effects] == [(2, Decimal("20.00"))]
    assert pricing.total_left == Decimal(80)
    facts, pricing = cart(("a", "100", 1))
    least = run([group(EvaluationMode.LOWEST_DISCOUNT, ten_off(1, "5"), ten_off(2, "20"))], facts, pricing)
    assert [e.campaign_id for e in least.effects] == [1]


def test_cascading_lets_later_conditions_see_earlier_discounts():
    def over_95(facts: Facts) -> bool:
        return facts.total >= 95

    for cascading, expected in ((False, [1, 2]), (True, [1])):
        facts, pricing = cart(("a", "100", 1))
        result = run(
            [group(EvaluationMode.STACKABLE, ten_off(1), ten_off(2, condition=over_95))],
            facts,
            pricing,
            cascading=cascading,
        )
        assert [e.campaign_id for e in result.effects] == expected


def test_a_discount_budget_grants_what_is_left_and_says_what_was_desired():
    key = CounterKey(1, "setDiscount", "", "", "overall")
    budget = Budget([Bound(key, Decimal(100))], {key: Decimal(95)})
    facts, pricing = cart(("a", "100", 1))
    result = run([group(EvaluationMode.STACKABLE, ten_off(1))], facts, pricing, budgets={1: budget})
    (effect,) = result.effects
    assert effect.props.value == Decimal(5) and effect.props.desired_value == Decimal("10.00")
    assert result.consumption == {key: Decimal(5)}

    spent = Budget([Bound(key, Decimal(100))], {key: Decimal(100)})
    facts, pricing = cart(("a", "100", 1))
    result = run([group(EvaluationMode.STACKABLE, ten_off(1))], facts, pricing, budgets={1: spent})
    assert result.effects == [] and [f.details for f in result.failures] == ["CampaignLimitReached"]


def test_a_redemption_limit_that_is_reached_keeps_the_campaign_out():
    key = CounterKey(1, "setDiscountEffect", "Profile", "p1", "overall")
    used_up = Budget([Bound(key, Decimal(1))], {key: Decimal(1)})
    facts, pricing = cart(("a", "100", 1))
    result = run([group(EvaluationMode.STACKABLE, ten_off(1), ten_off(2))], facts, pricing, budgets={1: used_up})
    assert [e.campaign_id for e in result.effects] == [2]
    assert result.failures[0].campaign_id == 1 and result.failures[0].details == "CampaignLimitReached"
    facts, pricing = cart(("a", "100", 1))
    fresh = Budget([Bound(key, Decimal(1))], {})
    assert run([group(EvaluationMode.STACKABLE, ten_off(1))], facts, pricing, budgets={1: fresh}).consumption == {
        key: Decimal(1)
    }


def test_per_unit_discounts_name_each_unit_and_pro_rata_shares_add_up_exactly():
    facts, pricing = cart(("a", "10", 3), ("b", "5", 1))
    per_unit = actions.set_discount_per_item("unit", None, constant("10"), None, ItemDistribution.UNIT, None)
    result = run([group(EvaluationMode.STACKABLE, campaign(1, per_unit))], facts, pricing)
    assert [(e.props.position, e.props.sub_position, e.props.value) for e in result.effects] == [
        (0, 0, Decimal("1.00")),
        (0, 1, Decimal("1.00")),
        (0, 2, Decimal("1.00")),
        (1, 0, Decimal("0.50")),
    ]
    facts, pricing = cart(("a", "1", 1), ("b", "1", 1), ("c", "1", 1))
    shared = actions.set_discount_per_item("share", None, None, constant("1"), ItemDistribution.PRO_RATA, None)
    result = run([group(EvaluationMode.STACKABLE, campaign(1, shared))], facts, pricing)
    assert sum(e.props.value for e in result.effects) == Decimal("1.00")
    assert [e.props.value for e in result.effects] == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]


def test_rollbacks_mirror_discounts_and_nothing_else():
    facts, pricing = cart(("a", "10", 1), costs={"shipping": "5"})
    effects = [
        actions.set_discount("s", constant("1"), DiscountScope.SESSION_TOTAL),
        actions.set_discount_per_additional_cost("ship", "shipping", 1, None, constant("5")),
        actions.add_free_item("gift", "A gift"),
    ]
    result = run([group(EvaluationMode.STACKABLE, campaign(1, *effects))], facts, pricing)
    rolled = [effect.rollback() for effect in result.effects]
    assert [r.effect_type if r else None for r in rolled] == ["rollbackDiscount", "rollbackDiscount", None]
    assert rolled[1] is not None and rolled[1].props.additional_cost == "shipping"


amounts = st.decimals(min_value=0, max_value=500, places=2)


@given(
    lines=st.lists(st.tuples(amounts, st.integers(1, 4)), min_size=1, max_size=6),
    cost=amounts,
    discounts=st.lists(
        st.tuples(st.sampled_from(["session", "items", "costs", "each", "unit", "share"]), amounts), max_size=8
    ),
)
def test_discounts_never_exceed_what_they_apply_to(lines, cost, discounts):
    facts, pricing = cart(
        *((f"s{i}", str(price), quantity) for i, (price, quantity) in enumerate(lines)), costs={"ship": str(cost)}
    )
    built: list[Any] = []
    for kind, value in discounts:
        amount = constant(str(value))
        if kind in ("session", "items", "costs"):
            scope = {
                "session": DiscountScope.SESSION_TOTAL,
                "items": DiscountScope.CART_ITEMS,
                "costs": DiscountScope.ADDITIONAL_COSTS,
            }[kind]
            built.append(actions.set_discount(kind, amount, scope))
        else:
            distribution = {
                "each": ItemDistribution.EACH,
                "unit": ItemDistribution.UNIT,
                "share": ItemDistribution.PRO_RATA,
            }[kind]
            built.append(actions.set_discount_per_item(kind, None, None, amount, distribution, None))
    session_total = sum((Decimal(str(p)) * q for p, q in lines), Decimal(0))
    result = run([group(EvaluationMode.STACKABLE, campaign(1, *built))], facts, pricing)
    assert result.discount <= session_total + cost
    per_line: dict[int, Decimal] = {}
    for effect in result.effects:
        assert effect.props.value > 0
        if effect.effect_type == "setDiscountPerItem":
            per_line[effect.props.position] = per_line.get(effect.props.position, Decimal(0)) + effect.props.value
    for position, given_amount in per_line.items():
        price, quantity = lines[position]
        assert given_amount <= Decimal(str(price)) * quantity
    assert pricing.total_left >= 0 and pricing.items_left >= 0


def test_a_schedule_is_compared_by_instant_whatever_the_zones() -> None:
    """Schedules are kept in UTC for the per-request check: the instants decide, across DST (the second 02:30 of
    Rome's autumn change is 01:30 UTC, the first 00:30 UTC)."""
    rome = ZoneInfo("Europe/Rome")
    start = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=rome)
    end = datetime(2026, 10, 26, tzinfo=rome)
    scheduled = CompiledCampaign(1, "scheduled", 0, 0, start, end, [])
    assert not scheduled.running(datetime(2026, 10, 25, 1, 29, tzinfo=UTC))
    assert scheduled.running(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    assert not scheduled.running(datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=rome))
    assert scheduled.running(datetime(2026, 10, 25, 23, 59, tzinfo=rome))
    assert not scheduled.running(datetime(2026, 10, 25, 23, tzinfo=UTC))
    assert scheduled.start == start  # as defined, for the wire
