"""Creating and reading coupons: one coupon with a given code, a batch of generated codes, codes imported from a
CSV file; one coupon by its code; a batch's coupons, page by page (docs/coupons.md).

Every creation first checks everything it was given (a 400 naming each fault, nothing written), then the campaign:
it must be a campaign of the application's live ruleset with the `coupons` feature, and the ruleset's
`caseSensitiveCodes` decides how codes are stored (model.normalise_code). Codes are unique within the application:
each write is conditional on the code being free. A generated code that exists is replaced by the generator's next
one; a code given (one coupon) or imported that exists is refused (409 `coupon_exists`; an import names each line).

Ids are Talon.One's integers, from a per-application counter (one UpdateItem per creation hands out a block), so a
batch's coupons are numbered first_id .. first_id + count - 1.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import msgspec
from msgspec.structs import replace

from patron.clock import Clock
from patron.coupons.batches import BatchKind, BatchStatus, CouponBatch, CouponTerms, batch_id_for, split_parts
from patron.coupons.checks import MAX_REPORTED_ISSUES, attributes_issues, has_control, invalid, period_issues
from patron.coupons.codes import CodeGenerator, CodeSettings, check_room
from patron.coupons.model import Coupon, code_issue, normalise_code
from patron.coupons.repository import CouponRepository
from patron.errors import ConflictError, FieldIssue, NotFoundError, ValidationError
from patron.promotions.definitions import Ruleset

MAX_SYNC_COUPONS = 10_000  # a batch the API creates in one request; larger ones are the CLI's
MAX_CLI_COUPONS = 10_000_000
MAX_IMPORT_ROWS = 10_000  # per API request (the body limit bounds it too)
MAX_CLI_IMPORT_ROWS = 200_000
MIN_CODE_LENGTH = 4  # Talon.One's Coupon.value (its SDK refuses a shorter code)
MAX_COUNT_LIMIT = 999_999  # Talon.One's usageLimit and reservationLimit
MAX_DISCOUNT_LIMIT = Decimal("1000000000000000")
MAX_RECIPIENT_BYTES = 1000
WRITE_CHUNK = 1000  # coupons per write step (40 BatchExecuteStatement calls, 8 in flight)
_CURSOR_PART_BITS = 24  # an imported batch's cursor: part << 24 | offset inside the part


class CampaignNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("The live ruleset has no campaign with this id.", code="campaign_not_found")


class CouponsNotEnabledError(ValidationError):
    def __init__(self) -> None:
        message = "The campaign does not have the coupons feature (features: [coupons])."
        super().__init__(
            message, [FieldIssue("campaignId", "coupons_feature_required", message)], code="coupons_feature_required"
        )


class CouponNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No coupon has this code.", code="coupon_not_found")


class BatchNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No coupon batch has this id.", code="coupon_batch_not_found")


class ImportConflictError(ConflictError):
    """Imported codes that exist already: nothing was written."""

    def __init__(self, issues: list[FieldIssue]):
        super().__init__("Some imported codes exist already; nothing was imported.", code="coupon_exists")
        self.details = issues


class CampaignSource(Protocol):
    def live(self, application_id: int) -> Ruleset | None:
        """The application's live ruleset (None: nothing published)."""
        ...


class ImportRow(msgspec.Struct, frozen=True):
    line: int  # in the file, the header being line 1
    code: str
    terms: CouponTerms


class Creation(msgspec.Struct, frozen=True):
    batch: CouponBatch | None
    created: int
    coupons: list[Coupon] = msgspec.field(default_factory=list)  # kept only when asked (the API's answer)
    # Imports: lines whose code was taken by another writer between the check and the write.
    rejected_lines: list[int] = msgspec.field(default_factory=list)


class BatchPage(msgspec.Struct, frozen=True):
    batch: CouponBatch
    coupons: list[Coupon]
    next_cursor: str | None


Progress = Callable[[int], None]


def _no_progress(_: int) -> None:
    return None


