"""The typed rule tree: what the parser builds from text, the management API exchanges as JSON, and the checker,
compiler and interpreter read. A tagged union on `op`; `start`/`end` are offsets in the source (end exclusive)
when the tree came from text, absent otherwise.

    session.total >= 100   ->   {"op": "compare", "operator": ">=",
                                 "left": {"op": "get", "path": ["session", "total"]},
                                 "right": {"op": "number", "value": 100}}
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Literal

import msgspec

from patron.promotions.rules.errors import MAX_DEPTH, MAX_NODES, MAX_SOURCE_LENGTH, RuleError, RuleIssue

CompareOperator = Literal["==", "!=", "<", "<=", ">", ">="]
ArithmeticOperator = Literal["+", "-", "*", "/"]
AggregateFunction = Literal["count", "sum", "min", "max", "any", "all"]
Collection = Literal["items", "additionalCosts"]

# A number literal: at most this many digits, and an exponent no further from 0 (JSON may write 1e3).
MAX_NUMBER_DIGITS = 40
# A JSON tree is read only up to this size: 512 nodes with their strings fit well inside it.
MAX_JSON_BYTES = 256 * 1024

DIGITS = frozenset("0123456789")
NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
NAME_PART = NAME_START | DIGITS


def is_identifier(text: str) -> bool:
    """ASCII letters, digits and `_`, not starting with a digit: what the text form can spell."""
    return bool(text) and text[0] in NAME_START and all(character in NAME_PART for character in text)


def is_storable(text: str) -> bool:
    """Encodable as UTF-8: a JSON escape can smuggle in a lone surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Node(msgspec.Struct, frozen=True, kw_only=True, tag_field="op", omit_defaults=True, forbid_unknown_fields=True):
    start: int | None = None
    end: int | None = None


class Number(_Node, frozen=True, kw_only=True, tag="number"):
    value: Decimal


class String(_Node, frozen=True, kw_only=True, tag="string"):
    value: str


class Boolean(_Node, frozen=True, kw_only=True, tag="boolean"):
    value: bool


class Null(_Node, frozen=True, kw_only=True, tag="null"):
    pass


class ListOf(_Node, frozen=True, kw_only=True, tag="list"):
    elements: list[Node]


class Get(_Node, frozen=True, kw_only=True, tag="get"):
    """A name: `session.cartItemTotal` is path ["session", "cartItemTotal"] (docs/rules.md lists them all)."""

    path: list[str]


class And(_Node, frozen=True, kw_only=True, tag="and"):
    args: list[Node]


class Or(_Node, frozen=True, kw_only=True, tag="or"):
    args: list[Node]


class Not(_Node, frozen=True, kw_only=True, tag="not"):
    arg: Node


class Compare(_Node, frozen=True, kw_only=True, tag="compare"):
    operator: CompareOperator
    left: Node
    right: Node


class In(_Node, frozen=True, kw_only=True, tag="in"):
    """`element in collection`; `negated` for `not in`."""

    element: Node
    collection: Node
    negated: bool = False


class Arithmetic(_Node, frozen=True, kw_only=True, tag="arithmetic"):
    operator: ArithmeticOperator
    left: Node
    right: Node


class Negate(_Node, frozen=True, kw_only=True, tag="negate"):
    arg: Node


class Call(_Node, frozen=True, kw_only=True, tag="call"):
    """A function that is not an aggregate: `startsWith(item.sku, "GIFT-")`, `round(x, 2)`, `min(a, b)`."""

    function: str
    args: list[Node]


class Aggregate(_Node, frozen=True, kw_only=True, tag="aggregate"):
    """`sum(items, item.price * item.quantity, item.category == "shoes")`: `value` is read for each element of
    `over` where `where` holds (every element when absent). `count`, `any` and `all` have no `value`."""

    function: AggregateFunction
    over: Collection
    value: Node | None = None
    where: Node | None = None


Node = (
    Number
    | String
    | Boolean
    | Null
    | ListOf
    | Get
    | And
    | Or
    | Not
    | Compare
    | In
    | Arithmetic
    | Negate
    | Call
    | Aggregate
)

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODER = msgspec.json.Decoder(Node)


def children(node: Node) -> Iterator[Node]:
    match node:
        case ListOf(elements=elements):
            yield from elements
        case And(args=args) | Or(args=args) | Call(args=args):
            yield from args
        case Not(arg=arg) | Negate(arg=arg):
            yield arg
        case Compare(left=left, right=right) | Arithmetic(left=left, right=right):
            yield left
            yield right
        case In(element=element, collection=collection):
            yield element
            yield collection
        case Aggregate(value=value, where=where):
            if value is not None:
                yield value
            if where is not None:
                yield where
        case _:
            pass


def reads(tree: Node, root: str) -> bool:
    """Whether the expression reads a name under `root` (`coupon.value` reads `coupon`)."""
    if isinstance(tree, Get):
        return tree.path[0] == root
    return any(reads(child, root) for child in children(tree))


