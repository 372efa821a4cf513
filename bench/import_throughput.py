"""Import throughput: a whole history (20,000 customers, 200,000 orders by default) through the import pipeline
on the local runtime, written by the worker's batches, against the same pipeline and the same data written
one item per call, in the same run.

Both arms run the real pipeline: the file uploaded through the presigned URL, the Step Functions workflow from
the real ASL, chunks on SQS, the worker. Only the worker's store differs: `DynamoBatchStore` (BatchGetItem,
BatchWriteItem, PartiQL INSERTs; a few calls in flight) or `OneItemPerCallStore` (a GetItem per key read, a
PutItem or DeleteItem per item written, one call at a time; the same conditions). Each arm imports into an
application of its own, so both write every item new.

Reported per arm: seconds from the upload to the completed process, records (customers + orders) per second,
DynamoDB calls per record and write units per record (counted by `bench.dynamo_meter` on the handlers'
client), and the write units against the theoretical minimum: each item of the imported data (profiles,
identifier claims, orders, their index entries) written once, at its final size, with a single plain write.

    .venv/bin/python -m bench.import_throughput [--customers 20000] [--orders 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import FunctionMeter, fail, new_api_key, print_table, start_runtime, write_json
from bench.dynamo_meter import write_units

if TYPE_CHECKING:
    from patron.imports.batch_store import Claim, Snapshot
    from patron.orders.model import Order
    from patron.profiles.model import CustomerProfile
    from patron_local.runtime import LocalRuntime

DEFAULT_CUSTOMERS = 20_000
DEFAULT_ORDERS = 10
# Before each arm, an import of this many customers into an application of its own, not measured: DynamoDB
# Local's JIT compiles the paths of the items an import writes (its C2 threads took ~20 % of the JVM's CPU in
# the first 5,000 customers of an arm after the operation warm-up alone).
WARM_UP_CUSTOMERS = 1_000
DATA_TABLES = ("ProfilesTable", "OrdersTable")


def history(customers: int, orders: int) -> Iterator[dict[str, Any]]:
    """A shop's history: customers with an email and a few attributes, each with `orders` orders of two items."""
    for i in range(customers):
        yield {
            "id": f"cust-{i:07d}",
            "email": f"customer.{i}@example.com",
            "createdAt": "2020-01-01T13:06:39Z",
            "firstName": "Ada",
            "city": ["Milano", "Roma", "Torino"][i % 3],
            "loyaltyTier": ["gold", "silver", "bronze"][i % 3],
            "orders": [
                {
                    "id": f"ord-{i:07d}-{n:03d}",
                    "createdAt": f"20{20 + n % 5}-{1 + n % 12:02d}-{1 + i % 28:02d}T10:{n % 60:02d}:00Z",
                    "amount": Decimal(1000 + (i * 7 + n * 13) % 9000) / 100,
                    "status": "10",
                    "statusLabel": "Completato",
                    "items": [
                        {"item_id": 1000 + n, "product_id": 43000 + (i + n) % 500, "brand": "nike", "price": 19.9},
                        {"item_id": 2000 + n, "product_id": 44000 + (i * n) % 500, "brand": "acme", "price": 5},
                    ],
                }
                for n in range(orders)
            ],
        }


def write_file(path: Path, customers: int, orders: int) -> int:
    """The history as a JSON Lines file (one customer per line); returns its size."""
    from patron.http import jsonbody

    with path.open("w", encoding="utf-8") as out:
        for customer in history(customers, orders):
            out.write(jsonbody.dumps(customer) + "\n")
    return path.stat().st_size


