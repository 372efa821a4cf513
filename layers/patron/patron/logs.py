"""Structured JSON logs to stdout (CloudWatch on AWS) through Powertools' Logger. Never pass personal data or
keys as fields.

A facade rather than Powertools' Logger at every call site: `log.info("message", field=value)` stays the one
shape (a constant message, facts as fields), a field that would clash with a LogRecord attribute (`name`,
`message`, ...) is renamed instead of raising mid-request, and the invocation's keys (request id, route,
application, cold start: `patron.observability`) reach every line whichever module logs it."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS

# Keys Powertools writes itself, or that a field must not shadow.
_RESERVED = frozenset(RESERVED_LOG_ATTRS) | {
    "level",
    "location",
    "message",
    "taskName",
    "timestamp",
    "service",
    "exception",
    "exception_name",
    "stack_trace",
    "xray_trace_id",
}


# Two threads logging their first line at once (the local runtime) must not each attach a handler.
_BUILDING = threading.Lock()


LineSink = Callable[[str], None]
# Where log lines and metric documents go: None is stdout (Lambda sends it to CloudWatch). The local runtime,
# which runs every function in one process, sends them to its own log store (`patron logs`, `patron health`).
_sink: LineSink | None = None


def send_lines_to(sink: LineSink | None) -> None:
    global _sink
    _sink = sink


def write_line(line: str) -> None:
    """One JSON document (a log line, an EMF document) to the process's output."""
    if _sink is not None:
        _sink(line)
        return
    sys.stdout.write(line + "\n")


class _LineHandler(logging.Handler):
    """Formats with Powertools' JSON formatter and writes through `write_line` (whatever stdout is at the time:
    Lambda's, or a test's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(self.format(record))
        except Exception:
            self.handleError(record)


@functools.cache
def powertools_logger() -> Logger:
    """The process's one Powertools Logger, built on first use. Service from POWERTOOLS_SERVICE_NAME; level from
    LOG_LEVEL (or Lambda's log-level control, which wins)."""
    with _BUILDING:
        return _build()


def _build() -> Logger:
    logger = Logger(
        service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "patron",
        logger_handler=_LineHandler(),
        # `"level": "ERROR"` as before (Powertools writes no spaces): the runbook's queries match it (operations.md).
        json_serializer=functools.partial(json.dumps, default=str, separators=(", ", ": "), ensure_ascii=False),
        utc=True,
        use_rfc3339=True,
    )
    # Lines go out through our handler only, whatever handlers the root logger has (Lambda's, a test runner's).
    logging.getLogger(logger.name).propagate = False
    return logger


def _fields(name: str, fields: dict[str, Any]) -> dict[str, Any]:
    extra = {f"{key}_" if key in _RESERVED else key: value for key, value in fields.items()}
    extra["logger"] = name
    return extra


class StructuredLogger:
    """`log.info("profile updated", created=True)`: the message is constant, the facts are fields."""

    def __init__(self, name: str):
        self.name = name

    # stacklevel 3: the line's `location` is the caller's, not this facade's or Powertools'.
    def debug(self, message: str, **fields: Any) -> None:
        powertools_logger().debug(message, extra=_fields(self.name, fields), stacklevel=3)

    def info(self, message: str, **fields: Any) -> None:
        powertools_logger().info(message, extra=_fields(self.name, fields), stacklevel=3)

    def warning(self, message: str, **fields: Any) -> None:
        powertools_logger().warning(message, extra=_fields(self.name, fields), stacklevel=3)

    def error(self, message: str, **fields: Any) -> None:
        powertools_logger().error(message, extra=_fields(self.name, fields), stacklevel=3)


def get_logger(name: str) -> StructuredLogger:
    """Cheap at import time: the Powertools Logger is built on the first line logged."""
    return StructuredLogger(name)
