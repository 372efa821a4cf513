"""The import's batch way (new customers written many per call) against the per-record way it must equal, and
against every interruption and race it can meet: killed between its phases, a profile or an identifier taken
by another writer between its read and its write, the same data imported twice."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from typing import Any

import pytest

from patron.imports.batch_store import DynamoBatchStore
from patron.imports.writer import ChunkWriter
from tests.integration.test_imports import headers, wait_for

VOLATILE = {"id", "version", "created", "updated"}


def start(runtime, tenant, customers: list[Any], **flags: bool) -> int:
    body = json.dumps({**flags, "customers": customers})
    answer = runtime.request("POST", "/v1/import", headers=headers(tenant), body=body)
    assert answer.status == 202, answer.body
    return int(answer.json()["processId"])


def customer(runtime, tenant, integration_id: str) -> dict[str, Any]:
    answer = runtime.request("GET", f"/v1/customers/{integration_id}", headers=tenant.headers)
    assert answer.status == 200, (integration_id, answer.body)
    return {k: v for k, v in answer.json().items() if k not in VOLATILE}


def orders_of(runtime, tenant, integration_id: str) -> list[dict[str, Any]]:
    answer = runtime.request("GET", f"/v1/customers/{integration_id}/orders?limit=100", headers=tenant.headers)
    assert answer.status == 200, answer.body
    return answer.json()["data"]


@contextmanager
def per_record_only():
    """The worker without its batch way: every record through the routes' services, one by one."""
    real = ChunkWriter._write_new_customers
    calls: list[int] = []

    def declines_all(self, application_id, numbers, customers, options, counts):
        calls.append(len(customers))
        return list(range(len(customers))), {}

    ChunkWriter._write_new_customers = declines_all  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        ChunkWriter._write_new_customers = real  # type: ignore[method-assign]


def map_cancelled(runtime, *applications) -> None:
    for application in applications:
        body = {"states": {"cancelled": "cancelled"}}
        assert runtime.request("PUT", "/v1/order_statuses", headers=application.headers, body=body).status == 200


def history(suffix: str, customers: int = 12) -> list[dict[str, Any]]:
    """Customers with attributes, emails, orders of several statuses, an order soft-cancelled, one refused."""
    people: list[dict[str, Any]] = []
    for i in range(customers):
        orders = [
            {
                "id": f"o{suffix}-{i}-{n}",
                "createdAt": f"2024-0{1 + n}-1{i % 10}T10:00:00Z",
                "amount": 10 + n + i / 100,
                "status": "cancelled" if n == 2 else "10",
                "items": [{"item_id": n, "brand": "nike", "price": 5}],
                "delivery": {"province": "MI"},
            }
            for n in range(3)
        ]
        people.append(
            {
                "id": f"c{suffix}-{i}",
                "email": f"C{suffix}-{i}@Example.com",
                "tier": "gold",
                "visits": i,
                'shop\'s "note"': "quotes in a name reach PartiQL",
                "orders": orders,
            }
        )
    people[3]["orders"].append({"id": f"bad{suffix}", "createdAt": "never", "amount": 1})
    people[5]["email"] = "not an email"
    return people


def test_the_batch_way_stores_what_the_per_record_way_stores(runtime, tenant, other_tenant):
    suffix = uuid.uuid4().hex[:6]
    for application in (tenant, other_tenant):
        runtime.request(
            "PUT", "/v1/order_statuses", headers=application.headers, body={"states": {"cancelled": "cancelled"}}
        )
    batched = wait_for(runtime, tenant, start(runtime, tenant, history(suffix)))
    with per_record_only() as declined:
        one_by_one = wait_for(runtime, other_tenant, start(runtime, other_tenant, history(suffix)))
    assert declined == [12]
    assert batched["data"] == one_by_one["data"] and batched["rejected"] == one_by_one["rejected"]
    assert batched["data"]["processedCustomers"] == 11 and batched["data"]["processedOrders"] == 33
    for i in (0, 3, 11):
        mine, theirs = customer(runtime, tenant, f"c{suffix}-{i}"), customer(runtime, other_tenant, f"c{suffix}-{i}")
        assert mine == theirs and mine["stats"]["ordersCount"] == 2
        assert mine["attributes"]['shop\'s "note"'] == "quotes in a name reach PartiQL"
        assert orders_of(runtime, tenant, f"c{suffix}-{i}") == orders_of(runtime, other_tenant, f"c{suffix}-{i}")
    found = runtime.request("GET", "/v1/customers", headers=tenant.headers, query={"email": f"c{suffix}-4@example.com"})
    assert found.status == 200 and found.json()["integrationId"] == f"c{suffix}-4"


