"""Index keys: what `requirements` reads from a condition, and that it is never wrong: a condition is false for
every request that lacks one of its requirements."""

from __future__ import annotations

from decimal import Decimal
from random import Random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from patron.promotions.rules import Compiler, Facts, Requirements, parse, requirements, requirements_of_any
from patron.promotions.rules.tree import (
    Aggregate,
    And,
    Boolean,
    Call,
    Compare,
    CompareOperator,
    Get,
    In,
    ListOf,
    Node,
    Number,
    Or,
    String,
    bound_issues,
)
from tests.unit.rules.builders import (
    CATEGORIES,
    CODES,
    EVENT_TYPES,
    SCHEMA,
    SKUS,
    conditions,
    facts_from,
    random_facts,
)


def needs(text: str) -> Requirements:
    return requirements(parse(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('event.type == "newsletter_signup"', Requirements(event_types=frozenset({"newsletter_signup"}))),
        ('"a" == event.type', Requirements(event_types=frozenset({"a"}))),
        ('event.type in ["a", "b"]', Requirements(event_types=frozenset({"a", "b"}))),
        ('event.type == "a" or event.type == "b"', Requirements(event_types=frozenset({"a", "b"}))),
        (
            'event.type in ["a", "b"] and event.type != "c" and event.type == "b"',
            Requirements(event_types=frozenset({"b"})),
        ),
        ('"SUMMER" in session.couponCodes', Requirements(coupon_codes=frozenset({"SUMMER"}))),
        ('contains(session.couponCodes, "SUMMER")', Requirements(coupon_codes=frozenset({"SUMMER"}))),
        ('any(items, item.category == "shoes")', Requirements(categories=frozenset({"shoes"}))),
        ('count(items, item.sku == "y") >= 1', Requirements(skus=frozenset({"y"}))),
        ('count(items, item.sku in ["y", "z"]) > 0', Requirements(skus=frozenset({"y", "z"}))),
        ('2 <= count(items, item.category == "shoes")', Requirements(categories=frozenset({"shoes"}))),
        ('count(items, item.category == "shoes") == 3', Requirements(categories=frozenset({"shoes"}))),
        ('sum(items, item.price, item.category == "shoes") > 0', Requirements(categories=frozenset({"shoes"}))),
        ('max(items, item.price, item.sku == "y") < 10', Requirements(skus=frozenset({"y"}))),
        (
            'any(items, item.sku == "y" and item.category == "c")',
            Requirements(skus=frozenset({"y"}), categories=frozenset({"c"})),
        ),
        (
            'session.total > 10 and "VIP" in session.couponCodes and any(items, item.category in ["a", "b"])',
            Requirements(coupon_codes=frozenset({"VIP"}), categories=frozenset({"a", "b"})),
        ),
        (
            'session.storeIntegrationId == "store-7" and session.total > 10',
            Requirements(fields=(("session.storeIntegrationId", frozenset({"store-7"})),)),
        ),
        (
            '"gold" == profile.attributes.tier and session.attributes.channel in ["web", "app"]',
            Requirements(
                fields=(
                    ("profile.attributes.tier", frozenset({"gold"})),
                    ("session.attributes.channel", frozenset({"web", "app"})),
                )
            ),
        ),
        (
            'session.state == "open" or session.state == "closed"',
            Requirements(fields=(("session.state", frozenset({"open", "closed"})),)),
        ),
        (
            'event.attributes.d == "x" and event.attributes.d == "y"',
            Requirements(fields=(("event.attributes.d", frozenset()),)),
        ),
        # Nothing known: each of these can be true without any particular event, code or item.
        ('event.type != "a"', Requirements()),
        ('not (event.type == "a")', Requirements()),
        ('"SUMMER" not in session.couponCodes', Requirements()),
        ('event.type == "a" or session.total > 100', Requirements()),
        ('count(items, item.category == "shoes") >= 0', Requirements()),
        ('count(items, item.category == "shoes") < 2', Requirements()),
        ('count(items, item.category == "shoes") == 0', Requirements()),
        ('sum(items, item.price, item.category == "shoes") >= 0', Requirements()),
        ('min(items, item.price, item.sku == "y") != 3', Requirements()),
        ('min(items, item.price, item.sku == "y") == session.attributes.x', Requirements()),
        ('all(items, item.category == "shoes")', Requirements()),
        ('any(items, item.category != "shoes")', Requirements()),
        ('any(items, lower(item.category) == "shoes")', Requirements()),
        ('session.storeIntegrationId != "store-7"', Requirements()),
        ('not (profile.attributes.tier == "gold")', Requirements()),
        ('profile.attributes.tier == "gold" or session.attributes.channel == "web"', Requirements()),
        ("session.total > 5", Requirements()),
    ],
)
def test_requirements_read_from_conditions(text: str, expected: Requirements) -> None:
    assert needs(text) == expected


