"""The functions a condition may call (the aggregates are tree nodes of their own): their types, and their code,
shared by the compiler and the interpreter. None loops beyond its arguments; none takes a pattern (a regular
expression could backtrack for seconds on a crafted string)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from patron.promotions.rules import values
from patron.promotions.rules.schema import BOOLEAN, DATE, DYNAMIC, NUMBER, STRING, TIME, Kind, Type
from patron.promotions.rules.tree import Node, Number, String

# The result's type from the arguments' types, or a message saying what the function takes.
TypeRule = Callable[[list[Type]], Type | str]
MAX_ROUNDING_PLACES = 10
_PLACES = frozenset(Decimal(places) for places in range(MAX_ROUNDING_PLACES + 1))


class Function(msgspec.Struct, frozen=True):
    arity: tuple[int, int]
    result: TypeRule
    run: Callable[..., Any]
    usage: str
    # The arguments must be literals this function reads once, at compile time (date("2026-12-24")); the
    # callable answers the value, or None when the text is not one.
    literal: Callable[[str], Any] | None = None
    # Checks that need the argument nodes themselves (round's places): a message, or None.
    arguments: Callable[[list[Node]], str | None] | None = None
    reads_time: bool = False  # daysSince: its value depends on the evaluation's date
    reads_facts: bool = False  # loyaltyPoints: run(facts, *literal arguments), its value the customer's


def is_a(kind: Kind, actual: Type) -> bool:
    return actual.kind is kind or actual.kind is Kind.DYNAMIC


def _all(kind: Kind, result: Type, usage: str) -> TypeRule:
    return lambda types: result if all(is_a(kind, t) for t in types) else usage


def _contains(types: list[Type]) -> Type | str:
    container, element = types
    if is_a(Kind.STRING, container) and is_a(Kind.STRING, element) and container.kind is not Kind.DYNAMIC:
        return BOOLEAN
    if container.kind is Kind.DYNAMIC and element.kind is not Kind.NULL:
        return BOOLEAN
    if container.kind is Kind.LIST and container.element is not None and compatible(container.element, element):
        return BOOLEAN
    return "contains(text, part) or contains(list, element) with an element of the list's type"


def _length(types: list[Type]) -> Type | str:
    return NUMBER if types[0].kind in (Kind.STRING, Kind.LIST, Kind.DYNAMIC) else "len(text) or len(list)"


def _coalesce(types: list[Type]) -> Type | str:
    present = [t for t in types if t.kind is not Kind.NULL]
    if not present:
        return "coalesce needs an argument that is not null"
    merged = present[0]
    for other in present[1:]:
        unified = unify(merged, other)
        if unified is None:
            return f"coalesce's arguments have one type; found {merged} and {other}"
        merged = unified
    return merged


def _days_since(types: list[Type]) -> Type | str:
    kind = types[0].kind
    return NUMBER if kind in (Kind.TIME, Kind.DATE, Kind.DYNAMIC) else "daysSince(time) or daysSince(date)"


def _places(args: list[Node]) -> str | None:
    if len(args) < 2:
        return None
    places = args[1]
    if isinstance(places, Number) and places.value in _PLACES:
        return None
    return f"round's places are a whole number from 0 to {MAX_ROUNDING_PLACES}, written as a literal"


def _literal_string(args: list[Node]) -> str | None:
    return None if isinstance(args[0], String) else "its argument is a string literal"


def _program_arguments(args: list[Node]) -> str | None:
    program = args[0]
    if not isinstance(program, Number) or program.value != program.value.to_integral_value() or program.value < 1:
        return "its first argument is a loyalty program's id, a whole number literal"
    if len(args) > 1 and not isinstance(args[1], String):
        return "its second argument is a subledger's id, a string literal"
    return None


def _loyalty_points(facts: Any, program: Decimal, subledger: str = "", pending: bool = False) -> Decimal | None:
    standing = None if facts.loyalty is None else facts.loyalty.get(int(program))
    if standing is None:
        return None
    points: Decimal = (standing.pending if pending else standing.active).get(subledger, Decimal(0))
    return points


def _pending_points(facts: Any, program: Decimal, subledger: str = "") -> Decimal | None:
    return _loyalty_points(facts, program, subledger, pending=True)


def _loyalty_tier(facts: Any, program: Decimal) -> str | None:
    standing = None if facts.loyalty is None else facts.loyalty.get(int(program))
    return None if standing is None else standing.tier


MAX_EVENT_WINDOW_DAYS = 365  # patron.events.counts.WINDOW_DAYS: the buckets a count item keeps


def _event_count_arguments(args: list[Node]) -> str | None:
    kind, days = args
    if not isinstance(kind, String) or not 1 <= len(kind.value) <= 255:
        return "its first argument is an event type, a string literal"
    if (
        not isinstance(days, Number)
        or days.value != days.value.to_integral_value()
        or not 1 <= days.value <= MAX_EVENT_WINDOW_DAYS
    ):
        return f"its second argument is a number of days, a whole number literal from 1 to {MAX_EVENT_WINDOW_DAYS}"
    return None


def _event_count(facts: Any, event_type: str, days: Decimal) -> Decimal | None:
    """The customer's events of the type on the `days` UTC days ending today (docs/events.md); absent when the
    evaluation has no customer (or, in a simulation, no counts were read)."""
    counts = facts.event_counts
    if counts is None:
        return None
    by_day = counts.get(event_type)
    if not by_day:
        return Decimal(0)
    today = facts.time.instant.date()  # the instant in UTC: buckets are UTC days
    first = today.toordinal() - int(days) + 1
    return Decimal(sum(n for day, n in by_day.items() if first <= day.toordinal() <= today.toordinal()))


def compatible(left: Type, right: Type) -> bool:
    """Whether two values may be compared for equality: the same type, or one of them dynamic."""
    if left.kind is Kind.DYNAMIC or right.kind is Kind.DYNAMIC:
        return True
    if left.kind is not right.kind:
        return False
    if left.kind is Kind.LIST and left.element is not None and right.element is not None:
        return compatible(left.element, right.element)
    return True


def unify(left: Type, right: Type) -> Type | None:
    """The type of a value that is one or the other (list elements, coalesce); dynamic absorbs."""
    if not compatible(left, right):
        return None
    if left.kind is Kind.DYNAMIC or right.kind is Kind.DYNAMIC:
        return DYNAMIC
    if left.kind is Kind.LIST and left.element is not None and right.element is not None:
        element = unify(left.element, right.element)
        return Type(Kind.LIST, element) if element is not None else None
    return left


def _one_number(usage: str) -> TypeRule:
    return _all(Kind.NUMBER, NUMBER, usage)


FUNCTIONS: dict[str, Function] = {
    "startsWith": Function(
        (2, 2), _all(Kind.STRING, BOOLEAN, "startsWith(text, prefix)"), values.starts_with, "startsWith(text, prefix)"
    ),
    "endsWith": Function(
        (2, 2), _all(Kind.STRING, BOOLEAN, "endsWith(text, suffix)"), values.ends_with, "endsWith(text, suffix)"
    ),
    "contains": Function((2, 2), _contains, values.contains, "contains(text, part) or contains(list, element)"),
    "lower": Function((1, 1), _all(Kind.STRING, STRING, "lower(text)"), values.lower, "lower(text)"),
    "upper": Function((1, 1), _all(Kind.STRING, STRING, "upper(text)"), values.upper, "upper(text)"),
    "len": Function((1, 1), _length, values.length, "len(text) or len(list)"),
    "round": Function(
        (1, 2),
        _one_number("round(number) or round(number, places)"),
        values.round_half_up,
        "round(number) or round(number, places)",
        arguments=_places,
    ),
    "floor": Function((1, 1), _one_number("floor(number)"), values.floor, "floor(number)"),
    "ceil": Function((1, 1), _one_number("ceil(number)"), values.ceil, "ceil(number)"),
    "abs": Function((1, 1), _one_number("abs(number)"), values.absolute, "abs(number)"),
    "min": Function((2, 16), _one_number("min(a, b, ...) of numbers"), values.minimum, "min(a, b, ...)"),
    "max": Function((2, 16), _one_number("max(a, b, ...) of numbers"), values.maximum, "max(a, b, ...)"),
    "coalesce": Function((2, 16), _coalesce, values.coalesce, "coalesce(value, fallback, ...)"),
    "date": Function(
        (1, 1),
        _all(Kind.STRING, DATE, 'date("2026-12-24")'),
        values.parse_date,
        'date("2026-12-24")',
        literal=values.parse_date,
        arguments=_literal_string,
    ),
    "timestamp": Function(
        (1, 1),
        _all(Kind.STRING, TIME, 'timestamp("2026-12-24T18:00:00+01:00")'),
        values.parse_timestamp,
        'timestamp("2026-12-24T18:00:00+01:00")',
        literal=values.parse_timestamp,
        arguments=_literal_string,
    ),
    "daysSince": Function((1, 1), _days_since, values.days_since, "daysSince(time or date)", reads_time=True),
    "loyaltyPoints": Function(
        (1, 2),
        lambda _: NUMBER,
        _loyalty_points,
        'loyaltyPoints(programId) or loyaltyPoints(programId, "subledger")',
        arguments=_program_arguments,
        reads_facts=True,
    ),
    "pendingLoyaltyPoints": Function(
        (1, 2),
        lambda _: NUMBER,
        _pending_points,
        'pendingLoyaltyPoints(programId) or pendingLoyaltyPoints(programId, "subledger")',
        arguments=_program_arguments,
        reads_facts=True,
    ),
    "loyaltyTier": Function(
        (1, 1),
        lambda _: STRING,
        _loyalty_tier,
        "loyaltyTier(programId)",
        arguments=_program_arguments,
        reads_facts=True,
    ),
    "eventCount": Function(
        (2, 2),
        lambda _: NUMBER,
        _event_count,
        'eventCount("eventType", days)',
        arguments=_event_count_arguments,
        reads_facts=True,
    ),
}
LOYALTY_FUNCTIONS = frozenset({"loyaltyPoints", "pendingLoyaltyPoints", "loyaltyTier"})
EVENT_COUNT_FUNCTIONS = frozenset({"eventCount"})

AGGREGATE_USAGE = {
    "count": "count(items) or count(items, condition)",
    "sum": "sum(items, value) or sum(items, value, condition)",
    "min": "min(items, value), min(items, value, condition) or min(a, b, ...)",
    "max": "max(items, value), max(items, value, condition) or max(a, b, ...)",
    "any": "any(items, condition)",
    "all": "all(items, condition)",
}
