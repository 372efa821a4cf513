"""Text -> rule tree: a recursive-descent parser that climbs precedence, from loosest to tightest:

    or  <  and  <  not  <  == != < <= > >= in `not in`  <  + -  <  * /  <  unary -  <  names, literals, calls, (..)

Comparisons do not chain (`a < b < c` is an error). `and`/`or` chains become one node with every operand.
Recursion is bounded: the source is at most 4,096 characters and nesting (parentheses, lists, calls, `not`,
unary minus) at most 32 levels, so a hostile text cannot exhaust the stack; the finished tree is then held to
the node and depth bounds (tree.bound_issues).
"""

from __future__ import annotations

from decimal import Decimal

from patron.promotions.rules.errors import MAX_DEPTH, MAX_SOURCE_LENGTH, RuleError, RuleIssue
from patron.promotions.rules.lexer import Kind, Token, tokenize
from patron.promotions.rules.tree import (
    Aggregate,
    AggregateFunction,
    And,
    Arithmetic,
    ArithmeticOperator,
    Boolean,
    Call,
    Collection,
    Compare,
    CompareOperator,
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
    bound_issues,
    without_spans,
)

_OR, _AND, _NOT, _COMPARISON, _ADDITIVE, _MULTIPLICATIVE, _UNARY = 1, 2, 3, 4, 5, 6, 7
_COMPARE_OPERATORS: dict[str, CompareOperator] = {
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_ARITHMETIC_OPERATORS: dict[str, ArithmeticOperator] = {"+": "+", "-": "-", "*": "*", "/": "/"}
_AGGREGATES: dict[str, AggregateFunction] = {
    "count": "count",
    "sum": "sum",
    "min": "min",
    "max": "max",
    "any": "any",
    "all": "all",
}
_COLLECTIONS: dict[str, Collection] = {"items": "items", "additionalCosts": "additionalCosts"}


def parse(source: str, *, spans: bool = True) -> Node:
    """The tree of an expression, or a `RuleError` naming the first problem and its offsets."""
    if len(source) > MAX_SOURCE_LENGTH:
        message = f"The expression has {len(source)} characters; at most {MAX_SOURCE_LENGTH}."
        raise RuleError([RuleIssue("too_long", message)], source)
    try:
        tree = _Parser(tokenize(source)).parse()
        issues = bound_issues(tree)
        if issues:
            raise RuleError(issues)
    except RuleError as error:
        raise RuleError(error.issues, source) from None
    return tree if spans else without_spans(tree)


def _describe(token: Token) -> str:
    if token.kind is Kind.END:
        return "the end of the expression"
    if token.kind is Kind.STRING:
        return "a string"
    return f"`{token.text}`"


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.nesting = 0

    # -- tokens --

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: Kind, text: str) -> bool:
        token = self.peek()
        return token.kind is kind and token.text == text

    def expect(self, text: str, what: str) -> Token:
        token = self.peek()
        if token.kind is not Kind.SYMBOL or token.text != text:
            raise self.error(token, f"Expected {what}, found {_describe(token)}.")
        return self.take()

    def error(self, token: Token, message: str, code: str = "unexpected_token") -> RuleError:
        if token.kind is Kind.END:
            code = "unexpected_end"
        return RuleError([RuleIssue(code, message, token.start, max(token.end, token.start + 1))])

    def nest(self, token: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            message = f"The expression nests deeper than {MAX_DEPTH} levels."
            raise RuleError([RuleIssue("too_deep", message, token.start, token.end)])

    # -- grammar --

    def parse(self) -> Node:
        tree = self.expression(_OR)
        token = self.peek()
        if token.kind is not Kind.END:
            hint = " Missing `and` or `or`?" if token.kind in (Kind.NAME, Kind.NUMBER, Kind.STRING) else ""
            raise self.error(token, f"Unexpected {_describe(token)} after a complete expression.{hint}")
        return tree

    def binary_operator(self) -> tuple[str, int] | None:
        token = self.peek()
        if token.kind is Kind.KEYWORD:
            if token.text == "or":
                return "or", _OR
            if token.text == "and":
                return "and", _AND
            if token.text == "in":
                return "in", _COMPARISON
            following = self.peek(1)
            if token.text == "not" and following.kind is Kind.KEYWORD and following.text == "in":
                return "not in", _COMPARISON
        elif token.kind is Kind.SYMBOL:
            if token.text in _COMPARE_OPERATORS:
                return token.text, _COMPARISON
            if token.text in ("+", "-"):
                return token.text, _ADDITIVE
            if token.text in ("*", "/"):
                return token.text, _MULTIPLICATIVE
        return None

    def expression(self, lowest: int) -> Node:
        left = self.prefix()
        while (found := self.binary_operator()) is not None and found[1] >= lowest:
            operator, precedence = found
            self.take()
            if operator == "not in":
                self.take()
            right = self.expression(precedence + 1)
            left = self.combine(operator, left, right)
            if precedence == _COMPARISON and (following := self.binary_operator()) and following[1] == _COMPARISON:
                message = "Comparisons do not chain: write `a < b and b < c`."
                raise self.error(self.peek(), message, code="chained_comparison")
        return left

    def combine(self, operator: str, left: Node, right: Node) -> Node:
        start, end = left.start, right.end
        if operator in ("and", "or"):
            kind = And if operator == "and" else Or
            args = [*_flatten(left, kind), *_flatten(right, kind)]
            return And(args=args, start=start, end=end) if operator == "and" else Or(args=args, start=start, end=end)
        if operator in ("in", "not in"):
            return In(element=left, collection=right, negated=operator == "not in", start=start, end=end)
        if operator in _COMPARE_OPERATORS:
            return Compare(operator=_COMPARE_OPERATORS[operator], left=left, right=right, start=start, end=end)
        return Arithmetic(operator=_ARITHMETIC_OPERATORS[operator], left=left, right=right, start=start, end=end)

    def prefix(self) -> Node:
        token = self.peek()
        if token.kind is Kind.KEYWORD and token.text == "not":
            self.take()
            self.nest(token)
            operand = self.expression(_NOT)
            self.nesting -= 1
            return Not(arg=operand, start=token.start, end=operand.end)
        if token.kind is Kind.SYMBOL and token.text == "-":
            self.take()
            self.nest(token)
            operand = self.expression(_UNARY)
            self.nesting -= 1
            if isinstance(operand, Number) and operand.value >= 0:  # -5 is a number, not an operation
                return Number(value=operand.value.copy_negate(), start=token.start, end=operand.end)
            return Negate(arg=operand, start=token.start, end=operand.end)
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind is Kind.NUMBER:
            return Number(value=Decimal(token.text), start=token.start, end=token.end)
        if token.kind is Kind.STRING:
            return String(value=token.text, start=token.start, end=token.end)
        if token.kind is Kind.KEYWORD and token.text in ("true", "false"):
            return Boolean(value=token.text == "true", start=token.start, end=token.end)
        if token.kind is Kind.KEYWORD and token.text == "null":
            return Null(start=token.start, end=token.end)
        if token.kind is Kind.SYMBOL and token.text == "(":
            self.nest(token)
            inner = self.expression(_OR)
            self.expect(")", "`)` to close the `(`")
            self.nesting -= 1
            return inner
        if token.kind is Kind.SYMBOL and token.text == "[":
            self.nest(token)
            elements = self.arguments("]")
            self.nesting -= 1
            return ListOf(elements=elements, start=token.start, end=self.tokens[self.index - 1].end)
        if token.kind is Kind.NAME:
            if self.at(Kind.SYMBOL, "("):
                return self.call(token)
            return self.path(token)
        raise self.error(token, f"Expected a value, found {_describe(token)}.")

    def arguments(self, closing: str) -> list[Node]:
        """Expressions separated by commas up to `closing` (a trailing comma is allowed); `closing` is consumed."""
        found: list[Node] = []
        while not self.at(Kind.SYMBOL, closing):
            found.append(self.expression(_OR))
            if not self.at(Kind.SYMBOL, ","):
                break
            self.take()
        self.expect(closing, f"`,` or `{closing}`")
        return found

    def path(self, first: Token) -> Get:
        parts, end = [first.text], first.end
        while self.at(Kind.SYMBOL, "."):
            self.take()
            token = self.take()
            if token.kind not in (Kind.NAME, Kind.KEYWORD):
                raise self.error(token, f"Expected a name after `.`, found {_describe(token)}.")
            parts.append(token.text)
            end = token.end
        return Get(path=parts, start=first.start, end=end)

    def call(self, name: Token) -> Node:
        opening = self.take()
        self.nest(opening)
        args = self.arguments(")")
        self.nesting -= 1
        start, end = name.start, self.tokens[self.index - 1].end
        aggregate = _aggregate(name.text, args, start, end)
        return aggregate if aggregate is not None else Call(function=name.text, args=args, start=start, end=end)


def _flatten(node: Node, kind: type[And] | type[Or]) -> list[Node]:
    return list(node.args) if isinstance(node, kind) else [node]


def _aggregate(function: str, args: list[Node], start: int, end: int) -> Aggregate | None:
    """`count(items, ...)` and its kin as an Aggregate node; None for any other shape (min(a, b) is a call, and
    the checker explains a malformed aggregate)."""
    if function not in _AGGREGATES or not args:
        return None
    over = args[0]
    if not isinstance(over, Get) or len(over.path) != 1 or over.path[0] not in _COLLECTIONS:
        return None
    kind, collection, rest = _AGGREGATES[function], _COLLECTIONS[over.path[0]], args[1:]
    if kind == "count" and len(rest) <= 1:
        return Aggregate(function=kind, over=collection, where=rest[0] if rest else None, start=start, end=end)
    if kind in ("sum", "min", "max") and len(rest) in (1, 2):
        where = rest[1] if len(rest) == 2 else None
        return Aggregate(function=kind, over=collection, value=rest[0], where=where, start=start, end=end)
    if kind in ("any", "all") and len(rest) == 1:
        return Aggregate(function=kind, over=collection, where=rest[0], start=start, end=end)
    return None
