"""docs/openapi.json as a contract the local runtime keeps: schemathesis generates requests for every operation of
the document from its schemas (valid bodies and, to find the edges, invalid ones), sends them with a tenant's key
over HTTP, and checks that no answer is a 5xx and that every answer matches the document's schema for its status.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import response_schema_conformance

from patron.applications.model import Scope
from patron_local.openapi import OUTPUT
from patron_local.server import serve

EXAMPLES = int(os.environ.get("PATRON_SCHEMATHESIS_EXAMPLES", "50"))  # per operation
SENT: dict[str, int] = {}  # requests sent per operation

schema = schemathesis.openapi.from_path(OUTPUT)
schema.config.generation.update(with_security_parameters=False)


@pytest.fixture(scope="module")
def base_url(runtime) -> Iterator[str]:
    server = serve(runtime.gateway, port=0)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def examples_sent(request) -> Iterator[None]:
    """After an operation's run: it sent every example (unless it failed, and Hypothesis stopped to shrink)."""
    failed = request.session.testsfailed
    yield
    operation = request.node.name.partition("[")[2].rstrip("]")
    if request.session.testsfailed == failed:
        assert SENT.get(operation, 0) >= EXAMPLES, (operation, SENT.get(operation, 0))


_MANAGEMENT_KEYS: dict[int, dict[str, str]] = {}


def management_headers(runtime, tenant) -> dict[str, str]:
    """One management key per tenant (the tenant fixture's key is an integration key)."""
    if tenant.application_id not in _MANAGEMENT_KEYS:
        key = runtime.applications().create_key(tenant.application_id, Scope.MANAGEMENT, "fuzz").secret
        _MANAGEMENT_KEYS[tenant.application_id] = {"Authorization": f"ApiKey-v1 {key}"}
    return _MANAGEMENT_KEYS[tenant.application_id]


@schema.parametrize()
# Every example carries a nonce, so that an operation without parameters runs all its examples too (Hypothesis
# stops once it has tried every distinct input).
@schema.given(nonce=st.integers(min_value=0, max_value=2**32))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # one tenant per operation, shared by its examples: intended
    ],
)
def test_every_operation_answers_as_documented_and_never_5xx(case, nonce, runtime, base_url, tenant, examples_sent):
    SENT[case.operation.label] = SENT.get(case.operation.label, 0) + 1
    if key := (case.headers or {}).get("Idempotency-Key"):
        # Unique: the same key with another body is a 422 before the route runs (tests/unit/test_idempotency.py).
        case.headers["Idempotency-Key"] = f"{key[:200]}{uuid.uuid4().hex}"
    headers = tenant.headers
    if case.operation.path.startswith("/v1/management/"):  # only a management key reaches these routes' code
        headers = management_headers(runtime, tenant)
    response = case.call(base_url=base_url, headers=headers)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


