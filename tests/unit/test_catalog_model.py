"""Attribute type inference: what the catalog calls a boolean, a number, a string, a date, an object, an array."""

from __future__ import annotations

from decimal import Decimal

import pytest

from patron.catalog.keys import MAX_NAME_BYTES, attribute_name, attribute_sk, catalog_pk
from patron.catalog.model import AttributeType, EntityKind, accepts, entity_kind, infer_type, is_iso_date
from patron.errors import ValidationError

T = AttributeType


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, T.BOOLEAN),
        (False, T.BOOLEAN),
        (0, T.NUMBER),
        (12, T.NUMBER),
        (Decimal("85.85"), T.NUMBER),
        (1.5, T.NUMBER),
        ("", T.STRING),
        ("gold", T.STRING),
        ("42", T.STRING),
        ("true", T.STRING),
        ("2020-01-01", T.DATE),
        ("2020-01-01T13:06:39Z", T.DATE),
        ("2020-01-01T13:06:39.123Z", T.DATE),
        ("2020-01-01T13:06:39.123456789+02:00", T.DATE),
        ("2020-01-01T13:06:39+0100", T.DATE),
        ("2020-01-01T13:06:39-05", T.DATE),
        ("2020-01-01T13:06", T.DATE),
        ("2020-01-01T13:06:39", T.DATE),
        ("2024-02-29", T.DATE),
        ({}, T.OBJECT),
        ({"province": "MI", "at": "2020-01-01"}, T.OBJECT),
        ({"nested": {"deeper": [1, "x"]}}, T.OBJECT),
        ([], T.ARRAY),
        ([1, 2], T.ARRAY),
        (["2020-01-01"], T.ARRAY),
        ([{"a": 1}, "mixed", None], T.ARRAY),
    ],
)
def test_values_are_typed(value, expected):
    assert infer_type(value) == expected


def test_null_has_no_type():
    assert infer_type(None) is None


def test_booleans_are_not_numbers():
    # bool is an int subclass in Python; JSON keeps them apart and so does the catalog.
    assert infer_type(True) == T.BOOLEAN and infer_type(1) == T.NUMBER


@pytest.mark.parametrize(
    "text",
    [
        "2020-02-30",  # no such day
        "2023-02-29",  # not a leap year
        "2020-13-01",
        "0000-01-01",  # no year zero
        "20200101",  # basic format
        "2020-W01",  # week date
        "2020-001",  # ordinal date
        "2020-01",
        "2020-01-01 13:06:39",  # a space is not ISO-8601's separator
        "2020-01-01T24:00:00Z",
        "2020-01-01T23:59:60Z",  # leap second
        "2020-01-01T13:6:39Z",
        "2020-01-01T13:06:39.Z",
        "2020-01-01T13:06:39.1234567890Z",  # beyond nanoseconds
        "2020-01-01T13:06:39+25:00",
        "2020-01-01T13:06:39z",
        " 2020-01-01",
        "2020-01-01\n",
        "\u0662\u0660\u0662\u0660-\u0660\u0661-\u0660\u0661",  # Arabic-Indic digits
        "on 2020-01-01",
    ],
)
def test_strings_that_only_look_like_dates_are_strings(text):
    assert not is_iso_date(text)
    assert infer_type(text) == T.STRING


def test_a_string_attribute_takes_dates_but_a_date_attribute_takes_only_dates():
    assert accepts(T.STRING, T.DATE)
    assert not accepts(T.DATE, T.STRING)
    assert accepts(T.DATE, T.DATE) and accepts(T.NUMBER, T.NUMBER)
    for other in (T.BOOLEAN, T.STRING, T.OBJECT, T.ARRAY):
        assert not accepts(T.NUMBER, other)
    assert not accepts(T.OBJECT, T.ARRAY) and not accepts(T.ARRAY, T.OBJECT)


def test_unsupported_python_values_are_a_programming_error():
    with pytest.raises(TypeError):
        infer_type(b"bytes")


def test_entity_kinds_are_exact_and_unknown_ones_are_a_400_on_the_entity_field():
    assert entity_kind("order") is EntityKind.ORDER
    for raw in ("customers", "Customer", "", "consent"):
        with pytest.raises(ValidationError) as raised:
            entity_kind(raw)
        assert raised.value.status == 400
        assert [(issue.path, issue.code) for issue in raised.value.details] == [("entity", "invalid_value")]


def test_keys_hold_every_name_a_sort_key_can():
    assert catalog_pk(7, EntityKind.CUSTOMER) == "APP#7#CATALOG#customer"
    assert attribute_sk("a#b") == "A#a#b" and attribute_name(attribute_sk("a#b")) == "a#b"
    # A 255-character name of 4-byte characters (the longest a profile takes) fits a 1024-byte sort key.
    longest = "\U0001f600" * 255
    assert len(attribute_sk(longest).encode()) <= 1024 and len(longest.encode()) <= MAX_NAME_BYTES
