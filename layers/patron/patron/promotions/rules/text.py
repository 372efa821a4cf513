"""Rule tree -> text, with only the parentheses the grammar needs: how the console shows a tree it received as
JSON, and how the tests check that text and tree say the same thing."""

from __future__ import annotations

from decimal import Decimal

from patron.promotions.rules.errors import MAX_DEPTH, RuleError, RuleIssue
from patron.promotions.rules.tree import (
    Aggregate,
    And,
    Arithmetic,
    Boolean,
    Call,
    Compare,
    Get,
    In,
    ListOf,
    Negate,
    Node,
    Not,
    Null,
    Number,
    Or,
    String,
)

_LOOSEST, _AND, _NOT, _COMPARISON, _ADDITIVE, _MULTIPLICATIVE, _UNARY, _ATOM = 1, 2, 3, 4, 5, 6, 7, 8
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def to_text(tree: Node) -> str:
    return _text(tree, _LOOSEST, MAX_DEPTH + 1)


def number_text(value: Decimal) -> str:
    """Plain digits, never an exponent: 100, 0.005, -2.50."""
    return format(value, "f")


def string_text(value: str) -> str:
    return '"' + "".join(_ESCAPES.get(c, c if c >= " " else f"\\u{ord(c):04x}") for c in value) + '"'


def _precedence(node: Node) -> int:
    match node:
        case Or():
            return _LOOSEST
        case And():
            return _AND
        case Not():
            return _NOT
        case Compare() | In():
            return _COMPARISON
        case Arithmetic(operator="+" | "-"):
            return _ADDITIVE
        case Arithmetic():
            return _MULTIPLICATIVE
        case Negate():
            return _UNARY
        case Number(value=value) if value < 0:
            return _UNARY
        case _:
            return _ATOM


def _text(node: Node, lowest: int, budget: int) -> str:
    if budget <= 0:
        raise RuleError([RuleIssue("too_deep", f"The expression nests deeper than {MAX_DEPTH} levels.")])
    text = _bare(node, budget - 1)
    return f"({text})" if _precedence(node) < lowest else text


def _bare(node: Node, budget: int) -> str:
    match node:
        case Number(value=value):
            return number_text(value)
        case String(value=value):
            return string_text(value)
        case Boolean(value=value):
            return "true" if value else "false"
        case Null():
            return "null"
        case ListOf(elements=elements):
            return "[" + ", ".join(_text(element, _LOOSEST, budget) for element in elements) + "]"
        case Get(path=path):
            return ".".join(path)
        case Or(args=args):
            return " or ".join(_text(arg, _AND, budget) for arg in args)
        case And(args=args):
            return " and ".join(_text(arg, _NOT, budget) for arg in args)
        case Not(arg=arg):
            return "not " + _text(arg, _NOT, budget)
        case Compare(operator=operator, left=left, right=right):
            return f"{_text(left, _ADDITIVE, budget)} {operator} {_text(right, _ADDITIVE, budget)}"
        case In(element=element, collection=collection, negated=negated):
            keyword = "not in" if negated else "in"
            return f"{_text(element, _ADDITIVE, budget)} {keyword} {_text(collection, _ADDITIVE, budget)}"
        case Arithmetic(operator=operator, left=left, right=right):
            level = _precedence(node)
            return f"{_text(left, level, budget)} {operator} {_text(right, level + 1, budget)}"
        case Negate(arg=arg):
            return "-" + _text(arg, _UNARY, budget)
        case Call(function=function, args=args):
            return function + "(" + ", ".join(_text(arg, _LOOSEST, budget) for arg in args) + ")"
        case Aggregate(function=function, over=over, value=value, where=where):
            parts = [over] + [_text(part, _LOOSEST, budget) for part in (value, where) if part is not None]
            return f"{function}({', '.join(parts)})"
    raise AssertionError(f"not a node: {node!r}")