def test_impossible_requirements_admit_nothing() -> None:
    found = needs('event.type == "a" and event.type == "b"')
    assert found == Requirements(event_types=frozenset())


# -- soundness ------------------------------------------------------------------------------------------------------


def _get(*path: str) -> Get:
    return Get(path=list(path))


def _item_test() -> st.SearchStrategy[Node]:
    field = st.sampled_from([_get("item", "sku"), _get("item", "category")])
    values = st.sampled_from([*SKUS, *CATEGORIES])
    one = st.builds(lambda f, v: Compare(operator="==", left=f, right=String(value=v)), field, values)
    many = st.builds(
        lambda f, vs: In(element=f, collection=ListOf(elements=[String(value=v) for v in vs])),
        field,
        st.lists(values, max_size=3),
    )
    simple = one | many
    return (
        simple
        | st.builds(lambda a, b: And(args=[a, b]), simple, simple)
        | st.builds(lambda a, b: Or(args=[a, b]), simple, simple)
    )


# Fields an equality keys, and strings the random facts hold in them (and some they never hold).
KEYED_FIELDS = [
    _get("session", "state"),
    _get("session", "referralCode"),
    _get("session", "attributes", "channel"),
    _get("session", "attributes", "d"),
    _get("profile", "attributes", "tier"),
    _get("profile", "attributes", "flag"),
    _get("event", "attributes", "d"),
]
FIELD_STRINGS = ["open", "closed", "REF-1", "web", "gold", "", "x", "2026-05-01", "nowhere"]

keyed = st.one_of(
    st.builds(
        lambda f, v, flip: (
            Compare(operator="==", left=String(value=v), right=f)
            if flip
            else Compare(operator="==", left=f, right=String(value=v))
        ),
        st.sampled_from(KEYED_FIELDS),
        st.sampled_from(FIELD_STRINGS),
        st.booleans(),
    ),
    st.builds(
        lambda f, vs: In(element=f, collection=ListOf(elements=[String(value=v) for v in vs])),
        st.sampled_from(KEYED_FIELDS),
        st.lists(st.sampled_from(FIELD_STRINGS), max_size=3),
    ),
    st.builds(
        lambda t: Compare(operator="==", left=_get("event", "type"), right=String(value=t)),
        st.sampled_from(EVENT_TYPES),
    ),
    st.builds(
        lambda ts: In(element=_get("event", "type"), collection=ListOf(elements=[String(value=t) for t in ts])),
        st.lists(st.sampled_from(EVENT_TYPES), max_size=2),
    ),
    st.builds(lambda c: In(element=String(value=c), collection=_get("session", "couponCodes")), st.sampled_from(CODES)),
    st.builds(
        lambda c: Call(function="contains", args=[_get("session", "couponCodes"), String(value=c)]),
        st.sampled_from(CODES),
    ),
    st.builds(lambda w: Aggregate(function="any", over="items", where=w), _item_test()),
    st.builds(
        lambda fn, op, k, w, flip: _compare(
            op,
            Aggregate(function=fn, over="items", where=w, value=_get("item", "price") if fn != "count" else None),
            k,
            flip,
        ),
        st.sampled_from(["count", "sum", "min", "max"]),
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        st.sampled_from([-1, 0, 1, 2, 10]).map(lambda n: Number(value=Decimal(n))),
        _item_test(),
        st.booleans(),
    ),
)


