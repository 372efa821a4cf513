"""Facts for the condition-language tests: a readable default cart, and hypothesis strategies for random facts and
random well-typed rule trees (the compiler is held to the interpreter on them)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

from hypothesis import strategies as st

from patron.promotions.rules import (
    EventFacts,
    Facts,
    ItemFacts,
    ProfileFacts,
    SessionFacts,
    TimeFacts,
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

NOW = datetime(2026, 5, 2, 19, 30, tzinfo=UTC)  # a Saturday
SCHEMA = {
    "session": {"channel": "string", "score": "number", "vip": "boolean", "tags": "list of string"},
    "profile": {"tier": "string", "birthday": "time", "points": "number"},
    "item": {"weight": "number", "color": "string"},
    "event": {"rating": "number"},
}
SKUS = ["A-1", "A-2", "B-1", "GIFT-1"]
CATEGORIES = ["shoes", "hats", "bags"]
CODES = ["SUMMER", "VIP", "WELCOME"]
EVENT_TYPES = ["newsletter_signup", "app_install"]
STRINGS = ["", "web", "WEB", "gold", "shoes", "A-1", "SUMMER", "x"]


def item(
    sku: str = "A-1", price: str = "10", quantity: int = 1, category: str | None = "shoes", **kw: Any
) -> ItemFacts:
    return ItemFacts(sku=sku, price=Decimal(price), quantity=quantity, category=category, **kw)


def facts(
    items: list[ItemFacts] | None = None,
    *,
    total: str | None = None,
    coupon_codes: tuple[str, ...] = (),
    session_attributes: dict[str, Any] | None = None,
    profile: ProfileFacts | None = None,
    event: EventFacts | None = None,
    additional_costs: dict[str, Decimal] | None = None,
    now: datetime = NOW,
    first_session: bool = False,
) -> Facts:
    items = items if items is not None else [item()]
    cart_total = sum((line.price * line.quantity for line in items), Decimal(0))
    costs = additional_costs or {}
    return Facts(
        session=SessionFacts(
            integration_id="s-1",
            total=Decimal(total) if total is not None else cart_total + sum(costs.values(), Decimal(0)),
            cart_item_total=cart_total,
            additional_cost_total=sum(costs.values(), Decimal(0)),
            coupon_codes=coupon_codes,
            attributes=session_attributes or {},
            first_session=first_session,
        ),
        items=items,
        additional_costs=costs,
        profile=profile,
        event=event,
        time=TimeFacts(now),
    )


# -- random facts ---------------------------------------------------------------------------------------------------

# Attribute values as a JSON decoder may hand them over, wrong types and oddities included.
JSON_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    3,
    -5,
    200,
    0.1,
    2.5,
    float("nan"),
    float("inf"),
    1e300,
    Decimal("0.1"),
    Decimal("100"),
    Decimal("-3.50"),
    Decimal("NaN"),
    Decimal("1E+999990"),
    *STRINGS,
    "2026-05-01T10:00:00Z",
    "2026-05-01",
    "not a date",
    ["web", "gold"],
    ["web", 1, True],
    [None],
    [],
    {"nested": 1},
]
ATTRIBUTE_NAMES = ["channel", "score", "vip", "tags", "tier", "birthday", "points", "d", "flag", "rating"]
PRICES = [Decimal(text) for text in ("0", "0.1", "0.2", "5", "10", "19.99", "100", "250.5")]


def _attributes(rng: random.Random, names: list[str]) -> dict[str, Any]:
    return {name: rng.choice(JSON_VALUES) for name in rng.sample(names, rng.randint(0, min(4, len(names))))}


def facts_from(rng: random.Random) -> Facts:
    """Random facts from a seeded generator: hypothesis draws one seed, which is much cheaper than drawing each
    field (the trees are what is worth shrinking; a failing seed is printed and replays)."""
    items = [
        ItemFacts(
            sku=rng.choice(SKUS),
            name=rng.choice(["Shoe", "Hat", None]),
            category=rng.choice([*CATEGORIES, None]),
            price=rng.choice(PRICES),
            quantity=rng.randint(1, 3),
            position=position,
            attributes=_attributes(rng, ["weight", "color", "d"]),
        )
        for position in range(rng.randint(0, 5))
    ]
    costs = {name: rng.choice(PRICES) for name in rng.sample(["shipping", "wrapping"], rng.randint(0, 2))}
    cart_total = sum((line.price * line.quantity for line in items), Decimal(0))
    profile = None
    if rng.random() < 0.8:
        profile = ProfileFacts(
            integration_id="p-1",
            attributes=_attributes(rng, ATTRIBUTE_NAMES),
            closed_sessions=rng.randint(0, 3),
            total_sales=rng.choice(PRICES),
            first_order_at=NOW - timedelta(days=rng.randint(0, 400)) if rng.random() < 0.7 else None,
        )
    event = None
    if rng.random() < 0.6:
        event = EventFacts(type=rng.choice(EVENT_TYPES), attributes=_attributes(rng, ATTRIBUTE_NAMES))
    zone = timezone(timedelta(hours=rng.choice([-8, 0, 2, 14])))
    instant = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 365))
    return Facts(
        session=SessionFacts(
            integration_id="s-1",
            total=cart_total + sum(costs.values(), Decimal(0)),
            cart_item_total=cart_total,
            additional_cost_total=sum(costs.values(), Decimal(0)),
            state=rng.choice(["open", "closed"]),
            coupon_codes=rng.sample(CODES, rng.randint(0, 2)),
            referral_code=rng.choice([None, "REF-1"]),
            attributes=_attributes(rng, ATTRIBUTE_NAMES),
            first_session=rng.random() < 0.5,
        ),
        items=items,
        additional_costs=costs,
        profile=profile,
        event=event,
        time=TimeFacts(instant, zone),
    )


def random_facts(count: int = 3) -> st.SearchStrategy[list[Facts]]:
    """`count` different facts from one drawn seed."""

    def draw(seed: int) -> list[Facts]:
        rng = random.Random(seed)
        return [facts_from(rng) for _ in range(count)]

    return st.integers(0, 2**32).map(draw)


# -- random well-typed trees ----------------------------------------------------------------------------------------

Strategy = Callable[[int, str | None], st.SearchStrategy[Node]]


def _get(*path: str) -> Get:
    return Get(path=list(path))


def _numbers_literal() -> st.SearchStrategy[Node]:
    return st.sampled_from(["0", "0.1", "0.2", "0.3", "1", "2", "3", "10", "100", "-2.5"]).map(
        lambda text: Number(value=Decimal(text))
    )


def _leaves(kind: str, binding: str | None) -> list[Node]:
    """Names of each type readable where `binding` says (None, "items" or "additionalCosts")."""
    names: dict[str, list[Node]] = {
        "number": [
            _get("session", "total"),
            _get("session", "cartItemTotal"),
            _get("profile", "closedSessions"),
            _get("profile", "totalSales"),
            _get("time", "weekday"),
            _get("time", "hour"),
            _get("additionalCosts", "shipping"),
            _get("session", "attributes", "score"),
            _get("profile", "attributes", "points"),
            _get("event", "attributes", "rating"),
        ],
        "string": [
            _get("session", "state"),
            _get("session", "referralCode"),
            _get("event", "type"),
            _get("profile", "attributes", "tier"),
            _get("session", "attributes", "channel"),
        ],
        "boolean": [_get("session", "firstSession"), _get("session", "attributes", "vip")],
        "dynamic": [
            _get("session", "attributes", "d"),
            _get("profile", "attributes", "flag"),
            _get("event", "attributes", "d"),
        ],
        "strings": [_get("session", "couponCodes"), _get("session", "attributes", "tags")],
    }
    if binding == "items":
        names["number"] += [
            _get("item", "price"),
            _get("item", "quantity"),
            _get("item", "position"),
            _get("item", "attributes", "weight"),
        ]
        names["string"] += [
            _get("item", "sku"),
            _get("item", "category"),
            _get("item", "name"),
            _get("item", "attributes", "color"),
        ]
        names["dynamic"] += [_get("item", "attributes", "d")]
    if binding == "additionalCosts":
        names["number"] += [_get("cost", "price")]
        names["string"] += [_get("cost", "name")]
    return names[kind]


def numbers(depth: int, binding: str | None) -> st.SearchStrategy[Node]:
    leaves = st.one_of(_numbers_literal(), st.sampled_from(_leaves("number", binding)))
    if depth <= 0:
        return leaves
    smaller = numbers(depth - 1, binding)
    options = [
        leaves,
        st.builds(
            lambda op, left, right: Arithmetic(operator=op, left=left, right=right),
            st.sampled_from(["+", "-", "*", "/"]),
            smaller,
            smaller | dynamics(binding),
        ),
        st.builds(lambda arg: Negate(arg=arg), smaller),
        st.builds(
            lambda name, arg: Call(function=name, args=[arg]),
            st.sampled_from(["floor", "ceil", "abs", "round"]),
            smaller,
        ),
        st.builds(
            lambda arg, places: Call(function="round", args=[arg, Number(value=Decimal(places))]),
            smaller,
            st.integers(0, 3),
        ),
        st.builds(
            lambda name, a, b: Call(function=name, args=[a, b]),
            st.sampled_from(["min", "max", "coalesce"]),
            smaller,
            smaller,
        ),
        st.builds(lambda arg: Call(function="len", args=[arg]), strings(depth - 1, binding)),
        st.just(Call(function="daysSince", args=[_get("profile", "firstOrderAt")])),
    ]
    if binding is None:
        options.append(aggregates_of_numbers(depth - 1))
    return st.one_of(*options)


def aggregates_of_numbers(depth: int) -> st.SearchStrategy[Node]:
    def over(collection: Literal["items", "additionalCosts"]) -> st.SearchStrategy[Node]:
        where = st.none() | booleans(depth, collection)
        if collection == "items":
            where |= item_tests()
        return st.one_of(
            st.builds(lambda w: Aggregate(function="count", over=collection, where=w), where),
            st.builds(
                lambda fn, v, w: Aggregate(function=fn, over=collection, value=v, where=w),
                st.sampled_from(["sum", "min", "max"]),
                numbers(depth, collection) | dynamics(collection),
                where,
            ),
        )

    return over("items") | over("additionalCosts")


def dynamics(binding: str | None) -> st.SearchStrategy[Node]:
    return st.sampled_from(_leaves("dynamic", binding))


def strings(depth: int, binding: str | None) -> st.SearchStrategy[Node]:
    leaves = st.one_of(
        st.sampled_from(STRINGS).map(lambda s: String(value=s)), st.sampled_from(_leaves("string", binding))
    )
    if depth <= 0:
        return leaves
    smaller = strings(depth - 1, binding)
    return st.one_of(
        leaves,
        st.builds(lambda name, arg: Call(function=name, args=[arg]), st.sampled_from(["lower", "upper"]), smaller),
        st.builds(lambda left, right: Arithmetic(operator="+", left=left, right=right), smaller, smaller),
        st.builds(lambda a, b: Call(function="coalesce", args=[a, b]), smaller, smaller),
    )


def string_lists(depth: int, binding: str | None) -> st.SearchStrategy[Node]:
    literal = st.lists(st.sampled_from([*STRINGS, *CODES, *CATEGORIES, *SKUS]), max_size=3).map(
        lambda values: ListOf(elements=[String(value=v) for v in values])
    )
    return st.one_of(
        literal,
        st.sampled_from(_leaves("strings", binding)),
        st.builds(lambda e: ListOf(elements=[e]), strings(depth, binding)),
    )


_SMALL_NUMBERS = sorted({*(Decimal(n) for n in range(8)), *PRICES})


def _boundaries(binding: str | None) -> st.SearchStrategy[Node]:
    """A literal against a name whose values it often equals: where `<` and `<=` differ, where mirroring a
    comparison could go wrong."""
    names: list[Node] = [
        _get("time", "weekday"),
        _get("profile", "closedSessions"),
        _get("additionalCosts", "shipping"),
    ]
    if binding == "items":
        names += [_get("item", "quantity"), _get("item", "price"), _get("item", "position")]
    if binding == "additionalCosts":
        names += [_get("cost", "price")]
    if binding is None:
        names += [
            Aggregate(function="count", over="items"),
            Aggregate(function="sum", over="items", value=_get("item", "quantity")),
        ]
    literal = st.sampled_from(_SMALL_NUMBERS).map(lambda value: Number(value=value))
    pair = st.tuples(literal, st.sampled_from(names)).flatmap(lambda p: st.sampled_from([p, p[::-1]]))
    return st.builds(
        lambda op, sides: Compare(operator=op, left=sides[0], right=sides[1]),
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        pair,
    )


def item_tests() -> st.SearchStrategy[Node]:
    """`item.sku == "A-1"`, `item.category in [...]`: the per-item filters the compiler runs in C."""
    field = st.sampled_from([_get("item", "sku"), _get("item", "category")])
    value = st.sampled_from([*SKUS, *CATEGORIES])
    return st.one_of(
        st.builds(
            lambda f, v, flip: (
                Compare(operator="==", left=String(value=v), right=f)
                if flip
                else Compare(operator="==", left=f, right=String(value=v))
            ),
            field,
            value,
            st.booleans(),
        ),
        st.builds(
            lambda f, vs, n: In(element=f, collection=ListOf(elements=[String(value=v) for v in vs]), negated=n),
            field,
            st.lists(value, max_size=3),
            st.booleans(),
        ),
    )


def focused_conditions() -> st.SearchStrategy[Node]:
    """Comparisons at their boundaries and aggregates over the C-run item filters, in small `and`/`or`/`not`s: the
    compiler's specialised paths, drawn often enough that a slip in one shows (the broad generator dilutes them)."""
    literal = st.sampled_from(_SMALL_NUMBERS).map(lambda value: Number(value=value))
    compare = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    filtered = st.builds(
        lambda fn, where, value: Aggregate(
            function=fn, over="items", where=where, value=None if fn == "count" else _get("item", value)
        ),
        st.sampled_from(["count", "sum", "min", "max"]),
        item_tests(),
        st.sampled_from(["price", "quantity"]),
    )
    atoms = st.one_of(
        _boundaries(None),
        st.builds(
            lambda fn, where: Aggregate(function=fn, over="items", where=where),
            st.sampled_from(["any", "all"]),
            item_tests(),
        ),
        st.builds(
            lambda op, sides: Compare(operator=op, left=sides[0], right=sides[1]),
            compare,
            st.tuples(filtered, literal).flatmap(lambda pair: st.sampled_from([pair, pair[::-1]])),
        ),
    )
    return st.one_of(
        atoms,
        st.builds(lambda args: And(args=args), st.lists(atoms, min_size=2, max_size=3)),
        st.builds(lambda args: Or(args=args), st.lists(atoms, min_size=2, max_size=3)),
        st.builds(lambda arg: Not(arg=arg), atoms),
    )


