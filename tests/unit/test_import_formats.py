"""Import files read as a stream: JSON (Rfmcube's payload), JSON Lines and CSV, and their chunks."""

from __future__ import annotations

import concurrent.futures
import io
import json
import multiprocessing
import re
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from patron.errors import ValidationError
from patron.http import jsonbody
from patron.imports.formats import (
    Chunk,
    CustomerRecord,
    ImportReader,
    ImportRecord,
    RecordProblem,
    chunked,
)

BLOCK_SIZES = [1, 2, 3, 7, 64, 1 << 20]


class Source:
    """A binary stream that, like boto3's StreamingBody, is only ever read in bounded blocks."""

    def __init__(self, data: bytes, block_size: int) -> None:
        self._data = io.BytesIO(data)
        self._block_size = block_size
        self.reads = 0

    def read(self, size: int, /) -> bytes:
        assert 0 < size <= self._block_size, "the reader must ask for one block at a time"
        self.reads += 1
        return self._data.read(size)


def read(data: bytes | str, file_format: str, block_size: int = 1 << 20, **options: Any) -> list[ImportRecord]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return list(ImportReader(Source(raw, block_size), file_format, block_size=block_size, **options))


def customers(records: list[ImportRecord]) -> list[dict[str, Any]]:
    return [record.customer for record in records if isinstance(record, CustomerRecord)]


def problems(records: list[ImportRecord]) -> list[tuple[int, str, str, bool]]:
    return [(r.index, r.reason, r.path, r.final) for r in records if isinstance(r, RecordProblem)]


# Strings with every character that matters to a scanner: brackets, braces, quotes, backslashes (one at the end
# of a string), escapes, unicode (raw and escaped, astral), and nesting deeper than the fast pattern's 8 levels.
TRICKY = r"""
  {"overwriteDescriptors" : true,
   "customers" : [
     {"id": "1", "email": "a@example.com", "note": "}]{[ \"quoted\" \\", "name": "Zoë \u00e9 😀 \ud83d\ude00",
      "orders": [
        {"id": "o-1", "amount": 85.85, "createdAt": "2024-01-01T10:00:00Z", "delivery": {"province": "MI"},
         "items": [{"item_id": 1342, "product_id": 43421, "brand": "ni]ke"}, {"item_id": 1340, "brand": "{"}]},
        {"id": "o-2", "amount": 12, "big": 123456789012345678901234567890, "tiny": 1E-7, "zero": 0.0}
      ]},
     {"id": 2, "deep": {"a": [{"b": [{"c": [{"d": [{"e": "]]]}}}"}]}]}]}]}, "empty": {}, "list": [],
      "escaped": "\\\\\\\"", "slash": "\/", "tab": "\t"},
     {"id": "3", "orders": []}
   ],
   "recalculateStats": false, "triggerIntegrations": true
  }
"""


# -- JSON ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block_size", BLOCK_SIZES)
def test_json_yields_each_customer_as_jsonbody_decodes_it_whatever_the_block_size(block_size):
    records = read(TRICKY, "json", block_size)
    assert customers(records) == jsonbody.loads(TRICKY)["customers"]
    assert [record.index for record in records] == [0, 1, 2]
    assert problems(records) == []


def test_json_keeps_numbers_exact_and_never_float():
    [record] = read(TRICKY, "json")[:1]
    assert isinstance(record, CustomerRecord)
    first, second = record.customer["orders"]
    assert first["amount"] == Decimal("85.85") and isinstance(first["amount"], Decimal)
    assert second["amount"] == 12 and isinstance(second["amount"], int)
    assert second["big"] == 123456789012345678901234567890
    assert second["tiny"] == Decimal("1E-7")
    assert second["zero"] == 0
    assert record.customer["name"] == "Zoë é 😀 😀"
    assert record.customer["note"] == '}]{[ "quoted" \\'


@pytest.mark.parametrize("block_size", [1, 5, 1 << 20])
def test_json_record_text_decodes_to_the_record(block_size):
    for record in read(TRICKY, "json", block_size):
        assert isinstance(record, CustomerRecord)
        assert jsonbody.loads(record.json) == record.customer


