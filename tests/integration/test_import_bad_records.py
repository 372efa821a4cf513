"""A failure that belongs to one import record is that record's rejection, and the rest of its chunk lands with
exact counters: the issue's record (an order status holding a lone surrogate), end to end; then one record of a
chunk raising an exception nothing foresaw at each stage of the worker (decode, validate, build, write), on the
batch way and on the per-record way. A failure of the infrastructure is no record's: the chunk fails, and its
redelivery completes it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

import patron.imports.service
from patron.customers.merge import CustomerMerger
from patron.errors import ServiceUnavailableError
from patron.imports.batch_store import DynamoBatchStore
from patron.orders.repository import DynamoOrderRepository
from patron.orders.rfmcube import parse_merge_customer
from patron.orders.service import OrderService
from patron.orders.wire import parse_order
from patron.profiles.service import ProfileService
from tests.integration.test_import_batches import customer, per_record_only, start
from tests.integration.test_import_uploads import put, request_upload
from tests.integration.test_imports import headers, wait_for

TARGET = 2  # the record at fault, among SIX


def six_customers(suffix: str) -> list[dict[str, Any]]:
    """Six new customers with an email and two orders each (10 and 11): one chunk, all of it for the batch way."""
    return [
        {
            "id": f"c{suffix}-{i}",
            "email": f"c{suffix}-{i}@example.com",
            "tier": "gold",
            "orders": [
                {"id": f"o{suffix}-{i}-{n}", "createdAt": f"2024-01-0{n + 1}T10:00:00Z", "amount": 10 + n}
                for n in range(2)
            ],
        }
        for i in range(6)
    ]


def rejected(process: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["index"], r["path"], r["reason"]) for r in process["rejected"]]


def assert_landed(runtime, tenant, suffix: str, process: dict[str, Any], customers: int, orders: int) -> None:
    """The process completed with these counters, and every customer but the one at fault is stored whole."""
    assert process["status"] == "completed", process
    assert process["data"] == {
        "processedCustomers": customers,
        "totalCustomers": 6,
        "processedOrders": orders,
        "totalOrders": 12,
        "rejectedRecords": len(process["rejected"]),
    }
    for i in set(range(6)) - {TARGET}:
        stored = customer(runtime, tenant, f"c{suffix}-{i}")
        assert stored["email"] == f"c{suffix}-{i}@example.com" and stored["attributes"]["tier"] == "gold"
        assert (stored["stats"]["ordersCount"], stored["stats"]["totalSales"]) == (2, 21)


def failing(
    real: Callable[..., Any],
    at_fault: Callable[..., bool],
    error: Callable[[], Exception],
    raised: list[bool] | None = None,
) -> Any:
    """`real`, raising `error()` instead when its arguments are the record at fault's (noted in `raised`)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if at_fault(*args, **kwargs):
            if raised is not None:
                raised.append(True)
            raise error()
        return real(*args, **kwargs)

    return wrapper


def unforeseen() -> Exception:
    return RuntimeError("a fault no rule foresaw")


def refused_content() -> Exception:
    """What DynamoDB answers for an item it cannot store (too large, a key too long): the record's content."""
    message = "Item size has exceeded the maximum allowed size"
    return ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "BatchWriteItem")


def throttled() -> Exception:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "BatchWriteItem")


# -- the issue ---------------------------------------------------------------------------------------------

ISSUE = (
    '{"customers":[{"id":"ok1"},{"id":"bad1","orders":[{"id":"o","createdAt":"2020-01-01T00:00:00Z",'
    '"amount":1,"status":"\\ud800"}]}]}'
)


def issue_body(suffix: str) -> str:
    return ISSUE.replace('"ok1"', f'"ok1{suffix}"').replace('"bad1"', f'"bad1{suffix}"').replace('"o"', f'"o{suffix}"')


def assert_issue_resolved(runtime, tenant, suffix: str, process: dict[str, Any]) -> None:
    assert process["status"] == "completed", process
    assert process["data"]["processedCustomers"] == 1 and process["data"]["rejectedRecords"] == 1
    assert rejected(process) == [("1", "customers[1].orders[0].status", "invalid_text")]
    assert runtime.request("GET", f"/v1/customers/ok1{suffix}", headers=tenant.headers).status == 200
    assert runtime.request("GET", f"/v1/customers/bad1{suffix}", headers=tenant.headers).status == 404
    assert runtime.request("GET", f"/v1/orders/o{suffix}", headers=tenant.headers).status == 404


def test_the_issues_import_completes_with_the_bad_record_rejected(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=issue_body(suffix))
    assert started.status == 202, started.body  # the route leaves text in an import's records to the import
    assert_issue_resolved(runtime, tenant, suffix, wait_for(runtime, tenant, started.json()["processId"]))


