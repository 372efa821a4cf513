"""Cold start: module init of each Lambda function in template.yaml against a bare boto3 handler.

What a cold start pays in Python is the handler module's import plus whatever the first request builds before its
first I/O. Our handlers build settings, clients and services at first use (each function's composition root,
`patron.wiring`), so measuring the import alone would flatter them: each child process imports the handler module
and then builds what its first request builds (FIRST_REQUEST below). The bare handler imports boto3 and
builds one DynamoDB client. Both are timed inside the child with time.perf_counter (interpreter start-up is the
same for both and left out), as fresh `python -c` processes, interleaved in alternating order; the budget compares
medians.

`--before DIR` adds the same functions from another tree (e.g. `git archive HEAD | tar -x -C DIR`), interleaved in the
same run, so a change is measured against its base on the same noisy machine at the same time (a tree from before
the composition roots has no `services()` to call: compare against one that has them).

.venv/bin/python -m bench.cold_start [--rounds N] [--before DIR]"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, fail, percentile, print_table, write_json

BUDGET = 1.5  # allowed ratio of medians, function / bare handler
AIM = 1.3
DEFAULT_ROUNDS = 21
BASELINE = "bare handler"
BEFORE = " (before)"

# Per handler module: what its first request builds before any I/O, as (module, call) pairs: its composition root
# (patron.wiring), and for the routes with a body the decoder msgspec builds on a type's first use. A function
# missing here is measured on its import alone and flagged, so a new function cannot pass by omission.
FIRST_REQUEST: dict[str, list[tuple[str, str]]] = {
    "functions.authorizer.app": [("functions.authorizer.app", "authenticator()")],
    "functions.customer_profiles.app": [
        ("functions.customer_profiles.app", "services()"),
        # msgspec builds a type's decoder on its first use: the first PUT's validation pays it.
        (
            "patron.http.validation",
            "parse_model(__import__('patron.profiles.talon').profiles.talon.CustomerProfileIntegrationRequestV2, {})",
        ),
    ],
    "functions.customers.app": [
        ("functions.customers.app", "services()"),
        (
            "patron.http.validation",
            "parse_model(__import__('patron.profiles.customers').profiles.customers.CustomerRequest, {})",
        ),
    ],
    "functions.catalog.app": [("functions.catalog.app", "services()")],
    "functions.orders.app": [("functions.orders.app", "services()")],
    "functions.sessions.app": [
        ("functions.sessions.app", "services()"),
        (
            "patron.http.validation",
            "parse_model(__import__('patron.sessions.wire').sessions.wire.IntegrationRequest, {'customerSession': {}})",
        ),
    ],
    "functions.campaigns.app": [("functions.campaigns.app", "services()")],
    "functions.imports.app": [("functions.imports.app", "services()")],
    "functions.import_steps.app": [("functions.import_steps.app", "import_steps()")],
    "functions.import_worker.app": [("functions.import_worker.app", "chunk_writer()")],
    "functions.import_dead_letters.app": [("functions.import_dead_letters.app", "process_store()")],
    "functions.import_uploads.app": [("functions.import_uploads.app", "services()")],
    "functions.import_uploaded.app": [("functions.import_uploaded.app", "upload_starter()")],
    "functions.import_upload_dead_letters.app": [("functions.import_upload_dead_letters.app", "upload_starter()")],
    "functions.rfmcube.app": [("functions.rfmcube.app", "services()")],
}

# What every function's first invocation builds besides its own factories: the Powertools Logger that holds the
# invocation's log keys (patron.observability). A tree without it (a `--before` tree) skips it.
AMBIENT: list[tuple[str, str]] = [("patron.logs", "powertools_logger()")]

# Wall time (what the budget compares) and the process's CPU time (what a busy neighbour disturbs least).
_CHILD = """\
import time
_start, _cpu = time.perf_counter(), time.process_time()
{imports}
_imported, _cpu_imported = time.perf_counter(), time.process_time()
{construct}
_constructed, _cpu_constructed = time.perf_counter(), time.process_time()
import json, sys
sys.stdout.write(json.dumps([_imported - _start, _constructed - _imported, _cpu_constructed - _cpu]))
"""


# One child's seconds: wall time importing, wall time constructing, CPU time for both.
Sample = tuple[float, float, float]


@dataclass(frozen=True)
class Subject:
    name: str
    module: str | None
    code: str
    environment: dict[str, str]
    constructs: list[str]
    root: Path = PROJECT_ROOT


def _dummy_value(name: str, value: Any, parameters: dict[str, str]) -> str:
    """A template value with intrinsics replaced: parameters by their defaults, resources by a dummy name."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"} and str(value["Ref"]) in parameters:
        return parameters[str(value["Ref"])]
    return f"bench-{name.lower().replace('_', '-')}"


