"""A plain tree-walking evaluator of checked rule trees: the compiler's oracle in the property tests, and the
baseline the benchmark measures it against. It reads a node at a time with the runtime rules of `values.py` and
no shortcuts, so any answer the closures give that it does not is a compiler bug."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from patron.promotions.rules import values
from patron.promotions.rules.facts import Facts
from patron.promotions.rules.functions import FUNCTIONS
from patron.promotions.rules.names import Binding, Field, NameProblem, resolve
from patron.promotions.rules.schema import SchemaLike, as_schema
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


class Interpreter:
    def __init__(self, schema: SchemaLike = None):
        self.schema = as_schema(schema)
        self._fields: dict[tuple[tuple[str, ...], Binding], Field] = {}

    def condition(self, tree: Node, facts: Facts, item: Any = None) -> bool:
        """`item`: the cart item a per-item condition is asked about."""
        return self.evaluate(tree, facts, item) is True

    def evaluate(self, tree: Node, facts: Facts, item: Any = None) -> Any:
        return self._value(tree, facts, item, "items" if item is not None else None)

    def _field(self, path: list[str], binding: Binding) -> Field:
        key = (tuple(path), binding)
        field = self._fields.get(key)
        if field is None:
            resolved = resolve(path, self.schema, binding)
            if isinstance(resolved, NameProblem):
                raise ValueError(resolved.message)  # a checked tree has none
            field = self._fields[key] = resolved
        return field

    def _value(self, node: Node, facts: Facts, element: Any, binding: Binding) -> Any:
        match node:
            case Number(value=value) | String(value=value) | Boolean(value=value):
                return value
            case Null():
                return None
            case ListOf(elements=elements):
                return tuple(self._value(member, facts, element, binding) for member in elements)
            case Get(path=path):
                return self._field(path, binding).read(facts, element)
            case And(args=args):
                return all(self._value(arg, facts, element, binding) is True for arg in args)
            case Or(args=args):
                return any(self._value(arg, facts, element, binding) is True for arg in args)
            case Not(arg=arg):
                return self._value(arg, facts, element, binding) is not True
            case Compare(operator=operator, left=left, right=right):
                a = self._value(left, facts, element, binding)
                b = self._value(right, facts, element, binding)
                return _compare(operator, a, b)
            case In(element=member, collection=collection, negated=negated):
                found = values.member(
                    self._value(member, facts, element, binding), self._value(collection, facts, element, binding)
                )
                return found != negated
            case Arithmetic(operator=operator, left=left, right=right):
                a = self._value(left, facts, element, binding)
                b = self._value(right, facts, element, binding)
                return values.ARITHMETIC[operator](a, b)
            case Negate(arg=arg):
                return values.negate(self._value(arg, facts, element, binding))
            case Call():
                return self._call(node, facts, element, binding)
            case Aggregate():
                return self._aggregate(node, facts)
        raise AssertionError(f"not a node: {node!r}")

    def _call(self, node: Call, facts: Facts, element: Any, binding: Binding) -> Any:
        function = FUNCTIONS[node.function]
        args = [self._value(arg, facts, element, binding) for arg in node.args]
        if function.reads_time:
            return function.run(*args, facts.time.date, facts.time.zone)
        if function.reads_facts:
            return function.run(facts, *args)
        return function.run(*args)

    def _aggregate(self, node: Aggregate, facts: Facts) -> Any:
        over: Binding = node.over
        elements = facts.items if over == "items" else tuple(facts.additional_costs.items())
        matching = [
            element
            for element in elements
            if node.where is None or self._value(node.where, facts, element, over) is True
        ]
        if node.function == "count":
            return Decimal(len(matching))
        if node.function == "any":
            return bool(matching)
        if node.function == "all":
            return len(matching) == len(elements)
        assert node.value is not None
        numbers = [
            value for element in matching if type(value := self._value(node.value, facts, element, over)) is Decimal
        ]
        if node.function == "sum":
            total = values.ZERO
            for number in numbers:
                total = values.add(total, number)
            return total
        if not numbers:
            return None
        return min(numbers) if node.function == "min" else max(numbers)


def _compare(operator: str, a: Any, b: Any) -> bool:
    if operator == "==":
        return values.equal(a, b)
    if operator == "!=":
        return not values.equal(a, b)
    if operator == "<":
        return values.less(a, b)
    if operator == "<=":
        return values.less_or_equal(a, b)
    if operator == ">":
        return values.less(b, a)
    return values.less_or_equal(b, a)