def booleans(depth: int, binding: str | None) -> st.SearchStrategy[Node]:
    leaves = st.one_of(
        st.booleans().map(lambda b: Boolean(value=b)), st.sampled_from(_leaves("boolean", binding)), dynamics(binding)
    )
    if depth <= 0:
        return leaves
    smaller = booleans(depth - 1, binding)
    compare = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    equality = st.sampled_from(["==", "!="])
    number, string = numbers(depth - 1, binding), strings(depth - 1, binding)
    options = [
        leaves,
        _boundaries(binding),
        st.builds(lambda op, a, b: Compare(operator=op, left=a, right=b), compare, number, number),
        st.builds(lambda op, a, b: Compare(operator=op, left=a, right=b), compare, string, string),
        st.builds(lambda op, a, b: Compare(operator=op, left=a, right=b), compare, dynamics(binding), number | string),
        st.builds(
            lambda op, a: Compare(operator=op, left=a, right=Null()), equality, number | string | dynamics(binding)
        ),
        st.builds(
            lambda op, a: Compare(operator=op, left=_get("time", "date"), right=a),
            compare,
            st.sampled_from([Call(function="date", args=[String(value="2026-05-02")]), _get("time", "date")]),
        ),
        st.builds(
            lambda op: Compare(
                operator=op,
                left=_get("profile", "attributes", "birthday"),
                right=Call(function="timestamp", args=[String(value="2026-01-01T00:00:00Z")]),
            ),
            compare,
        ),
        st.builds(
            lambda a, b, n: In(element=a, collection=b, negated=n),
            string,
            string_lists(depth - 1, binding),
            st.booleans(),
        ),
        st.builds(
            lambda a, values, n: In(
                element=a, collection=ListOf(elements=[Number(value=Decimal(v)) for v in values]), negated=n
            ),
            number,
            st.lists(st.sampled_from(["1", "2", "6", "7", "10"]), max_size=3),
            st.booleans(),
        ),
        st.builds(lambda a, b: In(element=a, collection=b), dynamics(binding), string_lists(depth - 1, binding)),
        st.builds(lambda args: And(args=args), st.lists(smaller, min_size=2, max_size=3)),
        st.builds(lambda args: Or(args=args), st.lists(smaller, min_size=2, max_size=3)),
        st.builds(lambda arg: Not(arg=arg), smaller),
        st.builds(
            lambda name, a, b: Call(function=name, args=[a, b]),
            st.sampled_from(["startsWith", "endsWith", "contains"]),
            string,
            string,
        ),
        st.builds(lambda a, b: Call(function="contains", args=[a, b]), string_lists(depth - 1, binding), string),
    ]
    if binding == "items":
        options.append(item_tests())
    if binding is None:
        options += [
            st.builds(
                lambda fn, collection, w: Aggregate(function=fn, over=collection, where=w),
                st.sampled_from(["any", "all"]),
                st.just("items"),
                item_tests() | booleans(depth - 1, "items"),
            ),
            st.builds(
                lambda fn, w: Aggregate(function=fn, over="additionalCosts", where=w),
                st.sampled_from(["any", "all"]),
                booleans(depth - 1, "additionalCosts"),
            ),
            st.builds(
                lambda op, a, b: Compare(operator=op, left=a, right=b),
                compare,
                aggregates_of_numbers(depth - 1),
                number,
            ),
        ]
    return st.one_of(*options)


def conditions(depth: int = 3) -> st.SearchStrategy[Node]:
    return booleans(depth, None)


def item_conditions(depth: int = 3) -> st.SearchStrategy[Node]:
    return booleans(depth, "items")
