"""GET /v1/attributes/{entity} through the local runtime, and the catalog's storage on DynamoDB Local.

The profile routes do not feed the catalog yet, so tests seed it through the service, as those routes will.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from patron.catalog.model import AttributeDescriptor, AttributeType, EntityKind, accepts, infer_type
from patron.catalog.repository import DynamoCatalogRepository
from patron.catalog.service import CatalogService
from patron.errors import ValidationError

EVENTS = Path(__file__).resolve().parents[2] / "events"
T = AttributeType


def repository(runtime) -> DynamoCatalogRepository:
    return DynamoCatalogRepository(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])


def catalog(runtime, store: DynamoCatalogRepository | None = None) -> CatalogService:
    """A service with its own cache: one per simulated Lambda instance."""
    return CatalogService(store or repository(runtime))


class LossCountingRepository(DynamoCatalogRepository):
    """Counts conditional writes that lost to another writer, to show a test really raced."""

    def __init__(self, runtime) -> None:
        super().__init__(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
        self.losses = 0
        self._lock = threading.Lock()

    def add_if_absent(
        self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor
    ) -> AttributeDescriptor | None:
        winner = super().add_if_absent(application_id, kind, descriptor)
        if winner is not None:
            with self._lock:
                self.losses += 1
        return winner


def attributes(runtime, tenant, entity: str):
    return runtime.request("GET", f"/v1/attributes/{entity}", headers=tenant.headers)


def test_the_customer_attributes_are_listed_by_name_with_their_types(runtime, tenant):
    catalog(runtime).check_and_register(
        tenant.application_id,
        EntityKind.CUSTOMER,
        {"tier": "gold", "visits": 3, "birthday": "1990-05-01", "vip": True, "address": {}, "tags": [], "x": None},
    )
    response = attributes(runtime, tenant, "customer")
    assert response.status == 200
    data = response.json()["data"]
    assert [(item["name"], item["type"]) for item in data] == [
        ("address", "object"),
        ("birthday", "date"),
        ("tags", "array"),
        ("tier", "string"),
        ("vip", "boolean"),
        ("visits", "number"),
    ]
    assert all(set(item) == {"name", "type", "firstSeen"} and item["firstSeen"].endswith("Z") for item in data)


def test_each_entity_kind_has_its_own_list(runtime, tenant):
    service = catalog(runtime)
    service.check_and_register(tenant.application_id, EntityKind.ORDER, {"channel": "web"})
    service.check_and_register(tenant.application_id, EntityKind.PRODUCT, {"brand": "nike", "weight": 1.5})
    assert [item["name"] for item in attributes(runtime, tenant, "order").json()["data"]] == ["channel"]
    assert [item["name"] for item in attributes(runtime, tenant, "product").json()["data"]] == ["brand", "weight"]
    assert attributes(runtime, tenant, "customer").json() == {"data": []}


def test_another_applications_catalog_never_shows(runtime, tenant, other_tenant):
    service = catalog(runtime)
    service.check_and_register(tenant.application_id, EntityKind.CUSTOMER, {"secretProject": "x"})
    service.check_and_register(other_tenant.application_id, EntityKind.CUSTOMER, {"shoeSize": 42})
    assert [item["name"] for item in attributes(runtime, other_tenant, "customer").json()["data"]] == ["shoeSize"]
    assert [item["name"] for item in attributes(runtime, tenant, "customer").json()["data"]] == ["secretProject"]


@pytest.mark.parametrize("entity", ["customers", "Customer", "consent", "%20"])
def test_an_unknown_entity_is_a_400_naming_the_entity_field(runtime, tenant, entity):
    response = attributes(runtime, tenant, entity)
    assert response.status == 400
    body = response.json()
    assert body["code"] == "invalid_request"
    assert [(error["path"], error["code"]) for error in body["errors"]] == [("entity", "invalid_value")]


def test_the_list_route_needs_a_key(runtime):
    assert runtime.request("GET", "/v1/attributes/customer").status == 401


def test_an_overwrite_shows_in_the_list_with_the_first_seen_time_kept(runtime, tenant):
    service = catalog(runtime)
    service.check_and_register(tenant.application_id, EntityKind.CUSTOMER, {"visits": 3})
    before = attributes(runtime, tenant, "customer").json()["data"]
    with pytest.raises(ValidationError):
        service.check_and_register(tenant.application_id, EntityKind.CUSTOMER, {"visits": "many"})
    service.check_and_register(tenant.application_id, EntityKind.CUSTOMER, {"visits": "many"}, overwrite=True)
    after = attributes(runtime, tenant, "customer").json()["data"]
    assert after == [{"name": "visits", "type": "string", "firstSeen": before[0]["firstSeen"]}]


def test_a_stale_cache_is_rechecked_against_the_table(runtime, tenant):
    ours, elsewhere = catalog(runtime), catalog(runtime)
    ours.check_and_register(tenant.application_id, EntityKind.CUSTOMER, {"size": 42})
    elsewhere.check_and_register(tenant.application_id, EntityKind.CUSTOMER, {"size": "XL"}, overwrite=True)
    ours.check_and_register(tenant.application_id, EntityKind.CUSTOMER, {"size": "L"})  # accepted after a re-read


def test_a_losing_conditional_write_returns_the_winner_in_one_round_trip(runtime, tenant):
    store = repository(runtime)
    first = AttributeDescriptor("colour", T.STRING, "2026-01-01T00:00:00.000Z")
    second = AttributeDescriptor("colour", T.NUMBER, "2026-01-02T00:00:00.000Z")
    assert store.add_if_absent(tenant.application_id, EntityKind.PRODUCT, first) is None
    assert store.add_if_absent(tenant.application_id, EntityKind.PRODUCT, second) == first
    assert store.load(tenant.application_id, EntityKind.PRODUCT) == [first]


def register_at_once(
    services: list[CatalogService], application_id: int, name: str, values: list[object]
) -> list[ValidationError | None]:
    """Each service registers `name` with its value, all released at the same moment; what each one got."""
    barrier = threading.Barrier(len(services))
    outcomes: list[ValidationError | None] = [None] * len(services)

    def register(index: int) -> None:
        barrier.wait()
        try:
            services[index].check_and_register(application_id, EntityKind.CUSTOMER, {name: values[index]})
        except ValidationError as error:
            outcomes[index] = error

    threads = [threading.Thread(target=register, args=(index,)) for index in range(len(services))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_concurrent_first_uses_with_different_types_store_exactly_one_type(runtime, tenant):
    """8 requests (each its own Lambda instance, so its own cache) introduce one attribute at the same moment,
    each with a value of some type: one type is stored, values it does not accept are refused, none lost."""
    values: list[object] = [True, 1, "text", "2020-01-01", {"a": 1}, [1], 2.5, "more text"]
    store = LossCountingRepository(runtime)  # one client for all, as boto3 clients are thread-safe
    for round_ in range(5):
        name = f"race{round_}-{uuid.uuid4().hex[:6]}"
        services = [catalog(runtime, store) for _ in values]
        outcomes = register_at_once(services, tenant.application_id, name, values)
        stored = [d for d in repository(runtime).load(tenant.application_id, EntityKind.CUSTOMER) if d.name == name]
        assert len(stored) == 1
        winner = stored[0].type
        for value, outcome in zip(values, outcomes, strict=True):
            received = infer_type(value)
            assert received is not None
            if accepts(winner, received):
                assert outcome is None
            else:
                assert outcome is not None
                assert [(i.path, i.code) for i in outcome.details] == [
                    (f"attributes.{name}", "attribute_type_mismatch")
                ]
        assert sum(outcome is not None for outcome in outcomes) >= 5  # a string winner takes 3 of the 8, no type more
    assert store.losses > 0  # the conditional write decided at least once (not only the first read)


def load_event(name: str) -> dict:
    return json.loads((EVENTS / "catalog" / f"{name}.json").read_text())


def with_tenant(event: dict, tenant) -> dict:
    event["requestContext"]["authorizer"]["applicationId"] = str(tenant.application_id)
    return event


def test_the_event_files_replay_through_the_handler(runtime, tenant):
    catalog(runtime).check_and_register(tenant.application_id, EntityKind.CUSTOMER, {"tier": "gold"})
    listed = runtime.registry.invoke("CatalogFunction", with_tenant(load_event("list_customer_attributes"), tenant))
    assert listed["statusCode"] == 200
    assert [item["name"] for item in json.loads(listed["body"])["data"]] == ["tier"]
    unknown = runtime.registry.invoke("CatalogFunction", with_tenant(load_event("list_unknown_entity"), tenant))
    assert unknown["statusCode"] == 400
    assert json.loads(unknown["body"])["errors"][0]["path"] == "entity"


def declare(runtime, tenant, entity: str, body: Any) -> Any:
    return runtime.request("POST", f"/v1/attributes/{entity}", headers=tenant.headers, body=body)


def test_an_attribute_declared_before_any_value_is_listed_and_checks_values(runtime, tenant, other_tenant):
    """A Magento admin maps ExpertSender's attributes from the lists before data flows: declared ones show at once
    (in Patron's list and ECDP's), and values are then checked against the declared type."""
    created = declare(runtime, tenant, "customer", {"name": "loyaltyTier", "type": "string"})
    assert created.status == 201, created.body
    assert (created.json()["name"], created.json()["type"]) == ("loyaltyTier", "string")
    again = declare(runtime, tenant, "customer", {"name": "loyaltyTier", "type": "string"})
    assert again.status == 200 and again.json()["firstSeen"] == created.json()["firstSeen"]
    conflict = declare(runtime, tenant, "customer", {"name": "loyaltyTier", "type": "number"})
    assert (conflict.status, conflict.json()["code"]) == (409, "attribute_type_conflict")
    assert [item["name"] for item in attributes(runtime, tenant, "customer").json()["data"]] == ["loyaltyTier"]
    ecdp = runtime.request("GET", "/customerattributes", headers={"x-api-key": tenant.key}).json()["data"]
    assert [(item["name"], item["type"]) for item in ecdp] == [("loyaltyTier", "String")]
    assert attributes(runtime, other_tenant, "customer").json() == {"data": []}  # another application's catalog
    wrong = runtime.request(
        "PUT", "/v1/customers/decl-1", headers=tenant.headers, body={"attributes": {"loyaltyTier": 3}}
    )
    assert (wrong.status, wrong.json()["errors"][0]["code"]) == (400, "attribute_type_mismatch")


@pytest.mark.parametrize(
    ("entity", "body", "path"),
    [
        ("customer", {"name": "x", "type": "money"}, "type"),
        ("customer", {"name": "", "type": "string"}, "name"),
        ("customer", {"name": "x" * 1023, "type": "string"}, "name"),
        ("customer", {"name": "x"}, "type"),
        ("customer", {"name": "x", "type": "string", "extra": 1}, "extra"),
        ("customers", {"name": "x", "type": "string"}, "entity"),
    ],
)
def test_a_wrong_declaration_is_a_400_naming_the_field_and_declares_nothing(runtime, tenant, entity, body, path):
    refused = declare(runtime, tenant, entity, body)
    assert refused.status == 400, refused.body
    assert [error["path"] for error in refused.json()["errors"]] == [path]
    assert attributes(runtime, tenant, "customer").json() == {"data": []}


def test_a_consent_channel_declared_before_any_customer_is_listed(runtime, tenant):
    created = runtime.request("POST", "/v1/consents", headers=tenant.headers, body={"channel": "consent_3"})
    assert created.status == 201, created.body
    assert runtime.request("POST", "/v1/consents", headers=tenant.headers, body={"channel": "consent_3"}).status == 200
    listed = runtime.request("GET", "/v1/consents", headers=tenant.headers).json()["data"]
    assert [item["channel"] for item in listed] == ["consent_3"]
    ecdp = runtime.request("GET", "/customerconsents", headers={"x-api-key": tenant.key}).json()["data"]
    assert [(item["id"], item["name"]) for item in ecdp] == [(3, "consent_3")]
    bad = runtime.request("POST", "/v1/consents", headers=tenant.headers, body={"channel": "Consent 3"})
    assert (bad.status, bad.json()["errors"][0]["path"]) == (400, "channel")
