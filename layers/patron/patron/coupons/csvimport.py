"""Coupons imported from CSV (docs/coupons.md, "Importing"): a header line naming the columns, then one coupon per
line. Column names are Talon.One's, in any case and order: `value` (the code, required), `expirydate`, `startdate`
(RFC 3339 with an offset), `limitval` (usage limit; `usagelimit` too), `discountlimit`, `reservationlimit`,
`profilelimit` (redemptions per profile), `recipientintegrationid`, `attributes` (a JSON object),
`reservationmandatory` (true/false). An empty cell takes the default. Blank lines are skipped.

Every fault is reported with its line (the header is line 1) as `csv[<line>].<column>`, never with the cell's value
(a recipient id names a person).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from patron.coupons.batches import CouponTerms
from patron.coupons.checks import MAX_REPORTED_ISSUES
from patron.coupons.service import ImportRow
from patron.errors import FieldIssue, ValidationError

COLUMNS = {
    "value": "value",
    "expirydate": "expiryDate",
    "startdate": "startDate",
    "limitval": "usageLimit",
    "usagelimit": "usageLimit",
    "discountlimit": "discountLimit",
    "reservationlimit": "reservationLimit",
    "profilelimit": "profileLimit",
    "recipientintegrationid": "recipientIntegrationId",
    "attributes": "attributes",
    "reservationmandatory": "reservationMandatory",
}
MAX_CELL_CHARS = 16 * 1024


class CsvError(ValidationError):
    def __init__(self, issues: list[FieldIssue]):
        message = "The CSV file is invalid; nothing was imported."
        super().__init__(message, issues[:MAX_REPORTED_ISSUES], code="invalid_csv")


def decode(body: bytes) -> str:
    """The body as text: UTF-8, a byte-order mark dropped."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CsvError([FieldIssue("csv", "invalid_encoding", "The file is not UTF-8 text.")]) from None
    return text.removeprefix("\ufeff")


def _date(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("no offset")
    return moment


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise ValueError("not a count")
    return int(text)


def _money(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    return value


def _attributes(text: str) -> dict[str, Any]:
    value = json.loads(text, parse_float=Decimal, parse_constant=_refuse)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _refuse(_: str) -> Any:
    raise ValueError("not a number")


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError("not a boolean")
    return lowered == "true"


_PARSERS: dict[str, tuple[Any, str]] = {
    "expiryDate": (_date, "A date-time with its offset (RFC 3339), e.g. 2026-12-31T23:59:59Z."),
    "startDate": (_date, "A date-time with its offset (RFC 3339), e.g. 2026-12-01T00:00:00Z."),
    "usageLimit": (_count, "A whole number from 0 (0: unlimited)."),
    "discountLimit": (_money, "A number."),
    "reservationLimit": (_count, "A whole number from 0 (0: unlimited)."),
    "profileLimit": (_count, "A whole number from 0 (0: no per-profile limit)."),
    "attributes": (_attributes, "A JSON object."),
    "reservationMandatory": (_boolean, "true or false."),
}


def parse(text: str) -> list[ImportRow]:
    """The rows, or CsvError naming every faulty line (at most MAX_REPORTED_ISSUES)."""
    return list(_rows(io.StringIO(text, newline="")))


def _rows(lines: Iterable[str]) -> Iterable[ImportRow]:
    reader = csv.reader(lines, strict=True)
    issues: list[FieldIssue] = []
    rows: list[ImportRow] = []
    try:
        header = next(reader, None)
        if header is None:
            raise CsvError([FieldIssue("csv", "empty_import", "The file holds no coupon.")])
        names: list[str] = []
        for position, raw in enumerate(header):
            name = COLUMNS.get(raw.strip().lower())
            if name is None:
                message = f"Column {position + 1} is not one of: {', '.join(sorted(COLUMNS))}."
                issues.append(FieldIssue("csv[1]", "unknown_column", message))
            elif name in names:
                issues.append(FieldIssue("csv[1]", "duplicate_column", f"Column {position + 1} repeats a column."))
            names.append(name or "")
        if "value" not in names:
            issues.append(FieldIssue("csv[1]", "missing_column", "The header names no `value` column."))
        if issues:
            raise CsvError(issues)
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                message = f"{len(cells)} cells for {len(names)} columns."
                issues.append(FieldIssue(f"csv[{line}]", "wrong_cell_count", message))
                continue
            row = _row(line, dict(zip(names, cells, strict=True)), issues)
            if row is not None:
                rows.append(row)
            if len(issues) >= MAX_REPORTED_ISSUES:
                break
    except csv.Error:
        issues.append(FieldIssue(f"csv[{reader.line_num}]", "malformed_csv", "The line is not valid CSV."))
    if issues:
        raise CsvError(issues)
    return rows


def _row(line: int, cells: dict[str, str], issues: list[FieldIssue]) -> ImportRow | None:
    values: dict[str, Any] = {}
    faulty = False
    for name, cell in cells.items():
        if len(cell) > MAX_CELL_CHARS:
            issues.append(FieldIssue(f"csv[{line}].{name}", "cell_too_long", f"At most {MAX_CELL_CHARS} characters."))
            faulty = True
            continue
        if name in ("value", "recipientIntegrationId"):
            if cell != "":
                values[name] = cell  # as written: a code is not trimmed (model.normalise_code)
            continue
        text = cell.strip()
        if not text:
            continue
        parser, expected = _PARSERS[name]
        try:
            values[name] = parser(text)
        except (ValueError, InvalidOperation, RecursionError):
            issues.append(FieldIssue(f"csv[{line}].{name}", "invalid_value", expected))
            faulty = True
    if "value" not in values:
        issues.append(FieldIssue(f"csv[{line}].value", "missing_value", "Every line needs a code."))
        return None
    if faulty:
        return None
    terms = CouponTerms(
        usage_limit=values.get("usageLimit", 0),
        discount_limit=values.get("discountLimit"),
        reservation_limit=values.get("reservationLimit", 0),
        profile_limit=values.get("profileLimit", 0),
        start_date=values.get("startDate"),
        expiry_date=values.get("expiryDate"),
        recipient_integration_id=values.get("recipientIntegrationId"),
        reservation_mandatory=values.get("reservationMandatory", False),
        attributes=values.get("attributes", {}),
    )
    return ImportRow(line, values["value"], terms)