@pytest.mark.parametrize(
    ("file_format", "data"),
    [
        ("json", None),  # the issue's body, uploaded
        ("jsonl", b'{"id":"ok1SFX"}\n{"id":"bad1SFX","orders":[{"id":"oSFX","amount":1,"status":"1\xff0"}]}\n'),
        ("csv", b"customer.id,order.id,order.amount,order.status\nok1SFX,,,\nbad1SFX,oSFX,1,\xfe\n"),
    ],
)
def test_an_uploaded_record_whose_text_is_not_unicode_is_rejected_alone(runtime, tenant, file_format, data):
    suffix = uuid.uuid4().hex[:6]
    data = issue_body(suffix).encode() if data is None else data.replace(b"SFX", suffix.encode())
    ticket = request_upload(runtime, tenant, {"format": file_format, "contentLength": len(data)}).json()
    assert put(ticket["uploadUrl"], data, ticket["headers"]) == 200
    assert_issue_resolved(runtime, tenant, suffix, wait_for(runtime, tenant, ticket["processId"]))


# -- one record failing at each stage of the worker ----------------------------------------------------------


def test_a_record_that_cannot_be_decoded_out_of_its_chunk_is_rejected_alone(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    people = six_customers(suffix)
    people[TARGET]["damaged"] = "here"
    real = patron.imports.service._chunk_body
    # The chunk object in S3 holds the record damaged (as a split of another version, or a bad object, could).
    monkeypatch.setattr(
        patron.imports.service, "_chunk_body", lambda chunk: real(chunk).replace(b'"damaged": "here"', b'"x": NaN')
    )
    process = wait_for(runtime, tenant, start(runtime, tenant, people))
    assert rejected(process) == [(str(TARGET), f"customers[{TARGET}]", "malformed_json")]
    assert_landed(runtime, tenant, suffix, process, customers=5, orders=10)
    assert runtime.request("GET", f"/v1/customers/c{suffix}-{TARGET}", headers=tenant.headers).status == 404


def test_a_record_whose_validation_raises_is_rejected_alone(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    target = f"c{suffix}-{TARGET}"
    real = parse_merge_customer
    at_fault = failing(real, lambda payload: payload["customer"].get("id") == target, unforeseen)
    monkeypatch.setattr("patron.imports.writer.parse_merge_customer", at_fault)  # the name the writer calls
    process = wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))
    assert rejected(process) == [(str(TARGET), f"customers[{TARGET}]", "unprocessable")]
    assert_landed(runtime, tenant, suffix, process, customers=5, orders=10)
    assert runtime.request("GET", f"/v1/customers/{target}", headers=tenant.headers).status == 404


def test_an_order_whose_validation_raises_is_rejected_alone(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    real = parse_order
    at_fault = failing(real, lambda raw, root: raw.get("id") == f"o{suffix}-{TARGET}-1", unforeseen)
    monkeypatch.setattr("patron.imports.writer.parse_order", at_fault)
    process = wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))
    assert rejected(process) == [(f"{TARGET}.orders[1]", f"customers[{TARGET}].orders[1]", "unprocessable")]
    assert_landed(runtime, tenant, suffix, process, customers=6, orders=11)
    stats = customer(runtime, tenant, f"c{suffix}-{TARGET}")["stats"]
    assert (stats["ordersCount"], stats["totalSales"]) == (1, 10)


def test_a_record_the_batch_way_cannot_build_is_written_record_by_record(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    target = f"c{suffix}-{TARGET}"
    real = ProfileService.new_customer
    raised: list[bool] = []
    at_fault = failing(real, lambda _, __, integration_id, *___: integration_id == target, unforeseen, raised)
    monkeypatch.setattr(ProfileService, "new_customer", at_fault)
    process = wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))
    assert raised == [True] and rejected(process) == []
    assert_landed(runtime, tenant, suffix, process, customers=6, orders=12)
    stats = customer(runtime, tenant, target)["stats"]
    assert (stats["ordersCount"], stats["totalSales"]) == (2, 21)


def test_an_order_neither_way_can_build_is_rejected_alone(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    order_id = f"o{suffix}-{TARGET}-1"
    monkeypatch.setattr(
        OrderService,
        "new_order",
        failing(OrderService.new_order, lambda _, __, order, *___, **____: order.order_id == order_id, unforeseen),
    )
    monkeypatch.setattr(
        OrderService,
        "upsert",
        failing(OrderService.upsert, lambda _, __, order, **___: order.order_id == order_id, unforeseen),
    )
    process = wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))
    assert rejected(process) == [(f"{TARGET}.orders[1]", f"customers[{TARGET}].orders[1]", "unprocessable")]
    assert_landed(runtime, tenant, suffix, process, customers=6, orders=11)
    stats = customer(runtime, tenant, f"c{suffix}-{TARGET}")["stats"]
    assert (stats["ordersCount"], stats["totalSales"]) == (1, 10)
    assert runtime.request("GET", f"/v1/orders/{order_id}", headers=tenant.headers).status == 404


