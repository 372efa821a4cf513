"""Authorizer overhead per request, warm, locally.

Two ways to serve the same GET, interleaved (N each after a warm-up):

* through the local runtime: API Gateway's behaviour in-process (routing, the REQUEST authorizer and its key
  cache, the usage-plan check, the proxy event) and then the handler;
* the handler alone, invoked directly with the proxy event the runtime built for that route (captured once).

The difference is what the authorizer and the gateway emulation add per warm request here. The authorizer's own
warm execution time is measured too: its handler invoked directly with the REQUEST event the runtime built, key
cached. Both arms do the same DynamoDB GetItem against DynamoDB Local, so its latency is in both.

    .venv/bin/python -m bench.authorizer [--n N]
"""

from __future__ import annotations

import argparse
import copy
import gc
import statistics
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bench.common import fail, new_api_key, print_table, start_runtime, summary, us, write_json

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

DEFAULT_N = 500
WARM_UP = 50
PROFILES_FUNCTION = "CustomerProfilesFunction"
AUTHORIZER_FUNCTION = "AuthorizerFunction"


def _capture_events(runtime: LocalRuntime, send: Callable[[], Any]) -> dict[str, Any]:
    """The events the runtime hands each function for one request, recorded on their way in."""
    registry = runtime.registry
    original = registry.invoke
    captured: dict[str, Any] = {}

    def recording(logical_id: str, event: Any) -> Any:
        captured[logical_id] = copy.deepcopy(event)
        return original(logical_id, event)

    vars(registry)["invoke"] = recording  # an instance attribute shadows the method for this one request
    try:
        send()
    finally:
        del vars(registry)["invoke"]
    return captured


def measure(runtime: LocalRuntime, n: int) -> dict[str, Any]:
    from patron_local.functions import LambdaContext

    _, secret = new_api_key(runtime, "bench-authorizer")
    headers = {"Authorization": f"ApiKey-v1 {secret}"}
    integration_id = "bench-authorizer-profile"
    created = runtime.request(
        "PUT", f"/v2/customer_profiles/{integration_id}", headers=headers, body={"attributes": {"tier": "gold"}}
    )
    if created.status != 200:
        fail(f"creating the profile answered {created.status}")
    path = f"/v1/customer_profiles/{integration_id}/inventory?profile=true"

    def through_runtime() -> int:
        return runtime.request("GET", path, headers=headers).status

    events = _capture_events(runtime, through_runtime)
    proxy_event, authorizer_event = events[PROFILES_FUNCTION], events[AUTHORIZER_FUNCTION]
    handler = runtime.registry.handler(PROFILES_FUNCTION)
    authorizer = runtime.registry.handler(AUTHORIZER_FUNCTION)
    functions = runtime.registry.functions
    handler_context = LambdaContext(PROFILES_FUNCTION, functions[PROFILES_FUNCTION].memory_mb, 10)
    authorizer_context = LambdaContext(AUTHORIZER_FUNCTION, functions[AUTHORIZER_FUNCTION].memory_mb, 5)

    def direct() -> int:
        return int(handler(proxy_event, handler_context)["statusCode"])

    def authorize() -> int:
        result = authorizer(authorizer_event, authorizer_context)
        return 200 if result["policyDocument"]["Statement"][0]["Effect"] == "Allow" else 403

    arms: dict[str, Callable[[], int]] = {"runtime": through_runtime, "direct": direct}
    for _ in range(WARM_UP):
        for check in (through_runtime, direct, authorize):
            if check() != 200:
                fail(f"{check.__name__} did not answer 200 during warm-up")
    samples: dict[str, list[float]] = {"runtime": [], "direct": [], "authorizer": []}
    gc.collect()
    for index in range(n):
        order = ("runtime", "direct") if index % 2 == 0 else ("direct", "runtime")
        for name in order:
            started = time.perf_counter()
            status = arms[name]()
            samples[name].append(time.perf_counter() - started)
            if status != 200:
                fail(f"{name} answered {status}")
    gc.collect()
    for _ in range(n):
        started = time.perf_counter()
        authorize()
        samples["authorizer"].append(time.perf_counter() - started)
    return samples


def report(samples: dict[str, list[float]], n: int) -> dict[str, Any]:
    stats = {name: summary(values) for name, values in samples.items()}
    runtime, direct, own = stats["runtime"], stats["direct"], stats["authorizer"]
    median_gap = runtime["median"] - direct["median"]
    p95_gap = runtime["p95"] - direct["p95"]
    # Interleaving pairs sample i of each arm in time: the median of paired differences resists drift.
    paired = statistics.median(a - b for a, b in zip(samples["runtime"], samples["direct"], strict=True))
    rows = [
        ["GET via local runtime (authorizer + gateway)", *(us(runtime[k]) for k in ("median", "p95", "p99", "max"))],
        ["GET handler invoked directly", *(us(direct[k]) for k in ("median", "p95", "p99", "max"))],
        ["difference (of medians, of p95s)", us(median_gap), us(p95_gap), "", ""],
        ["difference, median of interleaved pairs", us(paired), "", "", ""],
        ["authorizer handler alone (warm, key cached)", *(us(own[k]) for k in ("median", "p95", "p99", "max"))],
        ["rest of the gateway emulation (difference - authorizer)", us(median_gap - own["median"]), "", "", ""],
    ]
    print_table(
        f"Authorizer overhead per warm request, N={n} each (runtime and direct interleaved), microseconds",
        ["", "median", "p95", "p99", "max"],
        rows,
        note=(
            f"ratio runtime/direct: median {runtime['median'] / direct['median']:.2f}x, "
            f"p95 {runtime['p95'] / direct['p95']:.2f}x. Both arms include one GetItem on DynamoDB Local."
        ),
    )
    return {
        "n": n,
        "warm_up": WARM_UP,
        "seconds": stats,
        "difference_seconds": {"median": median_gap, "p95": p95_gap, "median_of_pairs": paired},
        "ratio": {"median": runtime["median"] / direct["median"], "p95": runtime["p95"] / direct["p95"]},
        "gateway_emulation_rest_seconds": median_gap - own["median"],
    }


def run(runtime: LocalRuntime | None = None, n: int = DEFAULT_N) -> dict[str, Any]:
    owned = runtime is None
    active = runtime or start_runtime()
    try:
        results = report(measure(active, n), n)
    finally:
        if owned:
            active.stop()
    write_json("authorizer", results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.authorizer")
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="requests per arm")
    run(n=parser.parse_args(argv).n)


if __name__ == "__main__":
    main()