def _compare(operator: CompareOperator, aggregate: Node, bound: Node, flip: bool) -> Compare:
    """`count(...) >= 1`, or the same written the other way round, `1 <= count(...)`."""
    mirrored: dict[CompareOperator, CompareOperator] = {
        "==": "==",
        "!=": "!=",
        "<": ">",
        "<=": ">=",
        ">": "<",
        ">=": "<=",
    }
    if flip:
        return Compare(operator=mirrored[operator], left=bound, right=aggregate)
    return Compare(operator=operator, left=aggregate, right=bound)


_anything = conditions(1)


@st.composite
def keyed_conditions(draw: st.DrawFn) -> Node:
    """Recognised shapes, mixed with anything, in `and`s and `or`s; mostly keyed and often true, so that a wrong key
    meets facts that hold the condition without it."""
    parts = draw(
        st.lists(st.one_of(keyed, keyed, keyed, st.just(Boolean(value=True)), _anything), min_size=1, max_size=3)
    )
    if len(parts) == 1:
        return parts[0]
    shapes: list[Node] = [And(args=parts), Or(args=parts), And(args=[Or(args=parts[:2]), *parts[2:]])]
    return draw(st.sampled_from(shapes))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(keyed, min_size=2, max_size=3), samples=random_facts(8))
def test_a_conjunction_is_false_without_any_of_its_requirements(parts: list[Node], samples: list[Facts]) -> None:
    """Keys of several conjuncts (two coupon codes, two categories): each is required, not their intersection."""
    tree = And(args=parts)
    found = requirements(tree)
    condition = Compiler(SCHEMA).condition(tree)
    for facts in samples:
        if condition(facts):
            assert found.admits(facts), (found, tree)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=keyed_conditions(), samples=random_facts(8))
def test_a_condition_is_false_without_its_requirements(tree: Node, samples: list[Facts]) -> None:
    assume(not bound_issues(tree))
    found = requirements(tree)
    condition = Compiler(SCHEMA).condition(tree)
    for facts in samples:
        if condition(facts):
            assert found.admits(facts), (found, tree)


def test_the_soundness_property_is_not_vacuous() -> None:
    """The random facts do reach keyed conditions that hold (else the property above proves nothing)."""
    condition = Compiler(SCHEMA).condition('any(items, item.category == "shoes") and "SUMMER" in session.couponCodes')
    held = sum(condition(facts_from(Random(seed))) for seed in range(300))
    assert held > 5


def test_the_field_keys_meet_conditions_that_hold() -> None:
    """The random facts do hold keyed fields' strings (else the soundness property proves nothing for them)."""
    condition = Compiler(SCHEMA).condition(
        'session.attributes.channel == "web" or profile.attributes.tier == "gold" or session.state == "open"'
    )
    held = sum(condition(facts_from(Random(seed))) for seed in range(300))
    assert held > 50


def test_a_field_holding_a_list_or_an_object_is_no_key() -> None:
    """An attribute may hold any JSON value: a list or an object is unhashable, and admits nothing."""
    found = needs('session.attributes.channel == "web"')
    facts = facts_from(Random(1))
    for value in (["web"], {"web": 1}, 1, True, None):
        facts.session.attributes = {"channel": value}
        assert not found.admits(facts)
    facts.session.attributes = {"channel": "web"}
    assert found.admits(facts)


def test_a_campaign_requires_what_all_its_rules_require() -> None:
    """A campaign triggers when any rule holds: only a key every rule shares keys the campaign."""
    shoes = parse('any(items, item.category == "shoes") and "SUMMER" in session.couponCodes')
    hats = parse('any(items, item.category == "hats")')
    assert requirements_of_any([shoes, hats]) == Requirements(categories=frozenset({"shoes", "hats"}))
    assert requirements_of_any([shoes, parse("session.total > 5")]) == Requirements()
    assert requirements_of_any([]) == Requirements()
