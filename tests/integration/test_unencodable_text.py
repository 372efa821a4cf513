"""Text that cannot be stored, at every string position of every route: a 400 naming that position, nothing
written, and every object still readable afterwards.

Each route of the template has a valid example request below (a test fails when a route has none). The test
walks every string position of the example (path ids, query values, a header, every key and string value of the
body at any depth), puts a lone surrogate there (an id: a percent-escape that is not UTF-8, the only way one
reaches a path), and sends it through the local runtime.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patron.applications.model import Scope
from patron.errors import FieldIssue
from patron_local.template import Template
from tests.conftest import Tenant

LONE = "\ud800"
NOT_UTF8 = "%ED%A0%80"  # U+D800 as WTF-8: percent-escapes no UTF-8 decoder accepts
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem", "ExecuteStatement"}
HEADER = "x-client-note"


_TEMPLATE = Template.load(Path(__file__).resolve().parents[2] / "template.yaml")
# The functions no route reaches (queue consumers, schedules): their writes are background work, not a request's.
BACKGROUND = set(_TEMPLATE.functions()) - {route.function_id for route in _TEMPLATE.routes()}


@dataclass(frozen=True)
class Example:
    method: str
    resource: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    # POST /v1/import rejects a record holding such text alone, in its process's report (tests/integration/
    # test_import_bad_records.py): its body is not refused whole.
    body_refused: bool = True
    management: bool = False  # a management route: sent with a management key
    raw: bytes | None = None  # a body that is not JSON (a CSV import), sent as it is


def examples(customer: str, order: str) -> list[Example]:
    profile = {"tier": "gold", "tags": ["a", "b"], "address": {"city": "Milano", "lines": ["via Roma 1"]}}
    consents = {"email": {"value": True, "source": "web-form"}}
    order_body = {
        "customerId": customer,
        "createdAt": "2024-03-01T10:00:00Z",
        "amount": 85.85,
        "currency": "EUR",
        "status": "10",
        "statusLabel": "Completato",
        "delivery": {"province": "MI"},
        "items": [{"sku": "A1", "brand": "nike", "quantity": 1, "price": 85.85}],
    }
    campaign = {
        "id": 1,
        "name": "Ten percent",
        "tags": ["evergreen"],
        "features": ["coupons", "referrals"],
        "rules": [{"title": "Over 100", "condition": "session.cartItemTotal >= 100"}],
    }
    code = f"TXT-{customer}"
    coupons = "/v1/management/campaigns/{campaignId}/coupons"
    reservations = "/v1/coupon_reservations/{couponValue}"
    rulesets = "/v1/management/rulesets"
    sessions = "/v2/customer_sessions/{customerSessionId}"
    member = "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}"
    card = f"{customer}-card"
    card_ids = {"loyaltyProgramId": "2", "loyaltyCardId": card}
    desk_card = "/v1/management/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}"
    programs = [{"id": 1, "name": "txt"}, {"id": 2, "name": "txtcards", "cardBased": True, "usersPerCard": 3}]

    visit = {"id": 1, "type": "txt_visit", "name": "Visit", "fields": [{"name": "shop", "type": "String"}]}
    es_email = f"{customer}-es@example.com"
    es_customer: dict[str, Any] = {
        "email": es_email,
        "firstName": "Ann",
        "customAttributes": [{"name": "esTier", "value": "gold"}],
    }
    es_order_id = f"{order}-es"
    es_order: dict[str, Any] = {
        "id": es_order_id,
        "totalValue": "10.50",
        "customer": {"email": es_email},
        "products": [{"id": "P-1", "name": "Mug", "price": "5.25", "quantity": 2}],
        "orderAttributes": [{"name": "esChannel", "value": "web"}],
        "websiteId": 3,
    }

    def closed_session(attributes: dict[str, Any]) -> dict[str, Any]:
        return {
            "customerSession": {
                "profileId": customer,
                "state": "closed",
                "couponCodes": ["SUMMER"],
                "referralCode": "FRIEND",
                "cartItems": [{"name": "Shoe", "sku": "S-1", "quantity": 2, "price": 50, "category": "shoes"}],
                "additionalCosts": {"shipping": {"price": 4.9}},
                "identifiers": ["device-1"],
                "loyaltyCards": [card],
                "attributes": attributes,
            },
            "responseContent": ["customerSession", "customerProfile"],
        }

    return [
        Example(
            "POST",
            rulesets,
            body={"campaigns": [campaign], "loyaltyPrograms": programs, "customEvents": [visit], "note": "first"},
            management=True,
        ),
        Example("POST", f"{rulesets}/plan", body={"campaigns": [campaign]}, management=True),
        Example("POST", f"{rulesets}/simulate", body={"campaigns": [campaign], "sessions": 5}, management=True),
        Example("GET", rulesets, query={"limit": "5"}, management=True),
        Example("GET", f"{rulesets}/live", management=True),
        Example("GET", f"{rulesets}/{{version}}", {"version": "1"}, management=True),
        Example("POST", f"{rulesets}/{{version}}/rollback", {"version": "1"}, body={"note": "back"}, management=True),
        Example(
            "POST",
            coupons,
            {"campaignId": "1"},
            body={"value": code, "usageLimit": 5, "reservationLimit": 5, "attributes": {"note": "gift"}},
            management=True,
        ),
        Example(
            "POST",
            f"{coupons}/import",
            {"campaignId": "1"},
            raw=f"value\n{code}-imported\n".encode(),
            body_refused=False,
            management=True,
        ),
        Example("GET", "/v1/management/coupons/{couponValue}", {"couponValue": code}, management=True),
        Example("GET", "/v1/management/coupon_batches/{batchId}", {"batchId": "b1"}, management=True),
        Example("POST", reservations, {"couponValue": code}, body={"integrationIDs": [customer]}),
        Example("GET", "/v1/coupon_reservations/customerprofiles/{couponValue}", {"couponValue": code}),
        Example("DELETE", reservations, {"couponValue": code}, body={"integrationIDs": [f"{customer}-other"]}),
        Example(
            "POST",
            "/v1/referrals",
            body={"campaignId": 1, "advocateProfileIntegrationId": customer, "attributes": {"channel": "web"}},
        ),
        Example(
            "POST",
            "/v1/referrals_for_multiple_advocates",
            query={"silent": "no"},
            body={"campaignId": 1, "advocateProfileIntegrationIds": [customer], "attributes": {"channel": "mail"}},
        ),
        Example("PUT", sessions, {"customerSessionId": f"{customer}-s1"}, body=closed_session({"channel": "web"})),
        Example("PUT", sessions, {"customerSessionId": f"{customer}-s2"}, {"dry": "false"}, closed_session({})),
        Example("GET", sessions, {"customerSessionId": f"{customer}-s1"}),
        Example(
            "GET",
            "/v1/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/balances",
            {"loyaltyProgramId": "1", "integrationId": customer},
            {"includeTiers": "true"},
        ),
        Example("GET", f"{member}/points", {"loyaltyProgramId": "1", "integrationId": customer}, {"status": "pending"}),
        Example(
            "GET",
            f"{member}/transactions",
            {"loyaltyProgramId": "1", "integrationId": customer},
            {"loyaltyTransactionType": "session", "startDate": "2024-01-01T00:00:00Z", "pageSize": "10"},
        ),
        Example(
            "GET", f"{member}/expirations", {"loyaltyProgramId": "1", "integrationId": customer}, {"subledgerId": ""}
        ),
        Example(
            "POST",
            "/v1/loyalty_programs/{loyaltyProgramId}/cards",
            {"loyaltyProgramId": "2"},
            body={"cardIdentifier": card, "status": "active", "customerProfileIds": [customer]},
        ),
        Example(
            "POST",
            "/v2/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/link_profile",
            card_ids,
            body={"integrationId": f"{customer}-2"},
        ),
        Example(
            "GET",
            "/v1/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/balances",
            card_ids,
            {"endDate": "2099-01-01T00:00:00Z", "subledgerId": ""},
        ),
        Example(
            "GET",
            "/v1/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/points",
            card_ids,
            {"status": "active"},
        ),
        Example(
            "GET",
            "/v1/loyalty_programs/{loyaltyProgramId}/cards/{loyaltyCardId}/transactions",
            card_ids,
            {"loyaltyTransactionType": "manual", "pageSize": "10"},
        ),
        Example(
            "POST",
            f"{desk_card}/add_points",
            card_ids,
            body={"points": 10, "name": "Goodwill", "reference": "card-r1"},
            management=True,
        ),
        Example(
            "POST", f"{desk_card}/deduct_points", card_ids, body={"points": 1, "name": "Correction"}, management=True
        ),
        Example("PUT", desk_card, card_ids, body={"status": "active", "blockReason": "found"}, management=True),
        Example(
            "POST",
            "/v1/loyalty_programs/{loyaltyProgramId}/activate_points",
            {"loyaltyProgramId": "1"},
            body={"sessionId": f"{customer}-s1"},
        ),
        Example(
            "POST",
            "/v1/management/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/add_points",
            {"loyaltyProgramId": "1", "integrationId": customer},
            body={"points": 10, "name": "Goodwill", "reference": "r1"},
            management=True,
        ),
        Example(
            "POST",
            "/v1/management/loyalty_programs/{loyaltyProgramId}/profile/{integrationId}/deduct_points",
            {"loyaltyProgramId": "1", "integrationId": customer},
            body={"points": 1, "name": "Correction"},
            management=True,
        ),
        Example(
            "POST",
            "/v1/management/loyalty_programs/{loyaltyProgramId}/transfers",
            {"loyaltyProgramId": "1"},
            body={"fromIntegrationId": customer, "toIntegrationId": f"{customer}-2", "points": 1, "name": "Gift"},
            management=True,
        ),
        Example(
            "POST",
            f"{sessions}/returns",
            {"customerSessionId": f"{customer}-s1"},
            body={"return": {"returnedCartItems": [{"position": 0, "quantity": 1}]}, "responseContent": []},
        ),
        Example("PUT", f"{sessions}/reopen", {"customerSessionId": f"{customer}-s2"}),
        Example(
            "POST",
            "/v2/events",
            query={"silent": "no"},
            body={
                "type": "review_written",
                "profileId": customer,
                "storeIntegrationId": "store-1",
                "loyaltyCards": [card],
                "attributes": {"comment": "great"},
                "responseContent": ["event"],
            },
        ),
        Example("GET", "/v1/attributes/{entity}", {"entity": "customer"}),
        Example("POST", "/v1/attributes/{entity}", {"entity": "customer"}, body={"name": "declared", "type": "string"}),
        Example("GET", "/v1/consents"),
        Example("POST", "/v1/consents", body={"channel": "declared_channel"}),
        Example("GET", "/v1/customer_data/{integrationId}", {"integrationId": customer}),
        Example(
            "DELETE", "/v1/customer_data/{integrationId}", {"integrationId": f"{customer}-gone"}, {"anonymise": "true"}
        ),
        Example(
            "GET", "/v1/customer_profiles/{integrationId}/inventory", {"integrationId": customer}, {"profile": "true"}
        ),
        Example("GET", "/v1/customers", query={"email": f"{customer}@example.com"}),
        Example(
            "PUT",
            "/v1/customers/{integrationId}",
            {"integrationId": customer},
            body={
                "email": f"{customer}@example.com",
                "phone": "+393331234567",
                "crmId": f"crm-{customer}",
                "deviceIds": [f"dev-{customer}"],
                "attributes": profile,
                "consents": consents,
            },
        ),
        Example("GET", "/v1/customers/{integrationId}", {"integrationId": customer}),
        Example("GET", "/v1/customers/{integrationId}/orders", {"integrationId": customer}, {"limit": "5"}),
        Example("POST", "/v1/delete_customer", body={"id": f"{customer}-nobody", "email": "nobody@example.com"}),
        Example(
            "PUT",
            "/v1/devices/{deviceId}",
            {"deviceId": f"dev-{customer}-2"},
            body={"attributes": profile, "consents": consents},
        ),
        Example("POST", "/v1/import", body={"customers": [{"id": f"{customer}-imp"}]}, body_refused=False),
        Example("POST", "/v1/import/uploads", body={"format": "json", "contentLength": 10}),
        Example(
            "POST",
            "/v1/merge_customer",
            body={"triggerIntegrations": False, "customer": {"id": customer, "email": f"{customer}@example.com"}},
        ),
        Example("POST", "/v1/merge_order", body={"order": {**order_body, "id": f"{order}-m"}}),
        Example("GET", "/v1/order_statuses"),
        Example("PUT", "/v1/order_statuses", body={"states": {"10": "sale", "20": "returned"}, "defaultState": "sale"}),
        Example("PUT", "/v1/orders/{orderId}", {"orderId": order}, body=order_body),
        Example("GET", "/v1/orders/{orderId}", {"orderId": order}),
        Example("DELETE", "/v1/orders/{orderId}", {"orderId": f"{order}-m"}),
        Example(
            "PUT", "/v1/orders/{orderId}/status", {"orderId": order}, body={"status": "10", "statusLabel": "Completato"}
        ),
        Example("GET", "/v1/processes/{processId}", {"processId": "1"}, {"limit": "10"}),
        # ExpertSender's wire: its errors are ProblemDetails, whose `errors` lines start with the path.
        Example("POST", "/customers", body={"mode": "AddOrUpdate", "matchBy": "Email", "data": [es_customer]}),
        Example("GET", "/customers/{lookup}/{value}", {"lookup": "email", "value": es_email}),
        Example(
            "POST", "/orders", body={"mode": "AddOrReplace", "data": [es_order, {**es_order, "id": f"{order}-es-gone"}]}
        ),
        Example("PUT", "/orders/status", body={"orderId": es_order_id, "orderStatus": "paid"}),
        Example("GET", "/orders/{orderId}", {"orderId": es_order_id}, {"websiteId": "3"}),
        Example("GET", "/orders/id/{orderId}", {"orderId": es_order_id}),
        Example("DELETE", "/orders/{orderId}", {"orderId": f"{order}-es-gone"}),
        Example("DELETE", "/orders/id/{orderId}", {"orderId": f"{order}-es-gone"}, {"websiteId": "3"}),
        Example(
            "POST",
            "/scenariocustomevents",
            body={
                "customEventId": 1,
                "customerEmail": es_email,
                "dataFields": [{"name": "shop", "type": "String", "value": "Roma"}],
            },
        ),
        Example("GET", "/customerattributes"),
        Example("GET", "/orderattributes"),
        Example("GET", "/productattributes"),
        Example("GET", "/customerconsents"),
        Example(
            "PUT",
            "/v2/customer_profiles",
            query={"silent": "no"},
            body={"customerProfiles": [{"integrationId": customer, "attributes": profile}]},
        ),
        Example(
            "PUT",
            "/v2/customer_profiles/{integrationId}",
            {"integrationId": customer},
            {"dry": "false"},
            {"attributes": profile, "responseContent": ["customerProfile"]},
        ),
        # Audiences: a new tenant's first two get ids 1 and 2; the second is emptied, then deleted.
        Example("POST", "/v2/audiences", body={"name": "VIP", "description": "Our best"}),
        Example(
            "POST", "/v2/audiences", body={"name": "M", "integration": "segment", "integrationId": f"s-{customer}"}
        ),
        Example("PUT", "/v2/audiences/{audienceId}", {"audienceId": "1"}, body={"name": "Gold"}),
        Example(
            "POST",
            "/v2/customer_audiences",
            body={
                "data": [
                    {"action": "add", "profileIntegrationId": customer, "audienceId": 1},
                    {"action": "add", "profileIntegrationId": customer, "audienceId": 2},
                ]
            },
        ),
        Example("PUT", "/v2/audience_customers/{audienceId}/attributes", {"audienceId": "1"}, body={"segment": "vip"}),
        Example("DELETE", "/v2/audiences/{audienceId}/memberships", {"audienceId": "2"}),
        Example("DELETE", "/v2/audiences/{audienceId}", {"audienceId": "2"}),
        # Cart item catalogs: created first, deleted last.
        Example("POST", "/v1/management/catalogs", body={"name": "Products", "description": "all"}, management=True),
        Example(
            "PUT",
            "/v1/catalogs/{catalogId}/sync",
            {"catalogId": "1"},
            body={
                "actions": [
                    {
                        "type": "ADD",
                        "payload": {
                            "sku": f"{customer}-sku",
                            "price": 10,
                            "attributes": {"color": "red", "tags": ["a"]},
                            "product": {"name": "Shoe"},
                            "replaceIfExists": True,
                        },
                    }
                ]
            },
        ),
        Example("GET", "/v1/management/catalogs", management=True),
        Example("GET", "/v1/management/catalogs/{catalogId}", {"catalogId": "1"}, management=True),
        Example(
            "GET", "/v1/management/catalogs/{catalogId}/items", {"catalogId": "1"}, {"limit": "5"}, management=True
        ),
        Example(
            "GET",
            "/v1/management/catalogs/{catalogId}/items/{sku}",
            {"catalogId": "1", "sku": f"{customer}-sku"},
            management=True,
        ),
        Example("DELETE", "/v1/management/catalogs/{catalogId}", {"catalogId": "1"}, management=True),
    ]


def positions(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, the value with a lone surrogate at that path) for every string and key of a JSON value."""
    if isinstance(value, str):
        yield path or "$", value + LONE
    elif isinstance(value, dict):
        for key, child in value.items():
            at = f"{path}.{key}" if path else key
            yield f"{at}{LONE}", {(k + LONE if k == key else k): v for k, v in value.items()}
            for inner, changed in positions(child, at):
                yield inner, {**value, key: changed}
    elif isinstance(value, list):
        for index, child in enumerate(value):
            for inner, changed in positions(child, f"{path}[{index}]"):
                yield inner, [*value[:index], changed, *value[index + 1 :]]


