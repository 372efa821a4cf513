"""The decide step: 1,000 published campaigns against one 20-item cart, `decide()` with the counters read (no I/O),
the compiled closures against a plain tree-walking interpreter of the same rules and against Google's CEL runtime
on the conditions it can express, measured side by side in one run (issue 12, "Measured"; docs/benchmarks.md).

The ruleset is generated with seeded randomness (`ruleset()`): cart-total tiers, store deals, category and SKU
conditions with aggregates (`count(items, item.category == "shoes") >= 2`, `sum(...)`, `any(...)`), coupon codes,
profile attributes and statistics, weekday and hour windows, shipping, events; some with two rules, some with
limits, some disabled or out of their schedule; six evaluation groups in every mode. The cart (`snapshot()`) has
20 lines, two coupon codes, shipping, a gold profile, and counters for every limit it binds.

Arms, interleaved round by round (the order rotates; the machine is shared):

* decide, compiled: `compile_ruleset(...)` as the service builds it (closures, shared aggregates, the index);
* decide, interpreter: the same ruleset with every expression (conditions, per-item filters, values) evaluated by
  `rules.Interpreter` walking its tree: `compile_ruleset(..., compiler=InterpretingCompiler(...))`;
* decide, CEL: the same with every condition CEL can express run by CEL (`bench/cel.py`, the facts handed over
  as CEL maps once per request, again after a cascade); the others stay closures (their share is reported);
* conditions only, on the CEL-expressible conditions of every campaign: closures, interpreter and CEL, each over
  a fresh request's facts (CEL's hand-over included);
* CEL's hand-over alone (facts -> CEL maps -> an activation), which `conditions, CEL` includes once a call;
* `counters_to_read`: what the service runs before its read;
* after the interleaved rounds, the compiled decide again, call after call (as an instance serves requests).

Every arm's evaluation (effects, failure reasons, triggered campaigns, consumption) must equal the compiled arm's,
and every CEL condition's answer the closures', on this cart and on the check carts (`check_carts()`); a
disagreement fails the run. gc: on, as in Lambda, with everything built before the loop frozen (`gc.freeze()`, as
an instance could after loading a version); collections during the timed calls are counted per arm.

    .venv/bin/python -m bench.decide [--rounds N] [--campaigns N] [--seed N] [--gc frozen|on|off]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from msgspec.structs import replace

from bench.cel import CelCompiler, CelEngine, Untranslatable, cel_data, reasons
from bench.common import fail, print_table, summary, write_json
from patron.promotions.budgets import CounterKey
from patron.promotions.decide import Snapshot, counters_to_read, decide, facts_of
from patron.promotions.definitions import (
    AddFreeItem,
    AttributeTarget,
    Campaign,
    CampaignState,
    CustomEffect,
    DiscountScope,
    EffectDefinition,
    EvaluationGroup,
    EvaluationMode,
    ItemDistribution,
    Limit,
    LimitAction,
    LimitEntity,
    LimitPeriod,
    Rule,
    Ruleset,
    SetDiscount,
    SetDiscountPerAdditionalCost,
    SetDiscountPerItem,
    Settings,
    ShowNotification,
    UpdateAttribute,
)
from patron.promotions.evaluator import Evaluation
from patron.promotions.pricing import Line
from patron.promotions.rules import (
    BOOLEAN,
    DYNAMIC,
    Compiler,
    EventFacts,
    Facts,
    Interpreter,
    ItemFacts,
    Node,
    ProfileFacts,
    RuleLocation,
    Type,
    check,
    parse,
)
from patron.promotions.rules.schema import Kind, catalog_type
from patron.promotions.ruleset import CompiledRuleset, compile_ruleset

DEFAULT_ROUNDS = 1000
DEFAULT_CAMPAIGNS = 1000
WARM_UP = 30
COMPILE_ROUNDS = 7
ZONE = "Europe/Rome"
NOW = datetime(2026, 12, 5, 18, 30, tzinfo=UTC)  # a Saturday, 19:30 in Rome
CATEGORIES = [
    "shoes", "shirts", "bags", "hats", "socks", "belts", "coats", "gloves", "scarves", "jeans", "dresses", "skirts",
    "jackets", "sweaters", "shorts", "boots", "sandals", "watches", "jewelry", "sunglasses", "wallets", "umbrellas",
    "swimwear", "sportswear", "underwear", "pyjamas", "ties", "suits", "kids", "beauty",
]  # fmt: skip
SKUS = [f"SKU-{number:04d}" for number in range(2000)]
STORES = [f"store-{number}" for number in range(1, 41)]
TIERS = ["bronze", "silver", "gold", "platinum", "vip"]
EVENTS = ["newsletter_signup", "app_install", "review_written", "referral_sent", "wishlist_added"]
SCHEMA = {"profile": {"tier": "string", "vip": "boolean"}, "session": {"channel": "string"}}
GROUPS = [
    EvaluationGroup(name="default", mode=EvaluationMode.STACKABLE),
    EvaluationGroup(name="cart-tiers", mode=EvaluationMode.LIST_ORDER),
    EvaluationGroup(name="category-deals", mode=EvaluationMode.HIGHEST_DISCOUNT),
    EvaluationGroup(name="coupons", mode=EvaluationMode.STACKABLE),
    EvaluationGroup(name="clearance", mode=EvaluationMode.LOWEST_DISCOUNT),
    EvaluationGroup(name="member-deals", mode=EvaluationMode.EXCLUSIVE),
]


# -- the ruleset --------------------------------------------------------------------------------------------------


def _limits(rng: random.Random) -> list[Limit]:
    if rng.random() >= 0.2:
        return []
    return rng.choice(
        [
            [Limit(action=LimitAction.SET_DISCOUNT, limit=Decimal(rng.choice([500, 1000, 5000])))],
            [
                Limit(
                    action=LimitAction.SET_DISCOUNT_EFFECT,
                    limit=Decimal(1),
                    entities=[LimitEntity.PROFILE],
                    period=LimitPeriod.WEEKLY,
                )
            ],
            [
                Limit(action=LimitAction.SET_DISCOUNT, limit=Decimal(200), period=LimitPeriod.DAILY),
                Limit(action=LimitAction.SET_DISCOUNT_EFFECT, limit=Decimal(3), entities=[LimitEntity.SESSION]),
            ],
        ]
    )


def _campaign_rules(kind: str, rng: random.Random, number: int) -> tuple[str, list[Rule]]:
    """(evaluation group, rules) of one campaign of `kind`."""
    amount = rng.choice([30, 50, 75, 100, 150, 200, 300, 500])
    category, other = rng.sample(CATEGORIES, 2)
    percent = rng.choice([5, 10, 15, 20, 25, 30])
    store = rng.choice(STORES)

    def rule(title: str, condition: str, *effects: EffectDefinition) -> Rule:
        return Rule(title=title, condition=condition, effects=list(effects))

    def session_off(value: str, scope: str = "sessionTotal") -> SetDiscount:
        return SetDiscount(name=f"c{number}", value=value, scope=DiscountScope(scope))

    if kind == "cart-tier":
        channel = rng.choice(["web", "app"])
        return "cart-tiers", [
            rule(
                "cart total",
                f'session.cartItemTotal >= {amount * 4} and session.attributes.channel == "{channel}"',
                session_off(f"session.cartItemTotal * {percent / 100}", "cartItems"),
            )
        ]
    if kind == "store":
        return "default", [
            rule(
                "store deal",
                f'session.storeIntegrationId == "{store}" and session.cartItemTotal >= {amount}',
                session_off(str(rng.choice([5, 10, 15]))),
            )
        ]
    if kind == "category-count":
        group = rng.choice(["default", "category-deals", "clearance"])
        count = rng.randint(2, 5)
        return group, [
            rule(
                f"{count}+ {category}",
                f'count(items, item.category == "{category}") >= {count}',
                SetDiscountPerItem(
                    name=f"c{number}",
                    filter=f'item.category == "{category}"',
                    percent=str(percent),
                    distribution=rng.choice([ItemDistribution.EACH, ItemDistribution.UNIT]),
                ),
            )
        ]
    if kind == "category-spend":
        group = rng.choice(["default", "category-deals"])
        return group, [
            rule(
                f"{amount} on {category} or {other}",
                f'sum(items, item.price * item.quantity, item.category in ["{category}", "{other}"]) >= {amount * 6}',
                SetDiscountPerItem(
                    name=f"c{number}",
                    filter=f'item.category in ["{category}", "{other}"]',
                    amount=str(rng.choice([10, 20, 25])),
                    distribution=ItemDistribution.PRO_RATA,
                    cap="50",
                ),
            )
        ]
    if kind == "sku":
        skus = ", ".join(f'"{sku}"' for sku in rng.sample(SKUS, 3))
        return "default", [
            rule(
                "bundle SKU",
                f"any(items, item.sku in [{skus}]) and session.cartItemTotal >= {amount}",
                AddFreeItem(sku=rng.choice(SKUS), name="gift"),
                ShowNotification(
                    title="A gift", body="A gift for ${profile.integrationId} in a cart of ${session.total}"
                ),
            )
        ]
    if kind == "coupon":
        code = f"CODE{number:04d}"
        condition = f'"{code}" in session.couponCodes'
        if rng.random() < 0.5:
            condition += f" and session.cartItemTotal >= {amount}"
        return "coupons", [rule("coupon", condition, session_off(str(rng.choice([5, 10, 20]))))]
    if kind == "tier":
        tier = rng.choice(TIERS)
        return "member-deals", [
            rule(
                f"{tier} members",
                f'profile.attributes.tier == "{tier}" and session.cartItemTotal >= {amount}',
                session_off(f"session.cartItemTotal * {percent / 100}", "cartItems"),
                UpdateAttribute(target=AttributeTarget.PROFILE, attribute="lastMemberDeal", value="time.instant"),
            ),
            rule("VIP", "profile.attributes.vip == true", session_off("5")),
        ]
    if kind == "profile":
        tier = rng.choice(TIERS)
        condition = rng.choice(
            [
                f'session.firstSession and profile.closedSessions == 0 and session.storeIntegrationId == "{store}"',
                f'profile.attributes.tier == "{tier}" and profile.totalSales >= {amount * 10}',
                f'profile.ordersCount >= {rng.randint(3, 20)} and not (profile.attributes.tier == "{tier}")'
                f' and session.storeIntegrationId == "{store}"',
            ]
        )
        return "default", [rule("loyal customers", condition, session_off(str(rng.choice([5, 10]))))]
    if kind == "time":
        condition = rng.choice(
            [
                f'time.weekday in [6, 7] and count(items, item.category == "{category}") >= 3',
                f"time.weekday == {rng.randint(1, 7)} and time.hour >= {rng.randint(8, 20)} and "
                f'count(items, item.category == "{category}") >= 2',
                f'time.hour >= {rng.randint(17, 20)} and time.hour < 22 and session.storeIntegrationId == "{store}"',
                f"time.month == 12 and time.day <= {rng.randint(1, 24)} and session.cartItemTotal >= {amount}"
                f' and "{rng.choice(TIERS)}" == profile.attributes.tier',
            ]
        )
        return rng.choice(["default", "clearance"]), [
            rule("happy hour", condition, session_off(f"session.total * {percent / 100}"))
        ]
    if kind == "shipping":
        return "default", [
            rule(
                "free shipping",
                f"session.cartItemTotal >= {amount} and additionalCosts.shipping > 0 and "
                f'session.storeIntegrationId == "{store}"',
                SetDiscountPerAdditionalCost(name=f"c{number}", additional_cost="shipping", percent="100"),
            )
        ]
    # event
    return "default", [
        rule(
            "event",
            f'event.type == "{rng.choice(EVENTS)}"',
            CustomEffect(name="points", payload={"points": "${session.cartItemTotal}", "campaign": number}),
        )
    ]


KINDS = {
    "cart-tier": 6,
    "store": 8,
    "category-count": 16,
    "category-spend": 8,
    "sku": 14,
    "coupon": 22,
    "tier": 6,
    "profile": 4,
    "time": 8,
    "shipping": 3,
    "event": 5,
}


def ruleset(campaigns: int = DEFAULT_CAMPAIGNS, seed: int = 12) -> Ruleset:
    """`campaigns` campaigns drawn from KINDS' weights (percent), seeded: the same ruleset every run."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    weights = [KINDS[kind] for kind in kinds]
    made = []
    for number in range(1, campaigns + 1):
        kind = rng.choices(kinds, weights)[0]
        group, rules = _campaign_rules(kind, rng, number)
        state = CampaignState.DISABLED if rng.random() < 0.05 else CampaignState.ENABLED
        start = end = None
        schedule = rng.random()
        if schedule < 0.03:
            end = datetime(2026, 11, 30)  # over
        elif schedule < 0.06:
            start = datetime(2027, 1, 1)  # not yet
        elif schedule < 0.2:
            start, end = datetime(2026, 12, 1), datetime(2026, 12, 31)  # this month
        made.append(
            Campaign(
                id=number,
                name=f"{kind} {number}",
                rules=rules,
                state=state,
                start_time=start,
                end_time=end,
                evaluation_group=group,
                priority=rng.randint(0, 9),
                limits=_limits(rng),
                tags=[kind],
            )
        )
    built = Ruleset(settings=Settings(currency="EUR", timezone=ZONE), evaluation_groups=GROUPS, campaigns=made)
    return msgspec.convert(msgspec.to_builtins(built), Ruleset)  # read back as a campaign file is: validated


