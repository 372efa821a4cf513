"""Import records holding text that is not Unicode (a lone UTF-16 surrogate: escaped in JSON, or bytes that are not
UTF-8 in any format) are refused one by one at the split, `invalid_text` with the path of that text, and the rest
of the file is read: nothing downstream (S3, DynamoDB, a response) could hold such text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.errors import MalformedJsonError
from patron.http import jsonbody
from patron.imports.formats import CustomerRecord, RecordProblem, chunked, split_elements, split_members
from patron.imports.service import _chunk_body
from tests.unit.test_import_formats import customers, problems, read

ORDER = '{"id": "o", "createdAt": "2020-01-01T00:00:00Z", "amount": 1, "status": "10"}'

# One bad record at index 1 between two good ones, written as Rfmcube's payload; its path names the text.
BAD_RECORDS = [
    ('{"id": "bad", "firstName": "\\ud800"}', "customers[1].firstName"),
    ('{"id": "bad", "orders": [' + ORDER.replace('"10"', '"\\ud800"') + "]}", "customers[1].orders[0].status"),
    (
        '{"id": "bad", "orders": [{"id": "o", "items": [{"sku": "a"}, {"brand": "x\\udfffy"}]}]}',
        "customers[1].orders[0].items[1].brand",
    ),
    ('{"id": "bad", "\\udc00name": 1}', "customers[1].\\udc00name"),  # a key: written escaped
    ('{"id": "bad", "tags": ["a", "\\uD83D"]}', "customers[1].tags[1]"),  # a high half without its low half
    ('{"id": "bad", "note": "\\ude00\\ud83d"}', "customers[1].note"),  # both halves, in the wrong order
]


@pytest.mark.parametrize(("record", "path"), BAD_RECORDS)
@pytest.mark.parametrize("block_size", [3, 1 << 20])
def test_json_record_with_a_lone_surrogate_is_refused_alone(record, path, block_size):
    document = '{"customers": [{"id": "1"}, ' + record + ', {"id": "2"}], "triggerIntegrations": true}'
    records = read(document, "json", block_size)
    assert customers(records) == [{"id": "1"}, {"id": "2"}]
    assert problems(records) == [(1, "invalid_text", path, False)]
    assert records[1] == RecordProblem(1, "invalid_text", path, offset=document.encode().index(record.encode()))


@pytest.mark.parametrize(("record", "path"), BAD_RECORDS)
def test_json_lines_record_with_a_lone_surrogate_is_refused_alone(record, path):
    records = read('{"id": "1"}\n' + record + '\n{"id": "2"}\n', "jsonl", 5)
    assert customers(records) == [{"id": "1"}, {"id": "2"}]
    assert problems(records) == [(1, "invalid_text", path, False)]
    assert records[1].line == 2


def test_text_that_only_looks_like_a_surrogate_escape_is_read():
    # A pair is one character (an emoji); an escaped backslash before `ud800` is text, not an escape.
    document = '{"customers": [{"id": "1", "name": "\\ud83d\\ude00 x"}, {"id": "2", "note": "\\\\ud800"}]}'
    assert customers(read(document, "json")) == [{"id": "1", "name": "😀 x"}, {"id": "2", "note": "\\ud800"}]


def test_json_record_whose_strings_are_not_utf8_is_refused_alone():
    document = b'{"customers": [{"id": "1"}, {"id": "bad", "orders": [{"brand": "ni\xffke"}]}, {"id": "2"}]}'
    for block_size in (4, 1 << 20):
        records = read(document, "json", block_size)
        assert customers(records) == [{"id": "1"}, {"id": "2"}]
        assert problems(records) == [(1, "invalid_text", "customers[1].orders[0].brand", False)]


def test_json_bytes_that_are_not_utf8_outside_strings_still_break_the_file():
    records = read(b'{"customers": [{"id": "1"}, {"id": "2", \xff: 1}, {"id": "3"}]}', "json")
    assert customers(records) == [{"id": "1"}]
    assert problems(records) == [(1, "malformed_json", "customers[1]", True)]


def test_json_lines_line_whose_strings_are_not_utf8_is_refused_alone():
    records = read(b'{"id": "1"}\n{"id": "b\xc3"}\n{"id": \xff}\n{"id": "2"}\n', "jsonl")
    assert customers(records) == [{"id": "1"}, {"id": "2"}]
    assert problems(records) == [
        (1, "invalid_text", "customers[1].id", False),
        (2, "malformed_json", "customers[2]", False),
    ]


def test_a_top_level_key_that_is_not_text_ends_the_read_with_its_path_escaped():
    records = read('{"customers": [{"id": "1"}], "\\ud800": true}', "json")
    assert problems(records) == [(1, "unknown_field", "\\ud800", True)]


# -- CSV: a cell of bytes that are not UTF-8, or a JSON cell holding a lone surrogate escape -------------------

CSV_HEADER = b"customer.id,customer.name,order.id,order.amount,item.brand,item.tags:json\n"


@pytest.mark.parametrize(
    ("row", "path"),
    [
        (b"bad,An\xffna,o-1,1,nike,", "customers[1].name"),
        (b"bad,Anna,o-\xfe,1,nike,", "customers[1].orders[0].id"),
        (b"bad,Anna,o-1,1,ni\xc3ke,", "customers[1].orders[0].items[0].brand"),
        (b'bad,Anna,o-1,1,nike,"[""a"", ""\\udc80""]"', "customers[1].orders[0].items[0].tags[1]"),
    ],
)
@pytest.mark.parametrize("block_size", [7, 1 << 20])
def test_csv_customer_with_a_cell_that_is_not_text_is_refused_alone(row, path, block_size):
    data = CSV_HEADER + b"1,Bo,o-0,2,adidas,\n" + row + b"\n2,Cy,,,,\n"
    records = read(data, "csv", block_size)
    assert customers(records) == [
        {"id": "1", "name": "Bo", "orders": [{"id": "o-0", "amount": 2, "items": [{"brand": "adidas"}]}]},
        {"id": "2", "name": "Cy"},
    ]
    assert problems(records) == [(1, "invalid_text", path, False)]
    assert [r.line for r in records] == [2, 3, 4]


def test_csv_bytes_that_are_not_utf8_in_a_later_row_of_a_customer_refuse_that_customer():
    data = b"customer.id,order.id,order.status\n1,o-1,10\n1,o-2,2\xff0\n2,o-3,10\n"
    records = read(data, "csv", 5)
    assert customers(records) == [{"id": "2", "orders": [{"id": "o-3", "status": "10"}]}]
    assert problems(records) == [(0, "invalid_text", "customers[0].orders[1].status", False)]


def test_csv_header_that_is_not_utf8_ends_the_read():
    records = read(b"customer.id,customer.n\xffame\n1,a\n", "csv")
    assert problems(records) == [(0, "invalid_header", "header[1]", True)]


# -- the chunk the split writes ----------------------------------------------------------------------------


def test_a_chunk_holds_the_problem_and_the_other_customers():
    document = b'{"customers": [{"id": "ok1"}, {"id": "bad1", "\\ud800": 1}, {"id": "ok2"}]}'
    [chunk] = list(chunked(read(document, "json")))
    body = jsonbody.loads(_chunk_body(chunk))
    assert body["indices"] == [0, 2] and body["customers"] == [{"id": "ok1"}, {"id": "ok2"}]
    assert body["problems"] == [{"index": 1, "path": "customers[1].\\ud800", "reason": "invalid_text"}]


def test_split_members_and_elements_delimit_values_without_decoding_them():
    data = b'{"a": [1, {"b": "]"}], "bad": [NaN, "x\xff", {"c": [[[[[[[[[[1]]]]]]]]]]}], "n": 1 }'
    members = split_members(data)
    assert members == {"a": b'[1, {"b": "]"}]', "bad": b'[NaN, "x\xff", {"c": [[[[[[[[[[1]]]]]]]]]]}]', "n": b"1"}
    assert split_elements(members["bad"]) == [b"NaN", b'"x\xff"', b'{"c": [[[[[[[[[[1]]]]]]]]]]}']
    assert split_elements(b" [ ] ") == [] and split_members(b"{}") == {}


@pytest.mark.parametrize("data", [b"", b"{", b'{"a" 1}', b'{"a": 1,}', b'{"a": 1} x', b'{"a": [1, 2}'])
def test_split_members_refuses_a_broken_object(data):
    with pytest.raises(MalformedJsonError):
        split_members(data)


# -- the property: a record is refused exactly when it holds such text, at a path that holds it -------------

_PLAIN = st.text(st.characters(exclude_categories=["Cc", "Cs"]) | st.sampled_from('"\\/😀'), max_size=5)
_LONE = st.builds(lambda a, lone, b: a + lone + b, _PLAIN, st.characters(categories=["Cs"]), _PLAIN)
_TEXT = st.integers(0, 7).flatmap(lambda n: _LONE if n == 7 else _PLAIN)  # a lone surrogate in one text of eight
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _holds_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return jsonbody.is_unencodable(value)
    if isinstance(value, list):
        return any(map(_holds_surrogate, value))
    if isinstance(value, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in value.items())
    return False


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_TEXT, _VALUES, max_size=4))
def test_a_record_is_refused_exactly_when_it_holds_text_that_is_not_unicode(customer):
    line = json.dumps(customer).encode()  # ensure_ascii: every lone surrogate written as an escape
    [record] = read(b'{"id": "0"}\n' + line + b"\n", "jsonl")[1:]
    if _holds_surrogate(customer):
        assert isinstance(record, RecordProblem) and record.reason == "invalid_text"
        assert record.path.startswith("customers[1]")
    else:
        assert isinstance(record, CustomerRecord) and record.customer == jsonbody.loads(line)
