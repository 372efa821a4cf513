"""The compiler against its oracle: random well-typed trees on random facts answer alike compiled (with and
without shared aggregates) and interpreted; text and JSON forms of a tree say the same thing."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings

from patron.promotions.rules import Compiler, Facts, Interpreter, check, from_json, parse, to_json, to_text
from patron.promotions.rules.schema import BOOLEAN, NUMBER, STRING, Type, as_schema
from patron.promotions.rules.tree import Node, bound_issues, without_spans
from tests.unit.rules.builders import (
    SCHEMA,
    conditions,
    focused_conditions,
    item_conditions,
    numbers,
    random_facts,
    strings,
)

# Each example costs a few ms (mostly drawing the tree): 400 of each take seconds, not minutes.
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLES = random_facts(3)


def well_typed(tree: Node, expected: Type = BOOLEAN) -> None:
    assume(not bound_issues(tree))
    checked = check(tree, as_schema(SCHEMA), expected)
    assert checked.issues == [], [issue.message for issue in checked.issues]


@PROPERTY
@given(tree=conditions(), samples=SAMPLES)
def test_compiled_conditions_answer_as_the_interpreter(tree: Node, samples: list[Facts]) -> None:
    well_typed(tree)
    interpreter = Interpreter(SCHEMA)
    plain = Compiler(SCHEMA).condition(tree)
    shared = Compiler(SCHEMA, share_aggregates=True).condition(tree)
    for facts in samples:
        expected = interpreter.condition(tree, facts)
        assert plain(facts) is expected
        assert shared(facts) is expected
        assert shared(facts) is expected  # from the memo


@PROPERTY
@given(tree=focused_conditions(), samples=random_facts(6))
def test_specialised_comparisons_and_filters_answer_as_the_interpreter(tree: Node, samples: list[Facts]) -> None:
    well_typed(tree)
    compiled, interpreter = Compiler(SCHEMA).condition(tree), Interpreter(SCHEMA)
    for facts in samples:
        assert compiled(facts) is interpreter.condition(tree, facts)


@PROPERTY
@given(tree=numbers(3, None), samples=SAMPLES)
def test_compiled_numbers_are_the_interpreters_to_the_digit(tree: Node, samples: list[Facts]) -> None:
    well_typed(tree, NUMBER)
    interpreter = Interpreter(SCHEMA)
    compiled = Compiler(SCHEMA).value(tree, "number")
    for facts in samples:
        # repr: the same Decimal with the same exponent (1.0 is not written as 1), or None for both.
        assert repr(compiled(facts)) == repr(interpreter.evaluate(tree, facts))


@PROPERTY
@given(tree=strings(3, None), samples=SAMPLES)
def test_compiled_strings_are_the_interpreters(tree: Node, samples: list[Facts]) -> None:
    well_typed(tree, STRING)
    compiled = Compiler(SCHEMA).value(tree, "string")
    for facts in samples:
        assert compiled(facts) == Interpreter(SCHEMA).evaluate(tree, facts)


@PROPERTY
@given(tree=item_conditions(), samples=SAMPLES)
def test_compiled_item_conditions_answer_as_the_interpreter(tree: Node, samples: list[Facts]) -> None:
    assume(not bound_issues(tree))
    assert check(tree, as_schema(SCHEMA), binding="items").issues == []
    compiled = Compiler(SCHEMA).item_condition(tree)
    interpreter = Interpreter(SCHEMA)
    for facts in samples:
        for line in facts.items:
            assert compiled(facts, line) is interpreter.condition(tree, facts, line)


@PROPERTY
@given(tree=item_conditions(), samples=SAMPLES)
def test_item_filters_reach_the_items_the_interpreter_picks(tree: Node, samples: list[Facts]) -> None:
    """`Compiler.item_filter` (a per-item discount's reach, tested in C when it can be) against the interpreter."""
    assume(not bound_issues(tree))
    reach = Compiler(SCHEMA).item_filter(tree)
    interpreter = Interpreter(SCHEMA)
    for facts in samples:
        expected = [index for index, line in enumerate(facts.items) if interpreter.condition(tree, facts, line)]
        assert reach(facts) == expected


@PROPERTY
@given(tree=conditions(), samples=SAMPLES)
def test_text_and_json_forms_say_the_same(tree: Node, samples: list[Facts]) -> None:
    well_typed(tree)
    text = to_text(tree)
    reparsed = parse(text)
    settled = to_text(reparsed)  # `(a and b) and c` reads back as one `and`: the text settles after one parse
    assert to_text(parse(settled)) == settled
    assert from_json(to_json(tree)) == tree
    assert without_spans(from_json(to_json(reparsed))) == without_spans(reparsed)
    original, again = Compiler(SCHEMA).condition(tree), Compiler(SCHEMA).condition(reparsed)
    for facts in samples:
        assert original(facts) is again(facts)