# -- the carts ----------------------------------------------------------------------------------------------------


def snapshot(
    seed: int = 7,
    lines: int = 20,
    codes: tuple[str, ...] = ("CODE0003", "CODE0017", "NOSUCHCODE"),
    profile: bool = True,
    event: str | None = None,
    store: str = "store-7",
) -> Snapshot:
    rng = random.Random(seed)
    categories = rng.sample(CATEGORIES, 14)
    cart = [
        Line(
            position=position,
            sku=rng.choice(SKUS),
            quantity=rng.randint(1, 3),
            price=Decimal(rng.randint(300, 12000)) / 100,
            name=f"item {position}",
            category=rng.choice(categories),
            attributes={"color": rng.choice(["red", "blue", "black"])},
        )
        for position in range(lines)
    ]
    member = ProfileFacts(
        integration_id=f"customer-{seed}",
        attributes={"tier": rng.choice(TIERS[1:4]), "vip": rng.random() < 0.3},
        closed_sessions=rng.randint(0, 12),
        total_sales=Decimal(rng.randint(0, 400000)) / 100,
        orders_count=rng.randint(0, 15),
    )
    return Snapshot(
        session_id=f"session-{seed}",
        lines=cart,
        additional_costs={"shipping": Decimal("4.90")},
        attributes={"channel": rng.choice(["web", "app"])},
        store_integration_id=store,
        coupon_codes=codes,
        identifiers=(f"device-{seed}",),
        first_session=not profile,
        profile=member if profile else None,
        event=EventFacts(type=event) if event else None,
    )


