"""Talon.One's coupon reservations through the local runtime: reserve, list the reserving customers, release;
the reservation limit refuses a request whole; a hard reservation (reservation mandatory) lets only the reserving
profiles redeem; another application's coupon is 404."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Tenant
from tests.integration.coupons import add_coupon, coupon_campaign, stored
from tests.integration.rulesets import tenant_with

CAMPAIGN = coupon_campaign(discount=5)


def reserve(runtime: Any, tenant: Tenant, code: str, *profiles: str, method: str = "POST") -> Any:
    body = {"integrationIDs": list(profiles)}
    return runtime.request(method, f"/v1/coupon_reservations/{code}", headers=tenant.headers, body=body)


def reserved(runtime: Any, tenant: Tenant, code: str) -> Any:
    return runtime.request("GET", f"/v1/coupon_reservations/customerprofiles/{code}", headers=tenant.headers)


def profile(runtime: Any, tenant: Tenant, integration_id: str) -> None:
    answer = runtime.request(
        "PUT", f"/v2/customer_profiles/{integration_id}", headers=tenant.headers, body={"attributes": {}}
    )
    assert answer.status == 200, answer.body


def test_reserve_list_and_release(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_coupon(runtime, tenant, "WALLET", reservation_limit=3)
    for name in ("ann", "bob"):
        profile(runtime, tenant, name)
    created = reserve(runtime, tenant, "WALLET", "ann", "bob", "ann")
    assert created.status == 201, created.body
    assert (created.json()["value"], created.json()["reservationCounter"]) == ("WALLET", 2)
    again = reserve(runtime, tenant, "WALLET", "ann")  # already reserved: no change
    assert again.status == 201 and again.json()["reservationCounter"] == 2
    listed = reserved(runtime, tenant, "WALLET").json()
    assert listed["totalResultSize"] == 2
    assert sorted(p["integrationId"] for p in listed["data"]) == ["ann", "bob"]
    released = reserve(runtime, tenant, "WALLET", "ann", "nobody", method="DELETE")
    assert released.status == 204
    assert [p["integrationId"] for p in reserved(runtime, tenant, "WALLET").json()["data"]] == ["bob"]
    assert stored(runtime, tenant, "WALLET").reservation_counter == 1


def test_a_request_past_the_limit_is_refused_whole(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_coupon(runtime, tenant, "TWO-ONLY", reservation_limit=2)
    refused = reserve(runtime, tenant, "TWO-ONLY", "a", "b", "c")
    assert refused.status == 400
    assert refused.json()["errors"][0]["code"] == "reservation_limit_reached"
    assert stored(runtime, tenant, "TWO-ONLY").reservation_counter == 0
    assert reserved(runtime, tenant, "TWO-ONLY").json()["totalResultSize"] == 0


def test_personal_expired_unknown_and_hostile_requests(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_coupon(runtime, tenant, "ANNS", recipient_integration_id="ann")
    add_coupon(runtime, tenant, "GONE", expiry_date=datetime.now(UTC) - timedelta(days=1))
    assert reserve(runtime, tenant, "ANNS", "bob").json()["errors"][0]["code"] == "coupon_not_reservable"
    assert reserve(runtime, tenant, "GONE", "bob").json()["errors"][0]["code"] == "coupon_expired"
    assert reserve(runtime, tenant, "NOPE", "bob").status == 404
    assert reserved(runtime, tenant, "NOPE").status == 404
    too_many = reserve(runtime, tenant, "ANNS", *[f"p{n}" for n in range(1001)])
    assert too_many.status == 400
    empty = reserve(runtime, tenant, "ANNS", " ")
    assert empty.status == 400 and empty.json()["errors"][0]["path"] == "integrationIDs[0]"
    wrong = runtime.request(
        "POST", "/v1/coupon_reservations/ANNS", headers=tenant.headers, body={"integrationIDs": "ann"}
    )
    assert wrong.status == 400


def test_a_code_with_a_percent_sign_is_url_encoded_in_the_path(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_coupon(runtime, tenant, "SUMMER25%OFF")
    answer = reserve(runtime, tenant, "SUMMER25%25OFF", "ann")
    assert answer.status == 201 and answer.json()["value"] == "SUMMER25%OFF"


def test_a_hard_reservation_lets_only_reserving_profiles_redeem(runtime):
    tenant = tenant_with(runtime, CAMPAIGN)
    add_coupon(runtime, tenant, "VIP-ONLY", reservation_mandatory=True)
    reserve(runtime, tenant, "VIP-ONLY", "ann")

    def session(profile_id: str) -> list[Any]:
        body = {
            "customerSession": {
                "profileId": profile_id,
                "couponCodes": ["VIP-ONLY"],
                "cartItems": [{"sku": "x", "price": 50, "quantity": 1}],
            }
        }
        answer = runtime.request(
            "PUT", f"/v2/customer_sessions/s-{uuid.uuid4().hex[:10]}", headers=tenant.headers, body=body
        )
        return [(e["effectType"], e["props"].get("rejectionReason")) for e in answer.json()["effects"]]

    assert session("ann")[0] == ("acceptCoupon", None)
    assert session("bob") == [("rejectCoupon", "CouponReservationRequired")]


def test_another_applications_coupon_is_404(runtime):
    owner = tenant_with(runtime, CAMPAIGN)
    add_coupon(runtime, owner, "OWNED")
    other = tenant_with(runtime, CAMPAIGN)
    assert reserve(runtime, other, "OWNED", "ann").status == 404
    assert reserve(runtime, other, "OWNED", "ann", method="DELETE").status == 404
    assert reserved(runtime, other, "OWNED").status == 404
    assert stored(runtime, owner, "OWNED").reservation_counter == 0
