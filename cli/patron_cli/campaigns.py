"""`patron campaigns validate DIR`: a folder of campaign files (YAML or JSON) read, merged and compiled as the
engine will, every fault reported with its file, campaign, rule, path and column (docs/campaigns.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from patron.promotions.definitions import Ruleset
from patron.promotions.loading import DefinitionError, DefinitionIssue, merge_located
from patron.promotions.ruleset import CompiledRuleset, compile_ruleset

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Checked:
    ruleset: Ruleset | None
    compiled: CompiledRuleset | None
    issues: list[DefinitionIssue]


def read_folder(folder: Path) -> tuple[list[tuple[str, Any]], list[DefinitionIssue]]:
    documents: list[tuple[str, Any]] = []
    issues: list[DefinitionIssue] = []
    paths = sorted(path for path in folder.iterdir() if path.suffix.lower() in SUFFIXES and path.is_file())
    if not paths:
        issues.append(DefinitionIssue(str(folder), "$", "no_files", "No .yaml, .yml or .json file in the folder."))
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
            message = f"Not readable as {path.suffix[1:].upper()}: {type(error).__name__}."
            if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
                mark = error.problem_mark
                message = f"Not readable as YAML at line {mark.line + 1}, column {mark.column + 1}: {error.problem}."
            issues.append(DefinitionIssue(path.name, "$", "unreadable_file", message))
            continue
        documents.append((path.name, data if data is not None else {}))
    return documents, issues


def check_folder(folder: Path, version: int = 0) -> Checked:
    documents, issues = read_folder(folder)
    if issues:
        return Checked(None, None, issues)
    try:
        ruleset, origins = merge_located(documents)
    except DefinitionError as error:
        return Checked(None, None, error.issues)
    try:
        return Checked(ruleset, compile_ruleset(ruleset, version, origins=origins), [])
    except DefinitionError as error:
        return Checked(ruleset, None, error.issues)


def issue_view(issue: DefinitionIssue) -> dict[str, Any]:
    view: dict[str, Any] = {"file": issue.file, "path": issue.path, "code": issue.code, "message": issue.message}
    if issue.campaign:
        view["campaign"] = issue.campaign
    if issue.column:
        view["column"] = issue.column
    return view
