"""Customer-session updates and closes with 1,000 published campaigns and a 20-item cart (bench/decide.py's
generated ruleset and cart): DynamoDB round trips and capacity units per call, and the handler's own CPU.

1. Round trips and units. Through the local runtime (API Gateway behaviour, the authorizer, the handler, DynamoDB
   Local), the project's meter (bench.dynamo_meter) on the handlers' client, each call tagged with its function:
   the SessionsFunction's calls of a first update (creates the session and the profile), a later update (another
   cart) and the close. The minimum of each is priced from the stored items' sizes read after the call (a client
   the meter does not see):
     read   one strongly consistent read of each item the decision needs: the session, its order (a closed
            session is one), the profile, the live-ruleset pointer, and the budget counters of the candidate
            campaigns that have limits (what the service read: the decision cannot be made without them)
     write  each item that changes, once: the session (a PutItem when nothing else changes), and at close, in one
            transaction (priced as such, twice a standard write), the session, the order and its customer-index
            entry, the profile and each counter consumed.
   The orders table's recent-sessions index (GSI1, keys only) costs one more index write per session write; the
   meter prices base-table capacity only, as the minimum does.
2. CPU, storage excluded. In this process, the sessions route's own work (decode the body, the SessionService
   update, encode the answer) on a client that replays DynamoDB Local's recorded answers and accepts writes without
   sending them: Patron's CPU per update, on a warm instance (compiled ruleset cached), with `decide()` on the same
   snapshot timed apart. p50 and p99 over the rounds, gc frozen as in bench/decide.

    .venv/bin/python -m bench.sessions [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench import decide as generated
from bench.common import FunctionMeter, fail, new_api_key, percentile, print_table, start_runtime, write_json
from bench.dynamo_meter import Call, item_size, read_units, write_units

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

TARGET = 1.2
DEFAULT_ROUNDS = 400
CPU_AIM_MS = 3.0
FUNCTION = "SessionsFunction"


def cart_body(profile_id: str, seed: int = 7) -> dict[str, Any]:
    """bench/decide's 20-item cart as a session request body."""
    snap = generated.snapshot(seed=seed)
    items = [
        {
            "sku": line.sku,
            "name": line.name,
            "quantity": line.quantity,
            "price": float(line.price),
            "category": line.category,
            "attributes": dict(line.attributes or {}),
        }
        for line in snap.lines
    ]
    return {
        "profileId": profile_id,
        "storeIntegrationId": snap.store_integration_id,
        "cartItems": items,
        "additionalCosts": {name: {"price": float(price)} for name, price in snap.additional_costs.items()},
        "couponCodes": list(snap.coupon_codes),
        "identifiers": list(snap.identifiers),
        "attributes": dict(snap.attributes),
    }


# -- 1. round trips and units --------------------------------------------------------------------------------


class Sizes:
    """Stored item sizes, read through a client the meter does not see."""

    def __init__(self, runtime: LocalRuntime):
        self._client = runtime.dynamodb_client()
        self._tables = runtime.table_names

    def item(self, table: str, key: dict[str, str]) -> int:
        found = self._client.get_item(
            TableName=self._tables[table], Key={name: {"S": value} for name, value in key.items()}, ConsistentRead=True
        ).get("Item")
        return item_size(found) if found else 0


def _measured(calls: Sequence[Call]) -> tuple[list[str], float, float]:
    return [call.operation for call in calls], sum(c.read_units for c in calls), sum(c.write_units for c in calls)


