"""The type checker: every node's type, every problem at once (each with a stable code and its offsets).

Declared attributes have their schema's type; undeclared ones are `dynamic` and checked when read (docs/rules.md).
What the checker refuses is what could never be true or never mean anything: comparing a number with a string,
`item` outside an aggregate, an aggregate inside another (a loop over the cart for each item).
"""

from __future__ import annotations

import msgspec

from patron.promotions.rules.errors import RuleIssue
from patron.promotions.rules.functions import AGGREGATE_USAGE, FUNCTIONS, compatible, is_a, unify
from patron.promotions.rules.names import ELEMENT_NAMES, Binding, Field, NameProblem, resolve
from patron.promotions.rules.schema import (
    BOOLEAN,
    DYNAMIC,
    NULL,
    NUMBER,
    STRING,
    AttributeSchema,
    Kind,
    SchemaLike,
    Type,
    as_schema,
    list_of,
)
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

_ORDERED = (Kind.NUMBER, Kind.STRING, Kind.TIME, Kind.DATE, Kind.DYNAMIC)


class Checked(msgspec.Struct):
    """The checker's findings, keyed by node identity (the tree must outlive them)."""

    types: dict[int, Type] = msgspec.field(default_factory=dict)
    fields: dict[int, Field] = msgspec.field(default_factory=dict)
    issues: list[RuleIssue] = msgspec.field(default_factory=list)

    def type_of(self, node: Node) -> Type:
        return self.types[id(node)]


def check(tree: Node, schema: SchemaLike = None, expected: Type = BOOLEAN, binding: Binding = None) -> Checked:
    """`expected` is what the expression must answer (BOOLEAN for a condition; DYNAMIC takes anything);
    `binding` "items" when `item` names the cart item the expression is evaluated for (a per-item effect)."""
    checker = _Checker(as_schema(schema))
    actual = checker.visit(tree, binding)
    if expected.kind is Kind.BOOLEAN and not is_a(Kind.BOOLEAN, actual):
        checker.report(tree, "not_boolean", f"A condition is true or false; this expression is a {actual}.")
    elif expected.kind is not Kind.DYNAMIC and not compatible(expected, actual):
        checker.report(tree, "type_mismatch", f"Expected a {expected}; this expression is a {actual}.")
    elif actual.kind is Kind.NULL and expected.kind is not Kind.DYNAMIC:
        checker.report(tree, "type_mismatch", f"Expected a {expected}; this expression is null.")
    checker.checked.issues.sort(key=lambda issue: -1 if issue.start is None else issue.start)  # in reading order
    return checker.checked


