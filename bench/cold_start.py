"""Cold start: module init of each Lambda function in template.yaml against a bare boto3 handler.

What a cold start pays in Python is the handler module's import plus whatever the first request builds before its
first I/O. Our handlers build settings, clients and services lazily (the cached factories of each context's
`wiring` module), so measuring the import alone would flatter them: each child process imports the handler module
and then calls the factories its first request calls (FIRST_REQUEST below). The bare handler imports boto3 and
builds one DynamoDB client. Both are timed inside the child with time.perf_counter (interpreter start-up is the
same for both and left out), as fresh `python -c` processes, interleaved in alternating order; the budget compares
medians.

.venv/bin/python -m bench.cold_start [--rounds N]"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from bench.common import PROJECT_ROOT, fail, percentile, print_table, write_json

BUDGET = 1.5  # allowed ratio of medians, function / bare handler
AIM = 1.2
DEFAULT_ROUNDS = 21
BASELINE = "bare handler"

# Per handler module: what its first request builds before any I/O, as (module, call) pairs. A function missing
# here is measured on its import alone and flagged, so a new function cannot pass by omission.
FIRST_REQUEST: dict[str, list[tuple[str, str]]] = {
    "functions.authorizer.app": [("patron.auth.wiring", "authenticator()")],
    "functions.customer_profiles.app": [
        ("patron.profiles.wiring", "profiles_settings()"),
        ("patron.profiles.wiring", "profile_service()"),
        # msgspec builds a type's decoder on its first use: the first PUT's validation pays it.
        (
            "patron.http.validation",
            "parse_model(__import__('patron.profiles.talon').profiles.talon.CustomerProfileIntegrationRequestV2, {})",
        ),
        ("patron.idempotency.wiring", "idempotency_store()"),
    ],
    "functions.customers.app": [
        ("patron.profiles.wiring", "customers_settings()"),
        ("patron.profiles.wiring", "profile_service()"),
        (
            "patron.http.validation",
            "parse_model(__import__('patron.profiles.customers').profiles.customers.CustomerRequest, {})",
        ),
    ],
    "functions.catalog.app": [
        ("patron.catalog.wiring", "catalog_settings()"),
        ("patron.catalog.wiring", "catalog_service()"),
    ],
    "functions.orders.app": [
        ("patron.orders.wiring", "orders_settings()"),
        ("patron.orders.wiring", "order_service()"),
    ],
    "functions.imports.app": [("patron.imports.wiring", "import_api()")],
    "functions.import_steps.app": [("patron.imports.wiring", "import_steps()")],
    "functions.import_worker.app": [("patron.imports.wiring", "chunk_writer()")],
    "functions.import_dead_letters.app": [("patron.imports.wiring", "process_store()")],
    "functions.rfmcube.app": [
        ("patron.orders.wiring", "orders_settings()"),
        ("patron.orders.wiring", "order_service()"),
        ("patron.customers.wiring", "customer_eraser()"),
    ],
}

_CHILD = """\
import time
_start = time.perf_counter()
{imports}
_imported = time.perf_counter()
{construct}
_constructed = time.perf_counter()
import json, sys
sys.stdout.write(json.dumps([_imported - _start, _constructed - _imported]))
"""


@dataclass(frozen=True)
class Subject:
    name: str
    module: str | None
    code: str
    environment: dict[str, str]
    constructs: list[str]


def _dummy_value(name: str, value: Any, parameters: dict[str, str]) -> str:
    """A template value with intrinsics replaced: parameters by their defaults, resources by a dummy name."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"} and str(value["Ref"]) in parameters:
        return parameters[str(value["Ref"])]
    return f"bench-{name.lower().replace('_', '-')}"


