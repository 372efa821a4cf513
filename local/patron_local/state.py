"""Where a running local runtime says how to reach it, so the `patron` CLI can manage its applications."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from patron_local.dynamodb_local import PROJECT_ROOT

STATE_DIR = PROJECT_ROOT / ".patron"
STATE_FILE = STATE_DIR / "local.json"
DATA_DIR = STATE_DIR / "data" / "dynamodb"


@dataclass(frozen=True)
class LocalState:
    base_url: str
    dynamodb_endpoint: str
    config_table: str
    pid: int

    def save(self, path: Path = STATE_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path = STATE_FILE) -> LocalState | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
