"""Cart item catalogs: a sync of 1,000 items (calls and capacity units against the minimum) and a session update
whose 20-item cart is priced and described from the catalog (round trips), through the local runtime (API Gateway
behaviour, the authorizer, the handlers, DynamoDB Local) with the project's meter (bench.dynamo_meter) on the
handlers' client, each call tagged with its function.

Syncs (ItemCatalogsFunction): ADD of 1,000 new SKUs (6 attributes each) into an empty catalog; the same 1,000 ADDed
again with replaceIfExists (every item then holds its current and its staged state); a PATCH_MANY over the 1,000
whose filter matches half. The minimum of a sync by SKU:
  read   the catalog item (one consistent read) and each SKU named (one consistent read each: whether it exists
         decides between 201-like creation, 409 and replacement; an absent item still costs a unit);
  write  each item once at the size of its new state alone (key, catalog id and that state: what a sync that
         kept one state per item, and so could not be all-or-nothing, would write), and the catalog's new version
         (one write).
  calls  1 GetItem, ceil(n/100) BatchGetItem, ceil(n/25) BatchWriteItem, 1 UpdateItem.
Patron's sync adds the claim (one conditional UpdateItem) and writes the previous state beside the staged one
(the price of all-or-nothing: an item read under the old version stays readable until the commit).

Session (SessionsFunction): examples/campaigns live, a warm instance, a 20-item cart sent without prices whose 20
SKUs are in the catalog: the update's DynamoDB round trips (the goal: 2, one BatchGetItem and one write, as
without a catalog) and the read units the catalog adds (its item and the 20 SKUs, one unit each).

    .venv/bin/python -m bench.catalogs
"""

from __future__ import annotations

import argparse
import math
import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from bench.common import FunctionMeter, fail, new_api_key, print_table, start_runtime, write_json
from bench.dynamo_meter import Call, item_size, write_units

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

ITEMS = 1000
CART = 20
TARGET_ROUND_TRIPS = 2
SYNC_FUNCTION = "ItemCatalogsFunction"
SESSION_FUNCTION = "SessionsFunction"


def _attributes(n: int) -> dict[str, Any]:
    return {
        "color": ("red", "blue", "green", "black")[n % 4],
        "size": 36 + n % 12,
        "brand": f"brand-{n % 50}",
        "material": "cotton",
        "season": "AW26",
        "tags": ["new", "bench"],
    }


def _add(n: int, replace: bool = False) -> dict[str, Any]:
    payload = {"sku": f"SKU-{n:05d}", "price": 10 + n % 90, "attributes": _attributes(n), "replaceIfExists": replace}
    return {"type": "ADD", "payload": payload}


def _totals(calls: list[Call]) -> dict[str, Any]:
    operations = Counter(call.operation for call in calls)
    return {
        "calls": dict(operations),
        "roundTrips": len(calls),
        "readUnits": round(sum(call.read_units for call in calls), 1),
        "writeUnits": round(sum(call.write_units for call in calls), 1),
    }


