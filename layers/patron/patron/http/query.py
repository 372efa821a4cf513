"""One parser for each kind of query value, used by every route: a bad value is a 400 naming `query.<name>`.

Query strings arrive decoded and untrusted: `str.isdigit()` accepts `²` and `٣` (which `int()` then refuses or
reads), `int()` accepts signs, spaces and underscores, and a value may be megabytes long. Each parser takes only
the plain ASCII form it documents.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from patron.errors import FieldIssue, ValidationError

_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only (re's [0-9] is not \d); 18 digits fit any int64
# Cursors are URL-safe base64 (patron.dynamo.cursor): anything else is not one Patron gave.
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,2048}")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _invalid(name: str, expected: str) -> ValidationError:
    return ValidationError("A query parameter is invalid.", [FieldIssue(f"query.{name}", "invalid_value", expected)])


def integer(query: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    """A whole number written in ASCII digits within [minimum, maximum]; `default` when absent."""
    raw = query.get(name)
    if raw is None:
        return default
    if _DIGITS.fullmatch(raw) is None or not minimum <= int(raw) <= maximum:
        raise _invalid(name, f"A whole number from {minimum} to {maximum}.")
    return int(raw)


def boolean(query: Mapping[str, str], name: str) -> bool | None:
    """true/false (any letter case) or 1/0; None when absent."""
    raw = query.get(name)
    if raw is None:
        return None
    lowered = raw.lower() if raw.isascii() else ""
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _invalid(name, "Expected true or false.")


def choice(query: Mapping[str, str], name: str, allowed: Collection[str], default: str) -> str:
    """One of `allowed`, exactly as written; `default` when absent."""
    raw = query.get(name)
    if raw is None:
        return default
    if raw not in allowed:
        raise _invalid(name, f"One of {', '.join(sorted(allowed))}.")
    return raw


def cursor(query: Mapping[str, str], name: str = "cursor") -> str | None:
    """A page cursor's shape (what it names is checked where it is decoded); None when absent or empty."""
    raw = query.get(name)
    if not raw:
        return None
    if _CURSOR.fullmatch(raw) is None:
        raise _invalid(name, "Not a cursor we gave.")
    return raw


_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:?[0-9]{2}))?"
)


def instant(query: Mapping[str, str], name: str) -> datetime | None:
    """An RFC 3339 date-time with an offset, or a date (its midnight in UTC, as Talon.One reads one); None when
    absent. An offset without its colon (`+0000`) is taken too: the official talon-one-sdk sends dates so."""
    raw = query.get(name)
    if raw is None:
        return None
    if _INSTANT.fullmatch(raw) is None:
        raise _invalid(name, "An RFC 3339 date-time with an offset (2026-12-31T23:59:59Z) or a date (2026-12-31).")
    try:
        # Python reads at most microseconds: further digits of a fraction are dropped (never rounded up).
        moment = datetime.fromisoformat(re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", raw.upper()))
    except ValueError:
        raise _invalid(name, "A real date and time (2026-12-31T23:59:59Z) or date (2026-12-31).") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
