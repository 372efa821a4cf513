"""Google's CEL runtime (`cel-expr-python`, the C++ implementation) on the conditions it can express: a
translation of checked rule trees into CEL text, the facts handed over as CEL maps and lists, and a `Compiler` whose
conditions run in CEL (bench/decide.py measures it against the closures and the interpreter).

The translation keeps Patron's semantics (docs/rules.md, "Absent and dynamic values") where CEL can say them:

* CEL raises on a missing map key where Patron reads an absent value, so every name that may be absent is guarded
  with `has(...)`, and a comparison whose operand may be absent becomes `has(x) && x op y` (false, as Patron's
  comparisons with an absent value are); `!=` is `!(has(x) && x == y)`, Patron's `not (x == y)`.
* Numbers are CEL doubles: CEL has no decimal type. Totals, prices and literals go over as floats; a translated
  condition compares them and adds or multiplies a few (no division: Patron's division by zero is absent, CEL's is
  an error). The bench asserts, campaign by campaign, that CEL answers what the closures answer on its carts.

What it refuses, with the reason the bench reports: `sum` (CEL has no sum over a list), `min`/`max` over items
(no standard function; `math.greatest` raises on an empty list, where Patron's answer is absent), aggregates over
`additionalCosts`, undeclared (dynamic) attributes (CEL refuses to compare an int with a double, and a JSON number
may come as either), times and dates, `null`, division, and the functions without a CEL equal (`lower` and `upper`
are ASCII-only in CEL's strings extension, `round`, `floor`, `ceil`, `abs`, `coalesce`, `daysSince`, `min`/`max`
of numbers).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from cel_expr_python import cel  # type: ignore[import-untyped]  # stubs (.pyi) without a py.typed marker

from patron.promotions.rules import (
    Compiler,
    Facts,
    Node,
    RuleLocation,
    parse,
)
from patron.promotions.rules.schema import Kind, SchemaLike, as_schema
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
    Not,
    Null,
    Number,
    Or,
    String,
)

_MAP = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
VARIABLES = {
    "session": _MAP,
    "items": cel.Type.List(_MAP),
    "profile": _MAP,
    "event": _MAP,
    "time": _MAP,
    "additionalCosts": cel.Type.Map(cel.Type.STRING, cel.Type.DOUBLE),
}
# Names read from the facts that are always there (the others are guarded with has()).
_ALWAYS = {
    ("session", "total"),
    ("session", "cartItemTotal"),
    ("session", "additionalCostTotal"),
    ("session", "state"),
    ("session", "couponCodes"),
    ("session", "firstSession"),
    ("session", "integrationId"),
    ("time", "year"),
    ("time", "month"),
    ("time", "day"),
    ("time", "weekday"),
    ("time", "hour"),
    ("time", "minute"),
    ("item", "sku"),
    ("item", "price"),
    ("item", "quantity"),
    ("item", "position"),
}
_MAY_BE_ABSENT = {
    ("session", "storeIntegrationId"),
    ("session", "referralCode"),
    ("profile", "integrationId"),
    ("profile", "closedSessions"),
    ("profile", "totalSales"),
    ("profile", "ordersCount"),
    ("profile", "averageOrderValue"),
    ("event", "type"),
    ("item", "name"),
    ("item", "category"),
}
_ATTRIBUTE_OWNERS = {"session", "profile", "event", "item"}
_DECLARABLE = {Kind.STRING, Kind.NUMBER, Kind.BOOLEAN}
_STRING_TESTS = {"startsWith", "endsWith"}


class Untranslatable(Exception):
    """A condition CEL cannot express with Patron's meaning; the message says why (the bench counts reasons)."""


