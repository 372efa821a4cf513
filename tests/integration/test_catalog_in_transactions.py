"""New attributes' descriptors are decided before anything is written, then written with the writes they describe:
in the profile's own transaction (a write that fails leaves no descriptor; two writes adding one attribute both
succeed), and before an import's batches (its records agree with each other as they would one at a time)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from patron.catalog.model import AttributeDescriptor, AttributeType, EntityKind
from patron.catalog.repository import DynamoCatalogRepository
from patron.catalog.service import CatalogService
from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.errors import ValidationError
from patron.profiles.identifiers import IdentifierPatch
from patron.profiles.model import MAX_ATTRIBUTE_VALUE_BYTES
from patron.profiles.service import ProfileService
from patron.profiles.wiring import profile_service
from patron.settings import Tables
from tests.integration.test_import_batches import start
from tests.integration.test_imports import wait_for

T = AttributeType


def name(prefix: str = "a") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def catalog(runtime, tenant, entity: str = "customer") -> dict[str, str]:
    answer = runtime.request("GET", f"/v1/attributes/{entity}", headers=tenant.headers)
    assert answer.status == 200, answer.body
    return {row["name"]: row["type"] for row in answer.json()["data"]}


def instance() -> ProfileService:
    """The profile service of one Lambda instance (its own catalog cache), over the runtime's tables."""
    client, tables = dynamodb_client(), Tables.from_environ()
    return profile_service(client, tables, catalog_service(client, tables))


# -- a write that fails leaves no descriptor ----------------------------------------------------------------------


def test_a_customer_write_refused_for_a_taken_email_registers_none_of_its_new_attributes(runtime, tenant):
    holder, other, email, attribute = name("c"), name("c"), f"{name()}@example.com", name()
    taken = runtime.request("PUT", f"/v1/customers/{holder}", headers=tenant.headers, body={"email": email})
    assert taken.status == 200, taken.body
    body = {"email": email, "attributes": {attribute: 1}, "consents": {name("channel"): {"value": True}}}
    refused = runtime.request("PUT", f"/v1/customers/{other}", headers=tenant.headers, body=body)
    assert refused.status == 409 and refused.json()["code"] == "identifier_taken", refused.body
    assert attribute not in catalog(runtime, tenant)
    consents = runtime.request("GET", "/v1/consents", headers=tenant.headers).json()["data"]
    assert not [row for row in consents if row["channel"].startswith("channel")]
    assert runtime.request("GET", f"/v1/customers/{other}", headers=tenant.headers).status == 404


def test_a_profile_write_too_large_to_store_registers_none_of_its_new_attributes(runtime, tenant):
    profile = f"/v2/customer_profiles/{name('p')}"
    value = "x" * (MAX_ATTRIBUTE_VALUE_BYTES - 100)
    almost_full = {f"note{index:02d}": value for index in range(24)}  # ~390 KB of a 400 KB item, in two bodies
    for half in (dict(list(almost_full.items())[:12]), dict(list(almost_full.items())[12:])):
        assert runtime.request("PUT", profile, headers=tenant.headers, body={"attributes": half}).status == 200
    extra = {name(): value, name(): value}
    refused = runtime.request("PUT", profile, headers=tenant.headers, body={"attributes": extra})
    assert refused.status == 400 and refused.json()["errors"][0]["code"] == "profile_too_large", refused.body
    known = catalog(runtime, tenant)
    assert set(almost_full) <= set(known) and not set(extra) & set(known)


def test_a_new_attribute_and_its_profile_are_written_in_one_transaction(runtime, tenant, meter):
    profile, attribute = name("p"), name()
    runtime.request("PUT", f"/v2/customer_profiles/{profile}", headers=tenant.headers, body={"attributes": {"n": 1}})
    mark = meter.mark()
    answer = runtime.request(
        "PUT", f"/v2/customer_profiles/{profile}", headers=tenant.headers, body={"attributes": {attribute: True}}
    )
    assert answer.status == 200, answer.body
    # The profile read (its version), then one transaction: the profile and the descriptor (the catalog is warm).
    profiles, config = runtime.table_names["ProfilesTable"], runtime.table_names["ConfigTable"]
    calls = [call for call in meter.since(mark) if profiles in call.tables]
    assert [call.operation for call in calls] == ["GetItem", "TransactWriteItems"]
    assert calls[1].tables == {profiles, config}
    assert catalog(runtime, tenant)[attribute] == "boolean"


# -- two writes adding one attribute -------------------------------------------------------------------------------


def test_a_descriptor_another_request_wrote_meanwhile_with_the_same_type_leaves_the_next_attempt(runtime, tenant):
    """Instance B decided the attribute is new (its cache predates A's write); its transaction is cancelled by A's
    descriptor, the catalog is read again, and B writes its profile without it."""
    first, second, attribute = instance(), instance(), name()
    second.update(tenant.application_id, name("warm"), {"warm": 1})  # B's cache: loaded, without the attribute
    first.update(tenant.application_id, name("p"), {attribute: 1})
    written = second.update(tenant.application_id, name("p"), {attribute: 2})
    assert written.attributes == {attribute: 2}
    assert catalog(runtime, tenant)[attribute] == "number"


