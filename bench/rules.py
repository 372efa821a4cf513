"""The condition language: 1,000 varied campaign conditions against one 20-item cart, compiled closures against
the tree-walking interpreter, measured side by side in one run (docs/rules.md, MEASURED.md "Expression engines").

Arms, interleaved pass by pass (one pass = every condition once, on the same facts):

* interpreter: `Interpreter.condition` over each tree (the baseline, and the property tests' oracle);
* compiled: one closure per condition (`Compiler()`);
* compiled, shared aggregates: `Compiler(share_aggregates=True)`, the memo cleared before each pass, so an
  aggregate several conditions share runs once per pass, as once per request;
* compiled, shared + index: the same, evaluating only the conditions whose `requirements` the cart has
  (a dict per key kind, as a ruleset's index would be; conditions with no key are always candidates).

Compile time is parse + check + compile of all 1,000, median of a few rounds; and the same from the JSON trees
(`from_json`), which a published ruleset version could store so that a cold Lambda skips the parser. The answers
of every arm are compared on every pass; a disagreement fails the run.

    .venv/bin/python -m bench.rules [--passes N] [--conditions N] [--seed N]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bench.common import fail, ms, print_table, summary, us, write_json
from patron.promotions.rules import (
    Compiler,
    EventFacts,
    Facts,
    Interpreter,
    ItemFacts,
    ProfileFacts,
    Requirements,
    SessionFacts,
    TimeFacts,
    from_json,
    parse,
    requirements,
    to_json,
)

DEFAULT_PASSES = 300
DEFAULT_CONDITIONS = 1000
WARM_UP = 20
COMPILE_ROUNDS = 5
CATEGORIES = ["shoes", "shirts", "bags", "hats", "socks", "belts", "coats", "gloves"]
TIERS = ["gold", "silver", "bronze"]
CODES = ["SUMMER", "WELCOME10", "VIP", "BLACKFRIDAY", "FREESHIP", "EMPLOYEE"]
SKUS = [f"SKU-{number:03d}" for number in range(40)]
SCHEMA = {"profile": {"tier": "string", "birthYear": "number"}, "session": {"channel": "string"}}

# Templates of what shops write (Talon-like campaigns); {placeholders} vary per condition.
TEMPLATES = [
    "session.cartItemTotal >= {amount}",
    'session.total >= {amount} and profile.attributes.tier == "{tier}"',
    'sum(items, item.price * item.quantity, item.category == "{category}") >= {amount}',
    '"{code}" in session.couponCodes',
    '"{code}" in session.couponCodes and session.cartItemTotal >= {amount}',
    'count(items, item.category == "{category}") >= {count}',
    'count(items, item.sku in ["{sku}", "{sku2}"]) >= 1',
    "time.weekday in [6, 7] and session.cartItemTotal > {amount}",
    'event.type == "{event}"',
    'any(items, startsWith(item.sku, "SKU-0{digit}"))',
    "session.firstSession and session.cartItemTotal >= {amount}",
    "profile.closedSessions == 0 or profile.totalSales < {amount}",
    'max(items, item.price, item.category == "{category}") > {small}',
    "additionalCosts.shipping > 0 and session.cartItemTotal >= {amount}",
    'not ("EMPLOYEE" in session.couponCodes) and session.attributes.channel == "web"',
    'any(items, item.category == "{category}") and any(items, item.category == "{category2}")',
    "session.cartItemTotal - additionalCosts.shipping * 2 >= {amount} and time.hour >= 18",
    'all(items, item.category != "{category}") and count(items) >= {count}',
    'lower(session.attributes.channel) == "web" and profile.attributes.vip == true',
    'sum(items, item.quantity, item.category in ["{category}", "{category2}"]) >= {count}',
]


def conditions(n: int, rng: random.Random) -> list[str]:
    made = []
    for index in range(n):
        template = TEMPLATES[index % len(TEMPLATES)]
        made.append(
            template.format(
                amount=rng.choice([20, 50, 75, 100, 150, 200, 300]),
                small=rng.choice([10, 25, 40]),
                count=rng.randint(1, 4),
                tier=rng.choice(TIERS),
                category=rng.choice(CATEGORIES),
                category2=rng.choice(CATEGORIES),
                code=rng.choice(CODES),
                sku=rng.choice(SKUS),
                sku2=rng.choice(SKUS),
                event=rng.choice(["newsletter_signup", "app_install", "review_written"]),
                digit=rng.randint(0, 3),
            )
        )
    return made


def cart(rng: random.Random) -> Facts:
    items = [
        ItemFacts(
            sku=rng.choice(SKUS),
            name=f"item {position}",
            category=CATEGORIES[position % 5],
            price=Decimal(rng.randint(500, 9000)) / 100,
            quantity=rng.randint(1, 3),
            position=position,
            attributes={"color": rng.choice(["red", "blue"])},
        )
        for position in range(20)
    ]
    subtotal = sum((item.price * item.quantity for item in items), Decimal(0))
    shipping = Decimal("4.90")
    return Facts(
        session=SessionFacts(
            integration_id="bench-session",
            total=subtotal + shipping,
            cart_item_total=subtotal,
            additional_cost_total=shipping,
            coupon_codes=["SUMMER", "FREESHIP"],
            attributes={"channel": "web"},
            first_session=True,
        ),
        items=items,
        additional_costs={"shipping": shipping},
        profile=ProfileFacts(
            integration_id="bench-profile", attributes={"tier": "gold", "vip": True}, closed_sessions=3
        ),
        event=EventFacts(type="newsletter_signup"),
        time=TimeFacts(datetime(2026, 5, 2, 19, 30, tzinfo=UTC)),
    )


class Index:
    """Conditions by the facts they require: the candidates for a cart are those whose key it has, plus the
    conditions with no key. A sketch of what a ruleset's index does, to measure the effect of `requirements`."""

    def __init__(self, found: list[Requirements]):
        self.always: list[int] = []
        self.by_event: dict[str, list[int]] = {}
        self.by_code: dict[str, list[int]] = {}
        self.by_category: dict[str, list[int]] = {}
        self.by_sku: dict[str, list[int]] = {}
        for position, needs in enumerate(found):
            keyed = (
                (needs.event_types, self.by_event),
                (needs.coupon_codes, self.by_code),
                (needs.categories, self.by_category),
                (needs.skus, self.by_sku),
            )
            for keys, index in keyed:
                if keys is not None:
                    for key in keys:
                        index.setdefault(key, []).append(position)
                    break
            else:
                self.always.append(position)

    def candidates(self, facts: Facts) -> list[int]:
        found = set(self.always)
        if facts.event is not None:
            found.update(self.by_event.get(facts.event.type, ()))
        for code in facts.session.coupon_codes:
            found.update(self.by_code.get(code, ()))
        for item in facts.items:
            found.update(self.by_category.get(item.category or "", ()))
            found.update(self.by_sku.get(item.sku, ()))
        return sorted(found)


