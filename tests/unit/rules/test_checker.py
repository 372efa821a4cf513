"""The type checker: every problem of an expression reported at once, each with a stable code and its columns;
declared attributes typed by the schema, undeclared ones dynamic."""

from __future__ import annotations

import pytest

from patron.promotions.rules import (
    AttributeSchema,
    Compiler,
    RuleError,
    RuleLocation,
    check,
    compile_condition,
    compile_item_condition,
    compile_value,
    parse,
)
from patron.promotions.rules.schema import BOOLEAN, NUMBER, SchemaLike, as_schema
from tests.unit.rules.builders import SCHEMA


def codes(text: str, schema: SchemaLike = SCHEMA) -> list[tuple[str, str]]:
    """(code, the text the issue covers) for each issue, in reading order."""
    checked = check(parse(text), as_schema(schema))
    return [(issue.code, text[issue.start : issue.end]) for issue in checked.issues]


def test_every_problem_is_reported_at_once() -> None:
    text = 'session.total == "100" and item.sku == "A" or foo.bar > 1 and count(items, any(items, true)) > 1'
    assert codes(text) == [
        ("type_mismatch", 'session.total == "100"'),
        ("unbound_name", "item.sku"),
        ("unknown_name", "foo.bar"),
        ("nested_aggregate", "any(items, true)"),
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('session.total > "5"', "type_mismatch"),
        ("session.state == 1", "type_mismatch"),
        ("session.firstSession < true", "type_mismatch"),
        ("session.couponCodes > 1", "type_mismatch"),
        ("session.total < null", "null_comparison"),
        ('"a" in "abc"', "type_mismatch"),
        ('1 in ["a"]', "type_mismatch"),
        ("session.total in session.couponCodes", "type_mismatch"),
        ('session.total + "a" > 1', "type_mismatch"),
        ('"a" * 2 == "aa"', "type_mismatch"),
        ("not session.total", "not_boolean"),
        ("session.total and true", "not_boolean"),
        ("session.total", "not_boolean"),
        ("session.nope", "unknown_name"),
        ("session.attributes", "unknown_name"),
        ("session.attributes.a.b == 1", "unknown_name"),
        ("items", "collection_outside_aggregate"),
        ("item.price > 1", "unbound_name"),
        ("any(additionalCosts, item.price > 1)", "unbound_name"),
        ("any(items, cost.price > 1)", "unbound_name"),
        ("regex(session.state)", "unknown_function"),
        ("startsWith(session.state)", "wrong_argument_count"),
        ("startsWith(session.state, 1)", "type_mismatch"),
        ("count(session.couponCodes) > 1", "invalid_arguments"),
        ("sum(items) > 1", "invalid_arguments"),
        ("any(items)", "invalid_arguments"),
        ("sum(items, item.sku) > 1", "type_mismatch"),
        ("count(items, item.price) > 1", "not_boolean"),
        ('time.date > date("2026-02-30")', "invalid_literal"),
        ('time.instant > timestamp("2026-01-01T10:00:00")', "invalid_literal"),
        ("time.date > date(session.state)", "invalid_arguments"),
        ("round(session.total, 2.5) > 1", "invalid_arguments"),
        ("round(session.total, session.total) > 1", "invalid_arguments"),
        ("time.date > time.instant", "type_mismatch"),
        ('[1, "a"] == [1]', "type_mismatch"),
        ("[null] == [1]", "type_mismatch"),
        ('coalesce(session.total, "x") == 1', "type_mismatch"),
        ("profile.attributes.tier > 3", "type_mismatch"),
        ("session.attributes.vip == 1", "type_mismatch"),
        ("len(session.total) > 1", "type_mismatch"),
        ("daysSince(session.total) > 1", "type_mismatch"),
    ],
)
def test_mistakes_have_stable_codes(text: str, code: str) -> None:
    assert code in [found for found, _ in codes(text)]