def test_an_order_dynamodb_refuses_fails_alone_and_its_batch_is_written_record_by_record(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    order_id = f"o{suffix}-{TARGET}-1"
    real_put = DynamoBatchStore.put_orders

    def one_call_refused(self, orders, stale):
        # The calls without the order went through; the one with it was refused whole.
        real_put(self, [o for o in orders if o.order_id != order_id], stale)
        if any(o.order_id == order_id for o in orders):
            raise refused_content()

    monkeypatch.setattr(DynamoBatchStore, "put_orders", one_call_refused)
    real_write = DynamoOrderRepository.write
    refused_alone = failing(real_write, lambda _, __, ___, new, *____: new.order_id == order_id, refused_content)
    monkeypatch.setattr(DynamoOrderRepository, "write", refused_alone)
    process = wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))
    assert rejected(process) == [(f"{TARGET}.orders[1]", f"customers[{TARGET}].orders[1]", "unprocessable")]
    assert_landed(runtime, tenant, suffix, process, customers=6, orders=11)  # each counted once, stats exact
    stats = customer(runtime, tenant, f"c{suffix}-{TARGET}")["stats"]
    assert (stats["ordersCount"], stats["totalSales"]) == (1, 10)


def test_a_customer_dynamodb_refuses_fails_alone_and_keeps_no_claim(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    target = f"c{suffix}-{TARGET}"
    real_insert = DynamoBatchStore.insert_profiles

    def one_call_refused(self, profiles):
        not_created = real_insert(self, [p for p in profiles if p.integration_id != target])
        if any(p.integration_id == target for p in profiles):
            raise refused_content()
        return not_created

    monkeypatch.setattr(DynamoBatchStore, "insert_profiles", one_call_refused)
    real_update = CustomerMerger.update_customer
    refused_alone = failing(
        real_update, lambda _, __, integration_id, *___, **____: integration_id == target, refused_content
    )
    monkeypatch.setattr(CustomerMerger, "update_customer", refused_alone)
    process = wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))
    assert rejected(process) == [(str(TARGET), f"customers[{TARGET}]", "unprocessable")]
    assert_landed(runtime, tenant, suffix, process, customers=5, orders=10)
    # Its email is free again: the claim the batch took for it went when the batch gave up.
    query = {"email": f"{target}@example.com"}
    assert runtime.request("GET", "/v1/customers", headers=tenant.headers, query=query).status == 404


def test_an_existing_customer_whose_write_raises_is_rejected_alone(runtime, tenant, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    target = f"c{suffix}-{TARGET}"
    wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))  # all stored: the per-record way
    real = CustomerMerger.update_customer
    at_fault = failing(real, lambda _, __, integration_id, *___, **____: integration_id == target, unforeseen)
    monkeypatch.setattr(CustomerMerger, "update_customer", at_fault)
    people = six_customers(suffix)
    for person in people:
        person["tier"] = "platinum"
    process = wait_for(runtime, tenant, start(runtime, tenant, people))
    assert rejected(process) == [(str(TARGET), f"customers[{TARGET}]", "unprocessable")]
    assert process["data"]["processedCustomers"] == 5 and process["data"]["processedOrders"] == 10
    assert customer(runtime, tenant, f"c{suffix}-0")["attributes"]["tier"] == "platinum"
    assert customer(runtime, tenant, target)["attributes"]["tier"] == "gold"  # as the first import left it


# -- the infrastructure failing: the chunk fails, and its redelivery completes it --------------------------


def test_a_throttled_batch_write_fails_the_chunk_and_its_redelivery_completes_it(
    runtime, tenant, monkeypatch, quick_redelivery
):
    suffix = uuid.uuid4().hex[:6]
    real = DynamoBatchStore.put_orders
    attempts: list[int] = []

    def throttled_once(self, orders, stale):
        attempts.append(len(orders))
        if len(attempts) == 1:
            real(self, orders[:3], stale)  # part of it went through before DynamoDB kept refusing
            raise throttled()
        return real(self, orders, stale)

    monkeypatch.setattr(DynamoBatchStore, "put_orders", throttled_once)
    process = wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))
    assert attempts == [12, 12]  # the whole batch again: nothing of it was rejected
    assert rejected(process) == []
    assert_landed(runtime, tenant, suffix, process, customers=6, orders=12)


def test_an_unavailable_dependency_fails_the_chunk_rather_than_rejecting_the_record(
    runtime, tenant, monkeypatch, quick_redelivery
):
    suffix = uuid.uuid4().hex[:6]
    order_id = f"o{suffix}-{TARGET}-1"
    real = OrderService.upsert
    attempts: list[str] = []

    def unavailable_once(self, application_id, order, **kwargs):
        if order.order_id == order_id:
            attempts.append(order_id)
            if len(attempts) == 1:
                raise ServiceUnavailableError()
        return real(self, application_id, order, **kwargs)

    monkeypatch.setattr(OrderService, "upsert", unavailable_once)
    with per_record_only():
        process = wait_for(runtime, tenant, start(runtime, tenant, six_customers(suffix)))
    assert attempts == [order_id, order_id]
    assert rejected(process) == []
    assert_landed(runtime, tenant, suffix, process, customers=6, orders=12)
    stats = customer(runtime, tenant, f"c{suffix}-{TARGET}")["stats"]
    assert (stats["ordersCount"], stats["totalSales"]) == (2, 21)