@pytest.mark.parametrize("block_size", [1, 4, 1 << 20])
def test_json_flags_are_read_before_and_after_the_customers(block_size):
    reader = ImportReader(Source(TRICKY.encode(), block_size), "json", block_size=block_size)
    assert reader.flags == {}
    records = list(reader)
    assert len(records) == 3
    assert reader.flags == {"overwriteDescriptors": True, "recalculateStats": False, "triggerIntegrations": True}


def test_json_empty_customers_array_yields_nothing_and_keeps_the_flags():
    reader = ImportReader(io.BytesIO(b'{"triggerIntegrations": false, "customers": [ ]}'), "json")
    assert list(reader) == []
    assert reader.flags == {"triggerIntegrations": False}
    assert read(b'{"customers":[]}', "json") == []


def test_json_skips_a_utf8_bom_and_surrounding_whitespace():
    assert customers(read(b'\xef\xbb\xbf \n{"customers": [{"id": "1"}]}\n\n', "json", 2)) == [{"id": "1"}]


def test_json_element_that_is_not_an_object_is_rejected_alone():
    records = read('{"customers": [{"id": "1"}, 3, "x", null, [1, {"a": 2}], true, {"id": "2"}]}', "json", 3)
    assert customers(records) == [{"id": "1"}, {"id": "2"}]
    assert problems(records) == [(i, "invalid_value", f"customers[{i}]", False) for i in range(1, 6)]


@pytest.mark.parametrize(
    ("document", "reason", "path", "index"),
    [
        ('{"customers": [{"id": "1"}, {"id": "2",}, {"id": "3"}]}', "malformed_json", "customers[1]", 1),
        ('{"customers": [{"id": "1"}, {"id": tru}]}', "malformed_json", "customers[1]", 1),
        ('{"customers": [{"id": "1"} {"id": "2"}]}', "malformed_json", "$", 1),
        ('{"customers": [{"id": "1"},]}', "malformed_json", "customers[1]", 1),
        ('{"customers": [{"id": "1"}, {"id": "2"', "malformed_json", "customers[1]", 1),  # truncated
        ('{"customers": [{"id": "1"}, {"note": "never ends', "malformed_json", "customers[1]", 1),
        ('{"customers": [{"id": "1"}]', "malformed_json", "$", 1),
        ('{"customers": [{"id": "1"}]} trailing', "malformed_json", "$", 1),
        ('{"customers": [{"id": "1"}], "color": "red"}', "unknown_field", "color", 1),
        ('{"customers": [{"id": "1"}], "triggerIntegrations": "yes"}', "invalid_value", "triggerIntegrations", 1),
        ('{"customers": [{"id": "1"}], "customers": []}', "invalid_value", "customers", 1),
        ('{"customers": {"id": "1"}}', "invalid_value", "customers", 0),
        ('{"recalculateStats": true}', "missing_field", "customers", 0),
        ('[{"id": "1"}]', "invalid_value", "$", 0),
        ("", "malformed_json", "$", 0),
        ("{", "malformed_json", "$", 0),
        ('{"customers" [', "malformed_json", "$", 0),
    ],
)
def test_json_broken_file_keeps_what_was_read_and_ends_with_one_final_problem(document, reason, path, index):
    for block_size in (1, 3, 1 << 20):
        records = read(document, "json", block_size)
        assert records[-1] == RecordProblem(index, reason, path, offset=records[-1].offset, final=True)  # type: ignore[union-attr]
        assert all(not r.final for r in records[:-1] if isinstance(r, RecordProblem))
        assert customers(records) == [{"id": "1"}][:index]


def test_json_final_problem_points_at_the_broken_element():
    document = b'{"customers": [{"id": "1"}, {"id": oops}]}'
    [_, problem] = read(document, "json", 4)
    assert isinstance(problem, RecordProblem)
    assert problem.offset == document.index(b'{"id": oops')