class _Checker:
    def __init__(self, schema: AttributeSchema):
        self.schema = schema
        self.checked = Checked()

    def report(self, node: Node, code: str, message: str) -> None:
        self.checked.issues.append(RuleIssue(code, message, node.start, node.end))

    def visit(self, node: Node, binding: Binding) -> Type:
        found = self._type(node, binding)
        self.checked.types[id(node)] = found
        return found

    def boolean(self, node: Node, binding: Binding, role: str) -> None:
        found = self.visit(node, binding)
        if not is_a(Kind.BOOLEAN, found):
            self.report(node, "not_boolean", f"{role} is true or false; this is a {found}.")

    def number(self, node: Node, binding: Binding, role: str) -> None:
        found = self.visit(node, binding)
        if not is_a(Kind.NUMBER, found):
            self.report(node, "type_mismatch", f"{role} is a number; this is a {found}.")

    def _type(self, node: Node, binding: Binding) -> Type:
        match node:
            case Number():
                return NUMBER
            case String():
                return STRING
            case Boolean():
                return BOOLEAN
            case Null():
                return NULL
            case ListOf():
                return self.list_literal(node, binding)
            case Get():
                return self.name(node, binding)
            case And() | Or():
                if not node.args:
                    self.report(node, "invalid_tree", "`and`/`or` needs at least one operand.")
                for arg in node.args:
                    self.boolean(arg, binding, "Each side of `and`/`or`")
                return BOOLEAN
            case Not():
                self.boolean(node.arg, binding, "What `not` negates")
                return BOOLEAN
            case Compare():
                return self.compare(node, binding)
            case In():
                return self.membership(node, binding)
            case Arithmetic():
                return self.arithmetic(node, binding)
            case Negate():
                self.number(node.arg, binding, "What `-` negates")
                return NUMBER
            case Call():
                return self.call(node, binding)
            case Aggregate():
                return self.aggregate(node, binding)
        raise AssertionError(f"not a node: {node!r}")

    def list_literal(self, node: ListOf, binding: Binding) -> Type:
        element: Type | None = None
        for member in node.elements:
            found = self.visit(member, binding)
            if found.kind is Kind.NULL:
                self.report(member, "type_mismatch", "A list holds no null.")
                continue
            merged = found if element is None else unify(element, found)
            if merged is None:
                self.report(member, "type_mismatch", f"A list's elements have one type; found {element} and {found}.")
                continue
            element = merged
        return list_of(element or DYNAMIC)

    def name(self, node: Get, binding: Binding) -> Type:
        resolved = resolve(node.path, self.schema, binding)
        if isinstance(resolved, NameProblem):
            self.report(node, resolved.code, resolved.message)
            return DYNAMIC
        self.checked.fields[id(node)] = resolved
        return resolved.type

    def compare(self, node: Compare, binding: Binding) -> Type:
        left, right = self.visit(node.left, binding), self.visit(node.right, binding)
        if node.operator in ("==", "!="):
            if Kind.NULL not in (left.kind, right.kind) and not compatible(left, right):
                self.report(node, "type_mismatch", f"A {left} is never equal to a {right}.")
        elif Kind.NULL in (left.kind, right.kind):
            self.report(node, "null_comparison", "Only `==` and `!=` compare with null.")
        elif left.kind not in _ORDERED or right.kind not in _ORDERED or not compatible(left, right):
            self.report(node, "type_mismatch", f"`{node.operator}` does not order a {left} and a {right}.")
        return BOOLEAN

    def membership(self, node: In, binding: Binding) -> Type:
        element, collection = self.visit(node.element, binding), self.visit(node.collection, binding)
        if element.kind is Kind.NULL:
            self.report(node.element, "null_comparison", "Write `x == null`, not `null in ...`.")
        elif collection.kind is Kind.LIST and collection.element is not None:
            if not compatible(element, collection.element):
                self.report(node, "type_mismatch", f"A {element} is never in a {collection}.")
        elif collection.kind is Kind.STRING:
            self.report(node, "type_mismatch", "`in` looks in a list; in a text, use contains(text, part).")
        elif collection.kind is not Kind.DYNAMIC:
            self.report(node, "type_mismatch", f"`in` looks in a list; this is a {collection}.")
        return BOOLEAN

    def arithmetic(self, node: Arithmetic, binding: Binding) -> Type:
        left, right = self.visit(node.left, binding), self.visit(node.right, binding)
        kinds = {left.kind, right.kind}
        if node.operator == "+" and kinds <= {Kind.STRING, Kind.DYNAMIC}:
            return DYNAMIC if kinds == {Kind.DYNAMIC} else STRING
        if kinds <= {Kind.NUMBER, Kind.DYNAMIC}:
            return NUMBER
        joins = "numbers, or texts with `+`" if node.operator == "+" else "numbers"
        self.report(node, "type_mismatch", f"`{node.operator}` joins {joins}; found a {left} and a {right}.")
        return NUMBER

    def call(self, node: Call, binding: Binding) -> Type:
        function = FUNCTIONS.get(node.function)
        aggregate_usage = AGGREGATE_USAGE.get(node.function)
        first = node.args[0] if node.args else None
        over_collection = isinstance(first, Get) and len(first.path) == 1 and first.path[0] in ELEMENT_NAMES
        if aggregate_usage is not None and (function is None or over_collection):
            # An aggregate written in a shape the parser could not read as one: say which shapes there are.
            self.report(node, "invalid_arguments", f"Write {aggregate_usage}.")
            return BOOLEAN if node.function in ("any", "all") else NUMBER
        argument_types = [self.visit(arg, binding) for arg in node.args]
        if function is None:
            known = ", ".join(sorted([*FUNCTIONS, *AGGREGATE_USAGE]))
            self.report(node, "unknown_function", f"Unknown function `{node.function}`; the functions: {known}.")
            return DYNAMIC
        low, high = function.arity
        if not low <= len(node.args) <= high:
            self.report(node, "wrong_argument_count", f"Write {function.usage}.")
            return DYNAMIC
        if function.arguments is not None and (problem := function.arguments(node.args)) is not None:
            self.report(node, "invalid_arguments", f"{function.usage}: {problem}.")
        result = function.result(argument_types)
        if isinstance(result, str):
            shown = ", ".join(str(t) for t in argument_types)
            self.report(node, "type_mismatch", f"Write {result} (found {node.function}({shown})).")
            return DYNAMIC
        if function.literal is not None and isinstance(first, String) and function.literal(first.value) is None:
            self.report(first, "invalid_literal", f"Not a valid literal: write {function.usage}.")
        return result

    def aggregate(self, node: Aggregate, binding: Binding) -> Type:
        if binding is not None:
            message = (
                "An aggregate cannot be inside another or in a per-item expression: "
                "it would loop over the cart for each item."
            )
            self.report(node, "nested_aggregate", message)
        inner: Binding = node.over
        usage = AGGREGATE_USAGE[node.function]
        takes_value = node.function in ("sum", "min", "max")
        if takes_value != (node.value is not None) or (node.function in ("any", "all") and node.where is None):
            self.report(node, "invalid_arguments", f"Write {usage}.")
        if node.value is not None:
            self.number(node.value, inner, f"What {node.function} adds up" if node.function == "sum" else "The value")
        if node.where is not None:
            self.boolean(node.where, inner, "An aggregate's condition")
        return BOOLEAN if node.function in ("any", "all") else NUMBER