def terms_issues(terms: CouponTerms, root: str = "") -> list[FieldIssue]:
    """Faults in what coupons are given (the wire checks shapes; CSV rows come here unchecked)."""

    def at(name: str) -> str:
        return f"{root}.{name}" if root else name

    issues: list[FieldIssue] = []
    for name, value in (("usageLimit", terms.usage_limit), ("reservationLimit", terms.reservation_limit)):
        if not 0 <= value <= MAX_COUNT_LIMIT:
            issues.append(FieldIssue(at(name), "out_of_range", f"Between 0 and {MAX_COUNT_LIMIT}."))
    if terms.profile_limit < 0 or terms.profile_limit > MAX_COUNT_LIMIT:
        message = f"A per-profile limit is between 0 and {MAX_COUNT_LIMIT}."
        issues.append(FieldIssue(at("limits"), "out_of_range", message))
    limit = terms.discount_limit
    if limit is not None and not (limit.is_finite() and 0 <= limit <= MAX_DISCOUNT_LIMIT):
        issues.append(FieldIssue(at("discountLimit"), "out_of_range", f"Between 0 and {MAX_DISCOUNT_LIMIT}."))
    issues += period_issues(terms.start_date, terms.expiry_date, root)
    recipient = terms.recipient_integration_id
    if recipient is not None:
        size = len(recipient.encode("utf-8", "surrogatepass"))
        if not recipient or size > MAX_RECIPIENT_BYTES or has_control(recipient):
            message = f"An integration id of 1 to {MAX_RECIPIENT_BYTES} bytes of text, without control characters."
            issues.append(FieldIssue(at("recipientIntegrationId"), "invalid_integration_id", message))
    return issues + attributes_issues(terms.attributes, "Coupon", root)


def fixed_code_issue(code: str, path: str) -> FieldIssue | None:
    problem = code_issue(code)
    if problem is not None:
        return FieldIssue(path, "invalid_code", problem)
    if len(code) < MIN_CODE_LENGTH:
        return FieldIssue(path, "invalid_code", f"A coupon code holds at least {MIN_CODE_LENGTH} characters.")
    if has_control(code):
        return FieldIssue(path, "invalid_code", "A coupon code cannot hold control characters.")
    if "\ufffd" in code:
        message = "A coupon code cannot hold U+FFFD (text that was not UTF-8 where it came from)."
        return FieldIssue(path, "invalid_code", message)
    return None


def settings_issue(settings: CodeSettings) -> FieldIssue | None:
    """Faults of generator settings the generator itself accepts: codes too short for Talon.One's clients, control
    characters in the code."""
    shortest = len(settings.prefix) + len(settings.template) + len(settings.suffix)
    if shortest < MIN_CODE_LENGTH:
        message = f"Codes would be shorter than {MIN_CODE_LENGTH} characters."
        return FieldIssue("couponPattern", "invalid_code_settings", message)
    for path, text in (
        ("validCharacters", settings.charset),
        ("couponPattern", settings.template),
        ("prefix", settings.prefix),
        ("suffix", settings.suffix),
    ):
        if has_control(text):
            return FieldIssue(path, "invalid_code_settings", "Control characters cannot be part of a code.")
    return None


def encode_cursor(position: int) -> str:
    return str(position)


def decode_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise ValidationError(
            "The request is invalid.", [FieldIssue("query.cursor", "invalid_cursor", "Not a cursor we gave.")]
        )
    return int(cursor)


