"""Import memory: the streaming reader (`patron.imports.formats`) must hold the same memory for a 200 MB file as
for a 20 MB one.

Generates a large (~200 MB) and a small (~20 MB) import file of realistic customers (contact fields, custom
attributes, 0-6 orders each with a delivery address and 1-3 items) in each format (Rfmcube's JSON payload, JSON
Lines, CSV with one row per item) in a temporary directory. Each file is then read in a fresh child process
through `ImportReader` + `chunked` (each chunk's customers joined as the split step writes them), which reports
its peak resident set (`ru_maxrss`) before and after reading, its time, and what it read. With `--tracemalloc`
the children also report the peak of Python allocations (reading is then 2-3x slower). For contrast, one child
reads the small JSON file whole with `jsonbody.loads`, as the split step did before the reader.

    .venv/bin/python -m bench.import_memory [--large-mb 200] [--small-mb 20] [--formats json,jsonl,csv]
                                            [--tracemalloc] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, fail, print_table, write_json

FORMATS = ("json", "jsonl", "csv")
MB = 1_000_000
RATIO_LIMIT = 1.15  # peak RSS of the large file over the small one's, per format: above it, memory grows with size

CSV_HEADER = [
    "customer.id",
    "customer.email",
    "customer.firstName",
    "customer.lastName",
    "customer.city",
    "customer.createdAt",
    "customer.updatedAt",
    "customer.newsletter:boolean",
    "customer.points:number",
    "order.id",
    "order.createdAt",
    "order.updatedAt",
    "order.amount",
    "order.currency",
    "order.status",
    "order.statusLabel",
    "order.delivery.province",
    "order.delivery.city",
    "item.item_id:number",
    "item.product_id:number",
    "item.brand",
    "item.name",
    "item.price:number",
    "item.quantity:number",
]
_FIRST = ["Anna", "Bruno", "Chiara", "Davide", "Elena", "Francesco", "Giulia", "Zoë", "Łukasz", "Ana María"]
_LAST = ["Rossi", "Bianchi", "Esposito", "Romano", "Colombo", 'O"Neil', "Müller", "García, Jr."]
_CITIES = [("MI", "Milano"), ("RM", "Roma"), ("TO", "Torino"), ("NA", "Napoli"), ("FI", "Firenze")]
_BRANDS = ["nike", "adidas", "puma", "asics", "new balance"]
_STATUSES = [("10", "Completato"), ("20", "Spedito"), ("30", "Annullato"), ("40", "Reso")]


def _customer(rng: random.Random, number: int) -> dict[str, Any]:
    province, city = rng.choice(_CITIES)
    orders = []
    for position in range(rng.choice([0, 1, 1, 2, 2, 3, 4, 6])):
        status, label = rng.choice(_STATUSES)
        day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:13:07Z"
        items: list[dict[str, Any]] = [
            {
                "item_id": rng.randint(1, 10**7),
                "product_id": rng.randint(1, 10**6),
                "brand": rng.choice(_BRANDS),
                "name": f'Scarpa {{run}} [{rng.randint(36, 46)}] "{rng.choice(_BRANDS)}"',
                "price": round(rng.uniform(5, 300), 2),
                "quantity": rng.randint(1, 3),
            }
            for _ in range(rng.randint(1, 3))
        ]
        orders.append(
            {
                "id": f"{number}-{position}",
                "createdAt": day,
                "updatedAt": day,
                "amount": round(sum(i["price"] * i["quantity"] for i in items), 2),
                "currency": "EUR",
                "status": status,
                "statusLabel": label,
                "delivery": {"province": province, "city": city},
                "items": items,
            }
        )
    return {
        "id": str(number),
        "email": f"customer{number}@example.com",
        "firstName": rng.choice(_FIRST),
        "lastName": rng.choice(_LAST),
        "city": city,
        "createdAt": "2020-01-01T13:06:39Z",
        "updatedAt": "2024-06-01T08:00:00Z",
        "newsletter": rng.random() < 0.5,
        "points": rng.randint(0, 5000),
        "orders": orders,
    }


def _csv_rows(customer: dict[str, Any]) -> list[list[Any]]:
    person = [customer[name] for name in ("id", "email", "firstName", "lastName", "city", "createdAt", "updatedAt")]
    person += ["true" if customer["newsletter"] else "false", customer["points"]]
    rows = []
    for order in customer["orders"]:
        fields = [order[name] for name in ("id", "createdAt", "updatedAt", "amount", "currency", "status")]
        fields += [order["statusLabel"], order["delivery"]["province"], order["delivery"]["city"]]
        for item in order["items"]:
            rows.append(person + fields + [item[name] for name in ("item_id", "product_id", "brand", "name")])
            rows[-1] += [item["price"], item["quantity"]]
    return rows or [person + [""] * (len(CSV_HEADER) - len(person))]


def generate(directory: Path, label: str, target_bytes: int, formats: list[str]) -> dict[str, Path]:
    """One file per format, each written until it reaches `target_bytes`, from the same customers in order."""
    rng = random.Random(20261122)  # the same customers in every run
    paths = {name: directory / f"{label}.{name}" for name in formats}
    handles = {name: path.open("w", encoding="utf-8", newline="") for name, path in paths.items()}
    sizes = dict.fromkeys(formats, 0)
    writer = csv.writer(handles["csv"]) if "csv" in handles else None
    if "json" in handles:
        sizes["json"] += handles["json"].write('{"overwriteDescriptors": false, "customers": [\n')
    if writer is not None:
        writer.writerow(CSV_HEADER)
    number = 0
    while open_formats := [name for name in formats if sizes[name] < target_bytes]:
        customer = _customer(rng, number)
        text = json.dumps(customer, ensure_ascii=False)
        for name in open_formats:
            if name == "json":
                sizes[name] += handles[name].write(("" if number == 0 else ",\n") + text)
            elif name == "jsonl":
                sizes[name] += handles[name].write(text + "\n")
            elif writer is not None:
                writer.writerows(_csv_rows(customer))
                sizes[name] = handles[name].tell()
        number += 1
    if "json" in handles:
        handles["json"].write('\n], "triggerIntegrations": false, "recalculateStats": false}\n')
    for handle in handles.values():
        handle.close()
    return paths


# -- the child ---------------------------------------------------------------------------------------------


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def child(path: str, file_format: str, traced: bool, whole: bool) -> dict[str, Any]:
    import tracemalloc

    from patron.http import jsonbody
    from patron.imports.formats import CustomerRecord, ImportReader, chunked

    before = _rss_kb()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    records = customers = orders = problems = chunks = written = largest = 0
    with open(path, "rb", buffering=0) as source:
        if whole:  # the split step before the streaming reader: the whole body, then every customer decoded
            everyone = jsonbody.loads(source.read())["customers"]
            records = customers = len(everyone)
            orders = sum(len(c.get("orders", [])) for c in everyone)
        else:
            for chunk in chunked(ImportReader(source, file_format)):
                body = chunk.customers_json()  # what the split step writes to S3, one object per chunk
                chunks += 1
                written += len(body)
                largest = max(largest, len(body))
                for record in chunk.records:
                    records += 1
                    if isinstance(record, CustomerRecord):
                        customers += 1
                        orders += len(record.customer.get("orders", ()))
                    else:
                        problems += 1
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else None
    return {
        "seconds": seconds,
        "records": records,
        "customers": customers,
        "orders": orders,
        "problems": problems,
        "chunks": chunks,
        "written_bytes": written,
        "largest_chunk_bytes": largest,
        "rss_before_kb": before,
        "rss_peak_kb": _rss_kb(),
        "traced_peak_bytes": traced_peak,
    }


def run_child(path: Path, file_format: str, traced: bool, whole: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.import_memory", "--child", str(path), file_format]
    command += ["--tracemalloc"] * traced + ["--whole"] * whole
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        fail(f"{path.name}: the child process failed:\n{completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# -- the parent --------------------------------------------------------------------------------------------


def run(
    large_mb: int = 200,
    small_mb: int = 20,
    formats: list[str] | None = None,
    traced: bool = False,
    keep: Path | None = None,
) -> dict[str, Any]:
    formats = formats or list(FORMATS)
    with tempfile.TemporaryDirectory(prefix="patron-import-bench-") as temporary:
        directory = keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        files = {
            label: generate(directory, label, mb * MB, formats)
            for label, mb in (("small", small_mb), ("large", large_mb))
        }
        print(f"(files generated in {time.perf_counter() - started:.0f} s in {directory})")
        measured: dict[str, dict[str, Any]] = {}
        for file_format in formats:
            for label in ("small", "large"):
                path = files[label][file_format]
                measured[f"{label}.{file_format}"] = {
                    "format": file_format,
                    "file_bytes": path.stat().st_size,
                    **run_child(path, file_format, traced),
                }
        whole = None
        if "json" in formats:
            path = files["small"]["json"]
            whole = {"format": "json", "file_bytes": path.stat().st_size, **run_child(path, "json", traced, True)}
    return report(measured, whole, formats, traced)


def report(
    measured: dict[str, dict[str, Any]], whole: dict[str, Any] | None, formats: list[str], traced: bool
) -> dict[str, Any]:
    rows = []

    def row(name: str, result: dict[str, Any]) -> list[str]:
        seconds = result["seconds"]
        cells = [
            name,
            f"{result['file_bytes'] / MB:,.1f}",
            f"{result['customers']:,}",
            f"{result['orders']:,}",
            f"{result['chunks']:,}",
            f"{seconds:.1f}",
            f"{result['file_bytes'] / MB / seconds:.1f}",
            f"{result['records'] / seconds:,.0f}",
            f"{result['rss_before_kb'] / 1024:.1f}",
            f"{result['rss_peak_kb'] / 1024:.1f}",
            f"{(result['rss_peak_kb'] - result['rss_before_kb']) / 1024:.1f}",
        ]
        if traced:
            peak = result["traced_peak_bytes"]
            cells.append(f"{peak / 2**20:.1f}" if peak is not None else "")
        return cells

    for name, result in measured.items():
        if result["problems"]:
            fail(f"{name}: the reader found {result['problems']} problem(s) in a generated file")
        rows.append(row(name, result))
    if whole is not None:
        rows.append(row("small.json read whole (jsonbody.loads)", whole))
    ratios: dict[str, dict[str, float]] = {}
    for file_format in formats:
        small, large = measured[f"small.{file_format}"], measured[f"large.{file_format}"]
        ratios[file_format] = {
            "size": large["file_bytes"] / small["file_bytes"],
            "rss_peak": large["rss_peak_kb"] / small["rss_peak_kb"],
        }
        if traced:
            ratios[file_format]["traced_peak"] = large["traced_peak_bytes"] / small["traced_peak_bytes"]
    headers = ["file", "MB", "customers", "orders", "chunks", "s", "MB/s", "records/s", "RSS before MiB"]
    headers += ["RSS peak MiB", "growth MiB"] + (["traced peak MiB"] if traced else [])
    notes = [
        f"{name}: {r['size']:.1f}x the bytes, peak RSS {r['rss_peak']:.2f}x"
        + (f", traced peak {r['traced_peak']:.2f}x" if traced else "")
        for name, r in ratios.items()
    ]
    print_table(
        "Import files streamed through ImportReader + chunked, one fresh process per file",
        headers,
        rows,
        note="large / small: " + "; ".join(notes) + ". RSS before = after imports, before reading.",
    )
    results = {"files": measured, "whole_file_read": whole, "ratios": ratios}
    write_json("import_memory", results)
    return results


def check(results: dict[str, Any]) -> None:
    """Peak memory that grows with the file's size fails the bench (after the table has been printed)."""
    over = [name for name, r in results["ratios"].items() if r["rss_peak"] > RATIO_LIMIT]
    if over:
        fail(f"peak memory grows with the file's size for {', '.join(over)} (over {RATIO_LIMIT}x the small file's)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.import_memory", description=__doc__)
    parser.add_argument("--large-mb", type=int, default=200)
    parser.add_argument("--small-mb", type=int, default=20)
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated: json,jsonl,csv")
    parser.add_argument("--tracemalloc", action="store_true", help="also report the peak of Python allocations")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them (default: a temporary dir)")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "FORMAT"), help=argparse.SUPPRESS)
    parser.add_argument("--whole", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.tracemalloc, args.whole)))
        return
    formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    if not formats or set(formats) - set(FORMATS):
        parser.error(f"--formats: some of {', '.join(FORMATS)}")
    check(run(args.large_mb, args.small_mb, formats, args.tracemalloc, args.keep))


if __name__ == "__main__":
    main()
