"""Application A's key against application B's objects, on every route that addresses an object: all 404, and
B's data unchanged afterwards (also after A writes objects under the same ids, which are A's own)."""

from __future__ import annotations

import json
import uuid


def test_every_route_answers_404_for_another_applications_objects(runtime, tenant, other_tenant):
    a, b = tenant.headers, other_tenant.headers
    suffix = uuid.uuid4().hex[:8]
    customer, order, email = f"iso-{suffix}", f"iso-order-{suffix}", f"iso-{suffix}@example.com"
    assert (
        runtime.request(
            "PUT", f"/v1/customers/{customer}", headers=b, body={"email": email, "attributes": {"owner": "B"}}
        ).status
        == 200
    )
    assert (
        runtime.request(
            "PUT",
            f"/v1/orders/{order}",
            headers=b,
            body={"customerId": customer, "createdAt": "2024-01-01", "amount": 7},
        ).status
        == 200
    )
    before_customer = runtime.request("GET", f"/v1/customers/{customer}", headers=b).json()
    before_order = runtime.request("GET", f"/v1/orders/{order}", headers=b).json()

    probes = [
        ("GET", f"/v1/customer_profiles/{customer}/inventory", {"profile": "true"}, None),
        ("DELETE", f"/v1/customer_data/{customer}", None, None),
        ("GET", f"/v1/customers/{customer}", None, None),
        ("GET", "/v1/customers", {"email": email}, None),
        ("GET", f"/v1/customers/{customer}/orders", None, None),
        ("GET", f"/v1/orders/{order}", None, None),
        ("PUT", f"/v1/orders/{order}/status", None, {"status": "99"}),
        ("DELETE", f"/v1/orders/{order}", None, None),
        ("POST", "/v1/delete_customer", None, json.dumps({"id": customer, "email": email})),
    ]
    for method, path, query, body in probes:
        response = runtime.request(method, path, headers=a, query=query, body=body)
        assert response.status == 404, (method, path, response.status, response.body)

    # A's writes under the same ids create A's own objects; B's are untouched.
    assert (
        runtime.request("PUT", f"/v1/customers/{customer}", headers=a, body={"attributes": {"owner": "A"}}).status
        == 200
    )
    assert (
        runtime.request(
            "PUT",
            f"/v1/orders/{order}",
            headers=a,
            body={"customerId": customer, "createdAt": "2024-02-01", "amount": 1000},
        ).status
        == 200
    )
    assert (
        runtime.request(
            "PUT", f"/v2/customer_profiles/{customer}", headers=a, body={"attributes": {"owner": "A2"}}
        ).status
        == 200
    )
    after_customer = runtime.request("GET", f"/v1/customers/{customer}", headers=b).json()
    after_order = runtime.request("GET", f"/v1/orders/{order}", headers=b).json()
    assert after_customer == before_customer and after_order == before_order
    assert after_customer["stats"]["totalSales"] == 7


def test_sessions_and_events_of_another_application_are_404_or_its_own(runtime, tenant, other_tenant):
    a, b = tenant.headers, other_tenant.headers
    suffix = uuid.uuid4().hex[:8]
    session, customer = f"iso-s-{suffix}", f"iso-p-{suffix}"
    cart = [{"sku": "S", "price": 40, "quantity": 2}]
    closed = {"customerSession": {"profileId": customer, "state": "closed", "cartItems": cart}}
    assert runtime.request("PUT", f"/v2/customer_sessions/{session}", headers=b, body=closed).status == 200
    before = runtime.request("GET", f"/v2/customer_sessions/{session}", headers=b).json()
    profile_before = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory", headers=b, query={"profile": "true"}
    ).json()

    returned = {"return": {"returnedCartItems": [{"position": 0}]}}
    for method, path, body in (
        ("GET", f"/v2/customer_sessions/{session}", None),
        ("PUT", f"/v2/customer_sessions/{session}/reopen", None),
        ("POST", f"/v2/customer_sessions/{session}/returns", returned),
    ):
        response = runtime.request(method, path, headers=a, body=body)
        assert response.status == 404, (method, path, response.status, response.body)

    # A's session and event under B's ids are A's own; B's session and profile are untouched.
    opened = runtime.request(
        "PUT", f"/v2/customer_sessions/{session}", headers=a, body={"customerSession": {"profileId": customer}}
    )
    assert opened.status == 200
    assert runtime.request("POST", "/v2/events", headers=a, body={"type": "visit", "profileId": customer}).status == 200
    # A's event is stored in A's application only: B's export of the person holds none (docs/events.md).
    exported = runtime.request("GET", f"/v1/customer_data/{customer}", headers=b)
    assert exported.status == 200 and "visit" not in str(exported.json().get("events"))
    assert runtime.request("GET", f"/v2/customer_sessions/{session}", headers=b).json() == before
    profile_after = runtime.request(
        "GET", f"/v1/customer_profiles/{customer}/inventory", headers=b, query={"profile": "true"}
    ).json()
    assert profile_after == profile_before


