"""Problems found in a condition: each with a stable code, a message and the offsets it covers in the source; a
`RuleLocation` from the caller adds the file, campaign, rule and path so a reviewer finds it.

A `RuleError` carries every problem found (the type checker reports them all; the parser stops at the first),
and is a `ValidationError`, so an API route answers it as a 400 naming each problem.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from patron.errors import FieldIssue, ValidationError

# Bounds: a rule is read by a person, and parsing, checking and compiling it must stay cheap and shallow.
MAX_SOURCE_LENGTH = 4096
MAX_NODES = 512
MAX_DEPTH = 32


class RuleIssue(msgspec.Struct, frozen=True):
    code: str
    message: str
    start: int | None = None  # offsets in the source, end exclusive; None when the tree came without spans
    end: int | None = None


class RuleLocation(msgspec.Struct, frozen=True):
    """Where the expression lives: `file` "" for an API body, `path` like `rules[0].condition`."""

    file: str = ""
    campaign: str = ""
    rule_index: int | None = None
    rule_title: str = ""
    path: str = ""

    def describe(self) -> str:
        parts = [self.file] if self.file else []
        if self.campaign:
            parts.append(f"campaign {self.campaign!r}")
        if self.rule_index is not None or self.rule_title:
            index = f" {self.rule_index}" if self.rule_index is not None else ""
            title = f" {self.rule_title!r}" if self.rule_title else ""
            parts.append(f"rule{index}{title}")
        if self.path:
            parts.append(self.path)
        return ", ".join(parts)


def line_and_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset (a YAML block may hold a condition over several lines)."""
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


def _columns(start: int, end: int | None, source: str | None) -> str:
    """`column 5`, `columns 5-9` (inclusive, from 1), with the line when the source has several."""
    line, column = line_and_column(source, start) if source is not None else (1, start + 1)
    last = column + (end - start) - 1 if end is not None else column
    span = f"columns {column}-{last}" if last > column else f"column {column}"
    return f"line {line}, {span}" if source is not None and "\n" in source else span


def describe_issue(issue: RuleIssue, source: str | None = None, location: RuleLocation | None = None) -> str:
    where = location.describe() if location else ""
    if issue.start is not None:
        at = _columns(issue.start, issue.end, source)
        where = f"{where}, {at}" if where else at
    return f"{where}: [{issue.code}] {issue.message}" if where else f"[{issue.code}] {issue.message}"


class RuleError(ValidationError):
    def __init__(self, issues: Sequence[RuleIssue], source: str | None = None, location: RuleLocation | None = None):
        self.issues = list(issues)
        self.source = source
        self.location = location
        path = location.path if location and location.path else "$"
        details = [FieldIssue(path, issue.code, describe_issue(issue, source)) for issue in self.issues]
        super().__init__(
            "; ".join(describe_issue(issue, source, location) for issue in self.issues[:5]),
            details,
            code="invalid_rule",
        )

    def at(self, location: RuleLocation, source: str | None = None) -> RuleError:
        """The same problems, located by the caller (who knows the file, campaign and rule)."""
        return RuleError(self.issues, source if source is not None else self.source, location)

    def describe(self) -> list[str]:
        return [describe_issue(issue, self.source, self.location) for issue in self.issues]
