"""Checked rule tree -> nested Python closures. No `eval`, `exec` or generated source: each node becomes a small
function of (facts, element) that calls its children's functions; `element` is the cart item (or additional cost)
an aggregate is visiting, None elsewhere.

What makes them fast: constants folded at compile time (`0.1 * 100`, `date("2026-12-24")`, a literal list of
strings becomes a frozenset); comparisons specialised when the checker proved both sides' types; `and`/`or`
short-circuit with the cheap operands first (evaluation has no side effects and never raises, so the order cannot
change an answer); each aggregate is one pass over the cart, and with `share_aggregates` an aggregate several
campaigns share is computed once per request (`Facts.memo`). Closures read the facts when called, never before.

The results are the interpreter's (`interpreter.py`), which the property tests hold them to.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from itertools import compress, count
from typing import Any

from patron.promotions.rules import values
from patron.promotions.rules.checker import Checked, check
from patron.promotions.rules.closures import (
    Compiled,
    Fn,
    all_of,
    any_of,
    constant,
    generic_compare,
    loop,
    matching_loop,
    memoized,
    null_compare,
    number_operation,
    number_reader,
    truth,
    typed_compare,
)
from patron.promotions.rules.errors import RuleError, RuleLocation
from patron.promotions.rules.facts import Facts, ItemFacts
from patron.promotions.rules.functions import FUNCTIONS
from patron.promotions.rules.names import Binding
from patron.promotions.rules.parser import parse
from patron.promotions.rules.schema import BOOLEAN, DYNAMIC, Kind, SchemaLike, Type, as_schema, catalog_type
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
    bound_issues,
    to_json,
    without_spans,
)

Condition = Callable[[Facts], bool]
Value = Callable[[Facts], Any]
ItemCondition = Callable[[Facts, ItemFacts], bool]
ItemFilter = Callable[[Facts], list[int]]
ItemValue = Callable[[Facts, ItemFacts], Any]

_SCALAR_KINDS = (Kind.NUMBER, Kind.STRING, Kind.BOOLEAN, Kind.TIME, Kind.DATE)
_PYTHON_TYPES: dict[Kind, type] = {
    Kind.NUMBER: Decimal,
    Kind.STRING: str,
    Kind.BOOLEAN: bool,
    Kind.TIME: datetime,
    Kind.DATE: date,
    Kind.LIST: tuple,
}
_MIRRORED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_AGGREGATE_COST = 20  # a pass over the cart: worth putting after plain comparisons in an `and`


def _expected(expected: Type | str) -> Type:
    """A `Type`, or a name: the attribute catalog's (`number`, `string`, ...) or `dynamic` (anything)."""
    if isinstance(expected, Type):
        return expected
    return DYNAMIC if expected == "dynamic" else catalog_type(expected)


class Compiler:
    """Compiles the expressions of one ruleset: one attribute schema, and (with `share_aggregates`) one memo key per
    distinct aggregate, so identical aggregates in many campaigns run once per request."""

    def __init__(self, schema: SchemaLike = None, *, share_aggregates: bool = False):
        self.schema = as_schema(schema)
        self.share_aggregates = share_aggregates
        self._shared: dict[bytes, Compiled] = {}

    def condition(self, source: str | Node, location: RuleLocation | None = None) -> Condition:
        compiled = self._compile(source, BOOLEAN, None, location)
        if compiled.constant:
            answer = compiled.value is True
            return lambda _facts: answer
        fn = truth(compiled)
        return lambda facts: fn(facts, None)

    def value(self, source: str | Node, expected: Type | str, location: RuleLocation | None = None) -> Value:
        """A value expression (`session.total * 0.1`): its value when it has the `expected` type, else None."""
        expected = _expected(expected)
        fn = _coerced(self._compile(source, expected, None, location), expected)
        return lambda facts: fn(facts, None)

    def item_condition(self, source: str | Node, location: RuleLocation | None = None) -> ItemCondition:
        """A condition on one cart item, `item` bound to it."""
        return truth(self._compile(source, BOOLEAN, "items", location))

    def item_filter(self, source: str | Node, location: RuleLocation | None = None) -> ItemFilter:
        """The positions of the cart items a condition on one item holds for: a per-item discount's reach.
        `item.category == "shoes"` (or `in [...]`) is tested in C, as aggregates do (closures.matching_loop)."""
        compiled = self._compile(source, BOOLEAN, "items", location)
        if compiled.item_test is not None:
            attribute, allowed = compiled.item_test
            field, matches = operator.attrgetter(attribute), allowed.__contains__
            return lambda f: list(compress(count(), map(matches, map(field, f.items))))
        test = truth(compiled)
        return lambda f: [index for index, item in enumerate(f.items) if test(f, item)]

    def item_value(self, source: str | Node, expected: Type | str, location: RuleLocation | None = None) -> ItemValue:
        expected = _expected(expected)
        return _coerced(self._compile(source, expected, "items", location), expected)

    def _compile(self, source: str | Node, expected: Type, binding: Binding, where: RuleLocation | None) -> Compiled:
        text = source if isinstance(source, str) else None
        try:
            tree = parse(source) if isinstance(source, str) else source
            issues = [] if isinstance(source, str) else bound_issues(tree)  # parse() held text to the bounds
            checked = check(tree, self.schema, expected, binding) if not issues else None
            issues = issues or (checked.issues if checked else [])
            if issues:
                raise RuleError(issues, text)
        except RuleError as error:
            raise error.at(where, text) if where is not None else error from None
        assert checked is not None
        return _Builder(self, checked).build(tree)


