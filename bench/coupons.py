"""Generating and writing a batch of coupons (`patron coupons create APP CAMPAIGN --count N`'s path: CouponService on
DynamoDB Local, in-memory, through the local runtime's client and tables).

Arms, each on a fresh application whose live ruleset has a campaign with the coupons feature:
  partiql   the service's way: PartiQL INSERTs, 25 per BatchExecuteStatement, 8 calls in flight (each INSERT fails
            alone when its code exists, so every write is conditional at a plain put's price)
  put       conditional PutItem per coupon, 8 in flight (same units, 25x the round trips), on fewer codes
For each: wall time, codes per second, and the process's peak RSS (getrusage) before and after the run: the
service keeps one chunk of 1,000 coupons at a time, so the peak must not grow with the count.

Units. A metered run (the project's meter, bench.dynamo_meter, drained after every chunk so that it holds nothing
across the run) prices each call from the items it carries: an INSERT as a PutItem of its item (1 WCU per KB), a
refused one as a failed conditional write (1 WCU). The minimum is one write unit per coupon (each coupon is one
item under 1 KB), so the ratio is (all write units of the run) / N: the batch's own items (record, finish, id
counter) and any codes generated twice are the excess. The issue asks for at most 1.05.

    .venv/bin/python -m bench.coupons [--count 1000000] [--put-count 50000] [--metered-count N]
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid
from typing import Any

from bench.common import print_table, start_runtime, write_json
from bench.dynamo_meter import DynamoMeter, Item, totals
from patron.coupons.batches import CouponTerms
from patron.coupons.codes import CodeSettings
from patron.coupons.service import MAX_CLI_COUPONS
from patron.coupons.wiring import coupon_service
from patron.promotions.loading import merge
from patron.promotions.wiring import ruleset_service

CAMPAIGN = {
    "id": 9,
    "name": "Bench coupons",
    "features": ["coupons"],
    "rules": [{"title": "A valid code", "condition": "coupon.valid", "effects": []}],
}
LIMIT_RATIO = 1.05


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


class DrainingMeter(DynamoMeter):
    """The meter without its per-item memory (a batch's items are all new: no earlier size to remember), drained
    into running totals so that a million writes hold nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.write_units = 0.0
        self.read_units = 0.0
        self.calls_by_operation: dict[str, int] = {}

    def _remember(self, table: str, key: Item | None, size: int | None) -> None:
        return None

    def drain(self) -> None:
        for operation, entry in totals(self.calls).items():
            self.write_units += entry.write_units
            self.read_units += entry.read_units
            self.calls_by_operation[operation] = self.calls_by_operation.get(operation, 0) + entry.calls
        self.reset()


def _application(runtime: Any) -> int:
    service = runtime.applications()
    application = service.create_application(f"bench-coupons-{uuid.uuid4().hex[:6]}")
    rulesets = ruleset_service(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    rulesets.publish(application.id, merge([("bench", {"campaigns": [CAMPAIGN]})]), published_by="bench")
    return application.id


def _arm(runtime: Any, method: str, count: int, meter: DrainingMeter | None = None) -> dict[str, Any]:
    client = runtime.dynamodb_client()
    service = coupon_service(
        client,
        runtime.table_names["ConfigTable"],
        runtime.table_names["LedgersTable"],
        method="put" if method == "put" else "partiql",
    )
    application_id = _application(runtime)
    if meter is not None:
        meter.learn_key_names(runtime.table_names["LedgersTable"], ["PK", "SK"])
        meter.attach(client)
    progress_seen = [0]

    def progress(done: int) -> None:
        progress_seen[0] = done
        if meter is not None:
            meter.drain()

    before = _peak_rss_mb()
    started = time.perf_counter()
    try:
        creation = service.create_batch(
            application_id,
            9,
            CodeSettings(length=12, prefix="BENCH-"),
            count,
            CouponTerms(usage_limit=1),
            max_count=MAX_CLI_COUPONS,
            keep=False,
            progress=progress,
        )
    finally:
        if meter is not None:
            meter.drain()
            meter.detach(client)
    elapsed = time.perf_counter() - started
    batch = creation.batch
    assert batch is not None and creation.created == count and progress_seen[0] == count
    result: dict[str, Any] = {
        "method": method,
        "count": count,
        "seconds": round(elapsed, 1),
        "perSecond": round(count / elapsed),
        "peakRssBeforeMb": round(before, 1),
        "peakRssAfterMb": round(_peak_rss_mb(), 1),
        "codesGenerated": batch.consumed,
    }
    if meter is not None:
        result.update(
            writeUnits=meter.write_units,
            writeUnitsPerCoupon=round(meter.write_units / count, 4),
            ratioToMinimum=round(meter.write_units / count, 4),
            readUnits=meter.read_units,
            calls=meter.calls_by_operation,
        )
    return result


def run(
    runtime: Any, count: int = 1_000_000, put_count: int = 50_000, metered_count: int | None = None
) -> dict[str, Any]:
    arms = [
        _arm(runtime, "partiql", count),
        _arm(runtime, "put", put_count),
        _arm(runtime, "partiql", metered_count or count, DrainingMeter()),
        _arm(runtime, "put", min(put_count, 20_000), DrainingMeter()),
    ]
    rows = [
        [
            arm["method"] + (" (metered)" if "writeUnits" in arm else ""),
            f"{arm['count']:,}",
            arm["seconds"],
            f"{arm['perSecond']:,}",
            f"{arm['peakRssBeforeMb']} -> {arm['peakRssAfterMb']}",
            arm.get("writeUnitsPerCoupon", ""),
            ", ".join(f"{op} {n:,}" for op, n in arm.get("calls", {}).items()),
        ]
        for arm in arms
    ]
    print_table(
        "Coupon batches: generate and write (DynamoDB Local, in memory)",
        ["arm", "coupons", "s", "coupons/s", "peak RSS MB", "WCU/coupon", "calls"],
        rows,
        note=f"minimum: 1 WCU per coupon (items under 1 KB); the issue's bound {LIMIT_RATIO}x",
    )
    results = {"arms": arms}
    write_json("coupons", results)
    metered = [arm for arm in arms if "ratioToMinimum" in arm]
    for arm in metered:
        if arm["ratioToMinimum"] > LIMIT_RATIO:
            raise SystemExit(f"bench: {arm['method']} took {arm['ratioToMinimum']}x the minimum write units")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.coupons", description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--put-count", type=int, default=50_000)
    parser.add_argument("--metered-count", type=int, help="coupons of the metered PartiQL run (default: --count)")
    args = parser.parse_args(argv)
    runtime = start_runtime()
    try:
        run(runtime, args.count, args.put_count, args.metered_count)
    finally:
        runtime.stop()


if __name__ == "__main__":
    main()