def _base_environment(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """What Lambda gives every function: region, credentials, no config files; no PYTHON* from the caller."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {
        **keep,
        # The function code on sys.path as /var/task, the layer as /opt/python.
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "layers" / "patron")]),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _ambient(root: Path) -> list[tuple[str, str]]:
    """The AMBIENT calls `root` defines: a `--before` tree may predate them."""
    if root == PROJECT_ROOT:
        return AMBIENT
    logs = root / "layers" / "patron" / "patron" / "logs.py"
    return [(m, c) for m, c in AMBIENT if f"def {c.split('(')[0]}(" in logs.read_text(encoding="utf-8")]


def function_subjects(root: Path = PROJECT_ROOT, suffix: str = "") -> list[Subject]:
    """The functions of `root`'s template, each importing and constructing from `root`."""
    from patron_local.template import Template

    template = Template.load(root / "template.yaml")
    parameters = template.parameter_defaults()
    result = []
    for logical_id, function in template.functions().items():
        environment = _base_environment(root)
        environment.update(
            {name: _dummy_value(name, value, parameters) for name, value in function.environment.items()}
        )
        calls = FIRST_REQUEST.get(function.module, [])
        calls = calls + _ambient(root) if calls else calls
        construct = "\n".join(f"import {module} as _m{i}\n_m{i}.{call}" for i, (module, call) in enumerate(calls))
        code = _CHILD.format(imports=f"import {function.module}", construct=construct or "pass")
        constructs = [f"{m}.{c}" for m, c in calls]
        result.append(Subject(logical_id + suffix, function.module, code, environment, constructs, root))
    return result


def subjects(before: Path | None = None) -> list[Subject]:
    bare = Subject(
        BASELINE,
        None,
        _CHILD.format(imports="import boto3", construct='boto3.client("dynamodb")'),
        _base_environment(),
        ['boto3.client("dynamodb")'],
    )
    after = function_subjects()
    if before is None:
        return [bare, *after]
    # Each function's two arms side by side in every round, so a drift of the machine's speed hits both alike.
    earlier = {subject.name.removesuffix(BEFORE): subject for subject in function_subjects(before, BEFORE)}
    return [bare, *(s for subject in after for s in (subject, earlier.get(subject.name)) if s is not None)]


def run_child(subject: Subject) -> Sample:
    completed = subprocess.run(
        [sys.executable, "-c", subject.code],
        cwd=subject.root,
        env=subject.environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        fail(f"{subject.name}: the child process failed:\n{completed.stderr[-2000:]}")
    imported, constructed, cpu = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(imported), float(constructed), float(cpu)


def _has_bytecode(subject: Subject) -> bool:
    if subject.module is None:
        return True
    source = subject.root / (subject.module.replace(".", "/") + ".py")
    if subject.root == PROJECT_ROOT:
        spec = importlib.util.find_spec(subject.module)
        if spec is None or spec.origin is None:
            return False
        source = Path(spec.origin)
    return os.path.exists(importlib.util.cache_from_source(str(source)))


def measure(rounds: int, before: Path | None = None) -> dict[str, Any]:
    everyone = subjects(before)
    for subject in everyone:  # warm-up: writes __pycache__ and warms the page cache
        run_child(subject)
    missing = [s.name for s in everyone if not _has_bytecode(s)]
    if missing:
        print(f"warning: no bytecode cache for {missing}: figures include compilation")
    samples: dict[str, list[Sample]] = {subject.name: [] for subject in everyone}
    for index in range(rounds):
        order = everyone if index % 2 == 0 else list(reversed(everyone))
        for subject in order:
            samples[subject.name].append(run_child(subject))
    return {"subjects": everyone, "samples": samples}


def report(measured: dict[str, Any], rounds: int) -> dict[str, Any]:
    everyone: list[Subject] = measured["subjects"]
    samples: dict[str, list[Sample]] = measured["samples"]
    baseline = statistics.median(a + b for a, b, _ in samples[BASELINE])
    cpu_baseline = statistics.median(cpu for _, _, cpu in samples[BASELINE])
    rows, results = [], []
    for subject in everyone:
        totals = [a + b for a, b, _ in samples[subject.name]]
        median = statistics.median(totals)
        ratio = median / baseline
        cpu = statistics.median(c for _, _, c in samples[subject.name])
        is_baseline = subject.name == BASELINE
        verdict = "-" if is_baseline else ("PASS" if ratio <= BUDGET else "OVER")
        aim = "-" if is_baseline else ("yes" if ratio <= AIM else "no")
        if not is_baseline and subject.module not in FIRST_REQUEST:
            verdict += " (import only: no factory map)"
        rows.append(
            [
                subject.name,
                f"{statistics.median(a for a, _, _ in samples[subject.name]) * 1000:.1f}",
                f"{statistics.median(b for _, b, _ in samples[subject.name]) * 1000:.1f}",
                f"{median * 1000:.1f}",
                f"{percentile(totals, 0.25) * 1000:.0f}-{percentile(totals, 0.75) * 1000:.0f}",
                f"{(median - baseline) * 1000:+.1f}",
                f"{ratio:.2f}x",
                f"{cpu * 1000:.1f}",
                f"{cpu / cpu_baseline:.2f}x",
                verdict,
                aim,
            ]
        )
        results.append(
            {
                "name": subject.name,
                "module": subject.module,
                "first_request_construction": subject.constructs,
                "median_ms": {
                    "import": statistics.median(a for a, _, _ in samples[subject.name]) * 1000,
                    "construction": statistics.median(b for _, b, _ in samples[subject.name]) * 1000,
                    "total": median * 1000,
                    "cpu": cpu * 1000,
                },
                "ratio_to_bare_handler": ratio,
                "cpu_ratio_to_bare_handler": cpu / cpu_baseline,
                "budget": None if is_baseline else {"limit": BUDGET, "aim": AIM, "verdict": verdict},
                "samples_ms": [[a * 1000, b * 1000, c * 1000] for a, b, c in samples[subject.name]],
            }
        )
    print_table(
        f"Cold start: module init + first-request construction, median of {rounds} fresh processes per row "
        f"(interleaved, alternating order)",
        [
            "function",
            "import ms",
            "construct ms",
            "total ms",
            "IQR ms",
            "vs bare",
            "ratio",
            "cpu ms",
            "cpu ratio",
            f"<= {BUDGET}x",
            f"<= {AIM}x",
        ],
        rows,
        note=(
            "bare handler = `import boto3` + `boto3.client('dynamodb')`. construct = the cached factories the first"
            "\nrequest calls before any I/O (bench/cold_start.py FIRST_REQUEST). cpu = the child's process time, import"
            f"\nand construction. Python {sys.version.split()[0]}, with bytecode caches."
        ),
    )
    comparison = compare(results, samples)
    return {"rounds": rounds, "budget": BUDGET, "aim": AIM, "results": results, "comparison": comparison}


def compare(results: list[dict[str, Any]], samples: dict[str, list[Sample]]) -> list[dict[str, Any]]:
    """Each function against its `--before` self, when the run has one. Besides the medians, the median of the
    per-round after/before ratios: both arms ran next to each other in every round, so the pair shares the
    machine's state of the moment."""
    by_name = {result["name"]: result for result in results}
    rows, comparison = [], []
    for name, before in by_name.items():
        after = by_name.get(name.removesuffix(BEFORE)) if name.endswith(BEFORE) else None
        if after is None:
            continue
        pairs = list(zip(samples[after["name"]], samples[name], strict=True))
        entry = {
            "name": after["name"],
            "before_ms": before["median_ms"]["total"],
            "after_ms": after["median_ms"]["total"],
            "added_ms": after["median_ms"]["total"] - before["median_ms"]["total"],
            "added_cpu_ms": after["median_ms"]["cpu"] - before["median_ms"]["cpu"],
            "before_ratio": before["ratio_to_bare_handler"],
            "after_ratio": after["ratio_to_bare_handler"],
            "before_cpu_ratio": before["cpu_ratio_to_bare_handler"],
            "after_cpu_ratio": after["cpu_ratio_to_bare_handler"],
            "paired_after_over_before": statistics.median((a[0] + a[1]) / (b[0] + b[1]) for a, b in pairs),
            "paired_cpu_after_over_before": statistics.median(a[2] / b[2] for a, b in pairs),
        }
        comparison.append(entry)
        rows.append(
            [
                entry["name"],
                f"{entry['before_ms']:.1f}",
                f"{entry['after_ms']:.1f}",
                f"{entry['added_ms']:+.1f}",
                f"{entry['added_cpu_ms']:+.1f}",
                f"{entry['before_ratio']:.2f}x / {entry['before_cpu_ratio']:.2f}x",
                f"{entry['after_ratio']:.2f}x / {entry['after_cpu_ratio']:.2f}x",
                f"{entry['paired_after_over_before']:.3f}x / {entry['paired_cpu_after_over_before']:.3f}x",
            ]
        )
    if rows:
        print_table(
            "Before and after, same run",
            [
                "function",
                "before ms",
                "after ms",
                "added ms",
                "added cpu ms",
                "before: ratio / cpu ratio",
                "after: ratio / cpu ratio",
                "after/before, paired: wall / cpu",
            ],
            rows,
        )
    return comparison


def run(rounds: int = DEFAULT_ROUNDS, before: Path | None = None) -> dict[str, Any]:
    results = report(measure(rounds, before), rounds)
    write_json("cold_start", results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="processes per function (>= 11)")
    parser.add_argument("--before", type=Path, help="another tree of the project to measure alongside (its HEAD)")
    args = parser.parse_args(argv)
    run(args.rounds, args.before.resolve() if args.before else None)


if __name__ == "__main__":
    main()