def test_importing_the_same_history_again_changes_no_figure(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    wait_for(runtime, tenant, start(runtime, tenant, history(suffix)))
    before = {i: customer(runtime, tenant, f"c{suffix}-{i}") for i in (0, 7)}
    again = wait_for(runtime, tenant, start(runtime, tenant, history(suffix)))
    assert again["data"]["processedCustomers"] == 11
    assert {i: customer(runtime, tenant, f"c{suffix}-{i}") for i in (0, 7)} == before


@pytest.mark.parametrize("phase", ["put_orders", "insert_profiles"])
def test_a_worker_killed_between_the_batch_phases_resumes_exactly(
    runtime, tenant, monkeypatch, quick_redelivery, phase
):
    suffix = uuid.uuid4().hex[:6]
    real = getattr(DynamoBatchStore, phase)
    killed: list[str] = []

    def dies_once(self, *args):
        if not killed:
            killed.append(phase)
            raise RuntimeError("the Lambda was stopped")
        return real(self, *args)

    monkeypatch.setattr(DynamoBatchStore, phase, dies_once)
    map_cancelled(runtime, tenant)
    people = history(suffix, customers=20)
    process = wait_for(runtime, tenant, start(runtime, tenant, people))  # the queue delivers the chunk again
    assert killed == [phase]
    assert process["data"]["processedCustomers"] == 19 and process["data"]["processedOrders"] == 57
    for i in (0, 19):
        stats = customer(runtime, tenant, f"c{suffix}-{i}")["stats"]
        assert stats["ordersCount"] == 2 and stats["totalSales"] == pytest.approx(21 + 2 * i / 100)
        assert len(orders_of(runtime, tenant, f"c{suffix}-{i}")) == 3


def test_a_profile_created_meanwhile_is_merged_and_its_figures_counted_from_its_orders(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    real = DynamoBatchStore.insert_profiles
    target = f"c{suffix}-1"

    def another_writer_first(self, profiles):
        # Between the worker's read and its write, the shop's API creates the customer with an order of its own.
        runtime.request(
            "PUT",
            f"/v1/orders/api{suffix}",
            headers=tenant.headers,
            body={"customerId": target, "createdAt": "2023-12-01", "amount": 100},
        )
        runtime.request("PUT", f"/v1/customers/{target}", headers=tenant.headers, body={"attributes": {"vip": True}})
        return real(self, profiles)

    monkeypatch.setattr(DynamoBatchStore, "insert_profiles", another_writer_first)
    map_cancelled(runtime, tenant)
    process = wait_for(runtime, tenant, start(runtime, tenant, history(suffix, customers=6)))
    assert process["data"]["processedCustomers"] == 5  # customer 5's email is refused
    merged = customer(runtime, tenant, target)
    assert merged["attributes"]["vip"] is True and merged["attributes"]["tier"] == "gold"
    assert merged["email"] == f"c{suffix}-1@example.com"
    assert merged["stats"]["ordersCount"] == 3 and merged["stats"]["totalSales"] == pytest.approx(121.02)
    assert merged["stats"]["firstOrderAt"].startswith("2023-12-01")


def test_an_email_claimed_meanwhile_rejects_its_record_and_leaves_nothing_of_it(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    real = DynamoBatchStore.insert_claims

    def another_writer_first(self, application_id, claims):
        body = {"email": f"c{suffix}-2@example.com"}
        runtime.request("PUT", f"/v1/customers/other{suffix}", headers=tenant.headers, body=body)
        return real(self, application_id, claims)

    monkeypatch.setattr(DynamoBatchStore, "insert_claims", another_writer_first)
    map_cancelled(runtime, tenant)
    process = wait_for(runtime, tenant, start(runtime, tenant, history(suffix, customers=6)))
    assert ("2", "customers[2].email", "identifier_taken") in {
        (r["index"], r["path"], r["reason"]) for r in process["rejected"]
    }
    assert runtime.request("GET", f"/v1/customers/c{suffix}-2", headers=tenant.headers).status == 404
    assert runtime.request("GET", f"/v1/orders/o{suffix}-2-0", headers=tenant.headers).status == 404
    query = {"email": f"c{suffix}-2@example.com"}
    owner = runtime.request("GET", "/v1/customers", headers=tenant.headers, query=query).json()
    assert owner["integrationId"] == f"other{suffix}"
    assert customer(runtime, tenant, f"c{suffix}-3")["stats"]["ordersCount"] == 2


def test_records_sharing_keys_in_one_chunk_apply_in_file_order(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    people = [
        {
            "id": f"d{suffix}",
            "tier": "silver",
            "orders": [{"id": f"s{suffix}", "createdAt": "2024-01-01", "amount": 5}],
        },
        {"id": f"e{suffix}", "orders": [{"id": f"f{suffix}", "createdAt": "2024-01-02", "amount": 7}]},
        # The same customer again (later values win), and the first one's order, now another customer's.
        {"id": f"d{suffix}", "tier": "gold"},
        {"id": f"g{suffix}", "orders": [{"id": f"s{suffix}", "createdAt": "2024-01-01", "amount": 5}]},
    ]
    wait_for(runtime, tenant, start(runtime, tenant, people))
    first = customer(runtime, tenant, f"d{suffix}")
    assert first["attributes"]["tier"] == "gold" and first["stats"]["ordersCount"] == 0
    assert customer(runtime, tenant, f"g{suffix}")["stats"]["ordersCount"] == 1
    assert customer(runtime, tenant, f"e{suffix}")["stats"]["totalSales"] == 7


def test_a_profile_created_between_a_crash_and_the_redelivery_still_gets_its_figures(
    runtime, tenant, monkeypatch, quick_redelivery
):
    suffix = uuid.uuid4().hex[:6]
    real = DynamoBatchStore.insert_profiles
    target = f"c{suffix}-0"
    crashed: list[bool] = []

    def crash_then_the_shop_writes(self, profiles):
        if not crashed:
            crashed.append(True)
            # The orders are stored, the profile is not; before the chunk comes back, the shop's API creates it.
            body = {"attributes": {"vip": True}}
            assert runtime.request("PUT", f"/v1/customers/{target}", headers=tenant.headers, body=body).status == 200
            raise RuntimeError("the Lambda was stopped")
        return real(self, profiles)

    monkeypatch.setattr(DynamoBatchStore, "insert_profiles", crash_then_the_shop_writes)
    map_cancelled(runtime, tenant)
    process = wait_for(runtime, tenant, start(runtime, tenant, history(suffix, customers=6)))
    assert crashed and process["data"]["processedCustomers"] == 5 and process["data"]["processedOrders"] == 15
    merged = customer(runtime, tenant, target)
    assert merged["attributes"]["vip"] is True and merged["attributes"]["tier"] == "gold"
    assert merged["stats"]["ordersCount"] == 2 and merged["stats"]["totalSales"] == pytest.approx(21)


def test_a_guest_before_its_customer_in_the_file_is_absorbed_as_record_by_record(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    email = f"g{suffix}@example.com"
    people = [
        {"email": email, "name": "Guest", "orders": [{"id": f"go{suffix}", "createdAt": "2024-01-01", "amount": 4}]},
        {"id": f"real{suffix}", "email": email, "name": "Real"},
    ]
    process = wait_for(runtime, tenant, start(runtime, tenant, people, triggerIntegrations=True))
    assert process["data"]["processedCustomers"] == 2, process
    body = customer(runtime, tenant, f"real{suffix}")
    assert body["attributes"]["name"] == "Real" and body["email"] == email
    assert body["stats"]["ordersCount"] == 1  # the guest's order moved with it


def test_an_order_id_twice_in_one_customer_with_integrations_triggered_lands_once(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    order = {"id": f"dup{suffix}", "createdAt": "2024-01-01", "amount": 4}
    people = [{"id": f"t{suffix}", "orders": [order, {**order, "amount": 6}]}]
    process = wait_for(runtime, tenant, start(runtime, tenant, people, triggerIntegrations=True))
    assert process["status"] == "completed" and process["data"]["processedOrders"] == 2, process
    stats = customer(runtime, tenant, f"t{suffix}")["stats"]
    assert (stats["ordersCount"], stats["totalSales"]) == (1, 6)  # the later one wins, as record by record


def test_a_customer_with_more_attribute_names_than_a_statement_holds_is_written_record_by_record(runtime, tenant):
    from patron.imports.batch_store import insertable

    suffix = uuid.uuid4().hex[:6]
    attributes = {f"attribute_with_a_rather_long_name_{n:03d}": n for n in range(200)}
    assert not insertable({f"a:{name}": value for name, value in attributes.items()})
    process = wait_for(runtime, tenant, start(runtime, tenant, [{"id": f"w{suffix}", **attributes}]))
    assert process["data"]["processedCustomers"] == 1, process
    assert customer(runtime, tenant, f"w{suffix}")["attributes"] == attributes
