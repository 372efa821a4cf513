"""The JSON form the management API exchanges: exact numbers both ways, and a received tree held to the same bounds
and checks as a parsed one."""

from __future__ import annotations

import ast
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from patron.promotions import rules
from patron.promotions.rules import MAX_DEPTH, MAX_NODES, RuleError, compile_condition, from_json, parse, to_json
from patron.promotions.rules.tree import Compare, Get, Number, without_spans


def test_a_tree_is_plain_json_with_exact_numbers() -> None:
    tree = parse("session.total >= 100.10", spans=False)
    assert json.loads(to_json(tree)) == {
        "op": "compare",
        "operator": ">=",
        "left": {"op": "get", "path": ["session", "total"]},
        "right": {"op": "number", "value": 100.10},
    }
    assert b'"value":100.10' in to_json(tree)  # the digits as written, never a float's
    assert from_json(to_json(tree)) == tree
    assert from_json('{"op":"number","value":"0.1"}') == Number(value=Decimal("0.1"))


def test_spans_travel_when_present() -> None:
    tree = parse("a == 1")
    decoded = from_json(to_json(tree))
    assert isinstance(decoded, Compare) and (decoded.start, decoded.end) == (0, 6)
    assert without_spans(decoded) == Compare(operator="==", left=Get(path=["a"]), right=Number(value=Decimal(1)))


def invalid(document: str | bytes) -> str:
    with pytest.raises(RuleError) as caught:
        from_json(document)
    return caught.value.issues[0].code


def test_malformed_trees_are_refused() -> None:
    assert invalid("{") == "invalid_tree"
    assert invalid('{"op":"regex","value":"a+"}') == "invalid_tree"
    assert invalid('{"op":"compare","operator":"~","left":{"op":"null"},"right":{"op":"null"}}') == "invalid_tree"
    assert invalid('{"op":"get","path":["session","total"],"extra":1}') == "invalid_tree"
    assert invalid('{"op":"get","path":[]}') == "invalid_tree"
    assert invalid('{"op":"get","path":["session","a b"]}') == "invalid_tree"
    assert invalid('{"op":"call","function":"f(x)","args":[]}') == "invalid_tree"
    assert invalid('{"op":"string","value":"\\ud800"}') == "invalid_tree"


def test_numbers_are_finite_and_bounded() -> None:
    assert invalid('{"op":"number","value":"NaN"}') == "invalid_number"
    assert invalid('{"op":"number","value":1e999999}') == "invalid_number"
    assert invalid('{"op":"number","value":"1' + "0" * 60 + '"}') == "invalid_number"


def nested_nots(depth: int) -> str:
    return '{"op":"not","arg":' * depth + '{"op":"boolean","value":true}' + "}" * depth


def test_received_trees_are_held_to_the_bounds() -> None:
    assert from_json(nested_nots(MAX_DEPTH - 1)) is not None
    assert invalid(nested_nots(MAX_DEPTH + 1)) == "too_deep"
    assert invalid(nested_nots(100_000)) in ("invalid_tree", "too_long")  # never a RecursionError
    wide = '{"op":"and","args":[' + ",".join(['{"op":"boolean","value":true}'] * MAX_NODES) + "]}"
    assert invalid(wide) == "too_many_nodes"


def test_a_received_tree_is_type_checked_like_a_parsed_one() -> None:
    tree = from_json(
        '{"op":"compare","operator":">","left":{"op":"get","path":["session","total"]},"right":{"op":"string","value":"5"}}'
    )
    with pytest.raises(RuleError) as caught:
        compile_condition(tree)
    assert [issue.code for issue in caught.value.issues] == ["type_mismatch"]
    bad_aggregate = from_json('{"op":"aggregate","function":"sum","over":"items"}')
    with pytest.raises(RuleError) as caught:
        compile_condition(bad_aggregate)
    assert "invalid_arguments" in [issue.code for issue in caught.value.issues]


def _parsed(text: str) -> ast.Module:
    """ast.parse in a fresh thread: on CPython 3.11.7, after a RecursionError earlier in a thread (the depth tests
    provoke some), ast.parse there may raise `SystemError: AST constructor recursion depth mismatch` (a CPython
    bug, gh-106905); a new thread starts with fresh recursion counters."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(ast.parse, text).result()


def test_the_package_runs_no_generated_code() -> None:
    """Closures only: no eval, exec or compile() anywhere in the condition language."""
    package = Path(rules.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(_parsed(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile", "__import__"}, source.name
