"""Where a running local runtime says how to reach it, so the `patron` CLI can manage its applications."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from patron_local.dynamodb_local import PROJECT_ROOT

STATE_DIR = PROJECT_ROOT / ".patron"
DATA_DIR = STATE_DIR / "data" / "dynamodb"


def state_file() -> Path:
    """`.patron/local.json`, or PATRON_LOCAL_STATE (tests run a second runtime without touching yours)."""
    return Path(os.environ.get("PATRON_LOCAL_STATE", STATE_DIR / "local.json"))


@dataclass(frozen=True)
class LocalState:
    base_url: str
    dynamodb_endpoint: str
    config_table: str
    pid: int
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name (older files: none)

    def table(self, logical_id: str) -> str:
        """A table's name; a file written before `tables` existed names the config table only, and the others
        share its prefix."""
        if logical_id in self.tables:
            return self.tables[logical_id]
        return f"{self.config_table.removesuffix('ConfigTable')}{logical_id}"

    def save(self, path: Path | None = None) -> None:
        path = path or state_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path | None = None) -> LocalState | None:
        path = path or state_file()
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