def url(resource: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        resource = resource.replace(f"{{{name}}}", value)
    return resource


def shown(path: str) -> str:
    """A path as an error body writes it (a key that is not text is escaped)."""
    return FieldIssue(path, "", "").as_dict()["path"]


def readable_objects(runtime, tenant: Tenant, customer: str, order: str) -> dict[str, Any]:
    """Every object the examples write, as its reads answer it."""
    reads = [
        f"/v1/customers/{customer}",
        f"/v1/customers/{customer}/orders",
        f"/v1/orders/{order}",
        f"/v1/orders/{order}-m",
        f"/v1/customer_profiles/{customer}/inventory?profile=true",
        "/v1/order_statuses",
        "/v1/attributes/customer",
        "/v1/attributes/order",
        f"/v2/customer_sessions/{customer}-s1",
        f"/v2/customer_sessions/{customer}-s2",
    ]
    answers = {}
    for path in reads:
        response = runtime.request("GET", path, headers=tenant.headers)
        assert response.status in (200, 404), (path, response.status, response.body)
        answers[path] = (response.status, response.json())
    return answers


def test_every_route_has_an_example(runtime):
    routes = {(route.method, route.resource) for route in runtime.template.routes()}
    assert routes == {(example.method, example.resource) for example in examples("c", "o")}


def test_text_that_cannot_be_stored_is_refused_at_every_position_and_changes_nothing(runtime, tenant, meter):
    customer, order = f"txt-{uuid.uuid4().hex[:8]}", f"txt-o-{uuid.uuid4().hex[:8]}"
    cases = examples(customer, order)
    key = runtime.applications().create_key(tenant.application_id, Scope.MANAGEMENT, "text").secret
    management = {"Authorization": f"ApiKey-v1 {key}"}

    def headers_for(example: Example) -> dict[str, str]:
        return management if example.management else tenant.headers

    for example in cases:  # the examples are valid: each one works as it stands
        response = runtime.request(
            example.method,
            url(example.resource, example.path_params),
            headers=headers_for(example),
            body=example.raw if example.raw is not None else None if example.body is None else json.dumps(example.body),
            query=example.query or None,
        )
        assert response.status < 400 or response.status == 404, (example.resource, response.body)
    # The import example's chunks are written in the background: counted from here, a write would be theirs.
    assert runtime.wait_idle(60)
    before = readable_objects(runtime, tenant, customer, order)
    tried = 0
    for example in cases:
        hostile: list[tuple[str, dict[str, str], dict[str, str], dict[str, str], Any]] = []
        for name in example.path_params:
            params = {**example.path_params, name: example.path_params[name] + NOT_UTF8}
            hostile.append((name, params, example.query, {}, example.body))
        for name, value in example.query.items():
            hostile.append(
                (f"query.{name}", example.path_params, {**example.query, name: value + LONE}, {}, example.body)
            )
        hostile.append((f"header.{HEADER}", example.path_params, example.query, {HEADER: LONE}, example.body))
        if example.body is not None and example.body_refused:
            hostile += [(at, example.path_params, example.query, {}, body) for at, body in positions(example.body)]
        for at, params, query, extra, body in hostile:
            mark = meter.mark()
            response = runtime.request(
                example.method,
                url(example.resource, params),
                headers={**headers_for(example), **extra},
                body=example.raw if example.raw is not None else None if body is None else json.dumps(body),
                query=query or None,
            )
            label = (example.method, example.resource, at)
            assert response.status == 400, (label, response.status, response.body)
            errors = response.json()["errors"]
            if response.header("Content-Type") == "application/problem+json":  # ExpertSender's envelope
                assert shown(at) in [line.split(": ", 1)[0] for line in errors], (label, errors)
                assert response.json()["substatus"].endswith("InvalidModelState"), label
            else:
                assert shown(at) in [error["path"] for error in errors], (label, errors)
                assert {error["code"] for error in errors} <= {"invalid_text", "invalid_encoding"}, label
            writes = [call for call in meter.since(mark) if call.operation in WRITES]
            # Only the functions serving routes count: a queue consumer's write (an earlier import's chunk
            # finishing, an outbox delivery) in the same instant is not this request's.
            assert not [call.operation for call in writes if meter.function_of(call) not in BACKGROUND], label
            tried += 1
        assert readable_objects(runtime, tenant, customer, order) == before, example.resource
    assert tried > 150  # every position of every example was tried
