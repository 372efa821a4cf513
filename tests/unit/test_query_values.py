"""One parser per kind of query value: odd input is a 400 naming `query.<name>`, never a crash or a guess."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.dynamo import cursor as cursor_codec
from patron.errors import ValidationError
from patron.http import query

ODD_NUMBERS = [
    "²",
    "\u0663",
    "\uff11\uff12",
    "+5",
    "-5",
    " 5",
    "5 ",
    "5_0",
    "0x10",
    "1e2",
    "5.0",
    "",
    "9" * 19,
    "9" * 5000,
    "\ud800",
]


def refused(parse, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse()
    assert [issue.path for issue in caught.value.details] == [f"query.{name}"]
    assert caught.value.status == 400


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_integers_are_ascii_digits_only(raw):
    refused(lambda: query.integer({"limit": raw}, "limit", 20, 1, 100), "limit")


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("100", 100), ("007", 7)])
def test_integers_in_range_are_read(raw, value):
    assert query.integer({"limit": raw}, "limit", 20, 1, 100) == value


def test_an_absent_integer_is_the_default_and_bounds_hold():
    assert query.integer({}, "limit", 20, 1, 100) == 20
    refused(lambda: query.integer({"limit": "0"}, "limit", 20, 1, 100), "limit")
    refused(lambda: query.integer({"limit": "101"}, "limit", 20, 1, 100), "limit")


@given(st.text(max_size=30))
def test_any_text_is_an_integer_in_range_or_a_400(raw):
    try:
        value = query.integer({"n": raw}, "n", 1, 1, 10**18)
    except ValidationError as error:
        assert error.details[0].path == "query.n"
    else:
        assert raw.isascii() and raw.isdigit() and str(value) == raw.lstrip("0")


@pytest.mark.parametrize(
    ("raw", "value"), [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)]
)
def test_booleans(raw, value):
    assert query.boolean({"dry": raw}, "dry") is value
    assert query.boolean({}, "dry") is None


@pytest.mark.parametrize("raw", ["yes", "", " true", "tRue\u0130", "\u0661", "\ud800", "t" * 5000])
def test_odd_booleans_are_refused(raw):
    refused(lambda: query.boolean({"dry": raw}, "dry"), "dry")


def test_choices_are_exact():
    assert query.choice({"silent": "no"}, "silent", ("yes", "no"), "yes") == "no"
    assert query.choice({}, "silent", ("yes", "no"), "yes") == "yes"
    for raw in ("NO", " no", "n\u00f6", ""):
        refused(lambda raw=raw: query.choice({"silent": raw}, "silent", ("yes", "no"), "yes"), "silent")


def test_cursors_are_url_safe_base64_of_bounded_length():
    assert query.cursor({"cursor": "eyJzayI6ICJhIn0"}) == "eyJzayI6ICJhIn0"
    assert query.cursor({}) is None and query.cursor({"cursor": ""}) is None
    for raw in ("a b", "a+b", "é", "\ud800", "a" * 2049, "a=="):
        refused(lambda raw=raw: query.cursor({"cursor": raw}), "cursor")


@pytest.mark.parametrize("sort_key", ["ORDER#\ud800", "ORDER#" + "x" * 1100])
def test_a_cursor_naming_no_storable_key_is_refused(sort_key):
    with pytest.raises(ValidationError) as caught:
        cursor_codec.decode(cursor_codec.encode(sort_key), "ORDER#")
    assert caught.value.details[0].path == "query.cursor"
    assert cursor_codec.decode(cursor_codec.encode("ORDER#1"), "ORDER#") == "ORDER#1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-12-31", datetime(2026, 12, 31, tzinfo=UTC)),
        ("2026-12-31T10:00:00Z", datetime(2026, 12, 31, 10, tzinfo=UTC)),
        ("2026-12-31t10:00z", datetime(2026, 12, 31, 10, tzinfo=UTC)),
        ("2026-12-31T10:00:00.123456789+01:00", datetime(2026, 12, 31, 9, 0, 0, 123456, tzinfo=UTC)),
        ("2026-12-31T10:00:00.123456+0000", datetime(2026, 12, 31, 10, 0, 0, 123456, tzinfo=UTC)),  # the SDK's
    ],
)
def test_an_instant_is_an_rfc_3339_date_time_or_a_date(raw: str, expected: datetime) -> None:
    assert query.instant({"endDate": raw}, "endDate") == expected


@pytest.mark.parametrize(
    "raw", ["yesterday", "2026-02-30", "2026-12-31T10:00:00", "2026-12-31T25:00:00Z", "\u0662\u0660\u0662\u0666-12-31"]
)
def test_what_is_not_an_instant_is_refused_naming_the_parameter(raw: str) -> None:
    with pytest.raises(ValidationError) as refused:
        query.instant({"endDate": raw}, "endDate")
    assert refused.value.details[0].path == "query.endDate"
