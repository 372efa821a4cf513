"""The loyalty expiry job over a million lots (`patron.loyalty.expiry.ExpiryJob`, LoyaltyExpiryFunction's service),
on DynamoDB Local in memory with the template's tables and indexes (no runtime: its scheduler would run the job
meanwhile).

Shape. `--lots` lots (default 1,000,000), `--per-ledger` of them per member (default 10: 100,000 ledgers), one
program, one application. Ten lots per member is a loyal customer's year of monthly purchases: a member's lots
expire 30 days apart (lot i at T0 + 1 + 30 i days + the member's offset, up to 10 h), so at the run instant
(T0 + 1 day 12 h) every ledger is due: its first lot expired, its second expires within the notice window (30
days). Each ledger's change is then 3 records (expired, expiring, balance): a transaction of 4 items. More lots per
member make fewer, larger ledgers (units grow with the item, round trips with the members).

Loading writes the ledger items as the writers do (`items.ledger_write`'s item: index keys included) with
BatchWriteItem, 8 threads; it is not measured. The run is measured: wall time, DynamoDB calls, read and write
units (the project's meter, bench.dynamo_meter, drained per page so it holds nothing), and memory: the process's
peak RSS before and after the run (getrusage; the run must not raise it with the number of lots), and with
`--trace-memory` the peak of Python memory allocated during the run (tracemalloc, the meter's included: an upper
bound; it slows the run about twofold).

Minimum. The job must read each due ledger once (1 strongly consistent read unit per item up to 4 KB) and write
it once with its records (1 write unit per KB of each item). Its transaction doubles the writes (the price of the
records being written with the ledger or not at all); the index Queries (keys only) and the tier lookups are the
rest. The meter prices a Put on the item written (AWS charges the larger of the item before and after: expiring
lots make the ledger smaller, so that is the item before; the minimum is priced the same way).

    .venv/bin/python -m bench.loyalty_expiry [--lots 1000000] [--per-ledger 10] [--trace-memory]
"""

from __future__ import annotations

import argparse
import math
import resource
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3

from bench.common import print_table, write_json
from bench.dynamo_meter import DynamoMeter, Item, item_size, totals
from patron.dynamo.batch import write_all
from patron.loyalty import due, items
from patron.loyalty.expiry import ExpiryJob
from patron.loyalty.ledger import Balance, Ledger, Lot, advance
from patron_local.dynamodb_local import DynamoDBLocal, ensure_tables
from patron_local.runtime import DEFAULT_TEMPLATE
from patron_local.template import REGION, Template

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RUN_AT = T0 + timedelta(days=1, hours=12)
NOTICE_DAYS = 30
APPLICATION, PROGRAM = 1, 1
LOAD_THREADS = 8


class DrainingMeter(DynamoMeter):
    """The meter drained into running totals (calls, units) so that a long run holds nothing per call."""

    def __init__(self) -> None:
        super().__init__()
        self.read_units = 0.0
        self.write_units = 0.0
        self.calls_by_operation: dict[str, int] = {}
        self.units_by_operation: dict[str, list[float]] = {}

    def _remember(self, table: str, key: Item | None, size: int | None) -> None:
        return None

    def drain(self) -> None:
        for operation, entry in totals(self.calls).items():
            self.read_units += entry.read_units
            self.write_units += entry.write_units
            self.calls_by_operation[operation] = self.calls_by_operation.get(operation, 0) + entry.calls
            units = self.units_by_operation.setdefault(operation, [0.0, 0.0])
            units[0] += entry.read_units
            units[1] += entry.write_units
        self.reset()


def _ledger(member: int, per_ledger: int) -> Ledger:
    offset = timedelta(minutes=member % 600)
    lots = tuple(
        Lot(f"m{member}-lot{i}", Decimal(10 + i), T0, T0 + timedelta(days=1 + 30 * i) + offset)
        for i in range(per_ledger)
    )
    earned = sum((lot.remaining for lot in lots), Decimal(0))
    return Ledger(as_of=T0, subledgers={"": Balance(lots=lots, earned=earned)})


def _item(member: int, per_ledger: int, table: str) -> dict[str, Any]:
    stored = items.StoredLedger(_ledger(member, per_ledger), 1, T0.isoformat())
    write = items.ledger_write(table, APPLICATION, PROGRAM, f"member-{member:07d}", stored, 0)
    return dict(write.request["Item"])


def _load(client: Any, table: str, ledgers: int, per_ledger: int) -> float:
    started = time.perf_counter()

    def chunk(first: int) -> None:
        last = min(first + 1000, ledgers)
        write_all(client, table, [{"PutRequest": {"Item": _item(m, per_ledger, table)}} for m in range(first, last)])

    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        list(pool.map(chunk, range(0, ledgers, 1000)))
    return time.perf_counter() - started


