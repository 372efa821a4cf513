"""Where the decide step's time goes, on bench/decide's 1,000 campaigns and 20-item cart: building the facts and
picking the candidates, then evaluating every candidate's conditions (first holding rule per campaign), then the
whole decide (effects, limits, group modes). Each part p50/p99 over the rounds, gc frozen, one process.

    .venv/bin/python -m bench.decide_parts [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench import decide as generated
from bench.common import percentile, print_table
from patron.promotions.decide import decide, facts_of
from patron.promotions.ruleset import compile_ruleset

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args(argv)
    compiled = compile_ruleset(generated.ruleset(), 1)
    snapshot = generated.with_counters(compiled, generated.snapshot(), NOW)

    def candidates() -> int:
        facts = facts_of(snapshot, compiled, NOW)
        return sum(len(group.campaigns) for group in compiled.candidates(facts))

    def conditions() -> int:
        facts = facts_of(snapshot, compiled, NOW)
        evaluated = 0
        for group in compiled.candidates(facts):
            for campaign in group.campaigns:
                for rule in campaign.rules:
                    evaluated += 1
                    if rule.condition(facts):
                        break
        return evaluated

    def whole() -> int:
        return len(decide(compiled, snapshot, NOW).triggered)

    parts: list[tuple[str, Callable[[], int]]] = [
        ("facts + candidates", candidates),
        ("+ every candidate's conditions", conditions),
        ("decide (effects, limits, groups)", whole),
    ]
    rows = []
    gc.collect()
    gc.freeze()
    try:
        for name, part in parts:
            for _ in range(50):
                count = part()
            times = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                part()
                times.append(time.perf_counter() - started)
            rows.append([name, count, f"{percentile(times, 0.5) * 1000:.3f}", f"{percentile(times, 0.99) * 1000:.3f}"])
    finally:
        gc.unfreeze()
    print_table(
        "decide's parts, 1,000 campaigns, 20-item cart",
        ["part", "count (candidates, conditions, triggered)", "p50 ms", "p99 ms"],
        rows,
    )


if __name__ == "__main__":
    main()
