"""CouponService on in-memory fakes: one coupon, generated batches (collisions replaced, ids in a block, listing
again by regeneration), imports (every faulty line at once, existing codes refused before any write), case
sensitivity, the campaign checks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from patron.coupons import csvimport
from patron.coupons.batches import BatchKind, BatchStatus, CouponTerms, batch_id_for, split_parts
from patron.coupons.codes import CodeGenerator, CodeSettings, CodeSettingsError
from patron.coupons.repository import CouponExistsError
from patron.coupons.service import (
    CampaignNotFoundError,
    CouponNotFoundError,
    CouponService,
    CouponsNotEnabledError,
    ImportConflictError,
)
from patron.errors import ValidationError
from patron.promotions.definitions import Ruleset
from tests.unit.coupons.fakes import FakeCouponRepository, FixedRulesets

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
KEY = bytes(range(32))


class Clock:
    def now(self) -> datetime:
        return NOW


def ruleset(case_sensitive: bool = True) -> Ruleset:
    return msgspec.convert(
        {
            "settings": {"caseSensitiveCodes": case_sensitive},
            "campaigns": [
                {
                    "id": 9,
                    "name": "Coupons",
                    "features": ["coupons"],
                    "rules": [{"title": "valid", "condition": "coupon.valid"}],
                },
                {"id": 1, "name": "Plain", "rules": [{"title": "always"}]},
            ],
        },
        Ruleset,
    )


def service(case_sensitive: bool = True) -> tuple[CouponService, FakeCouponRepository]:
    repository = FakeCouponRepository()
    rulesets = FixedRulesets({1: ruleset(case_sensitive), 2: ruleset(case_sensitive)})
    return CouponService(repository, rulesets, Clock(), new_key=lambda: KEY), repository


def test_one_coupon_is_written_with_its_terms_and_a_new_id():
    coupons, repository = service()
    terms = CouponTerms(usage_limit=2, discount_limit=Decimal("10.50"), recipient_integration_id="alice")
    coupon = coupons.create_coupon(1, 9, "SUMMER25", terms)
    assert coupon.value == "SUMMER25" and coupon.id == 1 and coupon.discount_limit == Decimal("10.50")
    assert repository.holdings == {(1, "alice", "SUMMER25")}
    assert coupons.create_coupon(1, 9, "OTHER-1", CouponTerms()).id == 2
    with pytest.raises(CouponExistsError):
        coupons.create_coupon(1, 9, "SUMMER25", CouponTerms())
    assert coupons.coupon(1, "SUMMER25") == coupon
    with pytest.raises(CouponNotFoundError):
        coupons.coupon(2, "SUMMER25")  # another application


def test_case_insensitive_applications_store_codes_upper_cased():
    coupons, _ = service(case_sensitive=False)
    assert coupons.create_coupon(1, 9, "straße-1", CouponTerms()).value == "STRASSE-1"
    assert coupons.coupon(1, "Strasse-1").value == "STRASSE-1"
    with pytest.raises(CouponExistsError):
        coupons.create_coupon(1, 9, "STRASSE-1", CouponTerms())


def test_the_campaign_must_be_live_and_take_coupons():
    coupons, repository = service()
    with pytest.raises(CampaignNotFoundError):
        coupons.create_coupon(1, 404, "ABCD", CouponTerms())
    with pytest.raises(CampaignNotFoundError):
        coupons.create_coupon(3, 9, "ABCD", CouponTerms())  # nothing published
    with pytest.raises(CouponsNotEnabledError):
        coupons.create_batch(1, 1, CodeSettings(), 3, CouponTerms())
    assert not repository.coupons_by_key and not repository.counters


@pytest.mark.parametrize(
    ("code", "terms", "paths"),
    [
        ("AB", CouponTerms(), ["value"]),
        ("AB\x00CD", CouponTerms(), ["value"]),
        ("ABCD", CouponTerms(usage_limit=-1, reservation_limit=10**7), ["usageLimit", "reservationLimit"]),
        ("ABCD", CouponTerms(discount_limit=Decimal("NaN")), ["discountLimit"]),
        ("ABCD", CouponTerms(start_date=NOW, expiry_date=NOW), ["expiryDate"]),
        ("ABCD", CouponTerms(recipient_integration_id=""), ["recipientIntegrationId"]),
        ("ABCD", CouponTerms(attributes={"x": "y" * 20_000}), ["attributes"]),
        ("ABCD", CouponTerms(attributes={"x": "\ud800"}), ["attributes.x"]),
    ],
)
def test_faulty_terms_are_named_and_nothing_is_written(code, terms, paths):
    coupons, repository = service()
    with pytest.raises(ValidationError) as raised:
        coupons.create_coupon(1, 9, code, terms)
    assert [issue.path for issue in raised.value.details] == paths
    assert not repository.coupons_by_key and not repository.counters


def test_a_batch_replaces_codes_that_exist_and_lists_its_own_again():
    coupons, _ = service()
    settings = CodeSettings(pattern="SUMMER-####")
    # Two of the batch's first codes are taken already (the generator's own, as another batch might have).
    taken = [CodeGenerator(settings, KEY).code(index) for index in (3, 7)]
    for code in taken:
        coupons.create_coupon(1, 9, code, CouponTerms())
    creation = coupons.create_batch(1, 9, settings, 2500, CouponTerms(usage_limit=1))
    batch = creation.batch
    assert batch is not None and batch.status is BatchStatus.CREATED and batch.kind is BatchKind.GENERATED
    assert creation.created == 2500 and len({c.value for c in creation.coupons}) == 2500
    assert not set(taken) & {c.value for c in creation.coupons}
    assert batch.consumed == 2502 and batch.batch_id == batch_id_for(3)
    assert sorted(c.id for c in creation.coupons) == list(range(3, 2503))
    listed = list(coupons.batch_coupons(1, batch.batch_id, page_size=300))
    assert sorted(c.value for c in listed) == sorted(c.value for c in creation.coupons)
    page = coupons.batch_page(1, batch.batch_id, None, 10)
    assert len(page.coupons) == 8 and page.next_cursor == "10"  # two of the first ten codes were someone else's


def test_a_large_batch_keeps_nothing_and_reports_progress():
    coupons, repository = service()
    seen: list[int] = []
    creation = coupons.create_batch(
        1, 9, CodeSettings(length=10), 5500, CouponTerms(), max_count=10**7, keep=False, progress=seen.append
    )
    assert creation.coupons == [] and creation.created == 5500 and len(repository.coupons_by_key) == 5500
    assert seen == [1000, 2000, 3000, 4000, 5000, 5500]


def test_batch_size_and_room_are_checked_first():
    coupons, repository = service()
    with pytest.raises(ValidationError) as raised:
        coupons.create_batch(1, 9, CodeSettings(), 10_001, CouponTerms())
    assert raised.value.details[0].path == "numberOfCoupons"
    with pytest.raises(CodeSettingsError) as room:
        coupons.create_batch(1, 9, CodeSettings(pattern="AB##"), 500, CouponTerms())
    assert room.value.code == "code_space_too_small"
    with pytest.raises(ValidationError):
        coupons.create_batch(1, 9, CodeSettings(length=2), 1, CouponTerms())  # codes under 4 characters
    assert not repository.coupons_by_key and not repository.batches


def test_an_import_names_every_faulty_line_before_writing():
    coupons, repository = service()
    text = "value,limitval,expirydate\nGOOD-1,1,\nBAD-1,x,\nBAD-2,,tomorrow\n,1,\n"
    with pytest.raises(ValidationError) as raised:
        coupons.import_coupons(1, 9, csvimport.parse(text))
    assert [i.path for i in raised.value.details] == [
        "csv[3].usageLimit",
        "csv[4].expiryDate",
        "csv[5].value",
    ]
    assert not repository.coupons_by_key


def test_an_import_refuses_codes_that_exist_and_writes_nothing():
    coupons, repository = service()
    coupons.create_coupon(1, 9, "TAKEN-1", CouponTerms())
    with pytest.raises(ImportConflictError) as raised:
        coupons.import_coupons(1, 9, csvimport.parse("value\nNEW-1\nTAKEN-1\n"))
    assert [i.path for i in raised.value.details] == ["csv[3].value"]
    assert coupons_held(repository) == {"TAKEN-1"}


def coupons_held(repository: FakeCouponRepository) -> set[str]:
    return {code for _, code in repository.coupons_by_key}


def test_an_import_in_a_case_insensitive_application_finds_duplicates_by_case():
    coupons, _ = service(case_sensitive=False)
    with pytest.raises(ValidationError) as raised:
        coupons.import_coupons(1, 9, csvimport.parse("value\nabcd-1\nABCD-1\n"))
    assert raised.value.details[0].code == "duplicate_code"


def test_an_imported_batch_is_listed_from_its_parts():
    coupons, repository = service()
    rows = csvimport.parse(
        "value,discountlimit,attributes\n" + "".join(f'C-{n:05d},5,"{{""n"": {n}}}"\n' for n in range(1200))
    )
    creation = coupons.import_coupons(1, 9, rows, keep=False)
    assert creation.created == 1200 and creation.batch is not None and creation.batch.kind is BatchKind.IMPORTED
    listed = [c.value for c in coupons.batch_coupons(1, creation.batch.batch_id, page_size=500)]
    assert listed == [f"C-{n:05d}" for n in range(1200)]
    assert repository.coupon(1, "C-00007").attributes == {"n": 7}  # type: ignore[union-attr]


def test_parts_split_by_size():
    parts = split_parts(["x" * 96] * 10, limit=300)
    assert [len(part) for part in parts] == [3, 3, 3, 1]


def test_batch_ids_and_cursors_refuse_what_was_not_given():
    coupons, _ = service()
    with pytest.raises(Exception) as missing:
        coupons.batch(1, "../etc")
    assert getattr(missing.value, "status", None) == 404
    created = coupons.create_batch(1, 9, CodeSettings(), 3, CouponTerms())
    assert created.batch is not None
    with pytest.raises(ValidationError):
        coupons.batch_page(1, created.batch.batch_id, "x1", 10)
