"""Coupons through the management API and the local runtime (DynamoDB Local, the template's IAM grants enforced):
one coupon, a generated batch, a CSV import, one coupon by code, a batch listed page by page; duplicates; case
sensitivity; another application's coupon; hostile input answered 4xx with codes and paths, nothing written."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Tenant
from tests.integration.rulesets import publish
from tests.integration.test_campaigns_api import management

COUPON_CAMPAIGN: dict[str, Any] = {
    "id": 9,
    "name": "Welcome coupon",
    "features": ["coupons"],
    "rules": [
        {
            "title": "A valid code",
            "condition": "coupon.valid",
            "effects": [{"type": "setDiscount", "name": "10%", "value": "session.total * 0.1"}],
        }
    ],
}
PLAIN_CAMPAIGN: dict[str, Any] = {
    "id": 1,
    "name": "No coupons",
    "rules": [{"title": "Always", "condition": "true", "effects": []}],
}


def _definitions(case_sensitive: bool = True) -> dict[str, Any]:
    return {
        "settings": {"currency": "EUR", "caseSensitiveCodes": case_sensitive},
        "campaigns": [copy.deepcopy(COUPON_CAMPAIGN), copy.deepcopy(PLAIN_CAMPAIGN)],
    }


@pytest.fixture
def ops(runtime, tenant: Tenant) -> dict[str, str]:
    publish(runtime, tenant.application_id, _definitions())
    return management(runtime, tenant)


def _coupons(campaign_id: int = 9) -> str:
    return f"/v1/management/campaigns/{campaign_id}/coupons"


def _ledger_items(runtime: Any, application_id: int, kind: str) -> int:
    """Items of the application under `APP#<id>#<kind>` (a scan of the test's ledgers table, tests only)."""
    client = runtime.dynamodb_client()
    table = runtime.table_names["LedgersTable"]
    prefix = f"APP#{application_id}#{kind}"
    count = 0
    for page in client.get_paginator("scan").paginate(TableName=table):
        count += sum(1 for item in page["Items"] if item["PK"]["S"].startswith(prefix))
    return count


def test_one_coupon_with_its_code_then_read_back_url_encoded(runtime, ops):
    body = {
        "value": "SUMMER25%OFF",
        "usageLimit": 3,
        "discountLimit": 50.25,
        "reservationLimit": 2,
        "startDate": "2026-01-01T00:00:00Z",
        "expiryDate": "2027-01-01T00:00:00+01:00",
        "limits": [{"action": "redeemCoupon", "limit": 1, "entities": ["Profile"]}],
        "attributes": {"channel": "mail"},
        "isReservationMandatory": True,
    }
    created = runtime.request("POST", _coupons(), headers=ops, body=body)
    assert created.status == 201, created.body
    coupon = created.json()["data"][0]
    assert created.json()["totalResultSize"] == 1 and created.json()["batch"] is None
    assert coupon["value"] == "SUMMER25%OFF" and coupon["campaignId"] == 9 and isinstance(coupon["id"], int)

    read = runtime.request("GET", f"/v1/management/coupons/{quote('SUMMER25%OFF', safe='')}", headers=ops)
    assert read.status == 200, read.body
    shown = read.json()
    assert shown == {**coupon, "discountRemainder": 50.25}
    assert shown["usageCounter"] == 0 and shown["usesLeft"] == 3 and shown["discountCounter"] == 0
    assert shown["expiryDate"] == "2026-12-31T23:00:00.000Z"
    assert shown["limits"] == [{"action": "redeemCoupon", "limit": 1, "entities": ["Profile"], "period": None}]

    again = runtime.request("POST", _coupons(), headers=ops, body={"value": "SUMMER25%OFF"})
    assert again.status == 409 and again.json()["code"] == "coupon_exists"


def test_a_personal_code_writes_its_recipients_holding(runtime, tenant, ops):
    created = runtime.request(
        "POST", _coupons(), headers=ops, body={"value": "FOR-ALICE", "recipientIntegrationId": "alice"}
    )
    assert created.status == 201, created.body
    assert created.json()["data"][0]["recipientIntegrationId"] == "alice"
    assert _ledger_items(runtime, tenant.application_id, "HOLDER#alice") == 1


def test_a_generated_batch_is_listed_again_page_by_page(runtime, tenant, ops):
    body = {"numberOfCoupons": 250, "couponPattern": "SUMMER-####-##", "validCharacters": list("ABCDEFGH23456789")}
    created = runtime.request("POST", _coupons(), headers=ops, body={**body, "usageLimit": 1})
    assert created.status == 201, created.body
    answer = created.json()
    codes = [coupon["value"] for coupon in answer["data"]]
    assert answer["totalResultSize"] == 250 and len(set(codes)) == 250
    assert all(code.startswith("SUMMER-") and len(code) == len("SUMMER-####-##") for code in codes)
    ids = sorted(coupon["id"] for coupon in answer["data"])
    assert ids == list(range(ids[0], ids[0] + 250))
    batch = answer["batch"]
    assert batch["kind"] == "generated" and batch["status"] == "created" and batch["count"] == 250

    listed: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = runtime.request("GET", f"/v1/management/coupon_batches/{batch['batchId']}", headers=ops, query=query)
        assert page.status == 200, page.body
        listed += [coupon["value"] for coupon in page.json()["data"]]
        pages += 1
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert pages == 3 and sorted(listed) == sorted(codes)
    assert _ledger_items(runtime, tenant.application_id, "COUPON#") == 250


def test_a_generated_code_that_exists_is_replaced(runtime, ops):
    # A space of 36 ** 2 = 1,296 codes, a batch may take 129: with the first 60 taken by one batch, a second batch
    # of 60 from another key meets some of them and replaces each.
    settings = {"couponPattern": "AB##", "validCharacters": list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}
    first = runtime.request("POST", _coupons(), headers=ops, body={**settings, "numberOfCoupons": 120})
    second = runtime.request("POST", _coupons(), headers=ops, body={**settings, "numberOfCoupons": 120})
    assert first.status == 201 and second.status == 201, (first.body, second.body)
    codes = [c["value"] for c in first.json()["data"]] + [c["value"] for c in second.json()["data"]]
    assert len(codes) == 240 and len(set(codes)) == 240


def test_case_insensitive_codes_are_stored_upper_cased(runtime, tenant):
    publish(runtime, tenant.application_id, _definitions(case_sensitive=False))
    ops = management(runtime, tenant)
    created = runtime.request("POST", _coupons(), headers=ops, body={"value": "straße-10"})
    assert created.status == 201 and created.json()["data"][0]["value"] == "STRASSE-10"
    assert runtime.request("GET", "/v1/management/coupons/Strasse-10", headers=ops).status == 200
    clash = runtime.request("POST", _coupons(), headers=ops, body={"value": "STRASSE-10"})
    assert clash.status == 409
    generated = runtime.request(
        "POST", _coupons(), headers=ops, body={"numberOfCoupons": 5, "validCharacters": list("abcdef"), "length": 6}
    )
    assert generated.status == 201, generated.body
    assert all(c["value"].isupper() for c in generated.json()["data"])


def test_a_csv_import_then_its_batch(runtime, tenant, ops):
    csv = (
        "value,expirydate,limitval,discountlimit,recipientintegrationid,attributes\r\n"
        'GIFT-0001,2027-01-01T00:00:00Z,1,25.50,bob,"{""tier"": ""gold""}"\r\n'
        "GIFT-0002,,0,,,\r\n"
        "\r\n"
        "Gift-0003,,,,,\r\n"
    )
    created = runtime.request(
        "POST", f"{_coupons()}/import", headers={**ops, "Content-Type": "text/csv"}, body=csv.encode()
    )
    assert created.status == 201, created.body
    answer = created.json()
    assert answer["totalResultSize"] == 3 and answer["batch"]["kind"] == "imported"
    first = answer["data"][0]
    assert first["value"] == "GIFT-0001" and first["discountLimit"] == 25.5 and first["attributes"] == {"tier": "gold"}
    assert first["imported"] and first["recipientIntegrationId"] == "bob"
    assert _ledger_items(runtime, tenant.application_id, "HOLDER#bob") == 1
    page = runtime.request("GET", f"/v1/management/coupon_batches/{answer['batch']['batchId']}", headers=ops)
    assert [c["value"] for c in page.json()["data"]] == ["GIFT-0001", "GIFT-0002", "Gift-0003"]

    again = runtime.request(
        "POST",
        f"{_coupons()}/import",
        headers={**ops, "Content-Type": "text/csv"},
        body=b"value\nNEW-CODE-1\nGIFT-0002\n",
    )
    assert again.status == 409 and again.json()["code"] == "coupon_exists", again.body
    assert [e["path"] for e in again.json()["errors"]] == ["csv[3].value"]
    assert runtime.request("GET", "/v1/management/coupons/NEW-CODE-1", headers=ops).status == 404


@pytest.mark.parametrize(
    ("csv", "paths", "codes"),
    [
        (b"", ["csv"], ["empty_import"]),
        (b"code\nX1234\n", ["csv[1]", "csv[1]"], ["unknown_column", "missing_column"]),
        (b"value,limitval\nAAAA-1,-1\nAAAA-2,x\nAAAA-3\n", ["csv[2].usageLimit", "csv[3].usageLimit", "csv[4]"], None),
        (b"value,expirydate\nAAAA-1,2026-01-01\n", ["csv[2].expiryDate"], ["invalid_value"]),
        (b"value\nAAAA-1\naaaa-1\nAAAA-1\n", ["csv[4].value"], ["duplicate_code"]),
        (b"value\nAB\n", ["csv[2].value"], ["invalid_code"]),
        # API Gateway hands a body that is not UTF-8 on as text with U+FFFD in its place: refused as a code.
        (b"value\nAB\xff\xfeCD\n", ["csv[2].value"], ["invalid_code"]),
        (b'value\n"AAAA\x00"\n', ["csv[2].value"], ["invalid_code"]),
        (b'value,attributes\nAAAA-1,"{""a"": ""\\ud800""}"\n', ["csv[2].attributes.a"], ["invalid_text"]),
        (b"value,attributes\nAAAA-1,[1]\n", ["csv[2].attributes"], ["invalid_value"]),
        (b'value\n"AAAA\n', ["csv[2]"], ["malformed_csv"]),
    ],
)
def test_a_faulty_csv_is_refused_whole(runtime, tenant, ops, csv, paths, codes):
    answer = runtime.request("POST", f"{_coupons()}/import", headers={**ops, "Content-Type": "text/csv"}, body=csv)
    assert answer.status == 400, answer.body
    errors = answer.json()["errors"]
    assert [e["path"] for e in errors] == paths
    if codes is not None:
        assert [e["code"] for e in errors] == codes
    assert _ledger_items(runtime, tenant.application_id, "COUPON") == 0


@pytest.mark.parametrize(
    ("body", "status", "code", "path"),
    [
        ({"numberOfCoupons": 10_001}, 400, "invalid_request", "numberOfCoupons"),
        ({"numberOfCoupons": 10**12}, 400, "invalid_request", "numberOfCoupons"),
        ({"numberOfCoupons": 0}, 400, "invalid_request", "numberOfCoupons"),
        ({}, 400, "invalid_request", "numberOfCoupons"),
        ({"numberOfCoupons": 5, "couponPattern": "ABCDEF"}, 400, "invalid_code_settings", "couponPattern"),
        ({"numberOfCoupons": 5, "couponPattern": "X#"}, 400, "invalid_request", "couponPattern"),
        ({"numberOfCoupons": 200, "couponPattern": "AB##"}, 400, "code_space_too_small", "numberOfCoupons"),
        ({"numberOfCoupons": 5, "validCharacters": ["A"]}, 400, "invalid_code_settings", "validCharacters"),
        ({"numberOfCoupons": 5, "validCharacters": ["A", "A", "B"]}, 400, "invalid_code_settings", "validCharacters"),
        ({"numberOfCoupons": 5, "validCharacters": ["AB"]}, 400, "invalid_request", "validCharacters[0]"),
        ({"numberOfCoupons": 5, "validCharacters": ["\u0000", "A"]}, 400, "invalid_request", "validCharacters"),
        ({"numberOfCoupons": 5, "length": 2}, 400, "invalid_request", "couponPattern"),
        ({"numberOfCoupons": 5, "prefix": "x" * 101}, 400, "invalid_request", "prefix"),
        ({"value": ""}, 400, "invalid_request", "value"),
        ({"value": "ABC"}, 400, "invalid_request", "value"),
        ({"value": "AB\nCD"}, 400, "invalid_request", "value"),
        ({"value": "\ud800ABCD"}, 400, "invalid_request", "value"),
        ({"value": "ABCD", "numberOfCoupons": 2}, 400, "invalid_request", "numberOfCoupons"),
        ({"value": "ABCD", "usageLimit": -1}, 400, "invalid_request", "usageLimit"),
        ({"value": "ABCD", "discountLimit": -1}, 400, "invalid_request", "discountLimit"),
        ({"value": "ABCD", "expiryDate": "2026-01-01T00:00:00"}, 400, "invalid_request", "expiryDate"),
        (
            {"value": "ABCD", "startDate": "2027-01-01T00:00:00Z", "expiryDate": "2026-01-01T00:00:00Z"},
            400,
            "invalid_request",
            "expiryDate",
        ),
        ({"value": "ABCD", "limits": [{"action": "x", "limit": 1, "entities": ["Profile"]}]}, 400, None, None),
        ({"value": "ABCD", "attributes": {"a": "x" * 20_000}}, 400, "invalid_request", "attributes"),
        ({"value": "ABCD", "recipientIntegrationId": "a\u0007b"}, 400, "invalid_request", "recipientIntegrationId"),
        ({"value": "ABCD", "implicitlyReserved": True}, 400, "unsupported_implicitly_reserved", "implicitlyReserved"),
        ({"value": "ABCD", "surprise": 1}, 400, "invalid_request", None),
    ],
)
def test_hostile_creation_is_refused_with_its_path(runtime, tenant, ops, body, status, code, path):
    answer = runtime.request("POST", _coupons(), headers=ops, body=body)
    assert answer.status == status, answer.body
    if code is not None:
        assert answer.json()["code"] == code, answer.body
    if path is not None:
        assert path in [e["path"] for e in answer.json().get("errors", [])], answer.body
    assert _ledger_items(runtime, tenant.application_id, "COUPON") == 0


def test_a_campaign_that_takes_no_coupons(runtime, ops):
    without = runtime.request("POST", _coupons(1), headers=ops, body={"value": "ABCD"})
    assert without.status == 400 and without.json()["code"] == "coupons_feature_required"
    assert without.json()["errors"][0]["source"] == {"parameter": "campaignId"}
    for campaign in ("404", "x", "99999999999"):
        missing = runtime.request("POST", _coupons_path(campaign), headers=ops, body={"value": "ABCD"})
        assert missing.status == 404 and missing.json()["code"] == "campaign_not_found", missing.body


def _coupons_path(campaign: str) -> str:
    return f"/v1/management/campaigns/{campaign}/coupons"


def test_an_application_without_a_live_ruleset(runtime, tenant):
    ops = management(runtime, tenant)
    answer = runtime.request("POST", _coupons(), headers=ops, body={"numberOfCoupons": 1})
    assert answer.status == 404 and answer.json()["code"] == "campaign_not_found"


def test_another_applications_coupons_and_batches_are_404(runtime, tenant, other_tenant, ops):
    created = runtime.request("POST", _coupons(), headers=ops, body={"numberOfCoupons": 3})
    batch_id = created.json()["batch"]["batchId"]
    code = created.json()["data"][0]["value"]
    publish(runtime, other_tenant.application_id, _definitions())
    theirs = management(runtime, other_tenant)
    assert runtime.request("GET", f"/v1/management/coupons/{code}", headers=theirs).status == 404
    missing = runtime.request("GET", f"/v1/management/coupon_batches/{batch_id}", headers=theirs)
    assert missing.status == 404 and missing.json()["code"] == "coupon_batch_not_found"
    # The same code in the other application is its own.
    same = runtime.request("POST", _coupons(), headers=theirs, body={"value": code})
    assert same.status == 201


def test_reading_refuses_odd_paths_and_cursors(runtime, ops):
    for path in ("/v1/management/coupons/%F0%9F%8E%81GIFT", "/v1/management/coupon_batches/b%2F..%2Fx"):
        assert runtime.request("GET", path, headers=ops).status == 404
    created = runtime.request("POST", _coupons(), headers=ops, body={"numberOfCoupons": 2})
    batch = created.json()["batch"]["batchId"]
    bad = runtime.request("GET", f"/v1/management/coupon_batches/{batch}", headers=ops, query={"cursor": "x-1"})
    assert bad.status == 400
    too_many = runtime.request("GET", f"/v1/management/coupon_batches/{batch}", headers=ops, query={"limit": "5000"})
    assert too_many.status == 400


def test_integration_keys_cannot_create_coupons(runtime, tenant, ops):
    answer = runtime.request("POST", _coupons(), headers=tenant.headers, body={"value": "ABCD"})
    assert answer.status == 403