def test_json_element_over_the_record_limit_is_skipped_and_the_next_is_read():
    big = {"id": "big", "note": "x" * 5000, "orders": [{"note": "]}" * 500}]}
    document = json.dumps({"customers": [{"id": "1"}, big, {"id": "2"}, "y" * 5000, {"id": "3"}]})
    for block_size in (7, 1000, 1 << 20):
        records = read(document, "json", block_size, max_record_bytes=1000)
        assert customers(records) == [{"id": "1"}, {"id": "2"}, {"id": "3"}]
        assert problems(records) == [(1, "too_large", "customers[1]", False), (3, "too_large", "customers[3]", False)]


Traced = tuple[int, int, list[tuple[int, str, str, bool]], dict[str, Any] | None]


def read_traced(document: bytes, block_size: int, max_record_bytes: int) -> Traced:
    """Reads and chunks the document under tracemalloc, keeping no record: the peak of bytes allocated meanwhile,
    how many records, the problems, the last customer."""
    source = io.BytesIO(document)
    count, found, last = 0, [], None
    tracemalloc.start()
    try:
        for chunk in chunked(ImportReader(source, "json", block_size=block_size, max_record_bytes=max_record_bytes)):
            count += len(chunk.records)
            found += problems(list(chunk.problems))
            last = chunk.customers[-1].customer if chunk.customers else last
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, count, found, last