def _minimum(ledgers: int, per_ledger: int, table: str, outbox_records: int) -> tuple[float, float]:
    """(read units, write units) a job must spend at least: each ledger read once and written once as the run
    leaves it (every ledger of the run has the same shape: one is sized), and each outbox record written once (one
    unit: each is under 1 KB)."""
    read_units = ledgers * max(1, math.ceil(item_size(_item(0, per_ledger, table)) / 4096))
    after = advance(_ledger(0, per_ledger), RUN_AT)
    noticed = tuple(lot.id for _, lot in due.notices(after, (), RUN_AT, timedelta(days=NOTICE_DAYS)))
    stored = items.StoredLedger(after, 2, T0.isoformat(), noticed)
    written = items.ledger_write(table, APPLICATION, PROGRAM, "member-0000000", stored, 1).request["Item"]
    write_units = ledgers * max(1, math.ceil(item_size(written) / 1024)) + outbox_records
    return float(read_units), float(write_units)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def run(lots: int = 1_000_000, per_ledger: int = 10, trace_memory: bool = False) -> dict[str, Any]:
    ledgers = max(1, lots // per_ledger)
    database = DynamoDBLocal(data_dir=None)
    endpoint = database.start()
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local's
        )
        names = ensure_tables(client, Template.load(DEFAULT_TEMPLATE), "bench-")
        table, outbox, config = names["LedgersTable"], names["OutboxTable"], names["ConfigTable"]
        loaded = _load(client, table, ledgers, per_ledger)
        print(f"(loaded {ledgers:,} ledgers, {ledgers * per_ledger:,} lots, in {loaded:.0f} s)")

        job = ExpiryJob(client, table, outbox, 3600, config, NOTICE_DAYS)
        meter = DrainingMeter()
        meter.attach(client)
        pages = [0]

        def drain_per_page() -> bool:
            pages[0] += 1
            meter.drain()
            return False

        rss_before = _peak_rss_mb()
        if trace_memory:
            tracemalloc.start()
        started = time.perf_counter()
        report = job.run(RUN_AT, drain_per_page)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
        tracemalloc.stop()
        rss_after = _peak_rss_mb()
        meter.drain()
        meter.detach(client)

        again = DrainingMeter()
        again.attach(client)
        second = job.run(RUN_AT)
        again.drain()
        again.detach(client)
    finally:
        database.stop()

    assert report.finished and report.written == ledgers and report.conflicts == 0, report
    assert "Scan" not in meter.calls_by_operation
    min_read, min_write = _minimum(ledgers, per_ledger, table, report.records)
    result: dict[str, Any] = {
        "lots": ledgers * per_ledger,
        "ledgers": ledgers,
        "perLedger": per_ledger,
        "seconds": round(elapsed, 1),
        "ledgersPerSecond": round(ledgers / elapsed),
        "records": report.kinds,
        "calls": meter.calls_by_operation,
        "unitsByOperation": {k: [round(r, 1), round(w, 1)] for k, (r, w) in meter.units_by_operation.items()},
        "readUnits": round(meter.read_units, 1),
        "writeUnits": round(meter.write_units, 1),
        "minimumReadUnits": min_read,
        "minimumWriteUnits": min_write,
        "readRatio": round(meter.read_units / min_read, 3),
        "writeRatio": round(meter.write_units / min_write, 3),
        "peakTracedMb": round(peak / 2**20, 1) if peak is not None else None,
        "peakRssBeforeMb": round(rss_before, 1),
        "peakRssAfterMb": round(rss_after, 1),
        "secondRun": {"examined": second.examined, "written": second.written, "calls": again.calls_by_operation},
    }
    print_table(
        f"Loyalty expiry job: {ledgers * per_ledger:,} lots in {ledgers:,} ledgers (every ledger due)",
        ["measure", "value", "minimum", "ratio"],
        [
            ["time (s)", result["seconds"], "", ""],
            ["ledgers written", report.written, ledgers, ""],
            ["outbox records", report.records, "", ""],
            ["read units", result["readUnits"], min_read, result["readRatio"]],
            ["write units", result["writeUnits"], min_write, result["writeRatio"]],
            ["peak RSS before / after the run (MB)", f"{rss_before:.1f} / {rss_after:.1f}", "", ""],
            ["peak traced memory of the run (MB)", result["peakTracedMb"] or "(--trace-memory)", "", ""],
            ["calls", meter.calls_by_operation, "", ""],
            ["second run (nothing due)", f"{second.examined} read, {second.written} written", 0, ""],
        ],
        note="Write ratio ~2: TransactWriteItems costs double (records written with the ledger, or not at all).",
    )
    write_json("loyalty_expiry", result)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loyalty_expiry", description=__doc__)
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--per-ledger", type=int, default=10)
    parser.add_argument("--trace-memory", action="store_true", help="tracemalloc's peak (slower)")
    args = parser.parse_args(argv)
    run(args.lots, args.per_ledger, args.trace_memory)


if __name__ == "__main__":
    main()