def test_coupons_reservations_and_referrals_of_another_application_are_404_or_its_own(runtime, tenant, other_tenant):
    """B's coupon, reservation, campaigns and referral code, through A's integration and management keys: 404, or
    A's own objects; B's counters unchanged."""
    from patron.applications.model import Scope
    from tests.integration.coupons import add_coupon, stored
    from tests.integration.rulesets import publish

    a, b = tenant.headers, other_tenant.headers
    suffix = uuid.uuid4().hex[:8].upper()
    rule = {
        "title": "valid",
        "condition": "coupon.valid",
        "effects": [{"type": "setDiscount", "name": "5", "value": 5}],
    }
    referral_rule = {**rule, "condition": "referral.valid"}
    campaigns = [
        {"id": 7, "name": "Coupons", "features": ["coupons"], "rules": [rule]},
        {"id": 8, "name": "Referrals", "features": ["referrals"], "rules": [referral_rule]},
    ]
    publish(runtime, other_tenant.application_id, {"campaigns": campaigns})
    code = f"ISO-{suffix}"
    add_coupon(runtime, other_tenant, code, campaign_id=7, usage_limit=1, reservation_limit=2)
    reserved = runtime.request("POST", f"/v1/coupon_reservations/{code}", headers=b, body={"integrationIDs": ["bob"]})
    assert reserved.status == 201, reserved.body
    created = runtime.request(
        "POST", "/v1/referrals", headers=b, body={"campaignId": 8, "advocateProfileIntegrationId": "bob"}
    )
    assert created.status == 201, created.body
    referral_code = created.json()["code"]
    key = runtime.applications().create_key(tenant.application_id, Scope.MANAGEMENT, "iso").secret
    management = {"Authorization": f"ApiKey-v1 {key}"}

    for method, path, headers, body in (
        ("POST", f"/v1/coupon_reservations/{code}", a, {"integrationIDs": ["eve"]}),
        ("DELETE", f"/v1/coupon_reservations/{code}", a, {"integrationIDs": ["bob"]}),
        ("GET", f"/v1/coupon_reservations/customerprofiles/{code}", a, None),
        ("GET", f"/v1/management/coupons/{code}", management, None),
        ("POST", "/v1/management/campaigns/7/coupons", management, {"value": f"A-{suffix}"}),
        ("POST", "/v1/referrals", a, {"campaignId": 8, "advocateProfileIntegrationId": "eve"}),
    ):
        response = runtime.request(method, path, headers=headers, body=body)
        assert response.status == 404, (method, path, response.status, response.body)

    # In A's sessions (A has the same campaigns), B's codes name nothing.
    publish(runtime, tenant.application_id, {"campaigns": campaigns})
    session = {
        "profileId": "eve",
        "couponCodes": [code],
        "referralCode": referral_code,
        "state": "closed",
        "cartItems": [{"sku": "S", "price": 40, "quantity": 1}],
    }
    answer = runtime.request("PUT", f"/v2/customer_sessions/iso-{suffix}", headers=a, body={"customerSession": session})
    assert answer.status == 200, answer.body
    assert [e["props"]["rejectionReason"] for e in answer.json()["effects"]] == ["CouponNotFound", "ReferralNotFound"]
    after = stored(runtime, other_tenant, code)
    assert (after.usage_counter, after.reservation_counter) == (0, 1)


