"""ExpertSender ECDP's official plugins (Magento 2, WooCommerce) and third-party clients against Patron: every request
body they send (tests/contract/fixtures/expertsender, written from the plugins' code: docs/research/expertsender-
wire.md) replayed through the local runtime with `x-api-key`, each answered with the status its client requires
and a body it can read; then what they sent is Patron's one customer and order model."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Tenant, new_tenant
from tests.integration.rulesets import publish

FIXTURES = Path(__file__).parent / "fixtures" / "expertsender"
# Requests answered otherwise than their fixture expects, and why.
ANSWERED_OTHERWISE = {
    # ECDP's customer id is Patron's numeric profile id: no customer of this test has the fixture's 53492.
    "third-party/laravel_customers_get_by_id.json": 404,
}
# Writes first, then what reads them: customers, orders, status changes, lookups, the lists.
_ORDER = ("POST /customers", "POST /orders", "PUT /orders/status", "GET /customers", "GET /", "DELETE", "POST /")


def fixtures() -> list[tuple[str, dict[str, Any]]]:
    found = [(str(path.relative_to(FIXTURES)), json.loads(path.read_text())) for path in FIXTURES.glob("*/*.json")]

    def rank(one: tuple[str, dict[str, Any]]) -> tuple[int, str]:
        call = f"{one[1]['method']} {one[1]['path']}"
        return next(i for i, prefix in enumerate(_ORDER) if call.startswith(prefix)), one[0]

    return sorted(found, key=rank)


def send(runtime: Any, tenant: Tenant, fixture: dict[str, Any]) -> Any:
    headers = {name: value for name, value in fixture["headers"].items() if name.lower() != "x-api-key"}
    headers["x-api-key"] = tenant.key
    return runtime.request(fixture["method"], fixture["path"], headers=headers, body=fixture.get("body"))


def seed(runtime: Any, tenant: Tenant) -> None:
    """What a shop sets up before its plugin runs: consent channels 1 to 3 (ECDP numbers them; Patron's channel
    `consent_<n>` has id n), and the customer the Magento lookup fixture reads."""
    consents = {"consent_1": {"value": True}, "consent_2": {"value": True}}
    body = {"email": "anna.kowalska+shop@example.com", "consents": consents}
    assert runtime.request("PUT", "/v1/customers/seed-anna", headers=tenant.headers, body=body).status in (200, 201)
    body = {"email": "lara@example.com", "consents": {"consent_3": {"value": False}}}
    assert runtime.request("PUT", "/v1/customers/seed-lara", headers=tenant.headers, body=body).status in (200, 201)
    # The custom events the scenario fixtures send, as the shop defines them (ids 5 and 12).
    visit = {
        "id": 5,
        "type": "store_visit",
        "name": "Store visit",
        "fields": [
            {"name": "loyaltyCard", "type": "String"},
            {"name": "amount", "type": "Money"},
            {"name": "firstVisit", "type": "Boolean"},
        ],
    }
    receipt = {
        "id": 12,
        "type": "store_receipt",
        "name": "Store receipt",
        "fields": [
            {"name": "storeName", "type": "String"},
            {"name": "receiptTotal", "type": "Number"},
            {"name": "visitDate", "type": "DateTime"},
        ],
    }
    publish(runtime, tenant.application_id, {"settings": {"currency": "PLN"}, "customEvents": [visit, receipt]})


@pytest.fixture(scope="module")
def replayed(runtime: Any) -> tuple[Tenant, dict[str, Any]]:
    tenant = new_tenant(runtime)
    seed(runtime, tenant)
    return tenant, {name: send(runtime, tenant, fixture) for name, fixture in fixtures()}


@pytest.mark.parametrize("name", [name for name, _ in fixtures()])
def test_each_plugin_request_is_answered_as_its_client_requires(replayed, name):
    _, answers = replayed
    fixture = json.loads((FIXTURES / name).read_text())
    answer = answers[name]
    body: Any = answer.json() if answer.body else None
    if name in ANSWERED_OTHERWISE:
        assert answer.status == ANSWERED_OTHERWISE[name], answer.body  # as the comment beside it says
        return
    assert answer.status == fixture["expect"]["status"], answer.body
    # WooCommerce counts any answer with `errors` as failed; Magento and WooCommerce read `data`.
    assert "errors" not in body and body["status"] == 0
    for read in fixture["expect"].get("reads", []):
        path = read.split(" ")[0].split(".")
        value: Any = body
        for part in path:
            if part.endswith("[]"):
                assert isinstance(value.get(part[:-2]), list)
                value = value[part[:-2]][0] if value[part[:-2]] else {}
            elif isinstance(value, dict) and value:
                assert part in value, (read, body)
                value = value[part]


def test_what_the_plugins_sent_is_patrons_one_customer_and_order_model(replayed, runtime):
    tenant, _ = replayed

    def customer(email: str) -> Any:
        answer = runtime.request("GET", f"/v1/customers?email={email}", headers=tenant.headers)
        assert answer.status == 200, answer.body
        return answer.json()

    # WooCommerce's registration, account and address edits and checkout are one customer, with its names,
    # crmId and the consent it gave (channel consent_1, id "1").
    jan = customer("jan.zielinski@example.com")
    assert jan["crmId"] is not None and jan["attributes"].get("firstName")
    assert jan["consents"]["consent_1"]["value"] is True
    # Magento's order counts in its customer's statistics, as a Talon.One or Rfmcube order does.
    anna = customer("anna.kowalska@example.com")
    assert anna["stats"]["ordersCount"] >= 1
    order = runtime.request("GET", "/v1/orders/000000123", headers=tenant.headers).json()
    assert order["status"] == "paid"  # PUT /orders/status after the Add
    # WooCommerce's guest order, cancelled ("Cancelled"): stored, not counted; the consent it repeats is given.
    cancelled = runtime.request("GET", "/v1/orders/1058", headers=tenant.headers).json()
    assert (cancelled["status"], cancelled["state"], cancelled["countsAsSale"]) == ("canceled", "cancelled", False)
    kasia = customer("kasia.lewandowska@example.com")
    assert kasia["stats"]["ordersCount"] == 0 and kasia["consents"]["consent_1"]["value"] is True
    lists = {}
    for kind in ("customerconsents", "orderattributes", "productattributes", "customerattributes"):
        lists[kind] = runtime.request("GET", f"/{kind}", headers={"x-api-key": tenant.key}).json()["data"]
    assert {(c["id"], c["name"], c["type"]) for c in lists["customerconsents"]} >= {(1, "consent_1", "General")}
    assert "shippingMethod" in {a["name"] for a in lists["orderattributes"]}
    assert "color" in {a["name"] for a in lists["productattributes"]}
    assert not {"firstName", "lastName", "gender", "dateOfBirth"} & {a["name"] for a in lists["customerattributes"]}


def test_errors_are_problem_details_with_a_substatus_and_errors_lines(runtime):
    tenant = new_tenant(runtime)
    headers = {"x-api-key": tenant.key}
    bad = {"mode": "Add", "data": [{"email": "not-an-email", "dateOfBirth": "yesterday"}, "x"]}
    answer = runtime.request("POST", "/customers", headers=headers, body=bad)
    assert answer.status == 400
    body = answer.json()
    assert answer.header("Content-Type") == "application/problem+json"
    assert (body["status"], body["substatus"], body["instance"]) == (400, "CustomerInvalidModelState", "/customers")
    assert sorted(body["errors"]) == sorted(
        [
            "data[0].dateOfBirth: Expected an ISO-8601 date.",
            "data[1]: Expected an object.",
        ]
    ) or all(line.startswith("data[") for line in body["errors"])
    # Nothing was written for the valid part of a refused batch.
    good_and_bad = {"mode": "AddOrUpdate", "data": [{"email": "ok@example.com"}, {"email": "nope"}]}
    assert runtime.request("POST", "/customers", headers=headers, body=good_and_bad).status == 400
    assert runtime.request("GET", "/customers/email/ok@example.com", headers=headers).status == 404
    # Add of an existing customer; Update of a missing one.
    assert (
        runtime.request(
            "POST", "/customers", headers=headers, body={"mode": "Add", "data": [{"email": "a@example.com"}]}
        ).status
        == 201
    )
    again = runtime.request(
        "POST", "/customers", headers=headers, body={"mode": "Add", "data": [{"email": "A@example.com"}]}
    )
    assert (again.status, again.json()["substatus"]) == (400, "CustomerAlreadyExists")
    missing = runtime.request(
        "POST", "/customers", headers=headers, body={"mode": "Update", "data": [{"email": "b@example.com"}]}
    )
    assert (missing.status, missing.json()["substatus"]) == (400, "CustomerDoesNotExist")
    unknown = runtime.request("PUT", "/orders/status", headers=headers, body={"orderId": "nope", "orderStatus": "paid"})
    assert (unknown.status, unknown.json()["substatus"]) == (404, "OrderNotFound")
    malformed = runtime.request("POST", "/orders", headers={**headers, "Content-Type": "application/json"}, body=b"{")
    assert malformed.status == 400 and malformed.json()["substatus"] == "OrderInvalidModelState"


def test_another_applications_customers_and_orders_are_not_found(runtime):
    a, b = new_tenant(runtime), new_tenant(runtime)
    post = {"mode": "AddOrUpdate", "matchBy": "Email", "data": [{"email": "only.b@example.com"}]}
    assert runtime.request("POST", "/customers", headers={"x-api-key": b.key}, body=post).status == 201
    order = {"mode": "Add", "data": [{"id": "B-1", "totalValue": 10, "customer": {"email": "only.b@example.com"}}]}
    assert runtime.request("POST", "/orders", headers={"x-api-key": b.key}, body=order).status == 201
    headers = {"x-api-key": a.key}
    assert runtime.request("GET", "/customers/email/only.b@example.com", headers=headers).status == 404
    status = {"orderId": "B-1", "orderStatus": "canceled"}
    assert runtime.request("PUT", "/orders/status", headers=headers, body=status).status == 404
    assert runtime.request("GET", "/v1/orders/B-1", headers=b.headers).json()["status"] == "placed"


def test_erasing_a_customer_the_plugins_sent_leaves_no_trace(runtime):
    from tests.integration.test_erasure import everything

    tenant = new_tenant(runtime)
    canary = uuid.uuid4().hex
    email = f"{canary[:12]}@example.com"
    headers = {"x-api-key": tenant.key}
    person = {"email": email, "lastName": f"L{canary}", "customAttributes": [{"name": "note", "value": canary}]}
    post = {"mode": "AddOrUpdate", "matchBy": "Email", "data": [person]}
    assert runtime.request("POST", "/customers", headers=headers, body=post).status == 201
    order = {
        "id": f"es-{canary[:8]}",
        "totalValue": 20,
        "customer": {"email": email, "crmId": f"crm-{canary}"},
        "products": [{"id": "P", "productAttributes": [{"name": "engraving", "value": canary}]}],
        "orderAttributes": [{"name": "giftNote", "value": canary}],
    }
    assert runtime.request("POST", "/orders", headers=headers, body={"mode": "Add", "data": [order]}).status == 201
    assert canary in everything(runtime)
    integration_id = runtime.request("GET", f"/v1/customers?email={email}", headers=tenant.headers).json()
    path = f"/v1/customer_data/{integration_id['integrationId']}"
    assert runtime.request("DELETE", path, headers=tenant.headers).status == 204
    assert canary not in everything(runtime)
    assert runtime.request("GET", f"/customers/email/{email}", headers=headers).status == 404


def test_wrong_types_oversized_bodies_and_wrong_keys_are_refused_in_ecdps_envelope(runtime):
    tenant = new_tenant(runtime)
    headers = {"x-api-key": tenant.key}
    order = {"id": "W-1", "totalValue": "abc", "customer": {"email": "w@example.com"}, "products": [{"id": {}}]}
    wrong = runtime.request("POST", "/orders", headers=headers, body={"mode": "Sometimes", "data": [order]})
    assert (wrong.status, wrong.json()["substatus"]) == (400, "OrderInvalidModelState")
    assert sorted(line.split(":")[0] for line in wrong.json()["errors"]) == [
        "data[0].products[0].id",
        "data[0].totalValue",
        "mode",
    ]
    assert runtime.request("GET", "/v1/orders/W-1", headers=tenant.headers).status == 404  # nothing written
    huge = {"mode": "Add", "data": [{"email": "h@example.com", "lastName": "x" * 300_000}]}
    too_large = runtime.request("POST", "/customers", headers=headers, body=huge)
    assert (too_large.status, too_large.json()["substatus"]) == (413, "PayloadTooLarge")
    unknown_key = runtime.request("GET", "/customerattributes", headers={"x-api-key": "patron_nope_nope"})
    assert unknown_key.status in (401, 403)
    many = {"mode": "AddOrUpdate", "data": [{"email": f"m{i}@example.com"} for i in range(1001)]}
    assert runtime.request("POST", "/customers", headers=headers, body=many).json()["substatus"] == "TooManyItems"


def test_an_order_reads_back_as_posted_and_a_delete_is_soft_and_idempotent(runtime):
    tenant = new_tenant(runtime)
    headers = {"x-api-key": tenant.key}
    magento = json.loads((FIXTURES / "magento2/orders_add.json").read_text())["body"]
    assert runtime.request("POST", "/orders", headers=headers, body=magento).status == 201
    read = runtime.request("GET", "/orders/id/000000123", headers=headers).json()["data"]
    assert (read["id"], read["status"], read["websiteId"], read["timeZone"]) == ("000000123", "placed", 3, "UTC")
    assert (read["totalValue"], read["currency"], read["customer"]["email"]) == (
        114.98,
        "PLN",
        "anna.kowalska@example.com",
    )
    [product] = read["products"]
    assert (product["id"], product["price"], product["quantity"]) == ("MUG-RED-01", 49.99, 2)
    assert product["productAttributes"] == [{"name": "color", "value": "czerwony"}]  # a null value is absent
    assert read["orderAttributes"] == [{"name": "shippingMethod", "value": "flatrate_flatrate"}]
    assert runtime.request("GET", "/orders/000000123?websiteId=4", headers=headers).status == 404
    for _ in range(2):  # idempotent
        assert runtime.request("DELETE", "/orders/000000123", headers=headers).status == 200
    gone = runtime.request("GET", "/orders/000000123", headers=headers).json()["data"]
    assert (gone["status"], gone["isDeleted"]) == ("Deleted", True)
    anna = runtime.request("GET", "/v1/customers?email=anna.kowalska@example.com", headers=tenant.headers).json()
    assert anna["stats"]["ordersCount"] == 0  # out of the statistics
    assert runtime.request("DELETE", "/orders/id/nope", headers=headers).json()["substatus"] == "OrderNotFound"


def test_an_order_posted_the_ecdp_way_counts_in_a_talon_campaigns_figures(runtime):
    tenant = new_tenant(runtime)
    rule = {
        "title": "Returning customer",
        "condition": "profile.ordersCount >= 1",
        "effects": [{"type": "setDiscount", "name": "Welcome back", "value": 5}],
    }
    publish(runtime, tenant.application_id, {"campaigns": [{"id": 1, "name": "Welcome back", "rules": [rule]}]})
    body = {"email": "tess@example.com"}
    assert runtime.request("PUT", "/v1/customers/talon-tess", headers=tenant.headers, body=body).status in (200, 201)

    def effects() -> list[str]:
        cart = {"profileId": "talon-tess", "cartItems": [{"sku": "s", "price": 20, "quantity": 1}]}
        path = f"/v2/customer_sessions/s-{uuid.uuid4().hex[:8]}"
        answer = runtime.request("PUT", path, headers=tenant.headers, body={"customerSession": cart})
        return [effect["effectType"] for effect in answer.json()["effects"]]

    assert effects() == []
    order = {"id": "WC-7", "status": "Paid", "totalValue": "20", "customer": {"email": "Tess@Example.com"}}
    posted = runtime.request(
        "POST", "/orders", headers={"x-api-key": tenant.key}, body={"mode": "Add", "data": [order]}
    )
    assert posted.status == 201
    assert effects() == ["setDiscount"]  # the ECDP order is the Talon profile's order


def test_a_scenario_custom_event_is_the_customers_tracked_event(replayed, runtime):
    tenant, _ = replayed
    anna = runtime.request("GET", "/v1/customers?email=anna.kowalska@example.com", headers=tenant.headers).json()
    exported = runtime.request("GET", f"/v1/customer_data/{anna['integrationId']}", headers=tenant.headers).json()
    [visit] = [event for event in exported["events"]["events"] if event["type"] == "store_visit"]
    assert visit["attributes"] == {"loyaltyCard": "LC-0001", "amount": 120.5, "firstVisit": True}
    assert visit["source"] == "expertsender" and visit["definitionId"] == 5
    headers = {"x-api-key": tenant.key}
    wrong = {"customEventId": 5, "customerEmail": "anna.kowalska@example.com", "dataFields": [
        {"name": "amount", "type": "Number", "value": "1"}]}  # fmt: skip
    refused = runtime.request("POST", "/scenariocustomevents", headers=headers, body=wrong)
    assert (refused.status, refused.json()["substatus"]) == (400, "CustomEventInvalidModelState")
    assert refused.json()["errors"][0].startswith("dataFields[0].type:")
    unknown = {"customEventId": 99, "customerEmail": "anna.kowalska@example.com"}
    assert runtime.request("POST", "/scenariocustomevents", headers=headers, body=unknown).status == 400
    # ECDP's customer id is the numeric id lookups answer: it names that customer, or nobody (404).
    anna_id = runtime.request("GET", "/customers/email/anna.kowalska@example.com", headers=headers).json()["data"]["id"]
    by_id = {
        "customEventId": 5,
        "customerId": str(anna_id),
        "dataFields": [{"name": "amount", "type": "Money", "value": "3"}],
    }
    assert runtime.request("POST", "/scenariocustomevents", headers=headers, body=by_id).status == 201
    exported = runtime.request("GET", f"/v1/customer_data/{anna['integrationId']}", headers=tenant.headers).json()
    assert sorted(
        e["attributes"].get("amount") for e in exported["events"]["events"] if e["type"] == "store_visit"
    ) == [3, 120.5]
    nobody = runtime.request(
        "POST", "/scenariocustomevents", headers=headers, body={"customEventId": 5, "customerId": 53492}
    )
    assert (nobody.status, nobody.json()["substatus"]) == (404, "CustomerNotFound")
    hashes_only = {"customEventId": 5, "customerEmailMd5": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}
    assert runtime.request("POST", "/scenariocustomevents", headers=headers, body=hashes_only).status == 400
    not_an_id = runtime.request(
        "POST", "/scenariocustomevents", headers=headers, body={"customEventId": 5, "customerId": "x1"}
    )
    assert not_an_id.status == 400 and not_an_id.json()["errors"][0].startswith("customerId:")
    # Beside an identifier that names the customer, an id Patron never gave is read past.
    guid = {"customEventId": 5, "customerId": "a3f1-77", "customerEmail": "anna.kowalska@example.com"}
    assert runtime.request("POST", "/scenariocustomevents", headers=headers, body=guid).status == 201


def test_a_write_reads_each_customer_and_order_once(runtime, meter):
    """POST /customers finds each customer once (its `mode` check and its write share the lookup); POST /orders
    reads each stored order once (its `mode` check, Magento's kept status and the write share it)."""
    tenant = new_tenant(runtime)
    headers = {"x-api-key": tenant.key}
    body = {"mode": "AddOrUpdate", "matchBy": "Email", "data": [{"email": "once@example.com", "firstName": "Una"}]}
    assert runtime.request("POST", "/customers", headers=headers, body=body).status == 201
    mark = meter.mark()
    assert runtime.request("POST", "/customers", headers=headers, body=body).status == 201
    # The e-mail's claim and its profile, then the update's own read of the profile, and its write.
    assert [call.operation for call in meter.since(mark)] == ["GetItem", "GetItem", "GetItem", "UpdateItem"]
    order = {"id": "ONCE-1", "status": "Paid", "totalValue": "20", "customer": {"email": "once@example.com"}}
    assert runtime.request("POST", "/orders", headers=headers, body={"mode": "Add", "data": [order]}).status == 201
    mark = meter.mark()
    again = {**order, "status": "Completed"}
    posted = runtime.request("POST", "/orders", headers=headers, body={"mode": "AddOrReplace", "data": [again]})
    assert posted.status == 201
    orders_table = runtime.table_names["OrdersTable"]
    reads = [call for call in meter.since(mark) if call.operation == "GetItem" and orders_table in call.tables]
    assert len(reads) == 1


def test_an_order_named_only_by_an_unusable_phone_is_refused_before_any_order_is_written(runtime):
    tenant = new_tenant(runtime)
    headers = {"x-api-key": tenant.key}
    good = {"id": "PH-1", "status": "Paid", "totalValue": "20", "customer": {"email": "ph@example.com"}}
    national = {"id": "PH-2", "status": "Paid", "totalValue": "20", "customer": {"phone": "600 700 800"}}
    answer = runtime.request("POST", "/orders", headers=headers, body={"mode": "Add", "data": [good, national]})
    assert answer.status == 400, answer.body
    assert any("data[1].customer.phone" in line for line in answer.json()["errors"])
    assert runtime.request("GET", "/orders/id/PH-1", headers=headers).status == 404  # nothing of the batch written


def _a_failure_woocommerce_records(answer: Any, status: int, substatus: str) -> None:
    """ProblemDetails with ECDP's substatus and `errors` as strings: WooCommerce records a failure only then."""
    body = answer.json()
    assert answer.status == status, answer.body
    assert answer.header("Content-Type") == "application/problem+json"
    assert (body["status"], body["substatus"]) == (status, substatus)
    assert body["errors"] and all(isinstance(line, str) for line in body["errors"])


def test_api_gateways_own_refusals_are_problem_details_with_errors(runtime):
    """A wrong key, a key of another scope, throttling and an unknown route never reach a function: API Gateway
    answers them from the ExpertSender API's own gateway responses, in ECDP's envelope."""
    from patron.applications.model import RateLimit, Scope

    order = {"mode": "Add", "data": [{"id": "GW-1", "customer": {"email": "gw@example.com"}}]}
    wrong = runtime.request("POST", "/orders", headers={"x-api-key": "patron_nope_nope"}, body=order)
    _a_failure_woocommerce_records(wrong, 401, "ApiKeyInvalid")
    public = new_tenant(runtime, scope=Scope.PUBLIC)
    _a_failure_woocommerce_records(
        runtime.request("POST", "/orders", headers={"x-api-key": public.key}, body=order), 403, "ApiKeyForbidden"
    )
    unknown = runtime.request("GET", "/customers", headers={"x-api-key": new_tenant(runtime).key})
    _a_failure_woocommerce_records(unknown, 404, "RouteNotFound")
    limited = new_tenant(runtime, rate=RateLimit(rate=1, burst=2))
    answers = [runtime.request("GET", "/customerattributes", headers={"x-api-key": limited.key}) for _ in range(4)]
    assert [answer.status for answer in answers[:2]] == [200, 200]
    _a_failure_woocommerce_records(answers[-1], 429, "RateLimitExceeded")
    assert int(answers[-1].header("Retry-After") or 0) >= 1
    # The main API's refusals stay in Patron's envelope.
    talon = runtime.request("GET", "/v1/customer_profiles/x/inventory", headers={"x-api-key": "patron_nope_nope"})
    assert talon.status == 401 and talon.json()["code"] == "unauthorized" and "errors" not in talon.json()


def test_a_customer_is_found_by_the_id_lookups_answer_and_only_in_its_application(runtime):
    tenant, other = new_tenant(runtime), new_tenant(runtime)
    headers = {"x-api-key": tenant.key}
    body = {"mode": "AddOrUpdate", "matchBy": "Email", "data": [{"email": "ida@example.com", "firstName": "Ida"}]}
    assert runtime.request("POST", "/customers", headers=headers, body=body).status == 201
    found = runtime.request("GET", "/customers/email/ida@example.com", headers=headers).json()["data"]
    by_id = runtime.request("GET", f"/customers/id/{found['id']}", headers=headers)
    assert by_id.status == 200 and by_id.json()["data"] == found
    assert runtime.request("GET", f"/customers/ID/{found['id']}", headers=headers).json()["data"] == found
    elsewhere = runtime.request("GET", f"/customers/id/{found['id']}", headers={"x-api-key": other.key})
    assert (elsewhere.status, elsewhere.json()["substatus"]) == (404, "CustomerNotFound")
    for wrong in ("abc", "-1", "1.5", "9007199254740993"):
        refused = runtime.request("GET", f"/customers/id/{wrong}", headers=headers)
        assert (refused.status, refused.json()["errors"][0].split(":")[0]) == (400, "id"), wrong
    # An erased customer's id names nobody.
    ida = runtime.request("GET", "/v1/customers?email=ida@example.com", headers=tenant.headers).json()
    assert runtime.request("DELETE", f"/v1/customer_data/{ida['integrationId']}", headers=tenant.headers).status == 204
    assert runtime.request("GET", f"/customers/id/{found['id']}", headers=headers).status == 404


def test_an_order_sent_twice_in_one_request_ends_as_the_last_one_sent(runtime):
    """The request's first copy changes the stored order; the second (the stored content again) is then a change
    too, decided on what the first wrote, not on the order as read before the request's writes."""
    tenant = new_tenant(runtime)
    headers = {"x-api-key": tenant.key}
    paid = {"id": "TWICE-1", "status": "Paid", "totalValue": "20", "customer": {"email": "twice@example.com"}}
    completed = {**paid, "status": "Completed"}
    assert runtime.request("POST", "/orders", headers=headers, body={"mode": "Add", "data": [paid]}).status == 201
    body = {"mode": "AddOrReplace", "data": [completed, paid]}
    assert runtime.request("POST", "/orders", headers=headers, body=body).status == 201
    assert runtime.request("GET", "/orders/id/TWICE-1", headers=headers).json()["data"]["status"] == "paid"


def test_a_customer_created_by_another_request_after_the_lookup_is_updated_not_refused(runtime, monkeypatch):
    """POST /customers looks its customers up before writing them; one that another request creates in between
    makes the guest write fail on its e-mail: the customer is looked up again and updated, not answered 409."""
    from patron.expertsender.customers import ExpertSenderCustomers

    tenant = new_tenant(runtime)
    headers = {"x-api-key": tenant.key}
    first = {"mode": "AddOrUpdate", "matchBy": "Email", "data": [{"email": "race@example.com", "firstName": "A"}]}
    assert runtime.request("POST", "/customers", headers=headers, body=first).status == 201
    real, calls = ExpertSenderCustomers._owner, []

    def stale_first(self: Any, *args: Any) -> Any:
        calls.append(args)
        return None if len(calls) == 1 else real(self, *args)  # the first lookup predates the other request

    monkeypatch.setattr(ExpertSenderCustomers, "_owner", stale_first)
    second = {"mode": "AddOrUpdate", "matchBy": "Email", "data": [{"email": "race@example.com", "firstName": "B"}]}
    answer = runtime.request("POST", "/customers", headers=headers, body=second)
    assert answer.status == 201, answer.body
    assert len(calls) == 2
    found = runtime.request("GET", "/customers/email/race@example.com", headers=headers).json()["data"]
    assert found["firstName"] == "B"