class CouponService:
    def __init__(
        self,
        repository: CouponRepository,
        campaigns: CampaignSource,
        clock: Clock,
        new_key: Callable[[], bytes] = lambda: secrets.token_bytes(32),
    ):
        self._repository = repository
        self._campaigns = campaigns
        self._clock = clock
        self._new_key = new_key

    # -- the campaign ----------------------------------------------------------------------------------------

    def case_sensitive(self, application_id: int) -> bool:
        ruleset = self._campaigns.live(application_id)
        return ruleset.settings.case_sensitive_codes if ruleset is not None else True

    def _campaign(self, application_id: int, campaign_id: int) -> bool:
        """Whether codes are case-sensitive, once the campaign is known to take coupons."""
        ruleset = self._campaigns.live(application_id)
        campaign = next((c for c in ruleset.campaigns if c.id == campaign_id), None) if ruleset else None
        if ruleset is None or campaign is None:
            raise CampaignNotFoundError()
        if "coupons" not in campaign.features:
            raise CouponsNotEnabledError()
        return ruleset.settings.case_sensitive_codes

    # -- one coupon ------------------------------------------------------------------------------------------

    def create_coupon(self, application_id: int, campaign_id: int, code: str, terms: CouponTerms) -> Coupon:
        issues = terms_issues(terms)
        if (issue := fixed_code_issue(code, "value")) is not None:
            issues.insert(0, issue)
        if issues:
            raise invalid(issues)
        case_sensitive = self._campaign(application_id, campaign_id)
        code = normalise_code(code, case_sensitive)
        if (issue := fixed_code_issue(code, "value")) is not None:  # upper-casing can lengthen a code
            raise invalid([issue])
        coupon_id = self._repository.allocate_ids(application_id, 1)
        coupon = terms.coupon(code, campaign_id, coupon_id, self._clock.now(), None, False)
        self._repository.put_coupon(application_id, coupon)
        return coupon

    # -- generated batches -----------------------------------------------------------------------------------

    def create_batch(
        self,
        application_id: int,
        campaign_id: int,
        settings: CodeSettings,
        count: int,
        terms: CouponTerms,
        *,
        max_count: int = MAX_SYNC_COUPONS,
        keep: bool = True,
        progress: Progress = _no_progress,
    ) -> Creation:
        """`count` coupons with generated codes. `keep`: answer them (an API call); the CLI's large batches keep
        none (memory stays flat) and report progress instead."""
        issues = terms_issues(terms)
        if not 1 <= count <= max_count:
            message = f"Between 1 and {max_count} coupons at once" + (
                "; larger batches: `patron coupons create`." if max_count == MAX_SYNC_COUPONS else "."
            )
            issues.insert(0, FieldIssue("numberOfCoupons", "out_of_range", message))
        if (issue := settings_issue(settings)) is not None:
            issues.append(issue)
        if issues:
            raise invalid(issues)
        case_sensitive = self._campaign(application_id, campaign_id)
        settings = settings.for_application(case_sensitive)
        check_room(settings, count)
        first_id = self._repository.allocate_ids(application_id, count)
        batch = CouponBatch(
            application_id=application_id,
            batch_id=batch_id_for(first_id),
            campaign_id=campaign_id,
            kind=BatchKind.GENERATED,
            created=self._clock.now(),
            count=count,
            first_id=first_id,
            settings=settings,
            key=self._new_key(),
            terms=terms,
        )
        self._repository.put_batch(batch)
        generator = CodeGenerator(settings, batch.key)
        space = settings.space
        taken = 0  # the generator's codes used so far
        written = 0
        kept: list[Coupon] = []
        while written < count:
            size = min(WRITE_CHUNK, count - written)
            ids = range(first_id + written, first_id + written + size)
            codes = [generator.code(index) for index in range(taken, taken + size)]
            taken += size
            pending = [
                terms.coupon(code, campaign_id, coupon_id, batch.created, batch.batch_id, False)
                for code, coupon_id in zip(codes, ids, strict=True)
            ]
            done: list[Coupon] = []
            while pending:
                existed = self._repository.insert_coupons(application_id, pending)
                done += [coupon for coupon, there in zip(pending, existed, strict=True) if not there]
                again = [coupon for coupon, there in zip(pending, existed, strict=True) if there]
                if again and taken + len(again) > space:
                    raise ConflictError("The codes these settings allow are used up.", code="code_space_exhausted")
                pending = [_with_code(coupon, generator.code(taken + n)) for n, coupon in enumerate(again)]
                taken += len(again)
            if terms.recipient_integration_id is not None:
                self._repository.put_holdings(application_id, done)
            written += size
            if keep:
                kept += sorted(done, key=lambda coupon: coupon.id)
            progress(written)
        finished = self._clock.now()
        self._repository.finish_batch(application_id, batch.batch_id, taken, finished)
        stored = _finished(batch, taken, finished)
        return Creation(stored, written, kept)

    # -- imports ---------------------------------------------------------------------------------------------

    def import_coupons(
        self,
        application_id: int,
        campaign_id: int,
        rows: Sequence[ImportRow],
        *,
        max_rows: int = MAX_IMPORT_ROWS,
        keep: bool = True,
        progress: Progress = _no_progress,
    ) -> Creation:
        """Every row is checked before anything is written (400 naming each faulty line); then the codes already
        held (409 naming each line; nothing written); then the coupons go out as one batch."""
        if not rows:
            raise invalid([FieldIssue("csv", "empty_import", "The file holds no coupon.")])
        if len(rows) > max_rows:
            message = f"At most {max_rows} coupons per import."
            raise invalid([FieldIssue("csv", "too_many_rows", message)])
        issues: list[FieldIssue] = []
        for row in rows:
            issues += terms_issues(row.terms, root=f"csv[{row.line}]")
        if issues:
            raise invalid(issues)
        case_sensitive = self._campaign(application_id, campaign_id)
        seen: dict[str, int] = {}
        codes: list[str] = []
        for row in rows:
            code = normalise_code(row.code, case_sensitive)
            path = f"csv[{row.line}].value"
            if (issue := fixed_code_issue(code, path)) is not None:
                issues.append(issue)
            elif code in seen:
                message = (
                    f"The code is on line {seen[code]} already"
                    + ("" if case_sensitive else " (codes are not case-sensitive in this application)")
                    + "."
                )
                issues.append(FieldIssue(path, "duplicate_code", message))
            else:
                seen[code] = row.line
            codes.append(code)
        if issues:
            raise invalid(issues)
        existing = self._repository.existing(application_id, codes)
        if existing:
            raise ImportConflictError(
                [
                    FieldIssue(f"csv[{row.line}].value", "coupon_exists", "A coupon with this code exists already.")
                    for row, code in zip(rows, codes, strict=True)
                    if code in existing
                ][:MAX_REPORTED_ISSUES]
            )
        first_id = self._repository.allocate_ids(application_id, len(rows))
        parts = split_parts(codes)
        batch = CouponBatch(
            application_id=application_id,
            batch_id=batch_id_for(first_id),
            campaign_id=campaign_id,
            kind=BatchKind.IMPORTED,
            created=self._clock.now(),
            count=len(rows),
            first_id=first_id,
            parts=len(parts),
        )
        self._repository.put_batch(batch)
        for number, part in enumerate(parts):
            self._repository.put_part(application_id, batch.batch_id, number, part)
        kept: list[Coupon] = []
        rejected: list[int] = []
        for start in range(0, len(rows), WRITE_CHUNK):
            stop = start + WRITE_CHUNK
            chunk = [
                row.terms.coupon(code, campaign_id, first_id + start + n, batch.created, batch.batch_id, True)
                for n, (row, code) in enumerate(zip(rows[start:stop], codes[start:stop], strict=True))
            ]
            existed = self._repository.insert_coupons(application_id, chunk)
            done = [coupon for coupon, there in zip(chunk, existed, strict=True) if not there]
            rejected += [rows[start + n].line for n, there in enumerate(existed) if there]
            self._repository.put_holdings(application_id, [c for c in done if c.recipient_integration_id])
            if keep:
                kept += done
            progress(min(start + WRITE_CHUNK, len(rows)))
        finished = self._clock.now()
        self._repository.finish_batch(application_id, batch.batch_id, len(rows), finished)
        return Creation(_finished(batch, len(rows), finished), len(rows) - len(rejected), kept, rejected)

    # -- reading ---------------------------------------------------------------------------------------------

    def coupon(self, application_id: int, code: str) -> Coupon:
        """One coupon by its code as presented (normalised as the application's live setting says)."""
        if code_issue(code) is not None:
            raise CouponNotFoundError()
        found = self._repository.coupon(application_id, normalise_code(code, self.case_sensitive(application_id)))
        if found is None:
            raise CouponNotFoundError()
        return found

    def batch(self, application_id: int, batch_id: str) -> CouponBatch:
        if not (batch_id.isascii() and batch_id.isalnum() and len(batch_id) <= 20):
            raise BatchNotFoundError()
        batch = self._repository.batch(application_id, batch_id)
        if batch is None:
            raise BatchNotFoundError()
        return batch

    def batch_page(self, application_id: int, batch_id: str, cursor: str | None, limit: int) -> BatchPage:
        """The batch's coupons from `cursor` (None: the first), at most `limit` (fewer when some codes were
        replaced or taken by another writer); `next_cursor` None on the last page."""
        batch = self.batch(application_id, batch_id)
        position = decode_cursor(cursor)
        if batch.kind is BatchKind.IMPORTED:
            part, offset = position >> _CURSOR_PART_BITS, position & ((1 << _CURSOR_PART_BITS) - 1)
            codes = self._repository.part(application_id, batch_id, part) if part < batch.parts else []
            page = codes[offset : offset + limit]
            end = offset + len(page)
            following: int | None = None
            if end < len(codes):
                following = (part << _CURSOR_PART_BITS) | end
            elif part + 1 < batch.parts:
                following = (part + 1) << _CURSOR_PART_BITS
        else:
            if batch.settings is None or batch.key is None:
                raise BatchNotFoundError()
            generator = CodeGenerator(batch.settings, batch.key)
            # A batch still being written (or interrupted) lists what its first `count` codes hold.
            last = batch.consumed if batch.status is BatchStatus.CREATED else batch.count
            end = min(position + limit, last)
            page = [generator.code(index) for index in range(position, end)] if position < last else []
            following = end if end < last else None
        found = self._repository.coupons(application_id, page)
        coupons = [found[code] for code in page if code in found and found[code].batch_id == batch_id]
        return BatchPage(batch, coupons, encode_cursor(following) if following is not None else None)

    def batch_coupons(self, application_id: int, batch_id: str, page_size: int = 1000) -> Iterator[Coupon]:
        """Every coupon of a batch, page by page (an export: memory holds one page)."""
        cursor: str | None = None
        while True:
            page = self.batch_page(application_id, batch_id, cursor, page_size)
            yield from page.coupons
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


def _with_code(coupon: Coupon, code: str) -> Coupon:
    return replace(coupon, value=code)


def _finished(batch: CouponBatch, consumed: int, finished: datetime) -> CouponBatch:
    return replace(batch, status=BatchStatus.CREATED, consumed=consumed, finished=finished)
