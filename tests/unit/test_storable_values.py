"""The storable-value check's fast path answers as the full check does, for every JSON value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from patron.profiles.model import _value_issues, value_issues

_numbers = st.one_of(
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(lambda digits, exponent: Decimal(f"{digits}E{exponent}"), st.integers(1, 10**40), st.integers(-140, 140)),
)
# Text with lone surrogates (a JSON escape can carry one) and keys that are empty.
_text = st.text(st.one_of(st.characters(), st.sampled_from(["\ud800", "\udfff", "é"])), max_size=6)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=30,
)


@settings(max_examples=400)
@given(_values)
def test_the_fast_path_agrees_with_the_full_check(value: Any) -> None:
    assert value_issues(value, "v") == _value_issues(value, "v")


def test_deep_and_bad_values_still_name_their_paths() -> None:
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    assert [issue.code for issue in value_issues({"a": deep}, "v")] == ["too_deep"]
    issues = value_issues({"ok": [1, "\ud800"], "n": Decimal("1E+200")}, "v")
    assert [(issue.path, issue.code) for issue in issues] == [
        ("v.ok[1]", "invalid_value"),
        ("v.n", "number_out_of_range"),
    ]