def compile_all(sources: list[str], share: bool) -> list[Callable[[Facts], bool]]:
    compiler = Compiler(SCHEMA, share_aggregates=share)
    return [compiler.condition(source) for source in sources]


def measure(passes: int, n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    sources = conditions(n, rng)
    facts = cart(rng)
    trees = [parse(source) for source in sources]
    interpreter = Interpreter(SCHEMA)
    compiled = compile_all(sources, share=False)
    shared = compile_all(sources, share=True)
    index = Index([requirements(tree) for tree in trees])

    def run_interpreter() -> list[bool]:
        return [interpreter.condition(tree, facts) for tree in trees]

    def run_compiled() -> list[bool]:
        return [condition(facts) for condition in compiled]

    def run_shared() -> list[bool]:
        facts.changed()  # a new request: its shared aggregates are computed afresh
        return [condition(facts) for condition in shared]

    def run_indexed() -> list[bool]:
        facts.changed()
        answers = [False] * n
        for position in index.candidates(facts):
            answers[position] = shared[position](facts)
        return answers

    arms: dict[str, Callable[[], list[bool]]] = {
        "interpreter": run_interpreter,
        "compiled": run_compiled,
        "compiled, shared aggregates": run_shared,
        "compiled, shared + index": run_indexed,
    }
    expected = run_interpreter()
    for name, arm in arms.items():
        if arm() != expected:
            fail(f"{name} disagrees with the interpreter")
    for _ in range(WARM_UP):
        for arm in arms.values():
            arm()
    samples: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    gc.collect()
    gc.disable()  # a collection inside one arm's pass would be charged to it alone
    try:
        for index_ in range(passes):
            order = names[index_ % len(names) :] + names[: index_ % len(names)]
            for name in order:
                started = time.perf_counter()
                answers = arms[name]()
                samples[name].append(time.perf_counter() - started)
                if answers != expected:
                    fail(f"{name} disagrees with the interpreter")
            if index_ % 50 == 49:
                gc.collect()
    finally:
        gc.enable()
    documents = [to_json(tree) for tree in trees]  # what a published version could store instead of text
    compile_times: dict[str, list[float]] = {
        "parse": [],
        "parse + check + compile": [],
        "from_json": [],
        "from_json + check + compile": [],
    }
    for _ in range(COMPILE_ROUNDS):
        started = time.perf_counter()
        for source in sources:
            parse(source)
        compile_times["parse"].append(time.perf_counter() - started)
        started = time.perf_counter()
        compile_all(sources, share=True)
        compile_times["parse + check + compile"].append(time.perf_counter() - started)
        started = time.perf_counter()
        for document in documents:
            from_json(document)
        compile_times["from_json"].append(time.perf_counter() - started)
        started = time.perf_counter()
        compiler = Compiler(SCHEMA, share_aggregates=True)
        for document in documents:
            compiler.condition(from_json(document))
        compile_times["from_json + check + compile"].append(time.perf_counter() - started)
    return {
        "conditions": n,
        "passes": passes,
        "true": sum(expected),
        "candidates": len(index.candidates(facts)),
        "samples": samples,
        "compile": compile_times,
    }


def report(measured: dict[str, Any]) -> dict[str, Any]:
    stats = {name: summary(values) for name, values in measured["samples"].items()}
    baseline = stats["interpreter"]
    rows = [
        [
            name,
            us(figures["median"]),
            us(figures["p99"]),
            f"{baseline['median'] / figures['median']:.1f}x",
            f"{1_000_000 * figures['median'] / measured['conditions']:.2f}",
        ]
        for name, figures in stats.items()
    ]
    print_table(
        f"{measured['conditions']} conditions, one 20-item cart, {measured['passes']} passes per arm, interleaved",
        ["arm", "pass p50 µs", "pass p99 µs", "speed-up (p50)", "µs per condition"],
        rows,
        note=(
            f"{measured['true']} conditions true; the index made {measured['candidates']} of "
            f"{measured['conditions']} candidates for this cart."
        ),
    )
    compile_stats = {name: statistics.median(values) for name, values in measured["compile"].items()}
    print_table(
        f"compile time, {measured['conditions']} conditions (median of {COMPILE_ROUNDS})",
        ["step", "ms", "µs per condition"],
        [[name, ms(value), us(value / measured["conditions"])] for name, value in compile_stats.items()],
    )
    return {
        "conditions": measured["conditions"],
        "passes": measured["passes"],
        "true": measured["true"],
        "candidates": measured["candidates"],
        "per_pass_seconds": stats,
        "compile_seconds": compile_stats,
    }


def run(passes: int = DEFAULT_PASSES, n: int = DEFAULT_CONDITIONS, seed: int = 7) -> dict[str, Any]:
    results = report(measure(passes, n, seed))
    write_json("rules", results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rules", description=__doc__)
    parser.add_argument("--passes", type=int, default=DEFAULT_PASSES, help="timed passes per arm")
    parser.add_argument("--conditions", type=int, default=DEFAULT_CONDITIONS, help="conditions per pass")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    run(args.passes, args.conditions, args.seed)


if __name__ == "__main__":
    main()
