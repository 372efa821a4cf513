"""The local runtime's log store: every structured log line and metric document its functions write.

On AWS they go to stdout, and Lambda sends them to CloudWatch Logs. The local runtime runs every function in one
process (the CLI's too), so stdout would mix them into whatever else prints there; they are kept here instead: in
memory (`documents()`, what tests read) and, when the runtime is given a file (`make run`: `.patron/logs.jsonl`),
appended to it a line at a time, so that `patron logs` and `patron health` read them from another process
(`read_log_file`). The file is bounded: past its size it becomes `<file>.1` and a new one starts, so the current
file and one previous are kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO

from patron_local.state import state_file

# The most recent documents kept in memory; older ones are dropped.
DEFAULT_CAPACITY = 50_000
# About 15,000 API calls (an EMF document is ~600 bytes, and a call logs a line or two); twice this on disk at most.
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
LOG_FILE_NAME = "logs.jsonl"


def log_file() -> Path:
    """`.patron/logs.jsonl`: next to the state file, so PATRON_LOCAL_STATE (a test's runtime) moves both."""
    return state_file().with_name(LOG_FILE_NAME)


def previous_file(path: Path) -> Path:
    return path.with_name(path.name + ".1")


class LogFile:
    """Appends lines to `path`; a line that would take it past `max_bytes` first moves it to `<path>.1` (replacing
    the one there). One writer: LogStore calls it under its lock."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES):
        self.path = path
        self.max_bytes = max_bytes
        self._file: BinaryIO | None = None

    def append(self, line: str) -> None:
        # backslashreplace: a lone surrogate becomes its JSON escape (\udc80) instead of failing the write.
        data = line.encode("utf-8", "backslashreplace") + b"\n"
        file = self._open()
        if file.tell() and file.tell() + len(data) > self.max_bytes:
            self.close()
            os.replace(self.path, previous_file(self.path))
            file = self._open()
        # One write and a flush per line: a reader in another process sees whole lines, and sees them at once.
        file.write(data)
        file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self) -> BinaryIO:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 (kept open between lines; closed by close())
        return self._file


def read_log_file(path: Path) -> list[dict[str, Any]]:
    """The documents of `<path>.1` then `path`, oldest first, while the runtime may be writing and rotating them.

    The current file is opened before the previous one: a rotation in between makes both the same file (read once,
    by its inode) instead of losing the rotated one. A line still being written is skipped."""
    files: list[BinaryIO] = []
    with contextlib.ExitStack() as stack:
        for candidate in (path, previous_file(path)):
            with contextlib.suppress(FileNotFoundError):
                files.append(stack.enter_context(open(candidate, "rb")))
        seen: set[tuple[int, int]] = set()
        documents: list[dict[str, Any]] = []
        for file in reversed(files):
            status = os.fstat(file.fileno())
            if (status.st_dev, status.st_ino) in seen:
                continue
            seen.add((status.st_dev, status.st_ino))
            documents.extend(_documents(file.read()))
        return documents


def _documents(data: bytes) -> list[dict[str, Any]]:
    documents = []
    for line in data.split(b"\n"):
        try:
            document = json.loads(line)
        except ValueError:
            continue  # an empty or half-written line
        if isinstance(document, dict):
            documents.append(document)
    return documents


class LogStore:
    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        file: Path | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ):
        self._documents: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._file = LogFile(file, max_file_bytes) if file is not None else None

    def keep_in(self, file: Path | None, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        """From now on also append every document to `file` (None: memory only)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file = LogFile(file, max_file_bytes) if file is not None else None

    def close(self) -> None:
        """Closes the file; the documents in memory stay readable."""
        self.keep_in(None)

    def append(self, line: str) -> None:
        try:
            parsed: Any = json.loads(line)
        except ValueError:
            parsed = line
        document = parsed if isinstance(parsed, dict) else {"message": parsed}
        # The file holds one JSON object a line: the line itself when it is one, else the document kept in memory.
        text = line if document is parsed and "\n" not in line else json.dumps(document, ensure_ascii=False)
        with self._lock:
            self._documents.append(document)
            file = self._file
            if file is None:
                return
            try:
                file.append(text)
            except OSError as error:
                # A full disk must not fail requests: the documents stay in memory, the file stops.
                print(f"patron_local: {file.path} not written ({error}); logs kept in memory only", file=sys.stderr)
                file.close()
                self._file = None

    def documents(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._documents)

    def metric_documents(self) -> list[dict[str, Any]]:
        """The embedded-metric-format documents (one per API invocation)."""
        return [document for document in self.documents() if "_aws" in document]

    def log_lines(self) -> list[dict[str, Any]]:
        return [document for document in self.documents() if "_aws" not in document]