def traced(document: bytes, block_size: int, max_record_bytes: int = 1 << 20) -> Traced:
    """read_traced in a fresh process: tracemalloc counts every thread, and threads other tests leave behind (a
    local runtime's pollers) would count here."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(read_traced, document, block_size, max_record_bytes).result(timeout=120)


def test_json_skipping_a_huge_element_holds_no_more_than_a_few_blocks():
    huge = b'{"id": "huge", "note": "' + b'\\"{[' * 500_000 + b'"}'  # 2 MB, one string full of escapes
    document = b'{"customers": [' + huge + b', {"id": "after"}]}'
    peak, count, found, last = traced(document, block_size=4096, max_record_bytes=16_384)
    assert (count, found, last) == (2, [(0, "too_large", "customers[0]", False)], {"id": "after"})
    assert peak < 200_000


def test_json_memory_does_not_grow_with_the_number_of_customers():
    def document(count: int) -> bytes:
        people = (
            json.dumps({"id": str(i), "orders": [{"id": f"o{i}", "amount": 10.5, "items": [{"sku": "a"}]}]}).encode()
            for i in range(count)
        )
        return b'{"customers": [' + b",".join(people) + b"]}"

    small, small_count, _, _ = traced(document(2_000), block_size=65_536)  # about 0.15 MB of JSON
    large, large_count, _, last = traced(document(40_000), block_size=65_536)  # about 3 MB
    assert (small_count, large_count) == (2_000, 40_000)
    assert last is not None and last["id"] == "39999"
    assert large < small * 1.5 + 100_000
    assert large < 1_000_000


def test_json_reads_only_blocks_of_the_given_size():
    source = Source(TRICKY.encode(), 16)
    list(ImportReader(source, "json", block_size=16))
    assert source.reads >= len(TRICKY.encode()) // 16


# -- JSON Lines ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block_size", BLOCK_SIZES)
def test_jsonl_yields_one_customer_per_line_and_ignores_blank_lines(block_size):
    people = jsonbody.loads(TRICKY)["customers"]
    text = "\ufeff" + "\n\n".join(jsonbody.dumps(p) for p in people) + "\r\n   \n"
    records = read(text, "jsonl", block_size)
    assert customers(records) == people
    assert [(r.index, r.line) for r in records] == [(0, 1), (1, 3), (2, 5)]


def test_jsonl_bad_lines_are_rejected_one_by_one():
    text = '{"id": "1"}\n{"id": \n[1, 2]\n\n{"id": "2", "amount": 1.25}\n"text"\n{"id": "3"}'
    for block_size in (1, 5, 1 << 20):
        records = read(text, "jsonl", block_size)
        assert customers(records) == [{"id": "1"}, {"id": "2", "amount": Decimal("1.25")}, {"id": "3"}]
        assert problems(records) == [
            (1, "malformed_json", "customers[1]", False),
            (2, "invalid_value", "customers[2]", False),
            (4, "invalid_value", "customers[4]", False),
        ]
        assert [r.line for r in records] == [1, 2, 3, 5, 6, 7]


def test_jsonl_line_over_the_record_limit_is_skipped():
    text = '{"id": "1"}\n{"note": "' + "x" * 5000 + '"}\n{"id": "2"}\n'
    for block_size in (3, 100, 1 << 20):
        records = read(text, "jsonl", block_size, max_record_bytes=1000)
        assert customers(records) == [{"id": "1"}, {"id": "2"}]
        assert problems(records) == [(1, "too_large", "customers[1]", False)]
        assert records[2].line == 3


def test_jsonl_empty_file_has_no_records():
    assert read(b"", "jsonl") == []
    assert read(b"\n \n", "jsonl") == []


# -- CSV -----------------------------------------------------------------------------------------------------

HEADER = "customer.id,customer.email,customer.firstName,order.id,order.createdAt,order.amount,order.status\n"


@pytest.mark.parametrize("block_size", BLOCK_SIZES)
def test_csv_groups_consecutive_rows_of_a_customer_into_its_orders(block_size):
    text = (
        HEADER
        + "1,a@example.com,Anna,o-1,2024-01-01,85.85,10\n"
        + "1,a@example.com,Anna,o-2,2024-02-01,12,20\n"
        + "2,b@example.com,Bruno,,,,\n"
        + "3,,,o-3,2024-03-01,0.5,\n"
    )
    records = read(text, "csv", block_size)
    assert customers(records) == [
        {
            "id": "1",
            "email": "a@example.com",
            "firstName": "Anna",
            "orders": [
                {"id": "o-1", "createdAt": "2024-01-01", "amount": Decimal("85.85"), "status": "10"},
                {"id": "o-2", "createdAt": "2024-02-01", "amount": 12, "status": "20"},
            ],
        },
        {"id": "2", "email": "b@example.com", "firstName": "Bruno"},  # a row without order cells: no orders
        {"id": "3", "orders": [{"id": "o-3", "createdAt": "2024-03-01", "amount": Decimal("0.5")}]},
    ]
    assert [(r.index, r.line) for r in records] == [(0, 2), (1, 4), (2, 5)]


def test_csv_record_text_decodes_to_the_record():
    text = HEADER + "1,a@example.com,Zoë,o-1,2024-01-01,85.85,10\n"
    [record] = read(text, "csv")
    assert isinstance(record, CustomerRecord)
    assert jsonbody.loads(record.json) == record.customer


@pytest.mark.parametrize("block_size", [1, 3, 1 << 20])
def test_csv_quoting_bom_and_crlf(block_size):
    text = (
        "\ufeffcustomer.id,customer.note,order.id,order.amount\r\n"
        '"1","comma, ""quote"" and\r\nnewline",o-1,"1,5"\r\n'  # "1,5" is not a number: the customer is refused
        '2,"","o-2",3\r\n'
        '3,"{""a"": [1]}",,\r\n'
    )
    records = read(text, "csv", block_size)
    assert problems(records) == [(0, "invalid_value", "customers[0].orders[0].amount", False)]
    assert customers(records) == [
        {"id": "2", "orders": [{"id": "o-2", "amount": 3}]},
        {"id": "3", "note": '{"a": [1]}'},
    ]
    assert [r.line for r in records] == [2, 4, 5]


def test_csv_quoted_cell_with_newline_is_one_value():
    records = read('customer.id,customer.address\n1,"Via Roma 1\nMilano"\n', "csv", 2)
    assert customers(records) == [{"id": "1", "address": "Via Roma 1\nMilano"}]


def test_csv_types_from_header_suffixes():
    text = (
        "customer.email,customer.points:number,customer.vip:boolean,customer.tags:json,customer.zip:string,"
        "order.id,order.amount:string,order.delivery.province,order.delivery.floor:number\n"
        'a@example.com, 12 ,TRUE,"[""x"", 2.5]",00123,o-1,10.50,MI,-1E2\n'
    )
    assert customers(read(text, "csv")) == [
        {
            "email": "a@example.com",
            "points": 12,
            "vip": True,
            "tags": ["x", Decimal("2.5")],
            "zip": "00123",
            "orders": [{"id": "o-1", "amount": "10.50", "delivery": {"province": "MI", "floor": Decimal("-1E+2")}}],
        }
    ]


NUMBERS = [
    "0",
    "-0",
    "7",
    "-12",
    "0.0",
    "-0.0",
    "85.85",
    "1E2",
    "1e-7",
    "-1.5E+3",
    "0E5",
    "1" * 40,
    "1" * 41,
    "-" + "9" * 39,
]


def test_csv_numbers_are_typed_exactly_as_jsonbody_reads_them():
    text = "customer.id,customer.n:number\n" + "".join(f"{i},{n}\n" for i, n in enumerate(NUMBERS))
    for number, customer in zip(NUMBERS, customers(read(text, "csv")), strict=True):
        expected = jsonbody.loads(number)
        assert repr(customer["n"]) == repr(expected), number  # type, value and digits


@pytest.mark.parametrize(
    ("column", "cell", "path"),
    [
        ("customer.points:number", "12,5", "customers[0].points"),
        ("customer.points:number", "NaN", "customers[0].points"),
        ("customer.points:number", "1.", "customers[0].points"),
        ("customer.vip:boolean", "yes", "customers[0].vip"),
        ("customer.tags:json", "[1,", "customers[0].tags"),
        ("order.amount", "€10", "customers[0].orders[0].amount"),
    ],
)
def test_csv_cell_of_the_wrong_type_rejects_its_customer_only(column, cell, path):
    text = f'customer.id,order.id,{column}\n1,o-1,"{cell}"\n1,o-2,"{cell}"\n2,o-3,\n'
    records = read(text, "csv")
    assert problems(records) == [(0, "invalid_value", path, False)]
    assert customers(records) == [{"id": "2", "orders": [{"id": "o-3"}]}]


def test_csv_item_rows_of_one_order_become_its_items():
    text = (
        "customer.id,order.id,order.amount,item.item_id:number,item.brand\n"
        "1,o-1,30,1342,nike\n"
        "1,o-1,30,1340,adidas\n"
        "1,o-2,5,,\n"
        "1,o-3,7,99,\n"
    )
    assert customers(read(text, "csv", 4)) == [
        {
            "id": "1",
            "orders": [
                {
                    "id": "o-1",
                    "amount": 30,
                    "items": [{"item_id": 1342, "brand": "nike"}, {"item_id": 1340, "brand": "adidas"}],
                },
                {"id": "o-2", "amount": 5},
                {"id": "o-3", "amount": 7, "items": [{"item_id": 99}]},
            ],
        }
    ]


def test_csv_rows_are_one_order_each_without_item_columns():
    text = "customer.id,order.amount\n1,10\n1,10\n"
    assert customers(read(text, "csv")) == [{"id": "1", "orders": [{"amount": 10}, {"amount": 10}]}]


def test_csv_rows_of_one_customer_that_differ_or_are_apart_make_separate_records():
    text = "customer.id,customer.tier,order.id\n1,gold,o-1\n2,,o-2\n1,gold,o-3\n1,silver,o-4\n"
    assert customers(read(text, "csv")) == [
        {"id": "1", "tier": "gold", "orders": [{"id": "o-1"}]},
        {"id": "2", "orders": [{"id": "o-2"}]},
        {"id": "1", "tier": "gold", "orders": [{"id": "o-3"}]},
        {"id": "1", "tier": "silver", "orders": [{"id": "o-4"}]},
    ]


def test_csv_rows_without_id_or_email_are_never_grouped():
    records = read("customer.id,customer.email,order.id\n,,o-1\n,,o-2\n", "csv")
    assert customers(records) == [{"orders": [{"id": "o-1"}]}, {"orders": [{"id": "o-2"}]}]  # the import refuses them


def test_csv_row_with_the_wrong_number_of_cells_is_rejected_alone():
    text = "customer.id,order.id\n1,o-1\n1,o-2,extra\n1\n1,o-3\n\n2,o-4\n"
    records = read(text, "csv")
    assert problems(records) == [
        (1, "invalid_value", "customers[1]", False),
        (2, "invalid_value", "customers[2]", False),
    ]
    assert customers(records) == [
        {"id": "1", "orders": [{"id": "o-1"}]},
        {"id": "1", "orders": [{"id": "o-3"}]},
        {"id": "2", "orders": [{"id": "o-4"}]},
    ]
    assert [r.line for r in records] == [2, 3, 4, 5, 7]


def test_csv_item_without_an_order_rejects_the_customer():
    records = read("customer.id,order.id,item.sku\n1,,s-1\n", "csv")
    assert problems(records) == [(0, "invalid_value", "customers[0].orders", False)]


def test_csv_customer_over_the_record_limit_is_rejected_and_its_rows_skipped():
    rows = "".join(f"1,o-{n},10\n" for n in range(200))
    text = "customer.id,order.id,order.amount\n" + rows + "2,o-x,1\n"
    records = read(text, "csv", 64, max_record_bytes=500)
    assert problems(records) == [(0, "too_large", "customers[0]", False)]
    assert customers(records) == [{"id": "2", "orders": [{"id": "o-x", "amount": 1}]}]


@pytest.mark.parametrize(
    ("header", "path"),
    [
        ("customer.id,name", "header[1]"),
        ("customer.id,customer.", "header[1]"),
        ("customer.id,order..x", "header[1]"),
        ("customer.id,customer.points:integer", "header[1]"),
        ("customer.id,customer.id", "header[1]"),
        ("customer.id,order.delivery,order.delivery.city", "header[2]"),
        ("customer.id,order.delivery.city,order.delivery:json", "header[2]"),
        ("customer.id,customer.orders:json", "header[1]"),
        ("customer.id,order.id,order.items:json,item.sku", "header[2]"),
        ("customer.firstName,order.id", "header"),
        ("customer.id,item.sku", "header"),
    ],
)
def test_csv_bad_header_ends_the_import_before_any_record(header, path):
    records = read(f"\n{header}\n1,2,3\n", "csv")
    assert problems(records) == [(0, "invalid_header", path, True)]
    assert records[0].line == 2


def test_csv_separated_by_semicolons_fails_at_the_header():
    assert problems(read("customer.id;customer.email\n1;a@example.com\n", "csv")) == [
        (0, "invalid_header", "header", True)
    ]


def test_csv_order_items_as_json_when_there_are_no_item_columns():
    text = 'customer.id,order.id,order.items:json\n1,o-1,"[{""sku"": ""a""}]"\n'
    assert customers(read(text, "csv")) == [{"id": "1", "orders": [{"id": "o-1", "items": [{"sku": "a"}]}]}]


def test_csv_empty_file_lacks_a_header():
    assert problems(read(b"", "csv")) == [(0, "missing_field", "header", True)]
    assert problems(read(b"\xef\xbb\xbf\n\n", "csv")) == [(0, "missing_field", "header", True)]
    assert read("customer.id\n", "csv") == []


def test_csv_broken_quoting_ends_the_import_and_drops_the_customer_being_read():
    # Customer 2 is still being read when line 4 breaks (the line might have been one of its rows): not imported.
    text = 'customer.id,customer.note\n1,fine\n2,ok\n3,"bad"quote\n4,after\n'
    for block_size in (5, 1 << 20):
        records = read(text, "csv", block_size)
        assert customers(records) == [{"id": "1", "note": "fine"}]
        assert records[-1] == RecordProblem(1, "malformed_csv", "$", line=4, final=True)


def test_csv_invalid_utf8_rejects_its_record_alone():
    records = read(b"customer.id\n1\n\xff\xfe\n2\n", "csv")
    assert customers(records) == [{"id": "1"}, {"id": "2"}]  # the records around the bad bytes stand
    assert problems(records) == [(1, "invalid_text", "customers[1].id", False)]


def test_csv_line_over_the_limit_ends_the_import():
    text = "customer.id,customer.note\n1,a\n2,b\n3," + "x" * 5000 + "\n4,d\n"
    records = read(text, "csv", 64, max_record_bytes=1000)
    assert customers(records) == [{"id": "1", "note": "a"}]
    assert records[-1] == RecordProblem(1, "too_large", "$", line=4, final=True)


# -- the reader ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["json", "jsonl"])
def test_reads_an_s3_object_body_in_blocks(file_format):
    from botocore.response import StreamingBody

    people = jsonbody.loads(TRICKY)["customers"]
    lines = "\n".join(jsonbody.dumps(p) for p in people)
    data = (TRICKY if file_format == "json" else lines).encode()
    body = StreamingBody(io.BytesIO(data), len(data))  # what get_object returns as "Body"
    assert customers(list(ImportReader(body, file_format, block_size=10))) == people


def test_unknown_format_is_refused():
    with pytest.raises(ValidationError) as raised:
        ImportReader(io.BytesIO(b""), "xml")
    assert raised.value.details[0].path == "format"


def test_a_reader_is_iterated_once():
    reader = ImportReader(io.BytesIO(b"{}"), "jsonl")
    list(reader)
    with pytest.raises(RuntimeError):
        iter(reader)


# -- chunks --------------------------------------------------------------------------------------------------


def record(index: int, size: int) -> CustomerRecord:
    """A customer whose JSON is `size` bytes."""
    customer = {"id": "x" * (size - 9)}
    text = jsonbody.dumps(customer).encode()
    assert len(text) == size
    return CustomerRecord(index, customer, text)


def test_chunks_hold_at_most_the_given_number_of_records():
    chunks = list(chunked((record(i, 20) for i in range(7)), max_records=3))
    assert [(c.first_index, len(c.records)) for c in chunks] == [(0, 3), (3, 3), (6, 1)]


def test_chunks_hold_at_most_the_given_bytes_of_customers():
    chunks = list(chunked((record(i, 40) for i in range(10)), max_records=100, max_bytes=125))
    # "[" + 40 + "," + 40 + "," + 40 + "]" = 124 bytes: three fit, a fourth would pass 125
    assert [len(c.records) for c in chunks] == [3, 3, 3, 1]
    for chunk in chunks:
        assert chunk.size == len(chunk.customers_json()) <= 125
        assert jsonbody.loads(chunk.customers_json()) == [r.customer for r in chunk.customers]


def test_a_record_larger_than_a_chunk_gets_a_chunk_of_its_own():
    chunks = list(chunked([record(0, 20), record(1, 500), record(2, 20)], max_bytes=100))
    assert [(c.first_index, len(c.records), c.size) for c in chunks] == [(0, 1, 22), (1, 1, 502), (2, 1, 22)]


def test_problems_count_as_records_but_not_as_bytes():
    stream: list[ImportRecord] = [
        record(0, 40),
        RecordProblem(1, "malformed_json", "customers[1]"),
        record(2, 40),
        RecordProblem(3, "too_large", "customers[3]"),
    ]
    [first, second] = list(chunked(stream, max_records=3, max_bytes=83))
    assert first == Chunk(0, tuple(stream[:3]), 83)
    assert second.first_index == 3 and second.problems == (stream[3],) and second.customers_json() == b"[]"


def test_chunks_of_a_file_cover_every_record_in_order():
    reader = ImportReader(io.BytesIO(TRICKY.encode()), "json", block_size=5)
    chunks = list(chunked(reader, max_records=2))
    assert [r.index for c in chunks for r in c.records] == [0, 1, 2]
    assert [c.first_index for c in chunks] == [0, 2]
    merged = [customer for c in chunks for customer in jsonbody.loads(c.customers_json())]
    assert merged == jsonbody.loads(TRICKY)["customers"]


# -- docs/imports.md -----------------------------------------------------------------------------------------


def test_the_examples_in_the_docs_read_as_documented():
    blocks = re.findall(r"```(\w*)\n(.*?)```", (Path(__file__).parents[2] / "docs" / "imports.md").read_text(), re.S)
    payload, csv_reads_as = [text for kind, text in blocks if kind == "json"]
    [json_lines] = [text for kind, text in blocks if kind == ""]
    [csv_text] = [text for kind, text in blocks if kind == "csv"]
    assert customers(read(payload, "json")) == jsonbody.loads(payload)["customers"]
    assert customers(read(json_lines, "jsonl")) == [jsonbody.loads(line) for line in json_lines.splitlines() if line]
    expected = [jsonbody.loads(text) for text in re.split(r"\n(?=\{)", csv_reads_as.strip())]
    assert customers(read(csv_text, "csv")) == expected