def test_answers_about_objects_that_exist_match_the_document(runtime, base_url, tenant):
    """Generated ids name nothing that exists, so the reads above answer 404: here every operation runs once on
    objects made for it (a customer, an order, a process), and each answer is checked against the document."""
    suffix = uuid.uuid4().hex[:8]
    customer, order, device, email = f"c-{suffix}", f"o-{suffix}", f"d-{suffix}", f"{suffix}@example.com"
    consents = {"email": {"value": True, "source": "checkout"}}
    item = {"sku": "A1", "price": 19.9, "quantity": 2}
    order_body = {"customerId": customer, "createdAt": "2024-05-01", "amount": 39.8, "items": [item], "note": "x"}
    answered: dict[str, int] = {}

    def check(method: str, path: str, ids: dict[str, Any] | None = None, query: Any = None, body: Any = None) -> Any:
        case = schema[path][method].Case(path_parameters=ids, query=query, body=NOT_SET if body is None else body)
        management = path.startswith("/v1/management/")
        response = case.call(
            base_url=base_url, headers=management_headers(runtime, tenant) if management else tenant.headers
        )
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        answered[f"{method} {path}"] = response.status_code
        return response.json() if response.content else None

    check(
        "PUT", "/v1/customers/{integrationId}", {"integrationId": customer}, body={"email": email, "consents": consents}
    )
    check("PUT", "/v1/devices/{deviceId}", {"deviceId": device}, body={"attributes": {"seen": True}})
    check("PUT", "/v1/order_statuses", body={"states": {"90": "cancelled"}, "defaultState": "sale"})
    check("PUT", "/v1/orders/{orderId}", {"orderId": order}, body=order_body)
    check("PUT", "/v1/orders/{orderId}/status", {"orderId": order}, body={"status": 10, "statusLabel": "Paid"})
    check("GET", "/v1/orders/{orderId}", {"orderId": order})
    check("GET", "/v1/customers/{integrationId}/orders", {"integrationId": customer})
    check("GET", "/v1/customers/{integrationId}", {"integrationId": customer})
    check("GET", "/v1/customers", query={"email": email})
    check("PUT", "/v2/customer_profiles/{integrationId}", {"integrationId": customer}, body={"attributes": {"a": 1}})
    check(
        "PUT", "/v2/customer_profiles", query={"silent": "no"}, body={"customerProfiles": [{"integrationId": device}]}
    )
    check("GET", "/v1/customer_profiles/{integrationId}/inventory", {"integrationId": customer}, {"profile": "true"})
    check("GET", "/v1/customer_data/{integrationId}", {"integrationId": customer})
    check("GET", "/v1/attributes/{entity}", {"entity": "order"})
    check("POST", "/v1/attributes/{entity}", {"entity": "order"}, body={"name": "giftWrap", "type": "boolean"})
    check("GET", "/v1/consents")
    check("POST", "/v1/consents", body={"channel": "push"})
    check("GET", "/v1/order_statuses")
    check("POST", "/v1/merge_customer", body={"triggerIntegrations": True, "customer": {"id": f"r-{suffix}"}})
    check("POST", "/v1/merge_order", body={"order": {**order_body, "id": f"r{order}", "customerId": f"r-{suffix}"}})
    check("POST", "/v1/delete_customer", body={"id": f"r-{suffix}"})
    check("POST", "/v1/import/uploads", body={"format": "csv", "contentLength": 10})
    started = check("POST", "/v1/import", body={"customers": [{"id": f"i-{suffix}", "orders": [order_body]}]})
    check("GET", "/v1/processes/{processId}", {"processId": started["processId"]})
    ten = {"type": "setDiscount", "name": "Ten percent", "value": "session.total * 0.1"}
    note = {"type": "showNotification", "title": "Saved", "body": "Ten percent off"}
    rule = {"title": "t", "condition": "session.cartItemTotal >= 100", "effects": [ten, note]}
    campaign = {"id": 1, "name": "Over 100", "rules": [rule]}
    coupon_rule = {"title": "Coupon code is valid", "condition": "coupon.valid", "effects": [ten]}
    coupons = {"id": 2, "name": "Coupons", "features": ["coupons"], "rules": [coupon_rule]}
    referral_rule = {"title": "Referral code is valid", "condition": "referral.valid", "effects": [ten]}
    referrals = {"id": 3, "name": "Referrals", "features": ["referrals"], "rules": [referral_rule]}
    check("POST", "/v1/management/rulesets/plan", body={"campaigns": [campaign]})
    program = {"id": 1, "name": "fuzz", "tiers": [{"name": "Silver", "minPoints": 0}]}
    card_program = {"id": 2, "name": "fuzzcards", "cardBased": True, "usersPerCard": 2}
    first = {
        "campaigns": [campaign, coupons, referrals],
        "loyaltyPrograms": [program, card_program],
        "customEvents": [{"id": 1, "type": "visit", "name": "Visit", "fields": [{"name": "shop", "type": "String"}]}],
        "basedOn": None,
        "note": "first",
    }
    check("POST", "/v1/management/rulesets", body=first)
    check("GET", "/v1/management/rulesets", query={"limit": "5"})
    check("GET", "/v1/management/rulesets/live")
    check("GET", "/v1/management/rulesets/{version}", {"version": "1"})
    check("POST", "/v1/management/rulesets/{version}/rollback", {"version": "1"}, body={"basedOn": 1})
    code = f"FUZZ-{suffix}".upper()
    made = "/v1/management/campaigns/{campaignId}/coupons"
    check("POST", made, {"campaignId": "2"}, body={"value": code, "usageLimit": 5, "reservationLimit": 5})
    batch = check("POST", made, {"campaignId": "2"}, body={"numberOfCoupons": 3, "usageLimit": 1})
    check("GET", "/v1/management/coupons/{couponValue}", {"couponValue": code})
    check("GET", "/v1/management/coupon_batches/{batchId}", {"batchId": batch["batch"]["batchId"]})
    # The import's body is CSV, which the document's JSON-only request schemas do not describe: sent directly.
    imported = requests.post(
        f"{base_url}/v1/management/campaigns/2/coupons/import",
        data=f"value\nIMP-{suffix}\n".encode(),
        headers={**management_headers(runtime, tenant), "Content-Type": "text/csv"},
        timeout=30,
    )
    answered["POST /v1/management/campaigns/{campaignId}/coupons/import"] = imported.status_code
    reservations = "/v1/coupon_reservations/{couponValue}"
    check("POST", reservations, {"couponValue": code}, body={"integrationIDs": [customer]})
    check("GET", "/v1/coupon_reservations/customerprofiles/{couponValue}", {"couponValue": code})
    check("DELETE", reservations, {"couponValue": code}, body={"integrationIDs": [customer]})
    check("POST", "/v1/referrals", body={"campaignId": 3, "advocateProfileIntegrationId": customer, "usageLimit": 1})
    advocates = {"campaignId": 3, "advocateProfileIntegrationIds": [customer, f"adv-{suffix}"]}
    check("POST", "/v1/referrals_for_multiple_advocates", query={"silent": "no"}, body=advocates)
    sessions = "/v2/customer_sessions/{customerSessionId}"
    cart = [{"sku": "S-1", "name": "Shoe", "category": "shoes", "quantity": 2, "price": 60}]
    session = {"profileId": customer, "cartItems": cart, "additionalCosts": {"shipping": {"price": 4.9}}}
    everything = ["customerSession", "customerProfile", "triggeredCampaigns", "ruleFailureReasons"]
    opened = check("PUT", sessions, {"customerSessionId": f"s-{suffix}"}, body={"customerSession": session})
    assert [effect["effectType"] for effect in opened["effects"]] == ["setDiscount", "showNotification"]
    closed = {"customerSession": {"state": "closed"}, "responseContent": everything}
    check("PUT", sessions, {"customerSessionId": f"s-{suffix}"}, body=closed)
    check("GET", sessions, {"customerSessionId": f"s-{suffix}"})
    balances = "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/balances"
    check("GET", balances, {"loyaltyProgramId": 1, "integrationId": customer}, {"includeTiers": "true"})
    activate = "/v1/loyalty_programs/{loyaltyProgramId}/activate_points"
    check("POST", activate, {"loyaltyProgramId": 1}, body={"sessionId": f"s-{suffix}"})
    member = "/v1/management/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}"
    ids = {"loyaltyProgramId": 1, "integrationId": customer}
    check("POST", f"{member}/add_points", ids, body={"points": 20, "name": "Goodwill", "reference": f"r-{suffix}"})
    check("POST", f"{member}/deduct_points", ids, body={"points": 5, "name": "Correction"})
    transfer = {"fromIntegrationId": customer, "toIntegrationId": device, "points": 5, "name": "Gift"}
    check(
        "POST", "/v1/management/loyalty_programs/{loyaltyProgramId}/transfers", {"loyaltyProgramId": 1}, body=transfer
    )
    check("GET", balances.replace("balances", "points"), ids, {"status": "active"})
    check("GET", balances.replace("balances", "transactions"), ids, {"pageSize": "5"})
    check("GET", balances.replace("balances", "expirations"), ids)
    card = check("POST", "/v1/loyalty_programs/{loyaltyProgramId}/cards", {"loyaltyProgramId": 2}, body={})
    card_ids = {"loyaltyProgramId": 2, "loyaltyCardId": card["identifier"]}
    link = "/v2/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/link_profile"
    check("POST", link, card_ids, body={"integrationId": customer})
    desk_card = "/v1/management/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}"
    check("POST", f"{desk_card}/add_points", card_ids, body={"points": 20, "name": "Goodwill"})
    check("POST", f"{desk_card}/deduct_points", card_ids, body={"points": 5, "name": "Correction"})
    check("PUT", desk_card, card_ids, body={"status": "inactive", "blockReason": "lost"})
    cards = "/v1/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}"
    check("GET", f"{cards}/balances", card_ids, {"subledgerId": ""})
    check("GET", f"{cards}/points", card_ids, {"status": "active"})
    check("GET", f"{cards}/transactions", card_ids, {"pageSize": "5"})
    returned = {"return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}, "responseContent": everything}
    check("POST", f"{sessions}/returns", {"customerSessionId": f"s-{suffix}"}, body=returned)
    # A partially returned session cannot be reopened (Talon.One): another one, closed at once.
    check(
        "PUT", sessions, {"customerSessionId": f"s2-{suffix}"}, body={"customerSession": {**session, "state": "closed"}}
    )
    check("PUT", f"{sessions}/reopen", {"customerSessionId": f"s2-{suffix}"})
    explained = {"customerSession": session, "responseContent": [*everything, "campaignEligibility"]}
    check("PUT", sessions, {"customerSessionId": f"s3-{suffix}"}, {"dry": "true"}, body=explained)
    check("POST", "/v1/management/rulesets/simulate", body={"campaigns": [campaign], "sessions": 10})
    event = {"type": "signup", "profileId": customer, "attributes": {"source": "web"}}
    check(
        "POST", "/v2/events", query={"silent": "no"}, body={**event, "responseContent": ["event", "triggeredCampaigns"]}
    )
    profile_content = {"attributes": {"b": 2}, "responseContent": ["customerProfile", "event", "triggeredCampaigns"]}
    check(
        "PUT",
        "/v2/customer_profiles/{integrationId}",
        {"integrationId": customer},
        {"runRuleEngine": "true"},
        body=profile_content,
    )
    es_email, es_order = f"es-{suffix}@example.com", f"es{order}"
    person = {"email": es_email, "firstName": "Ann", "customAttributes": [{"name": "esNote", "value": "x"}]}
    check("POST", "/customers", body={"mode": "AddOrUpdate", "matchBy": "Email", "data": [person]})
    check("GET", "/customers/{lookup}/{value}", {"lookup": "email", "value": es_email})
    product = {"id": "P", "price": 5, "quantity": 2, "productAttributes": [{"name": "esColour", "value": "red"}]}
    posted = {"id": es_order, "totalValue": 10, "websiteId": 3, "customer": {"email": es_email}, "products": [product]}
    check("POST", "/orders", body={"mode": "Add", "data": [posted]})
    check("PUT", "/orders/status", body={"orderId": es_order, "orderStatus": "paid", "websiteId": 3})
    check("GET", "/orders/{orderId}", {"orderId": es_order})
    check("GET", "/orders/id/{orderId}", {"orderId": es_order}, {"websiteId": "3"})
    fields = [{"name": "shop", "type": "String", "value": "Roma"}]
    check("POST", "/scenariocustomevents", body={"customEventId": 1, "customerEmail": es_email, "dataFields": fields})
    for listed in ("customerattributes", "orderattributes", "productattributes", "customerconsents"):
        check("GET", f"/{listed}")
    check("DELETE", "/orders/{orderId}", {"orderId": es_order})
    check("DELETE", "/orders/id/{orderId}", {"orderId": es_order})
    audience = check("POST", "/v2/audiences", body={"name": "VIP", "integration": "segment", "integrationId": suffix})
    audience_id = {"audienceId": audience["id"]}
    check("PUT", "/v2/audiences/{audienceId}", audience_id, body={"name": "Gold"})
    add = {"action": "add", "profileIntegrationId": customer, "audienceId": audience["id"]}
    check("POST", "/v2/customer_audiences", body={"data": [add]})
    # Its body is the attribute map itself, which the document leaves free (no schema to generate from): sent directly.
    member_attributes = requests.put(
        f"{base_url}/v2/audience_customers/{audience['id']}/attributes",
        json={"segment": "vip"},
        headers=tenant.headers,
        timeout=30,
    )
    answered["PUT /v2/audience_customers/{audienceId}/attributes"] = member_attributes.status_code
    check("DELETE", "/v2/audiences/{audienceId}/memberships", audience_id)
    check("DELETE", "/v2/audiences/{audienceId}", audience_id)
    catalogs, catalog = "/v1/management/catalogs", {"catalogId": "1"}
    check("POST", catalogs, body={"name": "Fuzz", "description": "every SKU"})
    check("GET", catalogs)
    check("GET", f"{catalogs}/{{catalogId}}", catalog)
    synced = {"sku": "F-1", "price": 12.5, "attributes": {"color": "red"}, "product": {"name": "Fuzz"}}
    check("PUT", "/v1/catalogs/{catalogId}/sync", catalog, body={"actions": [{"type": "ADD", "payload": synced}]})
    check("GET", f"{catalogs}/{{catalogId}}/items", catalog, {"limit": "10"})
    check("GET", f"{catalogs}/{{catalogId}}/items/{{sku}}", {**catalog, "sku": "F-1"})
    check("DELETE", f"{catalogs}/{{catalogId}}", catalog)
    check("DELETE", "/v1/orders/{orderId}", {"orderId": order})
    check("DELETE", "/v1/customer_data/{integrationId}", {"integrationId": customer})
    assert not {route: status for route, status in answered.items() if status >= 300}
    document = json.loads(OUTPUT.read_text())["paths"]
    assert set(answered) == {f"{method.upper()} {path}" for path, methods in document.items() for method in methods}
