"""The closures a compiled rule is made of: each a function of (facts, element), built once and called per request.
`element` is the cart item (or additional cost) an aggregate is visiting, None elsewhere. `compiler.py` decides
which to build for each node; these build them."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import compress
from typing import Any

import msgspec

from patron.promotions.rules import values
from patron.promotions.rules.facts import Facts
from patron.promotions.rules.schema import Kind, Type

Fn = Callable[[Facts, Any], Any]

_MISSING = object()
_NUMBER_OPERATIONS: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


class Compiled(msgspec.Struct, frozen=True):
    """A node compiled: its closure and static type, a rough cost (cheap operands of `and`/`or` go first), its value
    when it is a constant, and what the specialised paths need to know about it."""

    fn: Fn
    type: Type
    cost: int = 1
    constant: bool = False
    value: Any = None
    strict: bool = False  # answers only True or False (never absent): a boolean context needs no `is True`
    item_attribute: str | None = None  # a cart item's own field (names.Field)
    # This test is `item.<attribute> in <values>` (or `== value`): an aggregate filtering on it runs in C.
    item_test: tuple[str, frozenset[Any]] | None = None


def constant(value: Any, kind: Type) -> Compiled:
    return Compiled(lambda _f, _e: value, kind, constant=True, value=value, strict=type(value) is bool)


def truth(compiled: Compiled) -> Fn:
    """The node as a boolean context reads it: only `true` is true (absent, or a dynamic "yes", is not)."""
    if compiled.strict:
        return compiled.fn
    fn = compiled.fn
    return lambda f, e: fn(f, e) is True


def all_of(fns: Sequence[Fn]) -> Fn:
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        first, second = fns
        return lambda f, e: first(f, e) and second(f, e)
    if len(fns) == 3:
        first, second, third = fns
        return lambda f, e: first(f, e) and second(f, e) and third(f, e)

    def every(f: Facts, e: Any) -> bool:
        for fn in fns:  # noqa: SIM110 (a loop, not all() over a generator: no generator frame per call)
            if not fn(f, e):
                return False
        return True

    return every


def any_of(fns: Sequence[Fn]) -> Fn:
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        first, second = fns
        return lambda f, e: first(f, e) or second(f, e)
    if len(fns) == 3:
        first, second, third = fns
        return lambda f, e: first(f, e) or second(f, e) or third(f, e)

    def some(f: Facts, e: Any) -> bool:
        for fn in fns:  # noqa: SIM110 (as in all_of)
            if fn(f, e):
                return True
        return False

    return some


def generic_compare(operator_: str) -> Callable[[Any, Any], bool]:
    equal, less, less_or_equal = values.equal, values.less, values.less_or_equal
    return {
        "==": equal,
        "!=": lambda a, b: not equal(a, b),
        "<": less,
        "<=": less_or_equal,
        ">": lambda a, b: less(b, a),
        ">=": lambda a, b: less_or_equal(b, a),
    }[operator_]


def null_compare(operator_: str, other: Compiled) -> Fn:
    fn = other.fn
    if operator_ == "==":
        return lambda f, e: fn(f, e) is None
    return lambda f, e: fn(f, e) is not None


def typed_compare(operator_: str, left: Compiled, right: Compiled) -> Fn:
    """Both sides proved to be the same scalar type (or absent): Python's own comparison is the language's, once
    absent is ruled out for ordering (`values.equal`: absent equals only absent, as `None == None`)."""
    get = left.fn
    if right.constant:
        wanted = right.value
        if wanted is None:  # `x < 1 / 0`: nothing is ordered against absent
            if operator_ in ("==", "!="):
                return null_compare(operator_, left)
            return lambda _f, _e: False
        if left.item_attribute is not None and operator_ in ("==", "!="):
            # `item.category == "shoes"`, the commonest per-item test: the attribute read in C.
            field = operator.attrgetter(left.item_attribute)
            if operator_ == "==":
                return lambda _f, e: field(e) == wanted
            return lambda _f, e: field(e) != wanted
        match operator_:
            case "==":
                return lambda f, e: get(f, e) == wanted
            case "!=":
                return lambda f, e: get(f, e) != wanted
            case "<":
                return lambda f, e: (v := get(f, e)) is not None and v < wanted
            case "<=":
                return lambda f, e: (v := get(f, e)) is not None and v <= wanted
            case ">":
                return lambda f, e: (v := get(f, e)) is not None and v > wanted
            case _:
                return lambda f, e: (v := get(f, e)) is not None and v >= wanted
    other = right.fn
    match operator_:
        case "==":
            return lambda f, e: get(f, e) == other(f, e)
        case "!=":
            return lambda f, e: get(f, e) != other(f, e)
        case "<":
            return lambda f, e: (a := get(f, e)) is not None and (b := other(f, e)) is not None and a < b
        case "<=":
            return lambda f, e: (a := get(f, e)) is not None and (b := other(f, e)) is not None and a <= b
        case ">":
            return lambda f, e: (a := get(f, e)) is not None and (b := other(f, e)) is not None and a > b
        case _:
            return lambda f, e: (a := get(f, e)) is not None and (b := other(f, e)) is not None and a >= b


def number_operation(operator_: str, left: Fn, right: Fn) -> Fn:
    operation = _NUMBER_OPERATIONS[operator_]
    dividing = operator_ == "/"

    def operate(f: Facts, e: Any) -> Decimal | None:
        a = left(f, e)
        if a is None:
            return None
        b = right(f, e)
        if b is None or (dividing and not b):
            return None
        try:
            return operation(a, b)
        except ArithmeticError:  # overflow: absent, like a division by zero
            return None

    return operate


def number_reader(value: Compiled) -> Fn:
    """What an aggregate reads for each element: a number, or None (skipped)."""
    if value.type.kind is Kind.NUMBER:
        return value.fn
    fn = value.fn
    return lambda f, e: v if type(v := fn(f, e)) is Decimal else None


def loop(function: str, elements: Callable[[Facts], Any], test: Fn | None, read: Fn | None) -> Fn:
    """One pass over the collection for each aggregate function, with and without a condition."""
    if function == "count":
        if test is None:
            return lambda f, _e: Decimal(len(elements(f)))

        def count(f: Facts, _e: Any) -> Decimal:
            found = 0
            for element in elements(f):
                if test(f, element):
                    found += 1
            return Decimal(found)

        return count
    if function == "any":
        if test is None:  # `any(items, true)`: is there an element at all
            return lambda f, _e: len(elements(f)) > 0

        def any_(f: Facts, _e: Any) -> bool:
            for element in elements(f):  # noqa: SIM110 (as in all_of)
                if test(f, element):
                    return True
            return False

        return any_
    if function == "all":
        if test is None:
            return lambda _f, _e: True

        def all_(f: Facts, _e: Any) -> bool:
            for element in elements(f):  # noqa: SIM110 (as in all_of)
                if not test(f, element):
                    return False
            return True

        return all_
    assert read is not None
    if function == "sum":

        def sum_(f: Facts, _e: Any) -> Decimal | None:
            total = values.ZERO
            try:
                for element in elements(f):
                    if test is None or test(f, element):
                        value = read(f, element)
                        if value is not None:
                            total += value
            except ArithmeticError:  # overflow
                return None
            return total

        return sum_
    smaller = function == "min"

    def extreme(f: Facts, _e: Any) -> Decimal | None:
        best: Decimal | None = None
        for element in elements(f):
            if test is None or test(f, element):
                value = read(f, element)
                if value is not None and (best is None or (value < best if smaller else value > best)):
                    best = value
        return best

    return extreme


def matching_loop(function: str, attribute: str, allowed: frozenset[Any], read: Fn | None) -> Fn:
    """An aggregate over the items whose `attribute` is one of `allowed` (`count(items, item.category == "shoes")`):
    the filter runs in C (map, set membership), the Python loop only over the matching items, if at all."""
    field, matches = operator.attrgetter(attribute), allowed.__contains__
    if function == "count":
        return lambda f, _e: Decimal(sum(map(matches, map(field, f.items))))
    if function == "any":
        return lambda f, _e: not allowed.isdisjoint(map(field, f.items))
    if function == "all":
        return lambda f, _e: all(map(matches, map(field, f.items)))
    return loop(function, lambda f: compress(f.items, map(matches, map(field, f.items))), None, read)


def memoized(compiled: Compiled) -> Compiled:
    compute, token = compiled.fn, object()

    def shared(f: Facts, e: Any) -> Any:
        memo = f.memo
        value = memo.get(token, _MISSING)
        if value is _MISSING:
            value = memo[token] = compute(f, e)
        return value

    return Compiled(shared, compiled.type, compiled.cost, strict=compiled.strict)
