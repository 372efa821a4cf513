"""Bodies keep every digit of their numbers both ways, and a client's text is never taken for a number."""

from decimal import Decimal

import pytest

from patron.errors import MalformedJsonError
from patron.http import jsonbody


def test_numbers_keep_every_digit_both_ways() -> None:
    body = '{"amount":12345678901234567890.123456789,"count":3,"small":0.000001,"list":[1.10,2]}'
    value = jsonbody.loads(body)
    assert value["amount"] == Decimal("12345678901234567890.123456789")
    assert jsonbody.loads(jsonbody.dumps(value)) == value
    assert jsonbody.dumps({"price": Decimal("19.90"), "n": Decimal("5")}) == '{"price":19.9,"n":5}'


def test_a_string_shaped_like_a_placeholder_stays_a_string() -> None:
    # dumps writes each Decimal as "<16 hex digits>:<position>" before putting the digits back: a client's
    # string of that shape (another token) must come out as the string it was.
    tricky = "0123456789abcdef:0"
    text = jsonbody.dumps({"note": tricky, "amount": Decimal("1.5"), "items": [tricky, Decimal("2")]})
    assert jsonbody.loads(text) == {"note": tricky, "amount": Decimal("1.5"), "items": [tricky, 2]}


def test_sets_are_written_sorted_and_other_types_are_refused() -> None:
    assert jsonbody.dumps({"tags": {"b", "a"}}) == '{"tags":["a","b"]}'
    with pytest.raises(TypeError):
        jsonbody.dumps({"when": object()})


@pytest.mark.parametrize("body", ["{", '{"a": NaN}', '{"a": Infinity}', b"\xff"])
def test_malformed_or_non_finite_bodies_are_refused(body: str | bytes) -> None:
    with pytest.raises(MalformedJsonError):
        jsonbody.loads(body)


def test_encoded_size_is_the_compact_utf8_json_size() -> None:
    value = {"name": "Zoë ✓", "amount": Decimal("12.5"), "n": 3, "items": [{"ok": True, "none": None}], "big": 10**50}
    assert jsonbody.encoded_size(value) == len(jsonbody.dumps(value).encode("utf-8"))
    # A Decimal counts the digits it carries (limits are checked against the body as sent).
    assert jsonbody.encoded_size([Decimal("19.90")]) == len("[19.90]")
