"""docs/rules.md's examples compile: the documentation cannot drift from the language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from patron.promotions.rules import Compiler

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "rules.md"
SCHEMA = {"profile": {"vip": "boolean", "tier": "string"}, "event": {"rating": "number"}}


def _section(title: str) -> str:
    text = DOCUMENT.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _conditions() -> list[str]:
    rows = [line for line in _section("Examples").splitlines() if line.startswith("| ") and "`" in line]
    return [expression for row in rows for expression in re.findall(r"`([^`]+)`", row.split("|")[2])]


def _values() -> list[str]:
    paragraph = _section("Examples").split("Value expressions for effects:")[1]
    return re.findall(r"`([^`]+)`", paragraph)


def test_the_examples_are_found() -> None:
    assert len(_conditions()) >= 10
    assert len(_values()) >= 3


@pytest.mark.parametrize("condition", _conditions())
def test_each_documented_condition_compiles(condition: str) -> None:
    Compiler(SCHEMA).condition(condition)


@pytest.mark.parametrize("expression", _values())
def test_each_documented_value_expression_compiles(expression: str) -> None:
    compiler = Compiler(SCHEMA)
    if "item." in expression:
        compiler.item_value(expression, "number")
    else:
        compiler.value(expression, "number")
