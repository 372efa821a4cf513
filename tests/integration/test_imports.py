"""Rfmcube's /import through the whole pipeline on the local runtime: the real ASL on moto, chunks on SQS,
the worker writing through the domain services, the process reported in Rfmcube's shape."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

DOCUMENTED = (
    '{ "overwriteDescriptors": false, "triggerIntegrations": false, "recalculateStats": false, "customers": [ '
    '{ "email": "1test@rfmcube.com", "createdAt": "2020-01-01T13:06:39Z", "updatedAt": "2020-01-01T13:06:39Z", '
    '"id": "1", "orders": [ { "id": "1", "createdAt": "2020-01-01T13:30:39Z", "updatedAt": "2020-01-01T13:30:39Z", '
    '"amount": 85.85, "status": "10", "statusLabel": "Completato", "delivery": { "province": "MI" }, "items": [ '
    '{ "item_id": 1342, "product_id": 43421, "brand": "nike" }, { "item_id": 1340, "product_id": 43420, '
    '"brand": "nike" } ] } ] } ] }'
)


def headers(tenant) -> dict[str, str]:
    return {"api-key": tenant.key, "content-type": "application/json"}


def wait_for(runtime, tenant, process_id: int, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = runtime.request("GET", f"/v1/processes/{process_id}", headers=headers(tenant)).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"process {process_id} did not finish: {body}")


def test_the_documented_import_lands_and_reports_rfmcubes_shape(runtime, tenant):
    started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=DOCUMENTED)
    assert started.status == 202, started.body
    process = wait_for(runtime, tenant, started.json()["processId"])
    assert process["status"] == "completed" and process["type"] == "IMPORT_CUSTOMERS_API", process
    assert process["data"] == {
        "processedCustomers": 1,
        "totalCustomers": 1,
        "processedOrders": 1,
        "totalOrders": 1,
        "rejectedRecords": 0,
    }
    assert process["rejected"] == [] and process["createdAt"].endswith("Z")
    customer = runtime.request("GET", "/v1/customers/1", headers=tenant.headers).json()
    assert customer["email"] == "1test@rfmcube.com" and customer["stats"]["totalSales"] == 85.85


def test_bad_records_are_rejected_with_their_place_and_the_rest_lands(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    customers: list[dict[str, Any]] = [
        {
            "id": f"a{suffix}-{i}",
            "email": f"a{suffix}-{i}@example.com",
            "orders": [{"id": f"o{suffix}-{i}", "createdAt": "2024-01-01", "amount": 10}],
        }
        for i in range(60)
    ]
    customers[7]["email"] = "not an email"
    customers[42]["orders"].append({"id": f"bad{suffix}", "createdAt": "yesterday", "amount": 1})
    started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=json.dumps({"customers": customers}))
    process = wait_for(runtime, tenant, started.json()["processId"])
    assert process["status"] == "completed"
    assert process["data"]["processedCustomers"] == 59 and process["data"]["processedOrders"] == 59
    assert process["data"]["totalCustomers"] == 60 and process["data"]["totalOrders"] == 61
    assert {(r["index"], r["path"], r["reason"]) for r in process["rejected"]} == {
        ("7", "customers[7].email", "invalid_value"),
        ("42.orders[1]", "customers[42].orders[1].createdAt", "invalid_value"),
    }
    assert runtime.request("GET", f"/v1/customers/a{suffix}-59", headers=tenant.headers).status == 200


def test_import_envelope_errors_and_tenancy(runtime, tenant, other_tenant):
    bad = runtime.request(
        "POST",
        "/v1/import",
        headers=headers(tenant),
        body=json.dumps({"overwriteDescriptors": True, "customers": [{"id": "x"}]}),
    )
    assert bad.status == 400 and bad.json()["errors"][0]["path"] == "overwriteDescriptors"
    assert runtime.request("POST", "/v1/import", headers=headers(tenant), body="{").status == 400
    started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=json.dumps({"customers": []}))
    process_id = started.json()["processId"]
    mine = runtime.request("GET", f"/v1/processes/{process_id}", headers=headers(tenant))
    assert mine.status == 200
    theirs = runtime.request("GET", f"/v1/processes/{process_id}", headers=headers(other_tenant))
    assert theirs.status == 404 and theirs.json()["code"] == "process_not_found"
    assert runtime.request("GET", "/v1/processes/999999", headers=headers(tenant)).status == 404
    assert runtime.request("GET", "/v1/processes/abc", headers=headers(tenant)).status == 400
    too_big = "x" * (int(runtime.environment["MAX_IMPORT_INLINE_BYTES"]) + 1)
    assert runtime.request("POST", "/v1/import", headers=headers(tenant), body=too_big).status == 416


def test_a_chunk_delivered_again_changes_nothing_and_counts_once(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    customers = [
        {"id": f"r{suffix}-{i}", "orders": [{"id": f"ro{suffix}-{i}", "createdAt": "2024-01-01", "amount": 5}]}
        for i in range(130)
    ]
    started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=json.dumps({"customers": customers}))
    process_id = started.json()["processId"]
    before = wait_for(runtime, tenant, process_id)
    assert before["data"]["processedCustomers"] == 130
    # Every chunk delivered again, in reverse order (SQS is at-least-once and unordered).
    for chunk in (1, 0, 1):
        message = {
            "applicationId": tenant.application_id,
            "processId": process_id,
            "chunk": chunk,
            "key": f"imports/{tenant.application_id}/{process_id}/chunks/{chunk:06d}.json",
        }
        result = runtime.registry.invoke(
            "ImportWorkerFunction", {"Records": [{"messageId": f"m{chunk}", "body": json.dumps(message)}]}
        )
        assert result == {"batchItemFailures": []}
    after = runtime.request("GET", f"/v1/processes/{process_id}", headers=headers(tenant)).json()
    assert after["data"] == before["data"]
    stats = runtime.request("GET", f"/v1/customers/r{suffix}-3", headers=tenant.headers).json()["stats"]
    assert (stats["ordersCount"], stats["totalSales"]) == (1, 5)


def test_a_chunk_that_reaches_the_dead_letter_queue_fails_its_process(runtime, tenant):
    from functions.import_dead_letters.app import process_store

    repository = process_store()._processes  # the test seeds a process whose one chunk is lost
    process_id = repository.next_process_id(tenant.application_id)
    from patron.imports.model import Process, ProcessStatus

    repository.create(Process(tenant.application_id, process_id, ProcessStatus.RUNNING, "t", "t", 25, 0), "k")
    repository.set_status(tenant.application_id, process_id, ProcessStatus.RUNNING, "t", chunksTotal=1)
    dead = {"applicationId": tenant.application_id, "processId": process_id, "chunk": 0, "key": "lost"}
    for _ in range(2):  # the DLQ is at-least-once too
        runtime.registry.invoke("ImportDeadLetterFunction", {"Records": [{"messageId": "d", "body": json.dumps(dead)}]})
    steps = {"applicationId": tenant.application_id, "processId": process_id}
    assert runtime.registry.invoke("ImportStepsFunction", {**steps, "step": "check"}) == {"done": True}
    assert runtime.registry.invoke("ImportStepsFunction", {**steps, "step": "finish"}) == {"status": "failed"}
    body = runtime.request("GET", f"/v1/processes/{process_id}", headers=headers(tenant)).json()
    assert body["status"] == "failed" and body["failure"] == "1 chunk(s) could not be written"


def test_overwrite_descriptors_replaces_the_catalogs_types(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    runtime.request("PUT", f"/v1/customers/seed{suffix}", headers=tenant.headers, body={"attributes": {"level": 3}})

    def import_level(overwrite: bool) -> dict:
        body = {
            "overwriteDescriptors": overwrite,
            "customers": [
                {
                    "id": f"ow{suffix}-{overwrite}",
                    "level": "gold",
                    "orders": [{"id": f"owo{suffix}-{overwrite}", "createdAt": "2024-01-01", "amount": 1}],
                }
            ],
        }
        started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=json.dumps(body))
        return wait_for(runtime, tenant, started.json()["processId"])

    refused = import_level(False)
    assert [(r["path"], r["reason"]) for r in refused["rejected"]] == [
        ("customers[0].level", "attribute_type_mismatch")
    ]
    accepted = import_level(True)
    assert accepted["rejected"] == [] and accepted["data"]["processedCustomers"] == 1
    catalog = runtime.request("GET", "/v1/attributes/customer", headers=tenant.headers).json()["data"]
    assert {row["name"]: row["type"] for row in catalog}["level"] == "string"


def test_processes_of_one_and_of_two_applications_run_at_once_without_mixing(runtime, tenant, other_tenant):
    suffix = uuid.uuid4().hex[:6]

    def body(prefix: str, count: int) -> str:
        return json.dumps(
            {
                "customers": [
                    {
                        "id": f"{prefix}{suffix}-{i}",
                        "orders": [{"id": f"{prefix}o{suffix}-{i}", "createdAt": "2024-01-01", "amount": 2}],
                    }
                    for i in range(count)
                ]
            }
        )

    runs = [(tenant, body("p", 30)), (tenant, body("q", 40)), (other_tenant, body("p", 50))]
    started = [
        (who, runtime.request("POST", "/v1/import", headers=headers(who), body=payload).json()["processId"])
        for who, payload in runs
    ]
    results = [wait_for(runtime, who, process_id) for who, process_id in started]
    assert [r["data"]["processedCustomers"] for r in results] == [30, 40, 50]
    assert [r["data"]["processedOrders"] for r in results] == [30, 40, 50]
    # The same customer ids in two applications are two customers.
    mine = runtime.request("GET", f"/v1/customers/p{suffix}-0", headers=tenant.headers).json()
    theirs = runtime.request("GET", f"/v1/customers/p{suffix}-0", headers=other_tenant.headers).json()
    assert mine["stats"]["ordersCount"] == theirs["stats"]["ordersCount"] == 1


def test_a_worker_killed_mid_chunk_loses_and_doubles_nothing_when_the_chunk_comes_back(
    runtime, tenant, monkeypatch, quick_redelivery
):
    from patron.imports.writer import ChunkWriter

    suffix = uuid.uuid4().hex[:6]
    real = ChunkWriter._customer
    killed: list[int] = []

    def dies_once_at_the_tenth(self, application_id, number, *rest):
        if number == 10 and not killed:
            killed.append(number)
            raise RuntimeError("the Lambda was stopped")
        return real(self, application_id, number, *rest)

    monkeypatch.setattr(ChunkWriter, "_customer", dies_once_at_the_tenth)
    # The per-record way (existing customers take it; test_import_batches.py kills the batch way).
    monkeypatch.setattr(ChunkWriter, "_write_new_customers", lambda self, *_, **__: (list(range(20)), {}))
    customers = [
        {"id": f"k{suffix}-{i}", "orders": [{"id": f"ko{suffix}-{i}", "createdAt": "2024-01-01", "amount": 3}]}
        for i in range(20)
    ]
    started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=json.dumps({"customers": customers}))
    process_id = started.json()["processId"]
    # The failed message comes back after the queue's visibility timeout (1 s here) and the poller delivers it.
    process = wait_for(runtime, tenant, process_id)
    assert killed == [10]
    assert process["data"]["processedCustomers"] == 20 and process["data"]["processedOrders"] == 20
    for i in (0, 9, 10, 19):
        stats = runtime.request("GET", f"/v1/customers/k{suffix}-{i}", headers=tenant.headers).json()["stats"]
        assert (stats["ordersCount"], stats["totalSales"]) == (1, 3)


def test_recalculate_stats_maps_the_imported_customers_orders_again(runtime, tenant):
    suffix = uuid.uuid4().hex[:6]
    customer = f"rc{suffix}"
    for index, status in enumerate(["20", "10"]):
        runtime.request(
            "PUT",
            f"/v1/orders/rc{suffix}-{index}",
            headers=tenant.headers,
            body={"customerId": customer, "createdAt": f"2024-0{index + 1}-01", "amount": 10, "status": status},
        )
    assert (
        runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers).json()["stats"]["ordersCount"] == 2
    )  # "20" is not mapped yet: a sale
    runtime.request("PUT", "/v1/order_statuses", headers=tenant.headers, body={"states": {"20": "returned"}})
    body = {"recalculateStats": True, "customers": [{"id": customer, "name": "Ada"}]}
    started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=json.dumps(body))
    assert wait_for(runtime, tenant, started.json()["processId"])["status"] == "completed"
    stats = runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers).json()["stats"]
    assert (stats["ordersCount"], stats["totalSales"], stats["firstOrderAt"]) == (1, 10, "2024-02-01T00:00:00.000Z")
    assert runtime.request("GET", f"/v1/orders/rc{suffix}-0", headers=tenant.headers).json()["state"] == "returned"


def test_an_idempotency_key_starts_one_process_and_replays_its_id(runtime, tenant):
    keyed = {**headers(tenant), "Idempotency-Key": f"import-{uuid.uuid4().hex}"}
    body = {"customers": [{"id": f"idem-{uuid.uuid4().hex[:8]}"}]}
    first = runtime.request("POST", "/v1/import", headers=keyed, body=body)
    again = runtime.request("POST", "/v1/import", headers=keyed, body=body)
    assert first.status == 202 and again.status == 202 and again.header("Idempotent-Replayed") == "true"
    assert again.json()["processId"] == first.json()["processId"]
    # No second process: the next one without a key takes the next number.
    following = runtime.request("POST", "/v1/import", headers=headers(tenant), body=body).json()["processId"]
    assert following == first.json()["processId"] + 1
    other = runtime.request("POST", "/v1/import", headers=keyed, body={"customers": []})
    assert other.status == 422


def reference_customers(prefix: str, count: int) -> list[dict[str, Any]]:
    """Customers shaped like Rfmcube's documented import (about 485 bytes each)."""
    document = json.loads(DOCUMENTED)["customers"][0]
    customers = []
    for n in range(count):
        customer = json.loads(json.dumps(document))
        customer["id"], customer["email"] = f"{prefix}-{n}", f"{prefix}.{n}@example.com"
        customer["orders"][0]["id"] = f"{prefix}-o{n}"
        customers.append(customer)
    return customers