class OneItemPerCallStore:
    """The naive writer: the batch store's contract, one item per call, one call at a time."""

    def __init__(self, client: Any, profiles_table: str, orders_table: str):
        self._client = client
        self._profiles = profiles_table
        self._orders = orders_table

    def read(self, application_id: int, customers: Any, claims: Any, orders: Any) -> Snapshot:
        from patron.dynamo import codec
        from patron.imports.batch_store import Snapshot
        from patron.orders.keys import ORDER_SK, order_pk
        from patron.profiles.keys import IDENTIFIER_SK, PROFILE_SK, identifier_pk, profile_pk

        snapshot = Snapshot()

        def get(table: str, pk: str, sk: str) -> dict[str, Any] | None:
            key = codec.to_item({"PK": pk, "SK": sk})
            found = self._client.get_item(TableName=table, Key=key, ConsistentRead=True)
            return codec.from_item(found["Item"]) if "Item" in found else None

        for customer in customers:
            if get(self._profiles, profile_pk(application_id, customer), PROFILE_SK):
                snapshot.profiles.add(customer)
        for kind, value in claims:
            if item := get(self._profiles, identifier_pk(application_id, kind, value), IDENTIFIER_SK):
                snapshot.claims[(kind, value)] = str(item["owner"])
        for order_id in orders:
            if item := get(self._orders, order_pk(application_id, order_id), ORDER_SK):
                snapshot.orders[order_id] = (str(item["customerId"]), str(item["createdAt"]))
        return snapshot

    def _insert(self, table: str, item: dict[str, Any]) -> bool:
        from botocore.exceptions import ClientError

        from patron.dynamo import codec

        try:
            self._client.put_item(
                TableName=table, Item=codec.to_item(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def insert_claims(self, application_id: int, claims: Sequence[tuple[Claim, str]]) -> set[Claim]:
        from patron.profiles.repository import claim_item

        return {
            claim
            for claim, owner in claims
            if not self._insert(self._profiles, claim_item(application_id, claim[0], claim[1], owner))
        }

    def release_claims(self, application_id: int, claims: Sequence[Claim]) -> None:
        from patron.dynamo import codec
        from patron.profiles.keys import IDENTIFIER_SK, identifier_pk

        for kind, value in claims:
            key = {"PK": identifier_pk(application_id, kind, value), "SK": IDENTIFIER_SK}
            self._client.delete_item(TableName=self._profiles, Key=codec.to_item(key))

    def put_orders(self, orders: Sequence[Order], stale_index: Sequence[tuple[str, str, str]]) -> None:
        from patron.dynamo import codec
        from patron.orders.keys import customer_order_sk, customer_orders_pk
        from patron.orders.repository import index_item, order_to_item

        for order in orders:
            self._client.put_item(TableName=self._orders, Item=codec.to_item(order_to_item(order)))
            self._client.put_item(TableName=self._orders, Item=codec.to_item(index_item(order)))
        for customer_id, created_at, order_id in stale_index:
            application_id = orders[0].application_id
            key = {"PK": customer_orders_pk(application_id, customer_id), "SK": customer_order_sk(created_at, order_id)}
            self._client.delete_item(TableName=self._orders, Key=codec.to_item(key))

    def insert_profiles(self, profiles: Sequence[CustomerProfile]) -> set[str]:
        from patron.profiles.repository import profile_to_item

        return {p.integration_id for p in profiles if not self._insert(self._profiles, profile_to_item(p))}


def start_upload(runtime: LocalRuntime, key: str, path: Path, fmt: str) -> int:
    """Asks for an upload URL, PUTs the file to it, and returns the process the upload starts."""
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    body = {"format": fmt, "contentLength": path.stat().st_size}
    answer = runtime.request("POST", "/v1/import/uploads", headers=headers, body=body)
    if answer.status not in (200, 201):
        fail(f"upload request answered {answer.status}: {answer.body[:300]!r}")
    upload = answer.json()
    with path.open("rb") as data:
        url, headers = upload["uploadUrl"], upload["headers"]
        request = urllib.request.Request(url, data=data, method="PUT", headers=headers)  # noqa: S310 - our URL
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - the runtime's own URL
            if response.status != 200:
                fail(f"upload answered {response.status}")
    return int(upload["processId"])


def wait(runtime: LocalRuntime, key: str, process_id: int, timeout: float) -> dict[str, Any]:
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = runtime.request("GET", f"/v1/processes/{process_id}", headers=headers).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.5)
    fail(f"process {process_id} did not finish within {timeout} s")
    raise AssertionError


def run_arm(
    runtime: LocalRuntime, meter: FunctionMeter, name: str, path: Path, records: int, timeout: float
) -> dict[str, Any]:
    application_id, key = new_api_key(runtime, f"bench-import-{name}")
    prefix = f"APP#{application_id}#"
    tables = {runtime.table_names[logical] for logical in DATA_TABLES}
    mark = meter.mark()
    started = time.perf_counter()
    process = wait(runtime, key, start_upload(runtime, key, path, "jsonl"), timeout)
    seconds = time.perf_counter() - started
    if process["status"] != "completed" or process["data"]["rejectedRecords"]:
        fail(f"{name}: the import ended {process['status']}: {json.dumps(process)[:500]}")
    calls = [call for call in meter.since(mark) if meter.function_of(call) == "ImportWorkerFunction"]
    everything = meter.since(mark)
    written = sum(charge.write_units for call in everything for charge in call.charges)
    minimum = sum(
        write_units(size)
        for (table, item_key), size in meter.item_sizes().items()
        if table in tables and prefix in item_key
    )
    return {
        "seconds": seconds,
        "records_per_second": records / seconds,
        "calls": len(everything),
        "worker_calls": len(calls),
        "calls_per_record": len(everything) / records,
        "write_units": written,
        "write_units_per_record": written / records,
        "minimum_write_units": minimum,
        "write_units_ratio": written / minimum if minimum else None,
        "process": process["data"],
    }


def store_ceiling(runtime: LocalRuntime, items: int = 10_000) -> dict[str, float]:
    """What DynamoDB Local itself allows on this machine, in the same run: order items written by BatchWriteItem
    (8 calls in flight, as the worker does) against one PutItem at a time. No end-to-end ratio can pass this."""
    from concurrent.futures import ThreadPoolExecutor

    from patron.dynamo import codec
    from patron.dynamo.client import bulk_dynamodb_client
    from patron.http import jsonbody
    from patron.orders.repository import order_to_item

    client: Any = bulk_dynamodb_client()  # the arms' client
    table = runtime.table_names["OrdersTable"]
    sample = jsonbody.loads(jsonbody.dumps(next(history(1, 1))["orders"][0]))  # numbers as the worker gets them

    def item(tag: str, n: int) -> dict[str, Any]:
        from patron.orders.model import Order, OrderState

        order = Order(
            0, f"ceiling-{tag}-{n}-{uuid.uuid4().hex}", "c", sample["createdAt"], sample["amount"], OrderState.SALE
        )
        return codec.to_item({**order_to_item(order), "items": sample["items"]})

    def batch(start: int) -> None:
        requests = [{"PutRequest": {"Item": item("b", n)}} for n in range(start, start + 25)]
        while requests:
            answer = client.batch_write_item(RequestItems={table: requests})
            requests = (answer.get("UnprocessedItems") or {}).get(table, [])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(batch, range(0, items, 25)))
    batched = items / (time.perf_counter() - started)
    singles = items // 5
    started = time.perf_counter()
    for n in range(singles):
        client.put_item(TableName=table, Item=item("p", n))
    single = singles / (time.perf_counter() - started)
    return {"batch_items_per_second": batched, "put_items_per_second": single, "ratio": batched / single}


