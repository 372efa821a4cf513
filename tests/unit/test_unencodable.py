"""Text that cannot be stored (a lone surrogate) is found wherever it stands in a body, and only there."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from patron.http import jsonbody
from patron.http.text import unreadable_text

LONE = "\ud800"
clean_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | clean_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(clean_text, inner, max_size=4),
    max_leaves=20,
)


def spots(value: Any, path: str = "") -> list[str]:
    """Every string position: its own path, and for each key the path the key would name."""
    if isinstance(value, str):
        return [path or "$"]
    if isinstance(value, dict):
        return [
            p
            for key, child in value.items()
            for p in [f"{path}.{key}" if path else key, *spots(child, f"{path}.{key}" if path else key)]
        ]
    if isinstance(value, list):
        return [p for index, child in enumerate(value) for p in spots(child, f"{path}[{index}]")]
    return []


def spoil(value: Any, target: str, path: str = "") -> Any:
    """`value` with a lone surrogate appended at `target` (a string, or a key when target names one)."""
    if isinstance(value, str):
        return value + LONE if (path or "$") == target else value
    if isinstance(value, dict):
        result = {}
        for key, child in value.items():
            at = f"{path}.{key}" if path else key
            result[key + LONE if at == target else key] = spoil(child, target, at)
        return result
    if isinstance(value, list):
        return [spoil(child, target, f"{path}[{index}]") for index, child in enumerate(value)]
    return value


@given(documents)
def test_clean_documents_hold_no_unencodable_text(document):
    text = json.dumps(document)
    assert jsonbody.unencodable_paths(jsonbody.loads(text)) == []


@given(documents, st.data())
def test_a_lone_surrogate_is_found_at_its_path(document, data):
    places = spots(document)
    if not places:
        return
    target = data.draw(st.sampled_from(places))
    text = json.dumps(spoil(document, target))
    assert jsonbody.may_be_unencodable(text.encode())
    found = jsonbody.unencodable_paths(jsonbody.loads(text))
    # A key spoiled is named with the surrogate; paths that coincide (a key holding a dot) may name both.
    assert target in found or f"{target}{LONE}" in found


def test_pairs_are_text_and_lone_halves_are_not():
    assert jsonbody.unencodable_paths(jsonbody.loads('{"a": "\\ud83d\\ude00"}')) == []
    assert jsonbody.unencodable_paths(jsonbody.loads('{"a": ["x", "\\ude00\\ud83d"]}')) == ["a[1]"]
    # An escaped backslash before "ud800" is plain text: the scan may flag it, the walk finds nothing.
    assert jsonbody.unencodable_paths(jsonbody.loads(b'{"a": "\\\\ud800"}')) == []
    assert not jsonbody.may_be_unencodable(b'{"a": "\\u00e9 plain \\u0041"}')  # no surrogate escape: no walk


def test_the_number_of_paths_is_bounded():
    body = json.dumps({"a": [LONE] * 500})
    assert len(jsonbody.unencodable_paths(jsonbody.loads(body))) == jsonbody.MAX_TEXT_ISSUES


def test_path_ids_that_are_not_utf8_are_refused_even_behind_a_base_path():
    def issues(path: str) -> list[tuple[str, str]]:
        found = unreadable_text(
            path=path,
            resource="/v2/customer_profiles/{integrationId}",
            path_params={"integrationId": "\ufffd"},
            query={},
            headers={},
            body=b"",
        )
        return [(issue.path, issue.code) for issue in found]

    assert issues("/v2/customer_profiles/%FE%FE") == [("integrationId", "invalid_encoding")]
    assert issues("/shop/v2/customer_profiles/%ED%A0%80") == [("integrationId", "invalid_encoding")]
    assert issues("/v2/customer_profiles/%EF%BF%BD") == []  # U+FFFD itself, written in UTF-8, is an id like any


def test_paths_come_in_document_order_keys_included():
    body = '{"a": {"x": "\\ud800"}, "\\udfff": 1, "b": ["\\udc00"]}'
    assert jsonbody.unencodable_paths(jsonbody.loads(body)) == ["a.x", "\udfff", "b[0]"]
