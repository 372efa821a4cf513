"""Text -> tree: precedence, the shapes of aggregates, errors that point at the column, and the bounds that keep
parsing shallow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from patron.promotions.rules import MAX_DEPTH, MAX_NODES, MAX_SOURCE_LENGTH, RuleError, parse, to_text
from patron.promotions.rules.tree import (
    Aggregate,
    And,
    Arithmetic,
    Call,
    Compare,
    Get,
    In,
    ListOf,
    Negate,
    Not,
    Number,
    Or,
    String,
)


def shape(text: str) -> str:
    """The tree written back with every operation parenthesised: precedence made visible."""
    return _shape(parse(text, spans=False))


def _shape(node: object) -> str:
    match node:
        case And(args=args):
            return "(" + " and ".join(_shape(a) for a in args) + ")"
        case Or(args=args):
            return "(" + " or ".join(_shape(a) for a in args) + ")"
        case Not(arg=arg):
            return f"(not {_shape(arg)})"
        case Compare(operator=op, left=left, right=right) | Arithmetic(operator=op, left=left, right=right):
            return f"({_shape(left)} {op} {_shape(right)})"
        case In(element=element, collection=collection, negated=negated):
            return f"({_shape(element)} {'not in' if negated else 'in'} {_shape(collection)})"
        case Negate(arg=arg):
            return f"(-{_shape(arg)})"
        case _:
            return to_text(node)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a or b and c", "(a or (b and c))"),
        ("a and b or c and d", "((a and b) or (c and d))"),
        ("not a and b", "((not a) and b)"),
        ("not a == b", "(not (a == b))"),
        ("a == b and c != d", "((a == b) and (c != d))"),
        ("1 + 2 * 3 == 7", "((1 + (2 * 3)) == 7)"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 / 2", "((8 / 4) / 2)"),
        ("-a * b", "((-a) * b)"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("x in [1, 2] or y not in [3]", "((x in [1, 2]) or (y not in [3]))"),
        ("a + 1 >= b * 2", "((a + 1) >= (b * 2))"),
        ("a and b and c", "(a and b and c)"),
        ("(a and b) and c", "(a and b and c)"),
        ("a or (b or c)", "(a or b or c)"),
        ("not not a", "(not (not a))"),
    ],
)
def test_operators_bind_by_precedence(text: str, expected: str) -> None:
    assert shape(text) == expected


def test_a_minus_before_a_number_is_part_of_the_number() -> None:
    assert parse("-2.50", spans=False) == Number(value=Decimal("-2.50"))
    assert parse("- x", spans=False) == Negate(arg=Get(path=["x"]))
    assert shape("3 - -2") == "(3 - -2)"


def test_numbers_are_exact_decimals() -> None:
    tree = parse("0.1", spans=False)
    assert tree == Number(value=Decimal("0.1"))
    assert isinstance(tree, Number) and isinstance(tree.value, Decimal)


def test_strings_take_json_escapes() -> None:
    tree = parse(r'"a\"b\\c\n\u00e9\/"', spans=False)
    assert tree == String(value='a"b\\c\né/')


def test_aggregates_are_read_by_their_shape() -> None:
    count = parse('count(items, item.category == "shoes")', spans=False)
    assert isinstance(count, Aggregate) and count.function == "count" and count.where is not None
    assert count.value is None
    total = parse("sum(items, item.price * item.quantity)", spans=False)
    assert isinstance(total, Aggregate) and total.value is not None and total.where is None
    costs = parse('any(additionalCosts, cost.name == "shipping")', spans=False)
    assert isinstance(costs, Aggregate) and costs.over == "additionalCosts"
    assert parse("min(session.total, 50)", spans=False) == Call(
        function="min", args=[Get(path=["session", "total"]), Number(value=Decimal(50))]
    )


def test_a_list_may_end_with_a_comma() -> None:
    assert parse('["a", "b",]', spans=False) == ListOf(elements=[String(value="a"), String(value="b")])


def test_nodes_carry_their_offsets() -> None:
    tree = parse("session.total >= 100")
    assert isinstance(tree, Compare)
    assert (tree.start, tree.end) == (0, 20)
    assert (tree.left.start, tree.left.end) == (0, 13)
    assert (tree.right.start, tree.right.end) == (17, 20)


def error_of(text: str) -> tuple[str, int | None]:
    with pytest.raises(RuleError) as caught:
        parse(text)
    [issue] = caught.value.issues
    return issue.code, issue.start


@pytest.mark.parametrize(
    ("text", "code", "offset"),
    [
        ("session.total >=", "unexpected_end", 16),
        ("session.total = 1", "unexpected_character", 14),
        ("a < b < c", "chained_comparison", 6),
        ("a == 1 == true", "chained_comparison", 7),
        ('"open', "unterminated_string", 0),
        (r'"bad \x escape"', "invalid_escape", 5),
        (r'"\ud800"', "invalid_escape", 1),
        ("1.", "invalid_number", 0),
        ("12abc", "invalid_number", 0),
        ("(a and b", "unexpected_end", 8),
        ("a b", "unexpected_token", 2),
        ("count(items,", "unexpected_end", 12),
        ("x.", "unexpected_end", 2),
        ("'single'", "unexpected_character", 0),
        ("a && b", "unexpected_character", 2),
    ],
)
def test_syntax_errors_name_the_offset(text: str, code: str, offset: int) -> None:
    assert error_of(text) == (code, offset)


def test_an_error_describes_its_column() -> None:
    with pytest.raises(RuleError) as caught:
        parse("session.total >= 100 and and")
    [line] = caught.value.describe()
    assert line.startswith("columns 26-28: [unexpected_token]")


def test_sources_over_the_length_bound_are_refused() -> None:
    source = " or ".join(["session.firstSession"] * 200)
    assert len(source) > MAX_SOURCE_LENGTH
    assert error_of(source)[0] == "too_long"
    assert parse("1 == 1" + " " * (MAX_SOURCE_LENGTH - 6)) is not None


def test_nesting_deeper_than_the_bound_is_refused_without_deep_recursion() -> None:
    assert error_of("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1))[0] == "too_deep"
    assert error_of("not " * (MAX_DEPTH + 1) + "true")[0] == "too_deep"
    assert error_of("-" * (MAX_DEPTH + 1) + "x")[0] == "too_deep"
    assert error_of("[" * 2000)[0] == "too_deep"  # would overflow the stack if parsing recursed unbounded
    parse("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH)


def test_a_long_left_leaning_chain_is_refused_by_depth() -> None:
    """`1 + 1 + ... + 1` nests each `+` under the next: a tree deeper than the bound, however flat the text."""
    assert error_of(" + ".join(["1"] * (MAX_DEPTH + 1)))[0] == "too_deep"
    parse(" + ".join(["1"] * (MAX_DEPTH - 2)))


def test_trees_over_the_node_bound_are_refused() -> None:
    # `and` chains are one node with many operands: flat, but each operand counts.
    source = " and ".join(["a == 1"] * (MAX_NODES // 3 + 1))
    assert len(source) <= MAX_SOURCE_LENGTH
    assert error_of(source)[0] == "too_many_nodes"