def measure_units(runtime: LocalRuntime) -> list[dict[str, Any]]:
    from patron.dynamo.client import dynamodb_client
    from patron.orders.keys import ORDER_SK, customer_order_sk, customer_orders_pk, order_pk
    from patron.profiles.keys import PROFILE_SK, profile_pk
    from patron.promotions.counters import counter_item_key, key_of
    from patron.promotions.store import pointer_key
    from patron.promotions.wiring import ruleset_service
    from patron.sessions.store import SESSION_SK, session_pk

    application_id, key = new_api_key(runtime, "bench-sessions")
    service = ruleset_service(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    service.publish(application_id, generated.ruleset(), note="bench", published_by="bench")
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    meter = FunctionMeter()
    meter.attach(dynamodb_client())
    sizes = Sizes(runtime)
    session_id, customer = f"bench-{uuid.uuid4().hex[:8]}", f"bench-customer-{uuid.uuid4().hex[:6]}"
    path = f"/v2/customer_sessions/{session_id}"
    other_cart = cart_body(customer, seed=8)["cartItems"]
    steps = [
        ("first update (creates)", {"customerSession": cart_body(customer)}),
        ("later update (another cart)", {"customerSession": {"cartItems": other_cart}}),
        ("close", {"customerSession": {"state": "closed"}}),
    ]
    rows = []
    for name, body in steps:
        mark = meter.mark()
        answer = runtime.request("PUT", path, headers=headers, body=body)
        if answer.status != 200:
            fail(f"{name}: {answer.status} {answer.body[:300]!r}")
        calls = [call for call in meter.since(mark) if meter.function_of(call) == FUNCTION]
        if any(call.operation == "Scan" for call in calls):
            fail(f"{name}: a Scan")
        operations, rcu, wcu = _measured(calls)
        session_item = sizes.item("OrdersTable", {"PK": session_pk(application_id, session_id), "SK": SESSION_SK})
        order_item = sizes.item("OrdersTable", {"PK": order_pk(application_id, session_id), "SK": ORDER_SK})
        profile_item = sizes.item("ProfilesTable", {"PK": profile_pk(application_id, customer), "SK": PROFILE_SK})
        pointer_item = sizes.item("ConfigTable", pointer_key(application_id))
        stored = json.loads(answer.body)
        # The counters the decision needs: each counter item (well under 4 KB) is one consistent read unit, in the
        # minimum as in the measure, so the ledgers table's share is taken as measured.
        ledgers = runtime.table_names["LedgersTable"]
        counter_reads = sum(ch.read_units for c in calls for ch in c.charges if ch.table == ledgers)
        fixed = (session_item, order_item, profile_item, pointer_item)
        min_read = sum(read_units(size or 1, consistent=True) for size in fixed) + counter_reads
        if name == "close":
            consumed = _consumed(runtime, application_id, session_id)
            counter_sizes = [sizes.item("LedgersTable", counter_item_key(application_id, key_of(c))) for c in consumed]
            index_item = sizes.item(
                "OrdersTable",
                {
                    "PK": customer_orders_pk(application_id, customer),
                    "SK": customer_order_sk(_order_created(runtime, application_id, session_id), session_id),
                },
            )
            written = [session_item, order_item, index_item, profile_item, *counter_sizes]
            min_write = float(sum(write_units(size, transactional=True) for size in written))
        elif name.startswith("first"):
            # A new session names an unknown profile: the session and the profile, in one transaction.
            min_write = float(sum(write_units(size, transactional=True) for size in (session_item, profile_item)))
        else:
            min_write = float(write_units(session_item))
        rows.append(
            {
                "step": name,
                "operations": operations,
                "round_trips": len(operations),
                "read_units": rcu,
                "write_units": wcu,
                "min_read_units": min_read,
                "min_write_units": min_write,
                "ratio": (rcu + wcu) / (min_read + min_write) if min_read + min_write else None,
                "item_bytes": {"session": session_item, "profile": profile_item, "order": order_item},
                "effects": len(stored.get("effects", [])),
            }
        )
    meter.detach(dynamodb_client())
    return rows


def _consumed(runtime: LocalRuntime, application_id: int, session_id: str) -> list[str]:
    from patron.sessions.store import SESSION_SK, session_pk

    item = runtime.dynamodb_client().get_item(
        TableName=runtime.table_names["OrdersTable"],
        Key={"PK": {"S": session_pk(application_id, session_id)}, "SK": {"S": SESSION_SK}},
        ConsistentRead=True,
    )["Item"]
    return list(item.get("consumed", {}).get("M", {}))


def _order_created(runtime: LocalRuntime, application_id: int, order_id: str) -> str:
    from patron.orders.keys import ORDER_SK, order_pk

    item = runtime.dynamodb_client().get_item(
        TableName=runtime.table_names["OrdersTable"],
        Key={"PK": {"S": order_pk(application_id, order_id)}, "SK": {"S": ORDER_SK}},
        ConsistentRead=True,
    )["Item"]
    return str(item["createdAt"]["S"])


# -- 2. CPU, storage excluded ---------------------------------------------------------------------------------


class ReplayClient:
    """DynamoDB Local's answers, recorded once per request and replayed; writes accepted unsent."""

    def __init__(self, real: Any):
        self._real = real
        self._answers: dict[str, Any] = {}
        self.recording = True

    def batch_get_item(self, **request: Any) -> Any:
        key = json.dumps(request, sort_keys=True)
        if key not in self._answers:
            if not self.recording:
                raise AssertionError("an unrecorded read while replaying")
            self._answers[key] = self._real.batch_get_item(**request)
        return self._answers[key]

    def get_item(self, **request: Any) -> Any:
        key = json.dumps(request, sort_keys=True)
        if key not in self._answers:
            self._answers[key] = self._real.get_item(**request)
        return self._answers[key]

    def put_item(self, **request: Any) -> Any:
        return {}

    def transact_write_items(self, **request: Any) -> Any:
        return {}


def measure_cpu(runtime: LocalRuntime, rounds: int) -> dict[str, Any]:
    from patron.clock import SystemClock
    from patron.http import jsonbody
    from patron.http.validation import parse_model
    from patron.http.wire import to_builtins
    from patron.promotions.decide import decide
    from patron.promotions.store import LiveRulesets
    from patron.sessions import wire
    from patron.sessions.service import SessionService, snapshot_of
    from patron.sessions.store import SessionStore
    from patron.settings import Tables

    application_id, key = new_api_key(runtime, "bench-sessions-cpu")
    config = runtime.table_names["ConfigTable"]
    from patron.promotions.wiring import ruleset_service

    ruleset_service(runtime.dynamodb_client(), config).publish(
        application_id, generated.ruleset(), note="bench", published_by="bench"
    )
    session_id, customer = f"cpu-{uuid.uuid4().hex[:8]}", f"cpu-customer-{uuid.uuid4().hex[:6]}"
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    first = runtime.request(
        "PUT", f"/v2/customer_sessions/{session_id}", headers=headers, body={"customerSession": cart_body(customer)}
    )
    if first.status != 200:
        fail(f"setting up the CPU session: {first.status}")
    names = runtime.table_names
    tables = Tables(
        config_table_name=names["ConfigTable"],
        profiles_table_name=names["ProfilesTable"],
        orders_table_name=names["OrdersTable"],
        ledgers_table_name=names["LedgersTable"],
        outbox_table_name=names["OutboxTable"],
        outbox_ttl_seconds=86400,
    )
    client = ReplayClient(runtime.dynamodb_client())
    rulesets = LiveRulesets(client, tables)
    service = SessionService(SessionStore(client, tables), rulesets, SystemClock(), lambda *_: (None, None))
    body = json.dumps(
        {
            "customerSession": {"cartItems": cart_body(customer, seed=9)["cartItems"]},
            "responseContent": ["customerSession"],
        }
    ).encode()

    def handle() -> str:
        # The route's own path: jsonbody's exact numbers, the typed wire, the answer as the API writes it.
        request = parse_model(wire.IntegrationRequest, jsonbody.loads(body))
        outcome = service.update(application_id, session_id, wire.change_of(request.customer_session))
        state = wire.IntegrationStateV2(effects=outcome.effects, created_coupons=[], created_referrals=[])
        state.customer_session = wire.session_out(outcome.stored.session, application_id)
        return jsonbody.dumps(to_builtins(state))

    for _ in range(20):  # warm: the ruleset compiled, every read recorded, the session's counters remembered
        handle()
    stored = service.get(application_id, session_id)
    client.recording = False
    version = rulesets.compiled(application_id, stored.ruleset_version or 1)
    snapshot = snapshot_of(stored.session, None, {})
    now = datetime.now(UTC)
    gc.collect()
    gc.freeze()
    totals, decides = [], []
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            handle()
            totals.append(time.perf_counter() - started)
            started = time.perf_counter()
            decide(version, snapshot, now)
            decides.append(time.perf_counter() - started)
    finally:
        gc.unfreeze()
    return {
        "rounds": rounds,
        "update_ms": {"p50": percentile(totals, 0.5) * 1000, "p99": percentile(totals, 0.99) * 1000},
        "decide_ms": {"p50": percentile(decides, 0.5) * 1000, "p99": percentile(decides, 0.99) * 1000},
        "aim_p99_ms": CPU_AIM_MS,
    }


def run(runtime: LocalRuntime, rounds: int = DEFAULT_ROUNDS) -> dict[str, Any]:
    rows = measure_units(runtime)
    cpu = measure_cpu(runtime, rounds)
    print_table(
        "Session calls, 1,000 campaigns, 20-item cart: DynamoDB round trips and capacity units (SessionsFunction)",
        ["step", "calls", "RCU", "WCU", "min RCU", "min WCU", "ratio", f"<= {TARGET}x"],
        [
            [
                row["step"],
                " + ".join(row["operations"]),
                f"{row['read_units']:g}",
                f"{row['write_units']:g}",
                f"{row['min_read_units']:g}",
                f"{row['min_write_units']:g}",
                f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-",
                "yes" if row["ratio"] is not None and row["ratio"] <= TARGET else "no",
            ]
            for row in rows
        ],
    )
    update, decided = cpu["update_ms"], cpu["decide_ms"]
    print_table(
        f"Session update CPU, storage excluded ({cpu['rounds']} rounds)",
        ["part", "p50 ms", "p99 ms", f"p99 <= {CPU_AIM_MS} ms"],
        [
            [
                "decode + update + encode",
                f"{update['p50']:.2f}",
                f"{update['p99']:.2f}",
                "yes" if update["p99"] <= CPU_AIM_MS else "no",
            ],
            ["of which decide()", f"{decided['p50']:.2f}", f"{decided['p99']:.2f}", ""],
        ],
    )
    results = {"calls": rows, "cpu": cpu}
    write_json("sessions", results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    args = parser.parse_args(argv)
    runtime = start_runtime()
    try:
        run(runtime, args.rounds)
    finally:
        runtime.stop()


if __name__ == "__main__":
    main()