def test_audiences_of_another_application_are_404_and_unchanged(runtime, tenant, other_tenant):
    a, b = tenant.headers, other_tenant.headers
    member = f"iso-aud-{uuid.uuid4().hex[:8]}"
    audience = runtime.request("POST", "/v2/audiences", headers=b, body={"name": "B's"}).json()
    add = {"data": [{"action": "add", "profileIntegrationId": member, "audienceId": audience["id"]}]}
    assert runtime.request("POST", "/v2/customer_audiences", headers=b, body=add).status == 204
    ours = audience["id"]  # A's applications hold no audience yet: this id is only B's
    probes = [
        ("PUT", f"/v2/audiences/{ours}", {"name": "A's now"}),
        ("DELETE", f"/v2/audiences/{ours}/memberships", None),
        ("PUT", f"/v2/audience_customers/{ours}/attributes", {"owner": "A"}),
        ("DELETE", f"/v2/audiences/{ours}", None),
        ("POST", "/v2/customer_audiences", add),
        (
            "POST",
            "/v2/customer_audiences",
            {"data": [{"action": "delete", "profileIntegrationId": member, "audienceId": ours}]},
        ),
        ("PUT", f"/v2/customer_profiles/{member}", {"audiencesChanges": {"adds": [ours], "deletes": []}}),
        ("PUT", f"/v2/customer_profiles/{member}", {"audiencesChanges": {"adds": [], "deletes": [ours]}}),
    ]
    for method, path, body in probes:
        response = runtime.request(method, path, headers=a, body=body)
        assert response.status == 404, (method, path, response.status, response.body)
    assert runtime.wait_idle(60)
    profile = runtime.request(
        "GET", f"/v1/customer_profiles/{member}/inventory", headers=b, query={"profile": "true"}
    ).json()["profile"]
    assert profile["audienceMemberships"] == [{"id": ours, "name": "B's"}] and profile["attributes"] == {}
    # A's own audience of the same name and a profile of the same id are A's, B's stay as they were.
    mine = runtime.request("POST", "/v2/audiences", headers=a, body={"name": "A's"}).json()
    assert mine["id"] == ours
    mine_add = {"data": [{"action": "add", "profileIntegrationId": member, "audienceId": mine["id"]}]}
    assert runtime.request("POST", "/v2/customer_audiences", headers=a, body=mine_add).status == 204
    again = runtime.request(
        "GET", f"/v1/customer_profiles/{member}/inventory", headers=b, query={"profile": "true"}
    ).json()["profile"]
    assert again["audienceMemberships"] == [{"id": ours, "name": "B's"}]


def test_cart_item_catalogs_of_another_application_are_404_or_its_own(runtime, tenant, other_tenant):
    """B's catalog through A's integration and management keys: 404; A's catalog of the same id is its own, and
    A's sessions never see B's prices."""
    from tests.integration.item_catalogs import add, create_catalog, management_headers, sync

    b_catalog = create_catalog(runtime, other_tenant)
    assert sync(runtime, other_tenant, b_catalog, add("SHARED", 99, attributes={"owner": "B"})).status == 200
    b_manage = management_headers(runtime, other_tenant)
    before = runtime.request("GET", f"/v1/management/catalogs/{b_catalog}", headers=b_manage).json()

    a_manage = management_headers(runtime, tenant)
    for method, path, headers, body in (
        ("GET", f"/v1/management/catalogs/{b_catalog}", a_manage, None),
        ("GET", f"/v1/management/catalogs/{b_catalog}/items/SHARED", a_manage, None),
        ("DELETE", f"/v1/management/catalogs/{b_catalog}", a_manage, None),
        (
            "PUT",
            f"/v1/catalogs/{b_catalog}/sync",
            tenant.headers,
            {"actions": [add("SHARED", 1, replaceIfExists=True)]},
        ),
    ):
        response = runtime.request(method, path, headers=headers, body=body)
        assert response.status == 404, (method, path, response.status, response.body)
    assert runtime.request("GET", "/v1/management/catalogs", headers=a_manage).json()["data"] == []

    # A's catalog of the same id is A's own; B's is untouched, and A's sessions price from A's only.
    assert create_catalog(runtime, tenant) == b_catalog
    assert sync(runtime, tenant, b_catalog, add("OTHER", 5)).status == 200
    session = runtime.request(
        "PUT",
        f"/v2/customer_sessions/iso-cat-{uuid.uuid4().hex[:8]}",
        headers=tenant.headers,
        body={
            "customerSession": {"cartItems": [{"sku": "SHARED", "quantity": 1}]},
            "responseContent": ["customerSession"],
        },
    ).json()
    assert session["customerSession"]["cartItems"][0]["price"] == 0
    assert runtime.request("GET", f"/v1/management/catalogs/{b_catalog}", headers=b_manage).json() == before
    item = runtime.request("GET", f"/v1/management/catalogs/{b_catalog}/items/SHARED", headers=b_manage).json()
    assert (item["price"], item["attributes"]) == (99, {"owner": "B"})