def with_counters(compiled: CompiledRuleset, cart: Snapshot, now: datetime, seed: int = 3) -> Snapshot:
    """The snapshot after the read: every counter the candidates bind, some partly used, some used up."""
    rng = random.Random(seed)
    used: dict[CounterKey, Decimal] = {}
    for key in sorted(counters_to_read(compiled, cart, now)):
        share = rng.choice([0, 0, 0.5, 0.95, 1])
        limit = Decimal(1) if key.action == LimitAction.SET_DISCOUNT_EFFECT.value else Decimal(500)
        used[key] = (limit * Decimal(str(share))).quantize(Decimal(1))
    return replace(cart, counters=used)


def check_carts() -> list[tuple[Snapshot, datetime]]:
    """Carts other than the bench's, for the agreement checks: anonymous, an event, a weekday morning, few lines,
    cascading discounts are a property of the ruleset (see `cascading()`)."""
    thursday = datetime(2026, 12, 3, 8, 15, tzinfo=UTC)
    return [
        (snapshot(), NOW),
        (snapshot(seed=11, profile=False, codes=()), NOW),
        (snapshot(seed=12, event="newsletter_signup", store="store-3"), thursday),
        (snapshot(seed=13, lines=3, codes=("CODE0040",)), thursday),
        (snapshot(seed=14, lines=40, codes=("CODE0100", "CODE0101")), NOW + timedelta(days=30)),
    ]