def warm_up(runtime: LocalRuntime, rounds: int = 400) -> None:
    """Runs every DynamoDB operation either arm uses until the JVM has compiled its paths: otherwise the first
    arm would pay DynamoDB Local's JIT warm-up for the operations only it uses."""
    from patron.dynamo.client import bulk_dynamodb_client

    client, table = bulk_dynamodb_client(), runtime.table_names["ProfilesTable"]
    store_ceiling(runtime, 20_000)  # BatchWriteItem and PutItem
    insert = f"INSERT INTO \"{table}\" VALUE {{'PK': ?, 'SK': ?}}"
    for n in range(rounds):
        keys = [{"PK": {"S": f"warm-up-{n}-{k}"}, "SK": {"S": "W"}} for k in range(25)]
        client.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
        client.batch_execute_statement(
            Statements=[{"Statement": insert, "Parameters": [k["PK"], k["SK"]]} for k in keys]
        )
        client.get_item(TableName=table, Key=keys[0], ConsistentRead=True)
        client.delete_item(TableName=table, Key=keys[0])


def run(customers: int = DEFAULT_CUSTOMERS, orders: int = DEFAULT_ORDERS, timeout: float = 7200) -> dict[str, Any]:
    from functions.import_worker.app import chunk_writer
    from patron.dynamo.client import bulk_dynamodb_client, dynamodb_client

    records = customers * (1 + orders)
    with tempfile.TemporaryDirectory(prefix="patron-bench-import-") as directory:
        path, warm_path = Path(directory) / "history.jsonl", Path(directory) / "warm-up.jsonl"
        size = write_file(path, customers, orders)
        warm_customers = min(WARM_UP_CUSTOMERS, customers)
        write_file(warm_path, warm_customers, orders)
        warm_records = warm_customers * (1 + orders)
        print(f"(history: {customers} customers, {customers * orders} orders, {size / 1e6:.1f} MB of JSON Lines)")
        runtime = start_runtime()
        clients = (dynamodb_client(), bulk_dynamodb_client())  # the handlers' clients (built once per process)
        meter = FunctionMeter()
        for client in clients:
            meter.attach(client)
        for logical in ("ProfilesTable", "OrdersTable", "ProcessesTable", "ConfigTable", "OutboxTable"):
            meter.learn_key_names(runtime.table_names[logical], ("PK", "SK"))
        try:
            results: dict[str, Any] = {"customers": customers, "orders": customers * orders, "arms": {}}
            warm_up(runtime)
            run_arm(runtime, meter, "batched-warm-up", warm_path, warm_records, timeout)
            results["arms"]["batched"] = run_arm(runtime, meter, "batched", path, records, timeout)
            writer = chunk_writer()  # built by the worker during the first arm, in its environment
            batched_store = writer._batch
            # The same client as the batched store: the arms differ only in how they use it.
            writer._batch = OneItemPerCallStore(bulk_dynamodb_client(), *_tables(runtime))
            try:
                run_arm(runtime, meter, "naive-warm-up", warm_path, warm_records, timeout)
                results["arms"]["one item per call"] = run_arm(runtime, meter, "naive", path, records, timeout)
            finally:
                writer._batch = batched_store
            results["store_ceiling"] = store_ceiling(runtime)
        finally:
            for client in clients:
                meter.detach(client)
            runtime.stop()
    batched, naive = results["arms"]["batched"], results["arms"]["one item per call"]
    results["throughput_ratio"] = batched["records_per_second"] / naive["records_per_second"]
    results["calls_ratio"] = batched["calls_per_record"] / naive["calls_per_record"]
    rows = [
        [
            name,
            f"{arm['seconds']:.1f}",
            f"{arm['records_per_second']:.0f}",
            f"{arm['calls_per_record']:.4f}",
            f"{arm['write_units_per_record']:.3f}",
            f"{arm['write_units_ratio']:.3f}",
        ]
        for name, arm in results["arms"].items()
    ]
    print_table(
        f"Import of {customers} customers and {customers * orders} orders ({records} records), local runtime",
        ["arm", "seconds", "records/s", "calls/record", "WCU/record", "WCU/minimum"],
        rows,
        f"throughput batched / one item per call: {results['throughput_ratio']:.1f}x; "
        f"calls per record: 1/{1 / results['calls_ratio']:.0f} of the naive path",
    )
    ceiling = results["store_ceiling"]
    print(
        f"DynamoDB Local alone, same run: BatchWriteItem {ceiling['batch_items_per_second']:.0f} items/s (8 in "
        f"flight), PutItem {ceiling['put_items_per_second']:.0f} items/s: {ceiling['ratio']:.1f}x at most"
    )
    return results


def _tables(runtime: LocalRuntime) -> tuple[str, str]:
    return runtime.table_names["ProfilesTable"], runtime.table_names["OrdersTable"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="orders per customer")
    arguments = parser.parse_args(argv)
    write_json("import_throughput", run(arguments.customers, arguments.orders))


if __name__ == "__main__":
    main()