class Translator:
    def __init__(self, schema: SchemaLike = None):
        self.schema = as_schema(schema)

    def condition(self, tree: Node) -> str:
        return self._boolean(tree)

    # Boolean nodes translate to total expressions (never an error, never absent).
    def _boolean(self, node: Node) -> str:
        match node:
            case Boolean(value=value):
                return "true" if value else "false"
            case And(args=args):
                return "(" + " && ".join(self._boolean(arg) for arg in args) + ")"
            case Or(args=args):
                return "(" + " || ".join(self._boolean(arg) for arg in args) + ")"
            case Not(arg=arg):
                return f"!{self._boolean(arg)}"
            case Compare(operator=operator, left=left, right=right):
                if isinstance(left, Null) or isinstance(right, Null):
                    raise Untranslatable("null comparison")
                (a, left_guards), (b, right_guards) = self._value(left), self._value(right)
                guards = sorted(left_guards | right_guards)
                if operator == "!=":
                    return "!" + _guarded(guards, f"{a} == {b}")
                return _guarded(guards, f"{a} {operator} {b}")
            case In(element=element, collection=collection, negated=negated):
                (a, element_guards), (b, collection_guards) = self._value(element), self._value(collection)
                found = _guarded(sorted(element_guards | collection_guards), f"{a} in {b}")
                return f"!{found}" if negated else found
            case Call(function=function, args=args) if function in _STRING_TESTS:
                (text, text_guards), (part, part_guards) = self._value(args[0]), self._value(args[1])
                return _guarded(sorted(text_guards | part_guards), f"{text}.{function}({part})")
            case Aggregate(function="any" | "all", over="items", where=where):
                test = self._boolean(where) if where is not None else "true"
                return f"items.{'exists' if node.function == 'any' else 'all'}(item, {test})"
            case Get():
                name, name_guards = self._value(node)
                return _guarded(sorted(name_guards), f"{name} == true")
        raise Untranslatable(_reason(node))

    # Value nodes translate to (text, the has() tests without which the value is absent).
    def _value(self, node: Node) -> tuple[str, set[str]]:
        match node:
            case Number(value=value):
                return _double(value), set()
            case String(value=value):
                return json.dumps(value), set()
            case Boolean(value=value):
                return ("true" if value else "false"), set()
            case ListOf(elements=elements):
                parts = [self._value(element) for element in elements]
                if any(guards for _, guards in parts):
                    raise Untranslatable("a list of names")
                return "[" + ", ".join(text for text, _ in parts) + "]", set()
            case Get(path=path):
                return self._name(path)
            case Arithmetic(operator=operator, left=left, right=right):
                if operator == "/":
                    raise Untranslatable("division (absent on zero in Patron, an error in CEL)")
                (a, left_guards), (b, right_guards) = self._value(left), self._value(right)
                return f"({a} {operator} {b})", left_guards | right_guards
            case Negate(arg=arg):
                text, guards = self._value(arg)
                return f"(-{text})", guards
            case Aggregate(function="count", over="items", where=where):
                if where is None:
                    return "double(size(items))", set()
                return f"double(items.filter(item, {self._boolean(where)}).size())", set()
            case Aggregate() | Compare() | And() | Or() | Not() | In():
                return self._boolean(node), set()
            case Call(function="len", args=[arg]):
                text, guards = self._value(arg)
                return f"double(size({text}))", guards
        raise Untranslatable(_reason(node))

    def _name(self, path: list[str]) -> tuple[str, set[str]]:
        head = tuple(path[:2])
        text = ".".join(path)
        if len(path) == 2 and head in _ALWAYS:
            return text, set()
        if len(path) == 2 and head in _MAY_BE_ABSENT:
            return text, {f"has({text})"}
        if len(path) == 3 and path[1] == "attributes" and path[0] in _ATTRIBUTE_OWNERS:
            declared = self.schema.type_of(path[0], path[2])
            if declared.kind not in _DECLARABLE:
                raise Untranslatable("an undeclared (dynamic) or non-scalar attribute")
            return text, {f"has({text})"}
        if len(path) == 2 and path[0] == "additionalCosts":
            return text, {f"has({text})"}
        raise Untranslatable(f"the name {text} (times and dates have no CEL equal here)")


def _guarded(guards: list[str], test: str) -> str:
    return "(" + " && ".join([*guards, test]) + ")"


def _double(value: Decimal) -> str:
    text = repr(float(value))
    return text if "e" in text or "." in text or "n" in text else f"{text}.0"