def cascading(definitions: Ruleset) -> Ruleset:
    return msgspec.structs.replace(
        definitions, settings=msgspec.structs.replace(definitions.settings, cascading_discounts=True)
    )


# -- the interpreter arm ------------------------------------------------------------------------------------------

_PYTHON_TYPES: dict[Kind, type] = {
    Kind.NUMBER: Decimal,
    Kind.STRING: str,
    Kind.BOOLEAN: bool,
    Kind.TIME: datetime,
    Kind.DATE: date,
    Kind.LIST: tuple,
}


class InterpretingCompiler(Compiler):
    """`Compiler`'s checks, then every expression evaluated by `Interpreter` walking its tree at each call: the same
    rules without the compiler's work (no folding, no specialising, no reordering, no shared aggregates)."""

    def __init__(self, schema: Any = None):
        super().__init__(schema)
        self.interpreter = Interpreter(schema)

    def _tree(self, source: str | Node, expected: Type, binding: Any, location: RuleLocation | None) -> Node:
        self._compile(source, expected, binding, location)  # the checks, and their errors
        return parse(source) if isinstance(source, str) else source

    def condition(self, source: str | Node, location: RuleLocation | None = None) -> Callable[[Facts], bool]:
        tree, interpreter = self._tree(source, BOOLEAN, None, location), self.interpreter
        return lambda facts: interpreter.condition(tree, facts)

    def item_condition(
        self, source: str | Node, location: RuleLocation | None = None
    ) -> Callable[[Facts, ItemFacts], bool]:
        tree, interpreter = self._tree(source, BOOLEAN, "items", location), self.interpreter
        return lambda facts, item: interpreter.condition(tree, facts, item)

    def item_filter(self, source: str | Node, location: RuleLocation | None = None) -> Callable[[Facts], list[int]]:
        test = self.item_condition(source, location)
        return lambda facts: [index for index, item in enumerate(facts.items) if test(facts, item)]

    def value(self, source: str | Node, expected: Type | str, location: RuleLocation | None = None) -> Any:
        wanted = _type(expected)
        tree = self._tree(source, wanted, None, location)
        coerce = self._coerce(tree, wanted, None)
        interpreter = self.interpreter
        return lambda facts: coerce(interpreter.evaluate(tree, facts))

    def item_value(self, source: str | Node, expected: Type | str, location: RuleLocation | None = None) -> Any:
        wanted = _type(expected)
        tree = self._tree(source, wanted, "items", location)
        coerce = self._coerce(tree, wanted, "items")
        interpreter = self.interpreter
        return lambda facts, item: coerce(interpreter.evaluate(tree, facts, item))

    def _coerce(self, tree: Node, expected: Type, binding: Any) -> Callable[[Any], Any]:
        """As the compiler's values: a dynamic value of another type than expected is None."""
        python_type = _PYTHON_TYPES.get(expected.kind)
        actual = check(tree, self.schema, expected, binding).type_of(tree)
        if python_type is None or actual.kind is not Kind.DYNAMIC:
            return lambda value: value
        return lambda value: value if type(value) is python_type else None