def _base_environment() -> dict[str, str]:
    """What Lambda gives every function: region, credentials, no config files; no PYTHON* from the caller."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {
        **keep,
        # The function code on sys.path as /var/task, the layer as /opt/python.
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(PROJECT_ROOT / "layers" / "patron")]),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def subjects() -> list[Subject]:
    from patron_local.template import Template

    template = Template.load(PROJECT_ROOT / "template.yaml")
    parameters = template.parameter_defaults()
    result = [
        Subject(
            BASELINE,
            None,
            _CHILD.format(imports="import boto3", construct='boto3.client("dynamodb")'),
            _base_environment(),
            ['boto3.client("dynamodb")'],
        )
    ]
    for logical_id, function in template.functions().items():
        environment = _base_environment()
        environment.update(
            {name: _dummy_value(name, value, parameters) for name, value in function.environment.items()}
        )
        calls = FIRST_REQUEST.get(function.module, [])
        construct = "\n".join(f"import {module} as _m{i}\n_m{i}.{call}" for i, (module, call) in enumerate(calls))
        code = _CHILD.format(imports=f"import {function.module}", construct=construct or "pass")
        result.append(Subject(logical_id, function.module, code, environment, [f"{m}.{c}" for m, c in calls]))
    return result


def run_child(subject: Subject) -> tuple[float, float]:
    completed = subprocess.run(
        [sys.executable, "-c", subject.code],
        cwd=PROJECT_ROOT,
        env=subject.environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        fail(f"{subject.name}: the child process failed:\n{completed.stderr[-2000:]}")
    imported, constructed = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(imported), float(constructed)


def _has_bytecode(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    return os.path.exists(importlib.util.cache_from_source(spec.origin))


def measure(rounds: int) -> dict[str, Any]:
    everyone = subjects()
    for subject in everyone:  # warm-up: writes __pycache__ and warms the page cache
        run_child(subject)
    missing = [s.module for s in everyone if s.module and not _has_bytecode(s.module)]
    if missing:
        print(f"warning: no bytecode cache for {missing}: figures include compilation")
    samples: dict[str, list[tuple[float, float]]] = {subject.name: [] for subject in everyone}
    for index in range(rounds):
        order = everyone if index % 2 == 0 else list(reversed(everyone))
        for subject in order:
            samples[subject.name].append(run_child(subject))
    return {"subjects": everyone, "samples": samples}


def report(measured: dict[str, Any], rounds: int) -> dict[str, Any]:
    everyone: list[Subject] = measured["subjects"]
    samples: dict[str, list[tuple[float, float]]] = measured["samples"]
    baseline = statistics.median(a + b for a, b in samples[BASELINE])
    rows, results = [], []
    for subject in everyone:
        totals = [a + b for a, b in samples[subject.name]]
        median = statistics.median(totals)
        ratio = median / baseline
        is_baseline = subject.name == BASELINE
        verdict = "-" if is_baseline else ("PASS" if ratio <= BUDGET else "OVER")
        aim = "-" if is_baseline else ("yes" if ratio <= AIM else "no")
        if not is_baseline and subject.module not in FIRST_REQUEST:
            verdict += " (import only: no factory map)"
        rows.append(
            [
                subject.name,
                f"{statistics.median(a for a, _ in samples[subject.name]) * 1000:.1f}",
                f"{statistics.median(b for _, b in samples[subject.name]) * 1000:.1f}",
                f"{median * 1000:.1f}",
                f"{percentile(totals, 0.25) * 1000:.0f}-{percentile(totals, 0.75) * 1000:.0f}",
                f"{(median - baseline) * 1000:+.1f}",
                f"{ratio:.2f}x",
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
                    "import": statistics.median(a for a, _ in samples[subject.name]) * 1000,
                    "construction": statistics.median(b for _, b in samples[subject.name]) * 1000,
                    "total": median * 1000,
                },
                "ratio_to_bare_handler": ratio,
                "budget": None if is_baseline else {"limit": BUDGET, "aim": AIM, "verdict": verdict},
                "samples_ms": [[a * 1000, b * 1000] for a, b in samples[subject.name]],
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
            f"<= {BUDGET}x",
            f"<= {AIM}x",
        ],
        rows,
        note=(
            "bare handler = `import boto3` + `boto3.client('dynamodb')`. construct = the cached factories the first"
            "\nrequest calls before any I/O (bench/cold_start.py FIRST_REQUEST). Python "
            f"{sys.version.split()[0]}, with bytecode caches."
        ),
    )
    return {"rounds": rounds, "budget": BUDGET, "aim": AIM, "results": results}


def run(rounds: int = DEFAULT_ROUNDS) -> dict[str, Any]:
    results = report(measure(rounds), rounds)
    write_json("cold_start", results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="processes per function (>= 11)")
    run(parser.parse_args(argv).rounds)


if __name__ == "__main__":
    main()