def _reason(node: Node) -> str:
    match node:
        case Aggregate(function=function, over=over):
            if over != "items":
                return "an aggregate over additionalCosts"
            if function == "sum":
                return "sum (CEL has no sum over a list)"
            return f"{function} over items (no CEL function; math.greatest/least raise on an empty list)"
        case Call(function=function):
            return f"the function {function}"
        case Null():
            return "null"
    return f"a {type(node).__name__} here"


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON numbers as doubles (CEL compares no int with a double); the rest as it came."""
    return {
        name: float(value) if isinstance(value, int | float | Decimal) and not isinstance(value, bool) else value
        for name, value in values.items()
    }


def cel_data(facts: Facts) -> dict[str, Any]:
    """The facts as CEL reads them: maps without the keys whose value is absent, numbers as doubles."""
    session = facts.session
    session_map: dict[str, Any] = {
        "integrationId": session.integration_id,
        "total": float(session.total),
        "cartItemTotal": float(session.cart_item_total),
        "additionalCostTotal": float(session.additional_cost_total),
        "state": session.state,
        "couponCodes": list(session.coupon_codes),
        "firstSession": session.first_session,
        "attributes": _attributes(session.attributes),
    }
    if session.store_integration_id is not None:
        session_map["storeIntegrationId"] = session.store_integration_id
    if session.referral_code is not None:
        session_map["referralCode"] = session.referral_code
    items = []
    for item in facts.items:
        item_map: dict[str, Any] = {
            "sku": item.sku,
            "price": float(item.price),
            "quantity": float(item.quantity),
            "position": float(item.position),
            "attributes": _attributes(item.attributes),
        }
        if item.category is not None:
            item_map["category"] = item.category
        if item.name is not None:
            item_map["name"] = item.name
        items.append(item_map)
    profile = facts.profile
    profile_map: dict[str, Any] = {"attributes": {}}
    if profile is not None:
        profile_map = {
            "integrationId": profile.integration_id,
            "attributes": _attributes(profile.attributes),
            "closedSessions": float(profile.closed_sessions),
            "totalSales": float(profile.total_sales),
            "ordersCount": float(profile.orders_count),
        }
        if profile.average_order_value is not None:
            profile_map["averageOrderValue"] = float(profile.average_order_value)
    event = facts.event
    event_map: dict[str, Any] = {"attributes": {}}
    if event is not None:
        event_map = {"type": event.type, "attributes": _attributes(event.attributes)}
    time = facts.time
    time_map = {
        "year": float(time.year),
        "month": float(time.month),
        "day": float(time.day),
        "weekday": float(time.weekday),
        "hour": float(time.hour),
        "minute": float(time.minute),
    }
    costs = {name: float(price) for name, price in facts.additional_costs.items()}
    return {
        "session": session_map,
        "items": items,
        "profile": profile_map,
        "event": event_map,
        "time": time_map,
        "additionalCosts": costs,
    }


class CelEngine:
    """One CEL environment for a ruleset: programs compiled once, and one activation per request (per version of
    the facts: kept in `facts.memo`, which cascading discounts clear, so CEL then reads the discounted cart)."""

    def __init__(self, schema: SchemaLike = None):
        self.translator = Translator(schema)
        self.env = cel.NewEnv(variables=VARIABLES)
        self._activation_key = object()

    def translate(self, tree: Node) -> str:
        """CEL text for a condition, type-checked by CEL; Untranslatable (with the reason) otherwise."""
        text = self.translator.condition(tree)
        try:
            self.env.compile(text)
        except RuntimeError as error:  # a translation CEL's checker refuses is reported, not hidden
            raise Untranslatable(f"CEL's checker refused it: {error}") from None
        return text

    def program(self, text: str) -> Callable[[Facts], bool]:
        expression = self.env.compile(text)
        activation_of = self.activation

        def answer(facts: Facts) -> bool:
            value = expression.eval(activation_of(facts)).value()
            if value is True or value is False:
                return value
            raise AssertionError(f"CEL answered {value!r} to {text}")

        return answer

    def activation(self, facts: Facts) -> Any:
        memo = facts.memo
        found = memo.get(self._activation_key)
        if found is None:
            found = memo[self._activation_key] = self.env.Activation(cel_data(facts))
        return found


class CelCompiler(Compiler):
    """`Compiler` whose conditions run in CEL when CEL can express them (the others stay closures, counted in
    `refused` with the reason). Effects' values and per-item filters stay closures: CEL has no decimal type, and
    money is computed exactly."""

    def __init__(self, schema: SchemaLike = None, engine: CelEngine | None = None):
        super().__init__(schema, share_aggregates=True)
        self.engine = engine or CelEngine(schema)
        self.translated: dict[str, str] = {}  # condition source -> CEL text
        self.refused: dict[str, str] = {}  # condition source -> why not

    def condition(self, source: str | Node, location: RuleLocation | None = None) -> Callable[[Facts], bool]:
        compiled = super().condition(source, location)  # the same checks (and errors) as the closures
        key = source if isinstance(source, str) else json.dumps(str(source))
        try:
            text = self.engine.translate(parse(source) if isinstance(source, str) else source)
        except Untranslatable as why:
            self.refused[key] = str(why)
            return compiled
        self.translated[key] = text
        return self.engine.program(text)


def reasons(refused: Mapping[str, str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for why in refused.values():
        counted[why] = counted.get(why, 0) + 1
    return dict(sorted(counted.items(), key=lambda pair: -pair[1]))