def _type(expected: Type | str) -> Type:
    if isinstance(expected, Type):
        return expected
    return DYNAMIC if expected == "dynamic" else catalog_type(expected)


# -- comparing evaluations ----------------------------------------------------------------------------------------


def outcome(evaluation: Evaluation) -> tuple[Any, ...]:
    """What an evaluation answers, comparable across arms."""
    return (
        msgspec.json.encode(evaluation.effects),
        msgspec.json.encode(evaluation.failures),
        [campaign.id for campaign in evaluation.triggered],
        sorted(evaluation.consumption.items()),
        evaluation.session_attributes,
        evaluation.profile_attributes,
        [(hook.campaign_id, hook.webhook_id, dict(hook.payload)) for hook in evaluation.webhooks],
    )


def rule_answers(compiled: CompiledRuleset, facts: Facts) -> dict[tuple[int, int], bool]:
    """Every rule's condition of every campaign (candidate or not) on these facts."""
    return {
        (campaign.id, rule.index): rule.condition(facts)
        for group in compiled.groups
        for campaign in group.campaigns
        for rule in campaign.rules
    }


def arms(definitions: Ruleset) -> tuple[dict[str, CompiledRuleset], CelCompiler]:
    cel_compiler = CelCompiler(SCHEMA)
    return {
        "compiled": compile_ruleset(definitions, 1, SCHEMA),
        "interpreter": compile_ruleset(definitions, 1, compiler=InterpretingCompiler(SCHEMA)),
        "CEL": compile_ruleset(definitions, 1, compiler=cel_compiler),
    }, cel_compiler


