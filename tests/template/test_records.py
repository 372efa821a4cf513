"""What the Lambda code defines at import time stays cheap to define: its records are msgspec Structs, not
dataclasses. A frozen dataclass costs ~0.6 ms to create (its methods are generated as source and `exec`-ed), a
Struct ~0.02 ms; with ~90 of them the sessions function's cold start paid ~50 ms, a quarter of its budget
(docs/benchmarks.md, "Cold start: records as Structs")."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_CODE = [ROOT / "layers" / "patron" / "patron", ROOT / "functions"]
# Those that cannot be Structs: an exception (a Struct cannot derive from Exception), and a record with a field
# computed after construction (`init=False`).
ALLOWED = {
    ("patron/errors.py", "PatronError"),
    ("patron/promotions/evaluator.py", "CompiledCampaign"),
}
DECORATED = re.compile(r"^\s*@dataclass\b.*\n\s*class (\w+)", re.MULTILINE)


def test_lambda_code_defines_no_dataclasses_beyond_the_allowed() -> None:
    found = set()
    for root in LAMBDA_CODE:
        for path in root.rglob("*.py"):
            relative = path.relative_to(root.parent).as_posix()
            found |= {(relative, name) for name in DECORATED.findall(path.read_text())}
    assert found - ALLOWED == set(), "define these as msgspec.Struct (cold start), or say in ALLOWED why not"


def test_the_allowed_ones_still_exist() -> None:
    """A stale exception would let a new dataclass of the same name in."""
    for relative, name in ALLOWED:
        text = (ROOT / "layers" / "patron" / relative).read_text()
        assert re.search(rf"@dataclass\b.*\n\s*class {name}\b", text), (relative, name)
