"""Audience membership: 1,000 profiles added to an audience in one POST /v2/customer_audiences, through the local
runtime on DynamoDB Local, and the deletion of that audience (its background job removing the 1,000 memberships).

Arms (each on a fresh audience):
  new profiles       1,000 ids the application does not hold: adding creates each profile
  existing profiles  1,000 profiles written first (a few attributes each): adding touches each profile item
  deletion job       DELETE /v2/audiences/{id} of an audience of 1,000 members, then its AudienceWorkerFunction job

Each arm's DynamoDB calls and capacity units are counted by the project's meter (bench.dynamo_meter, on the client
the handlers use; moto's figures are wrong) and set against the minimum a membership needs:
  add      per member 2 writes (the profile item's record of it, and the member item in the audience's partition,
           each under 1 KB: 1 WCU each); per request 1 read of the audience (consistent, 1 RCU) and its lastUpdate
           (1 WCU). Calls: 1 UpdateItem per profile (an update cannot be batched) + ceil(1000/25) BatchWriteItem
           + 1 BatchGetItem + 1 UpdateItem.
  delete   per member the same 2 writes (conditional removal, member item deletion), the members read by Query
           (one eventually consistent page per 100 members, 0.5 RCU each); per audience its state change, two
           consistent reads (the route's and the job's) and its item's deletion.

    .venv/bin/python -m bench.audiences [--members 1000]
"""

from __future__ import annotations

import argparse
import math
import time
import uuid
from typing import TYPE_CHECKING, Any

from bench.common import fail, new_api_key, print_table, start_runtime, write_json
from bench.dynamo_meter import DynamoMeter, totals

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

DEFAULT_MEMBERS = 1000
PAGE = 100  # patron.audiences.worker.PAGE


def _request(runtime: LocalRuntime, key: str, method: str, path: str, body: Any, expected: int) -> Any:
    response = runtime.request(method, path, headers={"Authorization": f"ApiKey-v1 {key}"}, body=body)
    if response.status != expected:
        fail(f"{method} {path} answered {response.status}: {response.body[:200]!r}")
    return response.json() if response.body else None


def _measure(meter: DynamoMeter, work: Any) -> dict[str, Any]:
    mark = meter.mark()
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    calls = [call for call in meter.since(mark) if not call.operation.startswith("Describe")]
    by_operation = {op: entry.calls for op, entry in sorted(totals(calls).items())}
    return {
        "seconds": round(elapsed, 2),
        "calls": len(calls),
        "callsByOperation": by_operation,
        "writeUnits": sum(charge.write_units for call in calls for charge in call.charges),
        "readUnits": sum(charge.read_units for call in calls for charge in call.charges),
    }


def run(runtime: LocalRuntime, members: int = DEFAULT_MEMBERS) -> dict[str, Any]:
    from patron.dynamo.client import dynamodb_client

    _, key = new_api_key(runtime, "bench-audiences")
    client = dynamodb_client()
    meter = DynamoMeter().attach(client)
    add_minimum = {"calls": members + math.ceil(members / 25) + 2, "writeUnits": 2 * members + 1, "readUnits": 1.0}
    arms: dict[str, dict[str, Any]] = {}
    try:
        for label in ("new profiles", "existing profiles"):
            audience = _request(runtime, key, "POST", "/v2/audiences", {"name": label}, 201)["id"]
            ids = [f"aud-{uuid.uuid4().hex[:12]}" for _ in range(members)]
            if label == "existing profiles":
                profiles = [{"integrationId": one, "attributes": {"tier": "gold", "city": "Lisbon"}} for one in ids]
                _request(runtime, key, "PUT", "/v2/customer_profiles", {"customerProfiles": profiles}, 204)
            data = [{"action": "add", "profileIntegrationId": one, "audienceId": audience} for one in ids]
            arms[label] = _measure(
                meter,
                lambda a=audience, d=data: _request(runtime, key, "POST", "/v2/customer_audiences", {"data": d}, 204),
            )
            arms[label]["minimum"] = add_minimum

        def delete() -> None:
            _request(runtime, key, "DELETE", f"/v2/audiences/{audience}", None, 204)
            if not runtime.wait_idle(600):
                fail("the deletion job did not finish")

        arms["deletion job"] = _measure(meter, delete)
        pages = math.ceil(members / PAGE) + (1 if members % PAGE == 0 else 0)
        arms["deletion job"]["minimum"] = {
            "calls": members + math.ceil(members / 25) + pages + 4,
            "writeUnits": 2 * members + 2,
            "readUnits": pages * 0.5 + 2,  # Query pages eventually consistent; the audience read consistently
        }
    finally:
        meter.detach(client)
    rows = []
    for name, arm in arms.items():
        minimum = arm["minimum"]
        arm["ratio"] = {
            "calls": round(arm["calls"] / minimum["calls"], 3),
            "writeUnits": round(arm["writeUnits"] / minimum["writeUnits"], 3),
            "readUnits": round(arm["readUnits"] / minimum["readUnits"], 3),
        }
        rows.append(
            [
                name,
                arm["seconds"],
                f"{arm['calls']:,} / {minimum['calls']:,} ({arm['ratio']['calls']}x)",
                f"{arm['writeUnits']:,.0f} / {minimum['writeUnits']:,} ({arm['ratio']['writeUnits']}x)",
                f"{arm['readUnits']:,.1f} / {minimum['readUnits']:,.1f} ({arm['ratio']['readUnits']}x)",
                ", ".join(f"{op} {n:,}" for op, n in arm["callsByOperation"].items()),
            ]
        )
    print_table(
        f"Audience membership: {members:,} profiles added in one request, and the audience deleted",
        ["arm", "s", "calls / minimum", "WCU / minimum", "RCU / minimum", "calls by operation"],
        rows,
        note="DynamoDB Local in memory, the project's meter; the authorizer's cached key lookups are included.",
    )
    results = {"members": members, "arms": arms}
    write_json("audiences", results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audiences", description=__doc__)
    parser.add_argument("--members", type=int, default=DEFAULT_MEMBERS)
    args = parser.parse_args(argv)
    runtime = start_runtime()
    try:
        run(runtime, args.members)
    finally:
        runtime.stop()


if __name__ == "__main__":
    main()