def _minimum_sync(runtime: LocalRuntime, application_id: int, skus: list[str]) -> dict[str, Any]:
    """The minimum of a sync by SKU over these SKUs, priced on their states as stored after it."""
    from patron.dynamo import codec
    from patron.item_catalogs import items, keys
    from patron.item_catalogs.repository import DynamoItemCatalogRepository

    repository = DynamoItemCatalogRepository(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    catalog = repository.catalog(application_id)
    stored = repository.items(application_id, skus)
    units = 0
    for item in stored.values():
        state = item.visible(catalog)
        if state is None:
            continue
        plain = {**keys.item_key(application_id, item.sku), "catalogId": item.catalog_id}
        plain["cur"] = items.encode_state(state)
        units += write_units(item_size(codec.to_item(plain)))
    n = len(skus)
    return {
        "calls": 1 + math.ceil(n / 100) + math.ceil(n / 25) + 1,
        "readUnits": 1 + n,
        "writeUnits": units + 1,
    }


def _sync(runtime: LocalRuntime, meter: FunctionMeter, headers: dict[str, str], body: dict[str, Any]) -> Any:
    mark = meter.mark()
    started = time.perf_counter()
    answer = runtime.request("PUT", "/v1/catalogs/1/sync", headers=headers, body=body)
    seconds = time.perf_counter() - started
    if answer.status != 200:
        fail(f"sync answered {answer.status}: {answer.body[:300]!r}")
    calls = [call for call in meter.since(mark) if meter.function_of(call) == SYNC_FUNCTION]
    if any(call.operation == "Scan" for call in calls):
        fail("a sync made a Scan")
    return {**_totals(calls), "seconds": round(seconds, 2), "version": answer.json()["version"]}


def run(runtime: LocalRuntime) -> dict[str, Any]:
    from patron.applications.model import Scope
    from patron.dynamo.client import dynamodb_client
    from patron.item_catalogs.repository import DynamoItemCatalogRepository

    application_id, key = new_api_key(runtime, f"bench-catalogs-{uuid.uuid4().hex[:6]}")
    management = runtime.applications().create_key(application_id, Scope.MANAGEMENT, "bench").secret
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    created = runtime.request(
        "POST", "/v1/management/catalogs", headers={"Authorization": f"ApiKey-v1 {management}"}, body={"name": "b"}
    )
    if created.status != 201:
        fail(f"catalog creation answered {created.status}")
    skus = [f"SKU-{n:05d}" for n in range(ITEMS)]
    meter = FunctionMeter()
    meter.attach(dynamodb_client())
    try:
        # The attribute catalog learns the items' attribute types on an instance's first sync (cached after).
        first = _sync(runtime, meter, headers, {"actions": [_add(n) for n in range(ITEMS)]})
        first_minimum = _minimum_sync(runtime, application_id, skus)
        replaced = _sync(runtime, meter, headers, {"actions": [_add(n, replace=True) for n in range(ITEMS)]})
        replaced_minimum = _minimum_sync(runtime, application_id, skus)
        many = {"type": "PATCH_MANY", "payload": {"price": 5, "filters": [{"attr": "size", "op": "LT", "value": 42}]}}
        patched = _sync(runtime, meter, headers, {"actions": [many]})
        session = _session(runtime, meter, headers, application_id)
    finally:
        meter.detach(dynamodb_client())
    repository = DynamoItemCatalogRepository(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    catalog = repository.catalog(application_id)
    rows = []
    for label, measured, minimum in (
        ("ADD 1,000 new", first, first_minimum),
        ("ADD 1,000 replaceIfExists", replaced, replaced_minimum),
        ("PATCH_MANY (1,000 examined, 500 changed)", patched, None),
    ):
        rows.append(
            [
                label,
                measured["roundTrips"],
                minimum["calls"] if minimum else "",
                measured["readUnits"],
                minimum["readUnits"] if minimum else "",
                measured["writeUnits"],
                minimum["writeUnits"] if minimum else "",
                f"{measured['writeUnits'] / minimum['writeUnits']:.2f}x" if minimum else "",
                measured["seconds"],
                ", ".join(f"{op} {n}" for op, n in sorted(measured["calls"].items())),
            ]
        )
    print_table(
        "Catalog sync of 1,000 items (ItemCatalogsFunction, DynamoDB Local in memory)",
        ["sync", "calls", "min", "RCU", "min", "WCU", "min", "WCU/min", "s", "calls by operation"],
        rows,
        note="minimum: one state per item written once, plus the version (see bench/catalogs.py); s: local wall time",
    )
    print_table(
        "Session update with catalog lookups (SessionsFunction, warm, examples/campaigns)",
        ["update", "round trips", "goal", "RCU", "of which catalog", "WCU", "calls"],
        [
            [
                f"{CART}-item cart, {CART} SKUs in the catalog, no prices",
                session["roundTrips"],
                TARGET_ROUND_TRIPS,
                session["readUnits"],
                session["catalogReadUnits"],
                session["writeUnits"],
                ", ".join(f"{op} {n}" for op, n in sorted(session["calls"].items())),
            ]
        ],
    )
    results = {
        "sync": {"addNew": first, "addNewMinimum": first_minimum, "replace": replaced,
                 "replaceMinimum": replaced_minimum, "patchMany": patched},
        "session": session,
        "catalogVersion": catalog.version if catalog else None,
    }  # fmt: skip
    write_json("catalogs", results)
    if session["roundTrips"] != TARGET_ROUND_TRIPS:
        fail(f"a session update with catalog lookups took {session['roundTrips']} round trips")
    return results


def _session(runtime: LocalRuntime, meter: FunctionMeter, headers: dict[str, str], application_id: int) -> Any:
    from bench.sessions import examples_ruleset, publish

    publish(runtime, application_id, examples_ruleset())
    cart = [{"sku": f"SKU-{n:05d}", "quantity": 1 + n % 3} for n in range(CART)]
    warm = runtime.request("PUT", "/v2/customer_sessions/warm", headers=headers, body={"customerSession": {}})
    if warm.status != 200:
        fail(f"warm-up answered {warm.status}")
    path = f"/v2/customer_sessions/bench-{uuid.uuid4().hex[:8]}"
    body = {"customerSession": {"profileId": "bench-catalog-customer", "cartItems": cart}}
    runtime.request("PUT", path, headers=headers, body=body)  # creates the session and its profile
    mark = meter.mark()
    answer = runtime.request("PUT", path, headers=headers, body={**body, "responseContent": ["customerSession"]})
    if answer.status != 200:
        fail(f"session update answered {answer.status}: {answer.body[:300]!r}")
    priced = [item["price"] for item in answer.json()["customerSession"]["cartItems"]]
    if 0 in priced:
        fail("a cart item was not priced from the catalog")
    calls = [call for call in meter.since(mark) if meter.function_of(call) == SESSION_FUNCTION]
    return {**_totals(calls), "catalogReadUnits": 1 + CART}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.catalogs", description=__doc__)
    parser.parse_args(argv)
    runtime = start_runtime()
    try:
        run(runtime)
    finally:
        runtime.stop()


if __name__ == "__main__":
    main()
