"""The management API's coupon bodies: Talon.One's `NewCoupons` and `Coupon` field names (camelCase), plus Patron's
own `value` (one coupon with this code), `prefix`, `suffix` and `length` (generated codes without a pattern)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from patron.clock import iso
from patron.coupons.batches import CouponBatch, CouponTerms
from patron.coupons.codes import DEFAULT_CHARSET, MAX_PATTERN_LENGTH, CodeSettings
from patron.coupons.service import MAX_COUNT_LIMIT, MAX_SYNC_COUPONS, BatchPage, CampaignNotFoundError, Creation
from patron.coupons.view import CouponLimit as CouponLimit
from patron.coupons.view import CouponView as CouponView
from patron.coupons.view import coupon_view as coupon_view  # the management routes answer coupons too
from patron.errors import FieldIssue, UnsupportedFeatureError, ValidationError

Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT_LIMIT)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
Character = Annotated[str, msgspec.Meta(min_length=1, max_length=1)]
Affix = Annotated[str, msgspec.Meta(max_length=MAX_PATTERN_LENGTH)]


class _Wire(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    pass


class CreateCouponsRequest(_Wire, kw_only=True):
    """Talon.One's NewCoupons. With `value`: one coupon with that code (`numberOfCoupons` 1 or omitted). Without:
    `numberOfCoupons` generated codes (at most 10,000 per request; `patron coupons create` for more)."""

    value: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None
    number_of_coupons: Annotated[int, msgspec.Meta(ge=1, le=MAX_SYNC_COUPONS)] | None = None
    usage_limit: Count = 0
    discount_limit: Decimal | None = None
    reservation_limit: Count = 0
    start_date: Moment | None = None
    expiry_date: Moment | None = None
    limits: Annotated[list[CouponLimit], msgspec.Meta(max_length=1)] = []
    attributes: dict[str, Any] = {}
    recipient_integration_id: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None
    # Generated codes: each `#` of the pattern is one of validCharacters; without a pattern, `length` of them.
    valid_characters: Annotated[list[Character], msgspec.Meta(max_length=256)] | None = None
    coupon_pattern: Annotated[str, msgspec.Meta(min_length=3, max_length=MAX_PATTERN_LENGTH)] | None = None
    unique_prefix: Affix | None = None  # Talon.One's (deprecated) prefix; `prefix` wins when both are given
    prefix: Affix | None = None
    suffix: Affix = ""
    length: Annotated[int, msgspec.Meta(ge=1, le=MAX_PATTERN_LENGTH)] = 8
    is_reservation_mandatory: bool = False
    implicitly_reserved: bool | None = None

    def terms(self) -> CouponTerms:
        if self.implicitly_reserved:
            message = "Implicitly reserved coupons are not supported."
            raise UnsupportedFeatureError(message, "unsupported_implicitly_reserved", "implicitlyReserved")
        return CouponTerms(
            usage_limit=self.usage_limit,
            discount_limit=self.discount_limit,
            reservation_limit=self.reservation_limit,
            profile_limit=self.limits[0].limit if self.limits else 0,
            start_date=self.start_date,
            expiry_date=self.expiry_date,
            recipient_integration_id=self.recipient_integration_id,
            reservation_mandatory=self.is_reservation_mandatory,
            attributes=self.attributes,
        )

    def fixed(self) -> str | None:
        """The code of a single coupon, if one is given."""
        if self.value is not None and self.number_of_coupons not in (None, 1):
            message = "A coupon with a given code is one coupon: omit numberOfCoupons or send 1."
            raise ValidationError(message, [FieldIssue("numberOfCoupons", "conflicting_fields", message)])
        return self.value

    def count(self) -> int:
        if self.number_of_coupons is None:
            message = "numberOfCoupons, or a value (one coupon with that code)."
            raise ValidationError(message, [FieldIssue("numberOfCoupons", "missing_field", message)])
        return self.number_of_coupons

    def settings(self) -> CodeSettings:
        charset = "".join(self.valid_characters) if self.valid_characters is not None else DEFAULT_CHARSET
        prefix = self.prefix if self.prefix is not None else (self.unique_prefix or "")
        return CodeSettings(
            charset=charset, length=self.length, pattern=self.coupon_pattern, prefix=prefix, suffix=self.suffix
        )


class CouponBatchView(_Wire, kw_only=True):
    batch_id: str
    campaign_id: int
    kind: str  # generated | imported
    status: str  # creating | created
    created: str
    finished: str | None = None
    count: int
    first_id: int
    # Generated batches: the settings the codes were made with (as stored: upper-cased when codes are not
    # case-sensitive).
    valid_characters: list[str] | None = None
    coupon_pattern: str | None = None
    prefix: str | None = None
    suffix: str | None = None


class CouponsCreatedResponse(_Wire, kw_only=True):
    """The coupons created (Talon.One's list answer: totalResultSize and data), with their batch."""

    total_result_size: int
    batch: CouponBatchView | None = None
    data: list[CouponView]
    # Imports: lines whose code another writer took between the check and the write (not created).
    rejected_lines: list[int] = []


class CouponBatchResponse(_Wire, kw_only=True):
    batch: CouponBatchView
    data: list[CouponView]
    # Pass as `cursor` for the next page; null: this was the last.
    next_cursor: str | None = None


def batch_view(batch: CouponBatch) -> CouponBatchView:
    settings = batch.settings
    return CouponBatchView(
        batch_id=batch.batch_id,
        campaign_id=batch.campaign_id,
        kind=batch.kind.value,
        status=batch.status.value,
        created=iso(batch.created),
        finished=iso(batch.finished) if batch.finished else None,
        count=batch.count,
        first_id=batch.first_id,
        valid_characters=list(settings.charset) if settings else None,
        coupon_pattern=settings.template if settings else None,
        prefix=settings.prefix if settings else None,
        suffix=settings.suffix if settings else None,
    )


def created_response(creation: Creation) -> CouponsCreatedResponse:
    return CouponsCreatedResponse(
        total_result_size=creation.created,
        batch=batch_view(creation.batch) if creation.batch else None,
        data=[coupon_view(coupon) for coupon in creation.coupons],
        rejected_lines=creation.rejected_lines,
    )


def batch_response(page: BatchPage) -> CouponBatchResponse:
    return CouponBatchResponse(
        batch=batch_view(page.batch),
        data=[coupon_view(coupon) for coupon in page.coupons],
        next_cursor=page.next_cursor,
    )


def parse_campaign_id(text: str) -> int:
    """A path's campaign id; anything that is not one names no campaign (404)."""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise CampaignNotFoundError()
    return int(text)