def _coerced(compiled: Compiled, expected: Type) -> Fn:
    """A value of the expected type or None: a dynamic attribute holding a string is no discount amount."""
    python_type = _PYTHON_TYPES.get(expected.kind)
    if python_type is None or compiled.type.kind is not Kind.DYNAMIC:
        return compiled.fn
    fn = compiled.fn
    return lambda f, e: v if type(v := fn(f, e)) is python_type else None


class _Builder:
    def __init__(self, compiler: Compiler, checked: Checked):
        self.compiler = compiler
        self.checked = checked

    def build(self, node: Node) -> Compiled:
        kind = self.checked.type_of(node)
        match node:
            case Number(value=value) | String(value=value) | Boolean(value=value):
                return constant(value, kind)
            case Null():
                return constant(None, kind)
            case ListOf():
                return self.list_literal(node, kind)
            case Get():
                field = self.checked.fields[id(node)]
                return Compiled(field.read, kind, item_attribute=field.item_attribute)
            case And() | Or():
                return self.junction(node)
            case Not():
                arg = self.build(node.arg)
                if arg.constant:
                    return constant(arg.value is not True, BOOLEAN)
                fn = truth(arg)
                return Compiled(lambda f, e: not fn(f, e), BOOLEAN, arg.cost + 1, strict=True)
            case Compare():
                return self.compare(node)
            case In():
                return self.membership(node)
            case Arithmetic():
                return self.arithmetic(node, kind)
            case Negate():
                return self.negate(node, kind)
            case Call():
                return self.call(node, kind)
            case Aggregate():
                return self.aggregate(node)
        raise AssertionError(f"not a node: {node!r}")

    def list_literal(self, node: ListOf, kind: Type) -> Compiled:
        elements = [self.build(element) for element in node.elements]
        if all(element.constant for element in elements):
            return constant(tuple(element.value for element in elements), kind)
        fns = [element.fn for element in elements]
        cost = sum(element.cost for element in elements) + 1
        return Compiled(lambda f, e: tuple([fn(f, e) for fn in fns]), kind, cost)

    def junction(self, node: And | Or) -> Compiled:
        is_and = isinstance(node, And)
        operands: list[Compiled] = []
        for arg in node.args:
            compiled = self.build(arg)
            if not compiled.constant:
                operands.append(compiled)
            elif (compiled.value is True) != is_and:  # false in an `and`, true in an `or`: decides it
                return constant(not is_and, BOOLEAN)
        if not operands:
            return constant(is_and, BOOLEAN)
        operands.sort(key=lambda operand: operand.cost)  # stable: equal costs keep the author's order
        fns = [truth(operand) for operand in operands]
        cost = sum(operand.cost for operand in operands) + 1
        return Compiled(all_of(fns) if is_and else any_of(fns), BOOLEAN, cost, strict=True)

    def compare(self, node: Compare) -> Compiled:
        left, right = self.build(node.left), self.build(node.right)
        cost = left.cost + right.cost + 1
        if left.constant and right.constant:
            return constant(generic_compare(node.operator)(left.value, right.value), BOOLEAN)
        operator_: str = node.operator
        if left.constant:  # the constant on the right: one shape fewer below
            left, right, operator_ = right, left, _MIRRORED[operator_]
        item_test = None
        if left.type.kind is Kind.NULL or right.type.kind is Kind.NULL:
            fn = null_compare(operator_, right if left.type.kind is Kind.NULL else left)
        elif left.type.kind is right.type.kind and left.type.kind in _SCALAR_KINDS:
            fn = typed_compare(operator_, left, right)
            if operator_ == "==" and left.item_attribute and right.constant and right.value is not None:
                item_test = (left.item_attribute, frozenset([right.value]))
        else:
            generic, lf, rf = generic_compare(operator_), left.fn, right.fn
            fn = lambda f, e: generic(lf(f, e), rf(f, e))  # noqa: E731
        return Compiled(fn, BOOLEAN, cost, strict=True, item_test=item_test)

    def membership(self, node: In) -> Compiled:
        element, collection = self.build(node.element), self.build(node.collection)
        negated = node.negated
        cost = element.cost + collection.cost + 1
        if element.constant and collection.constant:
            return constant(values.member(element.value, collection.value) != negated, BOOLEAN)
        fn: Fn
        item_test = None
        python_type = _PYTHON_TYPES.get(element.type.kind)
        if (
            collection.constant
            and type(collection.value) is tuple
            and element.type.kind in (Kind.STRING, Kind.NUMBER)
            and all(type(candidate) is python_type for candidate in collection.value)
        ):
            # `item.category in ["shoes", "boots"]`: a set lookup. The element is of that type or absent, and
            # absent is in no such set, so this is `values.member` exactly.
            members = frozenset(collection.value)
            if element.item_attribute is not None:
                field = operator.attrgetter(element.item_attribute)
                fn = (lambda _f, e: field(e) not in members) if negated else (lambda _f, e: field(e) in members)
                item_test = None if negated else (element.item_attribute, members)
            else:
                get = element.fn
                fn = (lambda f, e: get(f, e) not in members) if negated else (lambda f, e: get(f, e) in members)
        elif (
            element.constant
            and type(element.value) is str
            and collection.type.kind is Kind.LIST
            and collection.type.element is not None
            and collection.type.element.kind is Kind.STRING
        ):
            # `"SUMMER" in session.couponCodes`: a tuple of strings, or absent.
            wanted, get = element.value, collection.fn
            found: Fn = lambda f, e: (codes := get(f, e)) is not None and wanted in codes  # noqa: E731
            fn = (lambda f, e: not found(f, e)) if negated else found
        else:
            member, ef, cf = values.member, element.fn, collection.fn
            contained: Fn = lambda f, e: member(ef(f, e), cf(f, e))  # noqa: E731
            fn = (lambda f, e: not contained(f, e)) if negated else contained
        return Compiled(fn, BOOLEAN, cost, strict=True, item_test=item_test)

    def arithmetic(self, node: Arithmetic, kind: Type) -> Compiled:
        left, right = self.build(node.left), self.build(node.right)
        generic = values.ARITHMETIC[node.operator]
        if left.constant and right.constant:
            return constant(generic(left.value, right.value), kind)
        cost = left.cost + right.cost + 1
        lf, rf = left.fn, right.fn
        if left.type.kind is Kind.NUMBER and right.type.kind is Kind.NUMBER:
            return Compiled(number_operation(node.operator, lf, rf), kind, cost)
        return Compiled(lambda f, e: generic(lf(f, e), rf(f, e)), kind, cost)

    def negate(self, node: Negate, kind: Type) -> Compiled:
        arg = self.build(node.arg)
        if arg.constant:
            return constant(values.negate(arg.value), kind)
        fn = arg.fn
        if arg.type.kind is Kind.NUMBER:
            return Compiled(lambda f, e: None if (v := fn(f, e)) is None else -v, kind, arg.cost + 1)
        negate = values.negate
        return Compiled(lambda f, e: negate(fn(f, e)), kind, arg.cost + 1)

    def call(self, node: Call, kind: Type) -> Compiled:
        function = FUNCTIONS[node.function]
        if function.literal is not None:
            first = node.args[0]
            assert isinstance(first, String)  # the checker made sure
            return constant(function.literal(first.value), kind)
        args = [self.build(arg) for arg in node.args]
        strict = node.function in ("startsWith", "endsWith", "contains")
        if function.reads_facts:  # its arguments are literals (the checker made sure)
            literals, reads = tuple(arg.value for arg in args), function.run
            return Compiled(lambda f, e: reads(f, *literals), kind, 1)
        if all(arg.constant for arg in args) and not function.reads_time:
            return constant(function.run(*(arg.value for arg in args)), kind)
        cost = sum(arg.cost for arg in args) + 1
        run, fns = function.run, [arg.fn for arg in args]
        if function.reads_time:
            only = fns[0]
            return Compiled(lambda f, e: run(only(f, e), f.time.date, f.time.zone), kind, cost)
        if len(fns) == 1:
            only = fns[0]
            return Compiled(lambda f, e: run(only(f, e)), kind, cost, strict=strict)
        if len(fns) == 2:
            first_fn, second_fn = fns
            return Compiled(lambda f, e: run(first_fn(f, e), second_fn(f, e)), kind, cost, strict=strict)
        return Compiled(lambda f, e: run(*[fn(f, e) for fn in fns]), kind, cost, strict=strict)

    def aggregate(self, node: Aggregate) -> Compiled:
        key = to_json(without_spans(node)) if self.compiler.share_aggregates else None
        if key is not None and (b'"path":["coupon"' in key or b'"path":["referral"' in key):
            key = None  # `coupon`, `referral` are each campaign's own: the aggregate differs between campaigns
        if key is not None and (shared := self.compiler._shared.get(key)) is not None:
            return shared
        compiled = self._aggregate(node)
        if key is not None and not compiled.constant:
            compiled = memoized(compiled)
            self.compiler._shared[key] = compiled
        return compiled

    def _aggregate(self, node: Aggregate) -> Compiled:
        kind = self.checked.type_of(node)
        where = self.build(node.where) if node.where is not None else None
        if where is not None and where.constant:
            if where.value is not True and node.function != "all":  # nothing matches
                return constant({"count": Decimal(0), "sum": Decimal(0), "any": False}.get(node.function), kind)
            if where.value is not True:  # all(items, false): true of an empty cart only
                elements = _elements(node)
                return Compiled(lambda f, _e: len(elements(f)) == 0, kind, _AGGREGATE_COST, strict=True)
            where = None  # everything matches
        value = self.build(node.value) if node.value is not None else None
        cost = _AGGREGATE_COST + (where.cost if where else 0) + (value.cost if value else 0)
        read = number_reader(value) if value is not None else None
        strict = node.function in ("any", "all")
        if where is not None and where.item_test is not None and node.over == "items":
            attribute, allowed = where.item_test
            return Compiled(matching_loop(node.function, attribute, allowed, read), kind, cost, strict=strict)
        test = truth(where) if where is not None else None
        return Compiled(loop(node.function, _elements(node), test, read), kind, cost, strict=strict)


def _elements(node: Aggregate) -> Callable[[Facts], Any]:
    if node.over == "items":
        return lambda f: f.items
    return lambda f: f.additional_costs.items()


# -- the entry points ----------------------------------------------------------------------------------------------


def compile_condition(source: str | Node, schema: SchemaLike = None, location: RuleLocation | None = None) -> Condition:
    return Compiler(schema).condition(source, location)


def compile_value(
    source: str | Node, expected: Type | str = DYNAMIC, schema: SchemaLike = None, location: RuleLocation | None = None
) -> Value:
    return Compiler(schema).value(source, expected, location)


def compile_item_condition(
    source: str | Node, schema: SchemaLike = None, location: RuleLocation | None = None
) -> ItemCondition:
    return Compiler(schema).item_condition(source, location)


def compile_item_value(
    source: str | Node, expected: Type | str = DYNAMIC, schema: SchemaLike = None, location: RuleLocation | None = None
) -> ItemValue:
    return Compiler(schema).item_value(source, expected, location)
