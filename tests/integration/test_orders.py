"""Orders through the local runtime and DynamoDB Local: idempotent writes, statuses, soft delete, listing, and
customer statistics that stay exact under every change and any number of replays."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest


def oid() -> str:
    return f"o-{uuid.uuid4().hex[:10]}"


def cid() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


def put_order(runtime, tenant, order_id, **fields):
    body = {"customerId": fields.pop("customerId"), "createdAt": "2024-01-01T10:00:00Z", "amount": 10, **fields}
    return runtime.request("PUT", f"/v1/orders/{order_id}", headers=tenant.headers, body=body)


def stats(runtime, tenant, customer):
    response = runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers)
    assert response.status == 200, response.body
    return response.json()["stats"]


def set_statuses(runtime, tenant, states, default="sale"):
    response = runtime.request(
        "PUT", "/v1/order_statuses", headers=tenant.headers, body={"states": states, "defaultState": default}
    )
    assert response.status == 200, response.body


def test_an_order_is_stored_as_sent_and_feeds_its_customer(runtime, tenant):
    customer, order = cid(), oid()
    response = put_order(
        runtime,
        tenant,
        order,
        customerId=customer,
        amount=85.85,
        status="10",
        statusLabel="Completato",
        delivery={"province": "MI"},
        items=[{"item_id": 1342, "product_id": 43421, "brand": "nike", "quantity": 2, "price": 20.5}],
    )
    assert response.status == 200, response.body
    body = response.json()
    assert body["delivery"] == {"province": "MI"}
    assert body["items"][0] == {"item_id": 1342, "product_id": 43421, "brand": "nike", "quantity": 2, "price": 20.5}
    assert body["createdAt"] == "2024-01-01T10:00:00.000Z" and body["countsAsSale"] is True
    assert runtime.request("GET", f"/v1/orders/{order}", headers=tenant.headers).json() == body
    assert stats(runtime, tenant, customer) == {
        "ordersCount": 1,
        "totalSales": 85.85,
        "averageOrderValue": 85.85,
        "firstOrderAt": "2024-01-01T10:00:00.000Z",
        "lastOrderAt": "2024-01-01T10:00:00.000Z",
    }


def test_statistics_stay_exact_under_changes_deletes_and_replays(runtime, tenant):
    customer = cid()
    set_statuses(runtime, tenant, {"20": "cancelled", "30": "returned"})
    a, b, c = oid(), oid(), oid()
    for _ in range(3):  # every request replayed: nothing is counted twice
        put_order(runtime, tenant, a, customerId=customer, amount=10, createdAt="2024-01-01T00:00:00Z")
        put_order(runtime, tenant, b, customerId=customer, amount=20, createdAt="2024-02-01T00:00:00Z")
        put_order(runtime, tenant, c, customerId=customer, amount=30, createdAt="2024-03-01T00:00:00Z")
    assert stats(runtime, tenant, customer)["ordersCount"] == 3
    assert stats(runtime, tenant, customer)["totalSales"] == 60

    put_order(runtime, tenant, b, customerId=customer, amount=25, createdAt="2024-02-01T00:00:00Z")  # amount
    assert stats(runtime, tenant, customer)["totalSales"] == 65

    status = runtime.request("PUT", f"/v1/orders/{a}/status", headers=tenant.headers, body={"status": "20"})
    assert status.json()["state"] == "cancelled" and status.json()["countsAsSale"] is False
    after_cancel = stats(runtime, tenant, customer)
    assert (after_cancel["ordersCount"], after_cancel["totalSales"]) == (2, 55)
    assert after_cancel["firstOrderAt"] == "2024-02-01T00:00:00.000Z"  # the first order no longer counts

    for _ in range(2):
        deleted = runtime.request("DELETE", f"/v1/orders/{c}", headers=tenant.headers)
        assert deleted.status == 200 and deleted.json()["isDeleted"] is True
    after_delete = stats(runtime, tenant, customer)
    assert (after_delete["ordersCount"], after_delete["totalSales"]) == (1, 25)
    assert after_delete["firstOrderAt"] == after_delete["lastOrderAt"] == "2024-02-01T00:00:00.000Z"
    assert runtime.request("GET", f"/v1/orders/{c}", headers=tenant.headers).json()["isDeleted"] is True

    runtime.request("PUT", f"/v1/orders/{a}/status", headers=tenant.headers, body={"status": "10"})  # a sale again
    final = stats(runtime, tenant, customer)
    assert (final["ordersCount"], final["totalSales"], final["firstOrderAt"]) == (2, 35, "2024-01-01T00:00:00.000Z")
    assert Decimal(str(final["averageOrderValue"])) == Decimal("17.50")


def test_moving_an_order_to_another_customer_moves_its_figures(runtime, tenant):
    first, second, order = cid(), cid(), oid()
    put_order(runtime, tenant, order, customerId=first, amount=40)
    put_order(runtime, tenant, order, customerId=second, amount=40)
    assert stats(runtime, tenant, first)["ordersCount"] == 0 and stats(runtime, tenant, first)["lastOrderAt"] is None
    assert stats(runtime, tenant, second)["totalSales"] == 40


def test_a_customers_orders_list_newest_first_with_an_opaque_cursor(runtime, tenant):
    customer = cid()
    ids = []
    for month in range(1, 6):
        order = oid()
        ids.append(order)
        put_order(runtime, tenant, order, customerId=customer, createdAt=f"2024-0{month}-01T00:00:00Z")
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = runtime.request("GET", f"/v1/customers/{customer}/orders", headers=tenant.headers, query=query).json()
        seen += [order["orderId"] for order in page["data"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    bad = runtime.request("GET", f"/v1/customers/{customer}/orders", headers=tenant.headers, query={"cursor": "x"})
    assert bad.status == 400 and bad.json()["errors"][0]["path"] == "query.cursor"


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "\u00b2"},  # isdigit() accepts it, int() does not
        {"limit": "\u0663"},
        {"limit": "+5"},
        {"limit": " 5"},
        {"limit": "9" * 5000},
        {"limit": "0"},
        {"cursor": "not a cursor"},
        {"cursor": "eyJzayI6ICJcdWQ4MDAifQ"},  # a cursor's shape, carrying a lone surrogate
    ],
)
def test_odd_paging_values_are_400_naming_the_parameter(runtime, tenant, query):
    customer = cid()
    put_order(runtime, tenant, oid(), customerId=customer)
    started = runtime.request("POST", "/v1/import", headers=tenant.headers, body={"customers": []}).json()
    for path in (f"/v1/customers/{customer}/orders", f"/v1/processes/{started['processId']}"):
        response = runtime.request("GET", path, headers=tenant.headers, query=query)
        assert response.status == 400, (path, response.body)
        assert response.json()["errors"][0]["path"] == f"query.{next(iter(query))}"


def test_another_applications_orders_are_not_found(runtime, tenant, other_tenant):
    customer, order = cid(), oid()
    put_order(runtime, tenant, order, customerId=customer)
    assert runtime.request("GET", f"/v1/orders/{order}", headers=other_tenant.headers).status == 404
    assert (
        runtime.request("PUT", f"/v1/orders/{order}/status", headers=other_tenant.headers, body={"status": "1"}).status
        == 404
    )
    assert runtime.request("DELETE", f"/v1/orders/{order}", headers=other_tenant.headers).status == 404
    listed = runtime.request("GET", f"/v1/customers/{customer}/orders", headers=other_tenant.headers)
    assert listed.status == 404 and listed.json()["code"] == "customer_not_found"
    assert runtime.request("GET", f"/v1/orders/{order}", headers=tenant.headers).json()["isDeleted"] is False


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"createdAt": "2024-01-01", "amount": 1}, "customerId"),
        ({"customerId": "c", "amount": 1}, "createdAt"),
        ({"customerId": "c", "createdAt": "yesterday", "amount": 1}, "createdAt"),
        ({"customerId": "c", "createdAt": "2024-01-01"}, "amount"),
        ({"customerId": "c", "createdAt": "2024-01-01", "amount": "12"}, "amount"),
        ({"customerId": "c", "createdAt": "2024-01-01", "amount": 1, "items": [1]}, "items"),
        ({"customerId": "c", "createdAt": "2024-01-01", "amount": 1, "items": [{"m": {"": 1}}]}, "items[0].m."),
        ({"customerEmail": "nope", "createdAt": "2024-01-01", "amount": 1}, "customerEmail"),
        ({"customerId": "c", "createdAt": "2024-01-01", "amount": 1, "id": "other"}, "id"),
    ],
)
def test_bad_orders_are_400_with_their_path_and_write_nothing(runtime, tenant, body, path):
    order = oid()
    response = runtime.request("PUT", f"/v1/orders/{order}", headers=tenant.headers, body=body)
    assert response.status == 400, response.body
    assert path in [error["path"] for error in response.json()["errors"]]
    assert runtime.request("GET", f"/v1/orders/{order}", headers=tenant.headers).status == 404


def test_status_mapping_is_validated(runtime, tenant):
    bad = runtime.request("PUT", "/v1/order_statuses", headers=tenant.headers, body={"states": {"1": "shipped"}})
    assert bad.status == 400 and bad.json()["errors"][0]["path"] == "states.1"
    current = runtime.request("GET", "/v1/order_statuses", headers=tenant.headers).json()
    assert current["defaultState"] == "sale"
