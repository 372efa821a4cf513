"""Coupon creation records: what a creation shares (terms), a batch (generated or imported codes) and its stored
items (docs/data-model.md, "LedgersTable — coupon batches").

A batch is listed again without an index: a generated batch keeps its generator's settings and key, so its codes are
regenerated in order and fetched by key (BatchGetItem); an imported batch keeps its codes, compressed, in parts.
Either way a coupon costs one write unit and nothing else; the batch adds a few items in all.

  record   PK=APP#<app>#COUPON_BATCHES  SK=BATCH#<batchId>                 the batch (below)
  part     PK=APP#<app>#COUPON_BATCHES  SK=BATCH#<batchId>#PART#<6 digits> codes (zlib of a JSON list), imports only
  counter  PK=APP#<app>#COUPON_BATCHES  SK=COUNTER                         value: the last coupon id handed out
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from patron.clock import iso
from patron.coupons.codes import CodeSettings
from patron.coupons.model import Coupon
from patron.promotions.stored import storable_attributes

COUNTER_SK = "COUNTER"
BATCH_PREFIX = "BATCH#"
PART_INFIX = "#PART#"
# An imported batch's codes go in parts of at most this many bytes of JSON before compression (an item holds 400 KB).
PART_BYTES = 300 * 1024
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


class BatchKind(StrEnum):
    GENERATED = "generated"
    IMPORTED = "imported"


class BatchStatus(StrEnum):
    CREATING = "creating"  # recorded before the first coupon is written; a run interrupted stays so
    CREATED = "created"


class CouponTerms(msgspec.Struct, frozen=True):
    """What a coupon is given besides its code, campaign and id (Talon.One's `NewCoupons`)."""

    usage_limit: int = 0
    discount_limit: Decimal | None = None
    reservation_limit: int = 0
    profile_limit: int = 0
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    recipient_integration_id: str | None = None
    reservation_mandatory: bool = False
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def coupon(
        self, code: str, campaign_id: int, coupon_id: int, created: datetime, batch_id: str | None, imported: bool
    ) -> Coupon:
        return Coupon(
            value=code,
            campaign_id=campaign_id,
            id=coupon_id,
            created=created,
            usage_limit=self.usage_limit,
            discount_limit=self.discount_limit,
            reservation_limit=self.reservation_limit,
            profile_limit=self.profile_limit,
            start_date=self.start_date,
            expiry_date=self.expiry_date,
            recipient_integration_id=self.recipient_integration_id,
            reservation_mandatory=self.reservation_mandatory,
            attributes=dict(self.attributes),
            batch_id=batch_id,
            imported=imported,
        )


class CouponBatch(msgspec.Struct, frozen=True):
    application_id: int
    batch_id: str
    campaign_id: int
    kind: BatchKind
    created: datetime
    count: int  # coupons asked for (generated) or rows (imported)
    first_id: int  # the coupons' ids are first_id .. first_id + count - 1
    status: BatchStatus = BatchStatus.CREATING
    # Generated: how many of the generator's codes were taken (count plus those that existed already).
    consumed: int = 0
    settings: CodeSettings | None = None
    key: bytes | None = None  # the generator's key: lets the batch's codes be regenerated
    terms: CouponTerms | None = None  # generated batches: what every coupon was given
    parts: int = 0  # imported batches: how many parts hold the codes
    finished: datetime | None = None


def batch_id_for(first_id: int) -> str:
    """A batch's id, from its first coupon id (unique, as ids are): `b` and the id in base 36."""
    digits = ""
    number = first_id
    while True:
        number, digit = divmod(number, 36)
        digits = _BASE36[digit] + digits
        if not number:
            return "b" + digits


def batches_pk(application_id: int) -> str:
    return f"APP#{application_id}#COUPON_BATCHES"


def counter_key(application_id: int) -> dict[str, str]:
    return {"PK": batches_pk(application_id), "SK": COUNTER_SK}


def batch_key(application_id: int, batch_id: str) -> dict[str, str]:
    return {"PK": batches_pk(application_id), "SK": BATCH_PREFIX + batch_id}


def part_key(application_id: int, batch_id: str, part: int) -> dict[str, str]:
    return {"PK": batches_pk(application_id), "SK": f"{BATCH_PREFIX}{batch_id}{PART_INFIX}{part:06d}"}


def _terms_item(terms: CouponTerms) -> dict[str, Any]:
    values: dict[str, Any] = {
        "usageLimit": terms.usage_limit,
        "discountLimit": terms.discount_limit,
        "reservationLimit": terms.reservation_limit,
        "profileLimit": terms.profile_limit or None,
        "startDate": iso(terms.start_date) if terms.start_date else None,
        "expiryDate": iso(terms.expiry_date) if terms.expiry_date else None,
        "recipientIntegrationId": terms.recipient_integration_id,
        "reservationMandatory": terms.reservation_mandatory or None,
        "attributes": storable_attributes(terms.attributes) or None,
    }
    return {name: value for name, value in values.items() if value is not None}


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value is not None else None


def _terms_from(item: Mapping[str, Any]) -> CouponTerms:
    limit = item.get("discountLimit")
    return CouponTerms(
        usage_limit=int(item.get("usageLimit", 0)),
        discount_limit=Decimal(limit) if limit is not None else None,
        reservation_limit=int(item.get("reservationLimit", 0)),
        profile_limit=int(item.get("profileLimit", 0)),
        start_date=_time(item.get("startDate")),
        expiry_date=_time(item.get("expiryDate")),
        recipient_integration_id=item.get("recipientIntegrationId"),
        reservation_mandatory=bool(item.get("reservationMandatory", False)),
        attributes=dict(item.get("attributes") or {}),
    )


def batch_item(batch: CouponBatch) -> dict[str, Any]:
    item: dict[str, Any] = {
        **batch_key(batch.application_id, batch.batch_id),
        "campaignId": batch.campaign_id,
        "kind": batch.kind.value,
        "created": iso(batch.created),
        "count": batch.count,
        "firstId": batch.first_id,
        "status": batch.status.value,
        "consumed": batch.consumed,
        "parts": batch.parts,
    }
    if batch.settings is not None:
        settings = batch.settings
        item["settings"] = {
            "charset": settings.charset,
            "length": settings.length,
            "prefix": settings.prefix,
            "suffix": settings.suffix,
            **({"pattern": settings.pattern} if settings.pattern is not None else {}),
        }
    if batch.key is not None:
        item["key"] = batch.key
    if batch.terms is not None:
        item["terms"] = _terms_item(batch.terms)
    if batch.finished is not None:
        item["finished"] = iso(batch.finished)
    return item


def batch_from_item(application_id: int, item: Mapping[str, Any]) -> CouponBatch:
    stored = item.get("settings")
    settings = None
    if stored is not None:
        settings = CodeSettings(
            charset=str(stored["charset"]),
            length=int(stored["length"]),
            pattern=stored.get("pattern"),
            prefix=str(stored.get("prefix", "")),
            suffix=str(stored.get("suffix", "")),
        )
    key = item.get("key")
    terms = item.get("terms")
    return CouponBatch(
        application_id=application_id,
        batch_id=str(item["SK"]).removeprefix(BATCH_PREFIX),
        campaign_id=int(item["campaignId"]),
        kind=BatchKind(str(item["kind"])),
        created=datetime.fromisoformat(str(item["created"])),
        count=int(item["count"]),
        first_id=int(item["firstId"]),
        status=BatchStatus(str(item["status"])),
        consumed=int(item.get("consumed", 0)),
        settings=settings,
        key=bytes(key) if key is not None else None,
        terms=_terms_from(terms) if terms is not None else None,
        parts=int(item.get("parts", 0)),
        finished=_time(item.get("finished")),
    )


def encode_part(codes: Sequence[str]) -> bytes:
    return zlib.compress(json.dumps(list(codes), ensure_ascii=False).encode("utf-8"), 9)


def decode_part(body: bytes) -> list[str]:
    return [str(code) for code in json.loads(zlib.decompress(body).decode("utf-8"))]


def split_parts(codes: Sequence[str], limit: int = PART_BYTES) -> list[list[str]]:
    """The codes in parts of at most `limit` bytes of JSON each (a code takes its UTF-8 bytes and 4 more)."""
    parts: list[list[str]] = []
    current: list[str] = []
    size = 0
    for code in codes:
        cost = len(code.encode("utf-8")) + 4
        if current and size + cost > limit:
            parts.append(current)
            current, size = [], 0
        current.append(code)
        size += cost
    if current:
        parts.append(current)
    return parts