def test_a_descriptor_another_request_wrote_meanwhile_with_another_type_refuses_the_value(runtime, tenant):
    first, second, attribute, refused = instance(), instance(), name(), name("p")
    second.update(tenant.application_id, name("warm"), {"warm": 1})
    first.update(tenant.application_id, name("p"), {attribute: 1})
    with pytest.raises(ValidationError) as raised:
        second.update(tenant.application_id, refused, {attribute: "one", "other": 1})
    assert raised.value.status == 400
    assert [(issue.path, issue.code) for issue in raised.value.details] == [
        (f"attributes.{attribute}", "attribute_type_mismatch")
    ]
    assert runtime.request("GET", f"/v1/customers/{refused}", headers=tenant.headers).status == 404
    assert catalog(runtime, tenant)[attribute] == "number"


def write_at_once(runtime, tenant, profiles: list[str], attributes: dict[str, Any]) -> dict[str, int]:
    """One PUT per profile, all released at the same moment; each one's status."""
    barrier = threading.Barrier(len(profiles))
    statuses: dict[str, int] = {}

    def write(profile: str) -> None:
        barrier.wait()
        path = f"/v2/customer_profiles/{profile}"
        statuses[profile] = runtime.request("PUT", path, headers=tenant.headers, body={"attributes": attributes}).status

    threads = [threading.Thread(target=write, args=(profile,)) for profile in profiles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses


def test_concurrent_writes_adding_the_same_attribute_all_succeed(runtime, tenant, meter):
    """Four requests at once, each a first use of the same attribute with the same type, five times: every write
    answers 200 and the descriptor is there; at least one transaction lost a race, and its write was retried."""
    mark = meter.mark()
    for _ in range(5):
        attribute, profiles = name(), [name("p") for _ in range(4)]
        assert write_at_once(runtime, tenant, profiles, {attribute: "2020-01-01"}) == dict.fromkeys(profiles, 200)
        assert catalog(runtime, tenant)[attribute] == "date"
    cancelled = [c for c in meter.since(mark) if c.operation == "TransactWriteItems" and c.error]
    assert cancelled, "no write lost a race: the test did not test it"


# -- an import's batches -----------------------------------------------------------------------------------------


def test_an_imports_records_agree_with_each_other_on_a_new_attributes_type(runtime, tenant):
    """The first record's type stands for the records after it, as written one at a time."""
    suffix, attribute = uuid.uuid4().hex[:6], name()
    records: list[dict[str, Any]] = [
        {"id": f"t{suffix}-0", attribute: 3},
        {"id": f"t{suffix}-1", attribute: "three"},
        {
            "id": f"t{suffix}-2",
            attribute: 4,
            "orders": [{"id": f"t{suffix}-o", "createdAt": "2024-01-01", "amount": 1}],
        },
    ]
    process = wait_for(runtime, tenant, start(runtime, tenant, records))
    assert [(r["index"], r["path"], r["reason"]) for r in process["rejected"]] == [
        ("1", f"customers[1].{attribute}", "attribute_type_mismatch")
    ]
    assert process["data"]["processedCustomers"] == 2
    assert catalog(runtime, tenant)[attribute] == "number"


def test_an_import_whose_new_attribute_another_request_typed_meanwhile_is_written_record_by_record(
    runtime, tenant, monkeypatch
):
    """The batch's descriptors are registered before any of its records: when another request gave one of them
    another type first, nothing of the batch is written, and each record is checked against the catalog as it
    stands on the per-record way (the one sending another type is refused, the others land)."""
    suffix, attribute = uuid.uuid4().hex[:6], name()
    store = DynamoCatalogRepository(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    real = CatalogService.register

    def another_request_first(self: CatalogService, additions: Any) -> None:
        if attribute in additions.types:
            winner = AttributeDescriptor(attribute, T.NUMBER, "2026-01-01T00:00:00.000Z")
            store.add_if_absent(tenant.application_id, EntityKind.CUSTOMER, winner)
        real(self, additions)

    monkeypatch.setattr(CatalogService, "register", another_request_first)
    # The batch decides text (its first record's type); another request registers number first.
    records = [{"id": f"r{suffix}-{index}", attribute: 1 if index == 1 else "text"} for index in range(3)]
    process = wait_for(runtime, tenant, start(runtime, tenant, records))
    assert [(r["index"], r["path"], r["reason"]) for r in process["rejected"]] == [
        (str(index), f"customers[{index}].{attribute}", "attribute_type_mismatch") for index in (0, 2)
    ]
    assert process["data"]["processedCustomers"] == 1
    stored = runtime.request("GET", f"/v1/customers/r{suffix}-1", headers=tenant.headers).json()
    assert stored["attributes"] == {attribute: 1}
    assert catalog(runtime, tenant)[attribute] == "number"


def test_new_customer_decides_and_writes_nothing(runtime, tenant):
    from patron.catalog.service import PendingAdditions

    pending, attribute = PendingAdditions(), name()
    instance().new_customer(tenant.application_id, name("c"), {attribute: 1}, IdentifierPatch(), pending)
    assert [additions.types for additions in pending.additions()] == [{attribute: T.NUMBER}]
    assert attribute not in catalog(runtime, tenant)