@pytest.mark.parametrize(
    "text",
    [
        "session.attributes.anything == 1",  # undeclared: dynamic, compared with anything
        'session.attributes.anything == "x" and session.attributes.anything > 2',
        "session.attributes.anything",  # a dynamic condition: only `true` is true
        "profile.attributes.tier == null",
        'profile.attributes.tags in [["a"]]',
        '"SUMMER" in session.couponCodes and "VIP" not in session.couponCodes',
        'contains(session.couponCodes, "SUMMER") and contains(session.state, "op")',
        'time.weekday in [6, 7] and time.hour >= 18 and time.date >= date("2026-12-01")',
        'time.instant < timestamp("2026-12-24T18:00:00+01:00")',
        "profile.attributes.birthday < time.instant",
        "daysSince(profile.lastOrderAt) > 90",
        "min(session.total, 50) + max(1, 2, 3) >= round(session.total / 3, 2)",
        'coalesce(profile.attributes.points, 0) >= 100 and lower(coalesce(profile.attributes.tier, "")) == "gold"',
        'sum(additionalCosts, cost.price, cost.name != "gift") > 0 and additionalCosts.shipping > 0',
        'session.state + "!" == "open!"',
        "[] == session.couponCodes",
    ],
)
def test_well_typed_expressions_pass(text: str) -> None:
    assert codes(text) == []


def test_a_declared_attribute_is_typed_by_the_schema() -> None:
    schema = {"profile": {"tier": "string", "visits": "number", "tags": "list of string"}}
    assert codes('profile.attributes.tier == "gold"', schema) == []
    assert codes("profile.attributes.tier == 1", schema) == [("type_mismatch", "profile.attributes.tier == 1")]
    assert codes('profile.attributes.visits >= "3"', schema)[0][0] == "type_mismatch"
    assert codes('"x" in profile.attributes.tags', schema) == []
    assert codes("1 in profile.attributes.tags", schema)[0][0] == "type_mismatch"
    assert codes("profile.attributes.tier == 1", None) == []  # undeclared: dynamic


def test_schema_names_follow_the_attribute_catalog() -> None:
    schema = AttributeSchema.of({"session": {"a": "string", "b": "(list) number", "c": "date", "d": "object"}})
    assert str(schema.type_of("session", "b")) == "list[number]"
    assert str(schema.type_of("session", "c")) == "time"
    assert str(schema.type_of("session", "d")) == "dynamic"
    assert str(schema.type_of("session", "undeclared")) == "dynamic"
    with pytest.raises(ValueError, match="unknown attribute type"):
        AttributeSchema.of({"session": {"a": "text"}})
    with pytest.raises(ValueError, match="unknown attribute scope"):
        AttributeSchema.of({"cart": {"a": "string"}})


def test_a_value_expression_must_have_the_expected_type() -> None:
    assert check(parse("session.total * 0.1"), as_schema(None), NUMBER).issues == []
    [issue] = check(parse('session.state + "x"'), as_schema(None), NUMBER).issues
    assert issue.code == "type_mismatch"
    with pytest.raises(RuleError):
        compile_value("session.state", "number")
    assert check(parse("true"), as_schema(None), BOOLEAN).issues == []


def test_item_expressions_bind_item_and_refuse_aggregates() -> None:
    compile_item_condition('item.category == "shoes"')
    with pytest.raises(RuleError) as caught:
        compile_item_condition("count(items) > 1")
    assert [issue.code for issue in caught.value.issues] == ["nested_aggregate"]


def test_errors_are_located_by_the_caller() -> None:
    location = RuleLocation(
        file="campaigns/summer.yaml", campaign="Summer", rule_index=0, rule_title="Shoes", path="rules[0].condition"
    )
    with pytest.raises(RuleError) as caught:
        compile_condition('session.total >= "100"', location=location)
    error = caught.value
    assert error.describe() == [
        "campaigns/summer.yaml, campaign 'Summer', rule 0 'Shoes', rules[0].condition, columns 1-22: "
        "[type_mismatch] `>=` does not order a number and a string."
    ]
    # An API answers it as a 400 naming the path and code of each problem.
    assert error.status == 400 and error.code == "invalid_rule"
    [detail] = error.body()["errors"]
    assert (detail["path"], detail["code"]) == ("rules[0].condition", "type_mismatch")


def test_a_multi_line_condition_is_located_by_line_and_column() -> None:
    with pytest.raises(RuleError) as caught:
        Compiler().condition("session.total >= 100\n  and nope == 1")
    assert caught.value.describe()[0].startswith("line 2, columns 7-10: [unknown_name]")
