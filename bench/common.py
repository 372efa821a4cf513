"""What every benchmark shares: statistics, the table printer, the JSON report and the local runtime."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.dynamo_meter import Call, DynamoMeter

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AUTHORIZER = "AuthorizerFunction"  # the template's authorizer function: its DynamoDB calls are reported apart
OUTPUT_DIR = PROJECT_ROOT / ".patron" / "bench"


# -- statistics --------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default): percentile(v, 0.95) is p95."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p25": percentile(values, 0.25),
        "p75": percentile(values, 0.75),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "min": min(values),
        "max": max(values),
    }


# -- output ------------------------------------------------------------------------------------------------


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], note: str = "") -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(header)), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        # The first column is a label (left-aligned); the others are figures (right-aligned).
        return "  ".join(value.ljust(widths[i]) if i == 0 else value.rjust(widths[i]) for i, value in enumerate(values))

    print(f"\n{title}")
    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print(line(row))
    if note:
        print(note)


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    return result.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": _git_commit(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_json(name: str, results: dict[str, Any]) -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.json"
    document = {"benchmark": name, "machine": machine(), **results}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"-> {path.relative_to(PROJECT_ROOT)}")
    return path


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def us(seconds: float) -> str:
    return f"{seconds * 1_000_000:.0f}"


# -- the local runtime -------------------------------------------------------------------------------------


def start_runtime() -> LocalRuntime:
    """The template's API in memory (DynamoDB Local included), as `make run` serves it."""
    from patron_local.runtime import LocalRuntime, RuntimeOptions

    started = time.perf_counter()
    runtime = LocalRuntime(RuntimeOptions(data_dir=None)).start()
    print(f"(local runtime with in-memory DynamoDB Local started in {time.perf_counter() - started:.1f} s)")
    return runtime


def new_api_key(runtime: LocalRuntime, application_name: str) -> tuple[int, str]:
    """A new application and integration key: (application id, key). The authorizer has never seen the key, so
    its first request misses the key cache. The application gets the highest rate limit the service allows, so
    the usage-plan throttle (100 requests/s by default) does not answer 429 to a benchmark loop."""
    from patron.applications.model import RateLimit, Scope

    service = runtime.applications()
    application = service.create_application(application_name, RateLimit(rate=10_000, burst=5_000))
    return application.id, service.create_key(application.id, Scope.INTEGRATION, "bench").secret


class FunctionMeter(DynamoMeter):
    """`DynamoMeter`, each call tagged with the Lambda function whose handler made it (None: outside handlers).
    The local runtime sets `CURRENT_FUNCTION` around each invocation, and the handlers' worker threads run in a
    copy of that context, so their calls are tagged too."""

    def __init__(self) -> None:
        super().__init__()
        self._functions: dict[int, str | None] = {}  # id(call): the meter keeps every call it recorded

    def _tag(self) -> Any:
        from patron_local.functions import CURRENT_FUNCTION

        return CURRENT_FUNCTION.get()

    def _tagged(self, call: Call, tag: Any) -> None:
        self._functions[id(call)] = tag

    def function_of(self, call: Call) -> str | None:
        return self._functions.get(id(call))


def fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    raise SystemExit(1)