def disagreements(definitions: Ruleset, carts: list[tuple[Snapshot, datetime]]) -> tuple[list[str], dict[str, int]]:
    """Where an arm decides a cart otherwise than the compiled closures, or a rule's condition answers otherwise
    (every rule of every campaign, candidate or not), without and with cascading discounts; and what was compared."""
    found: list[str] = []
    compared = {"evaluations": 0, "conditions": 0, "true": 0, "in CEL": 0}
    for settings in (definitions, cascading(definitions)):
        compiled, cel_compiler = arms(settings)
        for number, (cart, now) in enumerate(carts):
            where = f"cart {number}{', cascading' if settings is not definitions else ''}"
            read = with_counters(compiled["compiled"], cart, now)
            expected = outcome(decide(compiled["compiled"], read, now))
            for name, arm in compiled.items():
                if outcome(decide(arm, read, now)) != expected:
                    found.append(f"{where}: decide, {name}: a different evaluation than the compiled closures'")
                compared["evaluations"] += 1
            answers = {name: rule_answers(arm, facts_of(read, arm, now)) for name, arm in compiled.items()}
            for name, answered in answers.items():
                differ = [key for key, answer in answered.items() if answer != answers["compiled"][key]]
                if differ:
                    found.append(f"{where}: {name}: rule conditions {differ[:5]} answer otherwise than the closures")
            compared["conditions"] += len(answers["compiled"])
            compared["true"] += sum(answers["compiled"].values())
            compared["in CEL"] += sum(
                str(rule.condition) in cel_compiler.translated
                for campaign in settings.campaigns
                if campaign.state is not CampaignState.ARCHIVED
                for rule in campaign.rules
            )
    return found, compared


def check_agreement(definitions: Ruleset, carts: list[tuple[Snapshot, datetime]]) -> dict[str, int]:
    """Fails the run (SystemExit) on any disagreement; answers what was compared."""
    found, compared = disagreements(definitions, carts)
    if found:
        fail("; ".join(found[:5]))
    return compared


# -- the measurement ----------------------------------------------------------------------------------------------


