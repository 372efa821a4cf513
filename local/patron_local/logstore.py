"""The local runtime's log store: every structured log line and metric document its functions write.

On AWS they go to stdout, and Lambda sends them to CloudWatch Logs. The local runtime runs every function in one
process (the CLI's too), so stdout would mix them into whatever else prints there; they are kept here instead.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

# The most recent documents kept; older ones are dropped.
DEFAULT_CAPACITY = 50_000


class LogStore:
    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self._documents: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def append(self, line: str) -> None:
        try:
            document = json.loads(line)
        except ValueError:
            document = {"message": line}
        if not isinstance(document, dict):
            document = {"message": document}
        with self._lock:
            self._documents.append(document)

    def documents(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._documents)

    def metric_documents(self) -> list[dict[str, Any]]:
        """The embedded-metric-format documents (one per API invocation)."""
        return [document for document in self.documents() if "_aws" in document]

    def log_lines(self) -> list[dict[str, Any]]:
        return [document for document in self.documents() if "_aws" not in document]
