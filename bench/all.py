"""`make bench`: the benchmarks in turn, cold start first (before DynamoDB Local's JVM takes the CPU), then the rule
engine (the condition language, then the decide step on 1,000 campaigns: no runtime, and done before the JVM
starts), the import reader's memory last (it needs no runtime).

.venv/bin/python -m bench.all [--rounds N] [--n N]
"""

from __future__ import annotations

import argparse
import time

from bench import (
    audience_effects,
    audiences,
    authorizer,
    bulk,
    capacity,
    capacity_customers,
    catalogs,
    cold_start,
    coupons,
    decide,
    import_memory,
    loyalty_expiry,
    rules,
    sessions,
)
from bench.common import start_runtime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.all", description=__doc__)
    parser.add_argument("--rounds", type=int, default=cold_start.DEFAULT_ROUNDS, help="cold-start processes per row")
    parser.add_argument("--n", type=int, default=authorizer.DEFAULT_N, help="authorizer requests per arm")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cold_start.run(args.rounds)
    rules.run()
    decide.run()
    runtime = start_runtime()
    try:
        capacity.run(runtime)
        per_route = capacity_customers.run(runtime)
        authorizer.run(runtime, args.n)
        bulk.run(runtime)
        sessions.run(runtime)
        coupons.run(runtime)
        audiences.run(runtime)
        catalogs.run(runtime)
        audience_effects.run(runtime)
    finally:
        runtime.stop()
    loyalty_expiry.run()  # its own DynamoDB Local, once the runtime's is gone
    memory = import_memory.run()
    print(f"\nbench: done in {time.perf_counter() - started:.0f} s; JSON in .patron/bench/")
    capacity_customers.check(per_route)  # a Scan on a request path fails the run, once every table is printed
    import_memory.check(memory)  # so does import memory that grows with the file's size


if __name__ == "__main__":
    main()