class GcMeter:
    """Counts the collections (and their time) that start while an arm is being timed."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.collections: dict[str, dict[int, int]] = {}
        self.seconds: dict[str, float] = {}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if self.current is None:
            return
        if phase == "start":
            self._started = time.perf_counter()
            counts = self.collections.setdefault(self.current, {})
            counts[info["generation"]] = counts.get(info["generation"], 0) + 1
        else:
            self.seconds[self.current] = self.seconds.get(self.current, 0.0) + time.perf_counter() - self._started


def measure(rounds: int, campaigns: int, seed: int, gc_mode: str) -> dict[str, Any]:
    definitions = ruleset(campaigns, seed)
    compiled, cel_compiler = arms(definitions)
    base = compiled["compiled"]
    read = with_counters(base, snapshot(), NOW)
    carts = check_carts()
    compared = check_agreement(definitions, carts)

    # Conditions only: every rule condition CEL expresses, in each engine, over one request's facts.
    engine = CelEngine(SCHEMA)
    closures = Compiler(SCHEMA, share_aggregates=True)
    interpreter = Interpreter(SCHEMA)
    subset: list[tuple[Callable[[Facts], bool], Node, Callable[[Facts], bool]]] = []
    refused: dict[str, str] = {}
    for campaign in definitions.campaigns:
        for rule in campaign.rules:
            source = str(rule.condition)
            tree = parse(source)
            try:
                text = engine.translate(tree)
            except Untranslatable as why:
                refused[f"{campaign.id}/{source}"] = str(why)
                continue
            subset.append((closures.condition(tree), tree, engine.program(text)))
    facts = facts_of(read, base, NOW)

    def conditions_closures() -> list[bool]:
        facts.changed()
        return [condition(facts) for condition, _, _ in subset]

    def conditions_interpreter() -> list[bool]:
        facts.changed()
        return [interpreter.condition(tree, facts) for _, tree, _ in subset]

    def conditions_cel() -> list[bool]:
        facts.changed()  # a new request: the hand-over is part of it
        return [program(facts) for _, _, program in subset]

    expected_answers = conditions_closures()
    for other in (conditions_interpreter, conditions_cel):
        if other() != expected_answers:
            fail("conditions only: CEL or the interpreter disagrees with the closures")

    timed: dict[str, Callable[[], Any]] = {
        "decide, compiled": lambda: decide(base, read, NOW),
        "decide, interpreter": lambda: decide(compiled["interpreter"], read, NOW),
        "decide, CEL where it can": lambda: decide(compiled["CEL"], read, NOW),
        "conditions, closures": conditions_closures,
        "conditions, interpreter": conditions_interpreter,
        "conditions, CEL": conditions_cel,
        "CEL hand-over alone": lambda: engine.env.Activation(cel_data(facts)),
        "counters_to_read": lambda: counters_to_read(base, read, NOW),
    }
    expected = outcome(decide(base, read, NOW))
    for name in ("decide, interpreter", "decide, CEL where it can"):
        if outcome(timed[name]()) != expected:
            fail(f"{name}: a different evaluation than the compiled closures'")
    for _ in range(WARM_UP):
        for arm in timed.values():
            arm()

    samples: dict[str, list[float]] = {name: [] for name in timed}
    with_gc: dict[str, list[bool]] = {name: [] for name in timed}
    names = list(timed)
    meter = GcMeter()
    gc.collect()
    if gc_mode == "frozen":
        gc.freeze()
    if gc_mode == "off":
        gc.disable()
    gc.callbacks.append(meter)
    try:
        for round_ in range(rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                arm = timed[name]
                before = sum(meter.collections.get(name, {}).values())
                meter.current = name
                started = time.perf_counter()
                arm()
                elapsed = time.perf_counter() - started
                meter.current = None
                samples[name].append(elapsed)
                with_gc[name].append(sum(meter.collections.get(name, {}).values()) > before)
        # The compiled arm again, call after call: a Lambda instance serves one request at a time, with no other
        # engine's work between two decides to take the caches.
        name = "decide, compiled, back to back"
        samples[name], with_gc[name] = [], []
        for _ in range(rounds):
            before = sum(meter.collections.get(name, {}).values())
            meter.current = name
            started = time.perf_counter()
            decide(base, read, NOW)
            elapsed = time.perf_counter() - started
            meter.current = None
            samples[name].append(elapsed)
            with_gc[name].append(sum(meter.collections.get(name, {}).values()) > before)
    finally:
        gc.callbacks.remove(meter)
        gc.enable()
        gc.unfreeze()

    evaluation = decide(base, read, NOW)
    candidates = base.candidates(facts_of(read, base, NOW))
    compile_times = compile_time(definitions)
    return {
        "campaigns": campaigns,
        "rules": sum(len(campaign.rules) for campaign in definitions.campaigns),
        "rounds": rounds,
        "gc": gc_mode,
        "samples": samples,
        "with_gc": with_gc,
        "gc_collections": meter.collections,
        "gc_seconds": meter.seconds,
        "candidates": sum(len(group.campaigns) for group in candidates),
        "triggered": len(evaluation.triggered),
        "effects": len(evaluation.effects),
        "failures": len(evaluation.failures),
        "counters": len(read.counters),
        "cel_decide_translated": len(cel_compiler.translated),
        "cel_decide_refused": reasons(cel_compiler.refused),
        "cel_conditions": len(subset),
        "cel_refused": reasons(refused),
        "cel_refused_count": len(refused),
        "cel_true": sum(expected_answers),
        "agreement": compared,
        "compile": compile_times,
    }


def compile_time(definitions: Ruleset) -> dict[str, float]:
    """Median seconds: compile_ruleset from the Structs; and from the stored JSON (decode + compile), as a cold
    instance loads a published version; CEL's own compile of the conditions it expresses, for scale."""
    stored = msgspec.json.encode(definitions)
    engine = CelEngine(SCHEMA)
    texts = []
    for campaign in definitions.campaigns:
        for rule in campaign.rules:
            with contextlib.suppress(Untranslatable):
                texts.append(engine.translate(parse(str(rule.condition))))
    times: dict[str, list[float]] = {"compile_ruleset": [], "decode JSON + compile_ruleset": [], "CEL compile": []}
    for _ in range(COMPILE_ROUNDS):
        started = time.perf_counter()
        compile_ruleset(definitions, 1, SCHEMA)
        times["compile_ruleset"].append(time.perf_counter() - started)
        started = time.perf_counter()
        compile_ruleset(msgspec.json.decode(stored, type=Ruleset), 1, SCHEMA)
        times["decode JSON + compile_ruleset"].append(time.perf_counter() - started)
        started = time.perf_counter()
        for text in texts:
            engine.env.compile(text)
        times["CEL compile"].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def report(measured: dict[str, Any]) -> dict[str, Any]:
    stats = {name: summary(values) for name, values in measured["samples"].items()}
    baseline = {"decide": stats["decide, compiled"], "conditions": stats["conditions, closures"]}
    rows = []
    for name, figures in stats.items():
        base = baseline.get(name.split(",")[0])
        rows.append(
            [
                name,
                _ms(figures["median"]),
                _ms(figures["p99"]),
                _ms(figures["max"]),
                f"{figures['median'] / base['median']:.1f}x" if base else "",
                f"{figures['p99'] / base['p99']:.1f}x" if base else "",
                sum(measured["with_gc"][name]),
            ]
        )
    print_table(
        f"decide step, {measured['campaigns']} campaigns ({measured['rules']} rules), one 20-item cart, "
        f"{measured['rounds']} rounds, arms interleaved, gc {measured['gc']}",
        ["arm", "p50 ms", "p99 ms", "max ms", "p50 ratio", "p99 ratio", "calls with a gc"],
        rows,
        note=(
            f"{measured['candidates']} candidates after the index; {measured['triggered']} campaigns triggered, "
            f"{measured['effects']} effects, {measured['failures']} failure reasons, {measured['counters']} counters "
            f"read. CEL ran {measured['cel_decide_translated']} distinct conditions in `decide, CEL` (the others: "
            f"closures). Conditions only: the {measured['cel_conditions']} rule conditions CEL expresses "
            f"({measured['cel_true']} true), a fresh request each call."
        ),
    )
    print_table(
        f"what CEL could not express ({measured['cel_refused_count']} of "
        f"{measured['cel_refused_count'] + measured['cel_conditions']} rule conditions)",
        ["reason", "conditions"],
        [[why, count] for why, count in measured["cel_refused"].items()],
    )
    compiled = stats["decide, compiled"]
    aim = "MET" if compiled["median"] <= 0.0002 and compiled["p99"] <= 0.001 else "NOT MET"
    print(f"aim (p50 <= 0.2 ms, p99 <= 1 ms) for decide, compiled: {aim}")
    print(f"gc collections during timed calls, per arm: {measured['gc_collections']}")
    print_table(
        f"compile time, {measured['campaigns']} campaigns (median of {COMPILE_ROUNDS})",
        ["step", "ms", "µs per rule"],
        [
            [name, f"{value * 1000:.1f}", f"{value * 1e6 / measured['rules']:.0f}"]
            for name, value in measured["compile"].items()
        ],
    )
    a = measured["agreement"]
    print(
        f"agreement: {a['evaluations']} evaluations and {a['conditions']} rule conditions ({a['true']} true; "
        f"CEL answered {a['in CEL']} of them) alike in every arm, on {len(check_carts())} carts, without and "
        "with cascading discounts."
    )
    return {
        **{key: value for key, value in measured.items() if key not in ("samples", "with_gc")},
        "seconds": stats,
        "calls_with_gc": {name: sum(flags) for name, flags in measured["with_gc"].items()},
        "aim": aim,
    }


def run(
    rounds: int = DEFAULT_ROUNDS, campaigns: int = DEFAULT_CAMPAIGNS, seed: int = 12, gc_mode: str = "frozen"
) -> dict[str, Any]:
    results = report(measure(rounds, campaigns, seed, gc_mode))
    write_json("decide", results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.decide", description=__doc__)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="timed calls per arm")
    parser.add_argument("--campaigns", type=int, default=DEFAULT_CAMPAIGNS)
    parser.add_argument("--seed", type=int, default=12, help="the ruleset's seed")
    parser.add_argument("--gc", choices=["frozen", "on", "off"], default="frozen", dest="gc_mode")
    args = parser.parse_args(argv)
    run(args.rounds, args.campaigns, args.seed, args.gc_mode)


if __name__ == "__main__":
    main()