def test_bodies_up_to_the_inline_limit_are_taken_inline(runtime, tenant):
    limit = int(runtime.environment["MAX_IMPORT_INLINE_BYTES"])
    assert limit == 5_000_000  # the template's default
    prefix = f"inl{uuid.uuid4().hex[:6]}"
    ordinary = json.dumps({"customers": reference_customers(prefix, 1000)}).encode()
    assert len(ordinary) > 256 * 1024  # once refused: the general body limit applied
    started = runtime.request("POST", "/v1/import", headers=headers(tenant), body=ordinary)
    assert started.status == 202, started.body
    # The largest body taken fits Lambda's 6 MB event once API Gateway has written it as a JSON string.
    each = len(json.dumps(reference_customers(prefix, 10_000)[-1]).encode()) + 2  # the longest ids
    largest = json.dumps({"customers": reference_customers(prefix, limit // each - 1)}).encode()
    largest = largest[:-1] + b" " * (limit - len(largest)) + b"}"  # whitespace up to the byte
    assert len(largest) == limit
    assert runtime.request("POST", "/v1/import", headers=headers(tenant), body=largest).status == 202
    over = runtime.request("POST", "/v1/import", headers=headers(tenant), body=largest[:-1] + b" }")
    assert over.status == 416 and over.json()["code"] == "import_too_large"
    assert wait_for(runtime, tenant, started.json()["processId"])["data"]["processedCustomers"] == 1000
