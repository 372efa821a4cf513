"""Bulk profile update: 1000 profiles in one PUT /v2/customer_profiles against 1000 single
PUT /v2/customer_profiles/{integrationId} of the same data, in the same run, through the local runtime.

Reports wall-clock throughput (profiles per second) and DynamoDB calls and write units per profile, counted by
`bench.dynamo_meter` on the client the handlers use. Both arms write fresh profiles first, then update them, so
each arm pays the same item sizes.

    .venv/bin/python -m bench.bulk [--profiles 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import TYPE_CHECKING, Any

from bench.common import fail, new_api_key, print_table, start_runtime, write_json
from bench.dynamo_meter import DynamoMeter

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

DEFAULT_PROFILES = 1000
DEFAULT_ROUNDS = 3


def _attributes(index: int) -> dict[str, Any]:
    return {"tier": ["gold", "silver", "bronze"][index % 3], "points": index, "city": "Lisbon", "newsletter": True}


def _single(runtime: LocalRuntime, key: str, ids: list[str]) -> None:
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    for index, integration_id in enumerate(ids):
        response = runtime.request(
            "PUT", f"/v2/customer_profiles/{integration_id}", headers=headers, body={"attributes": _attributes(index)}
        )
        if response.status != 200:
            fail(f"single update answered {response.status}")


def _bulk(runtime: LocalRuntime, key: str, ids: list[str]) -> None:
    body = {"customerProfiles": [{"integrationId": i, "attributes": _attributes(n)} for n, i in enumerate(ids)]}
    response = runtime.request("PUT", "/v2/customer_profiles", headers={"Authorization": f"ApiKey-v1 {key}"}, body=body)
    if response.status != 204:
        fail(f"bulk update answered {response.status}: {response.body[:200]!r}")


def run(runtime: LocalRuntime, profiles: int = DEFAULT_PROFILES, rounds: int = DEFAULT_ROUNDS) -> dict[str, Any]:
    from patron.dynamo.client import dynamodb_client

    _, key = new_api_key(runtime, "bench-bulk")
    client = dynamodb_client()
    meter = DynamoMeter().attach(client)
    samples: dict[str, list[dict[str, float]]] = {"one by one": [], "bulk": []}
    try:
        arms = [("one by one", _single), ("bulk", _bulk)]
        for round_index in range(rounds):
            # Alternate which arm goes first: the machine is shared and its load drifts.
            for name, call in arms if round_index % 2 == 0 else arms[::-1]:
                ids = [f"bulk-{uuid.uuid4().hex[:12]}" for _ in range(profiles)]
                for phase in ("create", "update"):
                    mark = meter.mark()
                    started = time.perf_counter()
                    call(runtime, key, ids)
                    elapsed = time.perf_counter() - started
                    calls = meter.since(mark)
                    samples[name].append(
                        {
                            "phase": 0 if phase == "create" else 1,
                            "seconds": elapsed,
                            "calls": len(calls),
                            "wcu": sum(charge.write_units for c in calls for charge in c.charges),
                        }
                    )
    finally:
        meter.detach(client)
    rows = []
    results: dict[str, Any] = {"profiles": profiles, "rounds": rounds, "arms": {}}
    for name, runs in samples.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        per_profile = statistics.median(r["calls"] for r in runs) / profiles
        wcu = statistics.median(r["wcu"] for r in runs) / profiles
        results["arms"][name] = {
            "profiles_per_second": profiles / seconds,
            "calls_per_profile": per_profile,
            "wcu": wcu,
        }
        rows.append([name, f"{profiles / seconds:,.0f}", f"{seconds:.2f}", f"{per_profile:.3f}", f"{wcu:.2f}"])
    speedup = results["arms"]["bulk"]["profiles_per_second"] / results["arms"]["one by one"]["profiles_per_second"]
    results["throughput_ratio"] = speedup
    print_table(
        f"Bulk update of {profiles} profiles vs one by one (median of {rounds} rounds x create + update)",
        ["arm", "profiles/s", "seconds", "DynamoDB calls/profile", "WCU/profile"],
        rows,
        note=f"throughput ratio bulk / one by one: {speedup:.1f}x. One by one = {profiles} HTTP requests through"
        " the local gateway (authorizer cached); bulk = 1 request whose UpdateItems run 16 at a time.",
    )
    write_json("bulk", results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__)
    parser.add_argument("--profiles", type=int, default=DEFAULT_PROFILES)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    args = parser.parse_args(argv)
    runtime = start_runtime()
    try:
        run(runtime, args.profiles, args.rounds)
    finally:
        runtime.stop()


if __name__ == "__main__":
    main()
