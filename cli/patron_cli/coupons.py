"""`patron coupons ...`: create one coupon or a batch of generated codes (up to millions in one run, in bounded
memory, a progress bar on stderr), import codes from a CSV file, show one coupon, export a batch as CSV, through the
service the management API uses (docs/coupons.md)."""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from patron.coupons import csvimport
from patron.coupons import wire as coupon_wire
from patron.coupons.batches import CouponTerms
from patron.coupons.codes import DEFAULT_CHARSET, CodeSettings
from patron.coupons.model import Coupon
from patron.coupons.service import MAX_CLI_COUPONS, MAX_CLI_IMPORT_ROWS, CouponService
from patron.errors import FieldIssue, ValidationError
from patron.http.wire import to_builtins

EXPORT_COLUMNS = [
    "value",
    "id",
    "campaignId",
    "created",
    "usageLimit",
    "usageCounter",
    "discountLimit",
    "discountCounter",
    "reservationLimit",
    "reservationCounter",
    "startDate",
    "expiryDate",
    "recipientIntegrationId",
    "batchId",
]


def moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a date-time with its offset, e.g. 2026-12-31T23:59:59Z") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("a date-time with its offset, e.g. 2026-12-31T23:59:59Z")
    return value


def money(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError("a number") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError("a number of at least 0")
    return value


def count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError("a whole number")
    return int(text)


class ProgressBar:
    """`done/total` as a bar on stderr, redrawn at most ten times a second (only when stderr is a terminal, or
    when forced: the tests read it)."""

    def __init__(self, total: int, stream: TextIO | None = None, force: bool = False, width: int = 30):
        self._total = total
        self._stream = stream or sys.stderr
        self._show = force or self._stream.isatty()
        self._width = width
        self._started = time.perf_counter()
        self._drawn = 0.0

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if not self._show or (done < self._total and now - self._drawn < 0.1):
            return
        self._drawn = now
        filled = self._width * done // max(self._total, 1)
        rate = done / max(now - self._started, 1e-9)
        bar = "#" * filled + "-" * (self._width - filled)
        self._stream.write(f"\r[{bar}] {done:,}/{self._total:,} coupons, {rate:,.0f}/s")
        if done >= self._total:
            self._stream.write("\n")
        self._stream.flush()


def _terms(args: argparse.Namespace) -> CouponTerms:
    return CouponTerms(
        usage_limit=args.usage_limit,
        discount_limit=args.discount_limit,
        reservation_limit=args.reservation_limit,
        profile_limit=args.profile_limit,
        start_date=args.start,
        expiry_date=args.expiry,
        recipient_integration_id=args.recipient,
        reservation_mandatory=args.reservation_mandatory,
    )


def create(service: CouponService, args: argparse.Namespace) -> tuple[Any, str]:
    terms = _terms(args)
    if args.code is not None:
        coupon = service.create_coupon(args.application_id, args.campaign_id, args.code, terms)
        view = to_builtins(coupon_wire.coupon_view(coupon))
        return view, f"Created coupon {coupon.value} (id {coupon.id}) for campaign {coupon.campaign_id}."
    if args.count is None:
        raise ValidationError("--count N or --code CODE.", [FieldIssue("count", "missing_field", "--count or --code")])
    settings = CodeSettings(
        charset=args.charset,
        length=args.length,
        pattern=args.pattern,
        prefix=args.prefix,
        suffix=args.suffix,
    )
    creation = service.create_batch(
        args.application_id,
        args.campaign_id,
        settings,
        args.count,
        terms,
        max_count=MAX_CLI_COUPONS,
        keep=False,
        progress=ProgressBar(args.count, force=args.progress),
    )
    batch = creation.batch
    assert batch is not None
    view = to_builtins(coupon_wire.batch_view(batch))
    text = (
        f"Created {creation.created:,} coupons for campaign {batch.campaign_id}: batch {batch.batch_id}"
        f" (ids {batch.first_id}..{batch.first_id + batch.count - 1}).\n"
        f"Export them: patron coupons export {args.application_id} {batch.batch_id} > codes.csv"
    )
    return view, text


def import_file(service: CouponService, args: argparse.Namespace) -> tuple[Any, str]:
    try:
        body = Path(args.file).read_bytes()
    except OSError as error:
        raise ValidationError("The file cannot be read.", [FieldIssue("file", "unreadable_file", str(error))]) from None
    rows = csvimport.parse(csvimport.decode(body))
    creation = service.import_coupons(
        args.application_id,
        args.campaign_id,
        rows,
        max_rows=MAX_CLI_IMPORT_ROWS,
        keep=False,
        progress=ProgressBar(len(rows), force=args.progress),
    )
    batch = creation.batch
    assert batch is not None
    view = {
        **to_builtins(coupon_wire.batch_view(batch)),
        "created": creation.created,
        "rejectedLines": creation.rejected_lines,
    }
    text = f"Imported {creation.created:,} coupons for campaign {batch.campaign_id}: batch {batch.batch_id}."
    if creation.rejected_lines:
        text += f"\nNot created (taken meanwhile): lines {', '.join(map(str, creation.rejected_lines))}."
    return view, text


def show(service: CouponService, args: argparse.Namespace) -> tuple[Any, str]:
    coupon = service.coupon(args.application_id, args.code)
    view = to_builtins(coupon_wire.coupon_view(coupon))
    lines = [f"{name}: {value}" for name, value in view.items() if value not in (None, [], {})]
    return view, "\n".join(lines)


def export_rows(coupons: Iterable[Coupon], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    written = 0
    for coupon in coupons:
        view = to_builtins(coupon_wire.coupon_view(coupon))
        writer.writerow(["" if view.get(name) is None else view[name] for name in EXPORT_COLUMNS])
        written += 1
    return written


def export(service: CouponService, args: argparse.Namespace) -> tuple[Any, str]:
    """The batch's coupons as CSV on stdout (or --output FILE), a page at a time."""
    batch = service.batch(args.application_id, args.batch_id)
    coupons = service.batch_coupons(args.application_id, args.batch_id)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            written = export_rows(coupons, out)
        return {"batchId": batch.batch_id, "coupons": written}, f"Wrote {written:,} coupons to {args.output}."
    buffer_out: TextIO = sys.stdout if not args.json else io.StringIO()
    written = export_rows(coupons, buffer_out)
    return {"batchId": batch.batch_id, "coupons": written}, ""


def add_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    coupons = groups.add_parser("coupons", help="coupons: create, import, show, export")
    actions = coupons.add_subparsers(dest="action", required=True)

    made = actions.add_parser("create", parents=[common], help="one coupon (--code) or a batch (--count N)")
    made.add_argument("application_id", type=int)
    made.add_argument("campaign_id", type=int)
    which = made.add_mutually_exclusive_group(required=True)
    which.add_argument("--code", help="one coupon with this code")
    which.add_argument("--count", type=count, help=f"generated codes (at most {MAX_CLI_COUPONS:,})")
    made.add_argument("--pattern", help="Talon.One's couponPattern: each # is a character of --charset")
    made.add_argument("--charset", default=DEFAULT_CHARSET, help="characters to choose from (default A-Z 0-9)")
    made.add_argument("--length", type=int, default=8, help="placeholders without --pattern (default 8)")
    made.add_argument("--prefix", default="")
    made.add_argument("--suffix", default="")
    _term_options(made)
    made.add_argument("--progress", action="store_true", help="draw the progress bar even when stderr is no terminal")
    made.set_defaults(command=create)

    imported = actions.add_parser("import", parents=[common], help="coupons from a CSV file")
    imported.add_argument("application_id", type=int)
    imported.add_argument("campaign_id", type=int)
    imported.add_argument("file")
    imported.add_argument("--progress", action="store_true")
    imported.set_defaults(command=import_file)

    shown = actions.add_parser("show", parents=[common], help="one coupon by its code")
    shown.add_argument("application_id", type=int)
    shown.add_argument("code")
    shown.set_defaults(command=show)

    exported = actions.add_parser("export", parents=[common], help="a batch's coupons as CSV")
    exported.add_argument("application_id", type=int)
    exported.add_argument("batch_id")
    exported.add_argument("--output", "-o", help="a file (default: standard output)")
    exported.set_defaults(command=export)


def _term_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--usage-limit", type=count, default=0, help="redemptions per code (0: unlimited)")
    parser.add_argument("--discount-limit", type=money, help="the total discount a code may give (a gift card)")
    parser.add_argument("--reservation-limit", type=count, default=0)
    parser.add_argument("--profile-limit", type=count, default=0, help="redemptions per customer profile")
    parser.add_argument("--start", type=moment, help="valid from (RFC 3339, with its offset)")
    parser.add_argument("--expiry", type=moment, help="valid until (RFC 3339, with its offset)")
    parser.add_argument("--recipient", help="a personal code: the only profile that may redeem it")
    parser.add_argument("--reservation-mandatory", action="store_true")