def bound_issues(tree: Node) -> list[RuleIssue]:
    """The size and depth bounds, measured without recursion (a tree from JSON may be anything)."""
    count = 0
    stack: list[tuple[Node, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            return [RuleIssue("too_many_nodes", f"The expression has more than {MAX_NODES} parts.")]
        if depth > MAX_DEPTH:
            message = f"The expression nests deeper than {MAX_DEPTH} levels."
            return [RuleIssue("too_deep", message, node.start, node.end)]
        stack.extend((child, depth + 1) for child in children(node))
    return []


def to_json(tree: Node) -> bytes:
    """Numbers are written as JSON numbers with every digit they have (`0.1`, never `0.1000000000000000055`)."""
    return _ENCODER.encode(tree)


def from_json(data: bytes | str) -> Node:
    """A tree as the management API receives it, held to the same bounds as a parsed one; a `RuleError` when it is
    not a tree. Names, types and functions are checked later, by the checker, like a parsed tree's."""
    if len(data) > MAX_JSON_BYTES:
        raise RuleError([RuleIssue("too_long", f"The JSON tree exceeds {MAX_JSON_BYTES} bytes.")])
    try:
        tree: Node = _DECODER.decode(data)
    except msgspec.ValidationError as error:
        raise RuleError([RuleIssue("invalid_tree", f"Not a rule tree: {error}")]) from None
    except (msgspec.DecodeError, RecursionError):
        raise RuleError([RuleIssue("invalid_tree", "Not a rule tree: malformed or too deeply nested JSON.")]) from None
    issues = bound_issues(tree)
    if not issues:
        issues = _literal_issues(tree)
    if issues:
        raise RuleError(issues)
    return tree


def _literal_issues(tree: Node) -> list[RuleIssue]:
    issues: list[RuleIssue] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        stack.extend(children(node))
        if isinstance(node, Number) and not is_bounded_number(node.value):
            issues.append(RuleIssue("invalid_number", "A number is finite, with at most 40 digits.", node.start))
        elif isinstance(node, String) and len(node.value) > MAX_SOURCE_LENGTH:
            issues.append(RuleIssue("too_long", f"A string has at most {MAX_SOURCE_LENGTH} characters.", node.start))
        elif isinstance(node, String) and not is_storable(node.value):
            issues.append(RuleIssue("invalid_tree", "A string holds a lone surrogate.", node.start))
        elif isinstance(node, Get) and not (node.path and all(is_identifier(part) for part in node.path)):
            issues.append(RuleIssue("invalid_tree", "A name is one or more identifiers.", node.start))
        elif isinstance(node, Call) and not is_identifier(node.function):
            issues.append(RuleIssue("invalid_tree", "A function's name is an identifier.", node.start))
    return issues


def is_bounded_number(value: Decimal) -> bool:
    if not value.is_finite():
        return False
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return len(value.as_tuple().digits) <= MAX_NUMBER_DIGITS and abs(exponent) <= MAX_NUMBER_DIGITS


def without_spans(tree: Node) -> Node:
    """The same tree with no source offsets: two trees that read the same compare equal."""
    return _strip(tree, MAX_DEPTH + 1)


def _strip(node: Node, budget: int) -> Node:
    if budget <= 0:  # bound_issues refuses such trees; never recurse without limit on one that slipped through
        raise RuleError([RuleIssue("too_deep", f"The expression nests deeper than {MAX_DEPTH} levels.")])
    below = budget - 1
    match node:
        case ListOf():
            return ListOf(elements=[_strip(element, below) for element in node.elements])
        case And():
            return And(args=[_strip(arg, below) for arg in node.args])
        case Or():
            return Or(args=[_strip(arg, below) for arg in node.args])
        case Call():
            return Call(function=node.function, args=[_strip(arg, below) for arg in node.args])
        case Not():
            return Not(arg=_strip(node.arg, below))
        case Negate():
            return Negate(arg=_strip(node.arg, below))
        case Compare():
            return Compare(operator=node.operator, left=_strip(node.left, below), right=_strip(node.right, below))
        case Arithmetic():
            return Arithmetic(operator=node.operator, left=_strip(node.left, below), right=_strip(node.right, below))
        case In():
            element, collection = _strip(node.element, below), _strip(node.collection, below)
            return In(element=element, collection=collection, negated=node.negated)
        case Aggregate():
            value = None if node.value is None else _strip(node.value, below)
            where = None if node.where is None else _strip(node.where, below)
            return Aggregate(function=node.function, over=node.over, value=value, where=where)
        case _:
            return _replace_spans(node)


def _replace_spans(node: Number | String | Boolean | Null | Get) -> Node:
    match node:
        case Number(value=value):
            return Number(value=value)
        case String(value=value):
            return String(value=value)
        case Boolean(value=value):
            return Boolean(value=value)
        case Get(path=path):
            return Get(path=list(path))
    return Null()
