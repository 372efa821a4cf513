"""Customer-session updates and closes with 1,000 published campaigns and a 20-item cart (bench/decide.py's
generated ruleset and cart): DynamoDB round trips and capacity units per call, and the handler's own CPU.

1. Round trips and units. Through the local runtime (API Gateway behaviour, the authorizer, the handler, DynamoDB
   Local), the project's meter (bench.dynamo_meter) on the handlers' client, each call tagged with its function:
   the SessionsFunction's calls of a first update (creates the session and the profile; the application's first
   request on this instance), a later update (another cart), the close, and a second customer's new session (the
   instance warm); for contrast, the first two on an application whose live ruleset is examples/campaigns (a
   handful of campaigns). A Scan fails the run. The minimum of each step is priced from the stored items' sizes,
   read before and after the step through a client the meter does not see:
     read   one strongly consistent read of each item the decision needs, as it was before the step (an absent
            item still costs one unit): the session, its order (a closed session is one), the profile, the
            live-ruleset pointer, the budget counters of the candidate campaigns that have limits, taken as
            the service read them (the decision cannot be made without them; each is one unit, well under 4 KB),
            and the customer's event count item of each type the ruleset's `eventCount(...)` reads (examples/
            campaigns count `store_purchase`; docs/events.md).
            Not in the minimum: the live version's GetItem, which an instance makes once per ruleset version to
            compile it (the first update here), and any second read of the same items.
     write  each item that changes, once, priced on the larger of its sizes before and after (as AWS charges a
            PutItem): the session alone is a PutItem; when more must change together it is one transaction
            (priced as such, twice a standard write): at a first update the session and the new profile, at the
            close the session, the order and its customer-index entry, the profile and each counter consumed.
   The orders table's recent-sessions index (GSI1, keys only) costs one more index write per session write; the
   meter prices base-table capacity only, as the minimum does.
2. CPU, storage excluded. In this process, on a client that replays DynamoDB Local's recorded answers and accepts
   writes without sending them (no time in storage, on the wire or in botocore's request and response handling;
   Patron's own conversions through boto3's TypeSerializer/TypeDeserializer are in), a warm instance (the compiled
   ruleset cached), the same later update repeated:
     route      the sessions route's own work: decode the body, SessionService.update, encode the answer
     handler    functions.sessions.app.lambda_handler on the API Gateway proxy event the local runtime built for
                that request (authorizer context included), its composition root built on the replaying client:
                routing, Powertools' logging context and the route's EMF metrics document (stdout, discarded) too
     decide()   patron.promotions.decide.decide on the very arguments the service passed it (snapshot with the
                profile and counters read), timed apart
   The replaying client's own time (finding the recorded answer) is taken out of each round.
   CPU is the thread's (time.thread_time; the reads here fit one batch, so no worker thread runs), wall time
   (perf_counter) beside it; p50 and p99 over the rounds after 20 warm-up updates, gc frozen as in bench/decide.

    .venv/bin/python -m bench.sessions [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bench import decide as generated
from bench.common import (
    PROJECT_ROOT,
    FunctionMeter,
    fail,
    new_api_key,
    percentile,
    print_table,
    start_runtime,
    write_json,
)
from bench.dynamo_meter import Call, item_size, read_units, value_size, write_units

if TYPE_CHECKING:
    from patron.promotions.definitions import Ruleset
    from patron_local.runtime import LocalRuntime

TARGET = 1.2
TARGET_ROUND_TRIPS = 2
DEFAULT_ROUNDS = 400
WARM_UP = 20
CPU_AIM_MS = 3.0
FUNCTION = "SessionsFunction"
EXAMPLES = PROJECT_ROOT / "examples" / "campaigns"


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


def examples_ruleset() -> Ruleset:
    """examples/campaigns, read as `patron campaigns publish` reads a folder."""
    from patron.promotions.loading import merge
    from patron_cli.campaigns import read_folder

    documents, issues = read_folder(Path(EXAMPLES))
    if issues:
        fail(f"examples/campaigns: {issues}")
    return merge(documents)


def publish(runtime: LocalRuntime, application_id: int, ruleset: Ruleset) -> None:
    from patron.promotions.wiring import ruleset_service

    service = ruleset_service(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    service.publish(application_id, ruleset, note="bench", published_by="bench")


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

    def stored(self, table: str, key: dict[str, str]) -> dict[str, Any] | None:
        found = self._client.get_item(
            TableName=self._tables[table], Key={name: {"S": value} for name, value in key.items()}, ConsistentRead=True
        ).get("Item")
        return dict(found) if found else None


class Subject:
    """One session of one application, and the sizes of the items a decision about it reads or writes."""

    def __init__(self, runtime: LocalRuntime, application_id: int, session_id: str, customer: str):
        self.runtime, self.application_id, self.session_id, self.customer = (
            runtime,
            application_id,
            session_id,
            customer,
        )
        self.sizes = Sizes(runtime)

    def fixed(self) -> dict[str, int]:
        """The session, its order, the profile and the live-ruleset pointer (0: absent)."""
        from patron.orders.keys import ORDER_SK, order_pk
        from patron.profiles.keys import PROFILE_SK, profile_pk
        from patron.promotions.store import pointer_key
        from patron.sessions.store import SESSION_SK, session_pk

        app, session = self.application_id, self.session_id
        return {
            "session": self.sizes.item("OrdersTable", {"PK": session_pk(app, session), "SK": SESSION_SK}),
            "order": self.sizes.item("OrdersTable", {"PK": order_pk(app, session), "SK": ORDER_SK}),
            "profile": self.sizes.item("ProfilesTable", {"PK": profile_pk(app, self.customer), "SK": PROFILE_SK}),
            "pointer": self.sizes.item("ConfigTable", pointer_key(app)),
        }

    def event_counts(self, types: Sequence[str]) -> list[int]:
        """The customer's event count items of these types (0: absent), which `eventCount(...)` reads."""
        from patron.events.keys import count_key

        return [self.sizes.item("OrdersTable", count_key(self.application_id, self.customer, t)) for t in types]

    def session_attribute_bytes(self) -> dict[str, int]:
        """The stored session's attributes by size, largest first (what its units pay for)."""
        from patron.sessions.store import SESSION_SK, session_pk

        key = {"PK": session_pk(self.application_id, self.session_id), "SK": SESSION_SK}
        session = self.sizes.stored("OrdersTable", key) or {}
        sizes = {name: len(name.encode("utf-8")) + value_size(value) for name, value in session.items()}
        return dict(sorted(sizes.items(), key=lambda pair: -pair[1]))

    def closed_extras(self) -> list[int]:
        """At the close: the order's customer-index entry and each counter the session consumed (after)."""
        from patron.coupons.items import coupon_key, holding_key
        from patron.orders.keys import ORDER_SK, customer_order_sk, customer_orders_pk, order_pk
        from patron.promotions.budgets import COUPON_ENTITY, REFERRAL_ENTITY
        from patron.promotions.counters import counter_item_key, key_of
        from patron.referrals.items import friend_key, referral_key, referred_key
        from patron.sessions.store import SESSION_SK, session_pk

        app = self.application_id
        session = self.sizes.stored("OrdersTable", {"PK": session_pk(app, self.session_id), "SK": SESSION_SK}) or {}
        order = self.sizes.stored("OrdersTable", {"PK": order_pk(app, self.session_id), "SK": ORDER_SK}) or {}
        consumed = [key_of(label) for label in session.get("consumed", {}).get("M", {})]
        counters = []
        for key in consumed:
            if key.entity == REFERRAL_ENTITY:  # the friend's record, the code's counter, its referred entry
                for referral_part in (
                    friend_key(app, self.customer),
                    referral_key(app, key.entity_id),
                    referred_key(app, key.entity_id, self.customer),
                ):
                    counters.append(self.sizes.item("LedgersTable", referral_part))
            elif key.entity != COUPON_ENTITY:
                counters.append(self.sizes.item("LedgersTable", counter_item_key(app, key)))
            elif key.action == "setDiscountEffect":  # a redemption: the coupon's counters and the holder's
                counters.append(self.sizes.item("LedgersTable", coupon_key(app, key.entity_id)))
                counters.append(self.sizes.item("LedgersTable", holding_key(app, self.customer, key.entity_id)))
        counters += self._loyalty_writes(session)
        created = str(order.get("createdAt", {}).get("S", ""))
        index = self.sizes.item(
            "OrdersTable",
            {"PK": customer_orders_pk(app, self.customer), "SK": customer_order_sk(created, self.session_id)},
        )
        return [index, *counters]

    def _loyalty_writes(self, session: dict[str, Any]) -> list[int]:
        """The close's loyalty writes (after): each program's ledger, each entry, and the member index entry when
        the close wrote the ledger's first version."""
        import msgspec

        from patron.loyalty import items as loyalty_items

        raw = session.get("loyalty", {}).get("S")
        if not raw:
            return []
        written = msgspec.json.decode(raw, type=list[tuple[int, loyalty_items.Entry]])
        app, customer, sizes = self.application_id, self.customer, []
        for program_id in sorted({program_id for program_id, _ in written}):
            ledger_key = loyalty_items.ledger_key(app, program_id, customer)
            sizes.append(self.sizes.item("LedgersTable", ledger_key))
            ledger = self.sizes.stored("LedgersTable", ledger_key) or {}
            if ledger.get("version", {}).get("N") == "1":
                sizes.append(self.sizes.item("LedgersTable", loyalty_items.member_index_key(app, customer, program_id)))
        for program_id, entry in written:
            key = {
                "PK": loyalty_items.member_pk(app, program_id, customer),
                "SK": loyalty_items.ENTRY_PREFIX + entry.transaction_id,
            }
            sizes.append(self.sizes.item("LedgersTable", key))
        return sizes


def _measured(calls: Sequence[Call]) -> tuple[list[str], float, float]:
    return [call.operation for call in calls], sum(c.read_units for c in calls), sum(c.write_units for c in calls)


Step = tuple[str, int, Callable[[str], dict[str, Any]]]  # name, which session (0, 1...), body of the customer id


def _steps(
    runtime: LocalRuntime,
    meter: FunctionMeter,
    ruleset_name: str,
    ruleset: Ruleset,
    steps: Sequence[Step],
    coupons: Sequence[tuple[str, int]] = (),
) -> list[dict[str, Any]]:
    """A fresh application with `ruleset` live (and `coupons`, (code, campaign) pairs), and new sessions (each of a
    new customer) taken through `steps`, each metered and priced against its minimum."""
    application_id, key = new_api_key(runtime, f"bench-sessions-{ruleset_name}")
    publish(runtime, application_id, ruleset)
    add_coupons(runtime, application_id, coupons)
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    subjects: dict[int, Subject] = {}
    ledgers = runtime.table_names["LedgersTable"]
    from patron.promotions.ruleset import compile_ruleset

    counted = sorted(compile_ruleset(ruleset, 1).event_counts_read)
    rows = []
    for name, which, body in steps:
        if which not in subjects:
            session_id, customer = f"bench-{uuid.uuid4().hex[:8]}", f"bench-customer-{uuid.uuid4().hex[:6]}"
            subjects[which] = Subject(runtime, application_id, session_id, customer)
        subject = subjects[which]
        session_id, customer = subject.session_id, subject.customer
        before = subject.fixed()
        mark = meter.mark()
        answer = runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=headers, body=body(customer))
        if answer.status != 200:
            fail(f"{ruleset_name}, {name}: {answer.status} {answer.body[:300]!r}")
        calls = [call for call in meter.since(mark) if meter.function_of(call) == FUNCTION]
        if any(call.operation == "Scan" for call in calls):
            fail(f"{ruleset_name}, {name}: a Scan")
        operations, rcu, wcu = _measured(calls)
        after = subject.fixed()
        largest = {item: max(before[item], after[item]) for item in before}
        # The counters the decision needs: each counter item (well under 4 KB) is one consistent read unit, in the
        # minimum as in the measure, so the ledgers table's share is taken as measured.
        counters = [ch for c in calls if c.operation == "BatchGetItem" for ch in c.charges if ch.table == ledgers]
        counter_reads = sum(ch.read_units for ch in counters)
        min_read = sum(read_units(size, consistent=True) for size in before.values()) + counter_reads
        min_read += sum(read_units(size, consistent=True) for size in subject.event_counts(counted))
        if name == "close":
            written = [largest["session"], largest["order"], largest["profile"], *subject.closed_extras()]
            min_write = float(sum(write_units(size, transactional=True) for size in written))
        elif before["session"] == 0 and before["profile"] == 0:
            # A new session names an unknown profile: the session and the profile, in one transaction.
            written = [largest["session"], largest["profile"]]
            min_write = float(sum(write_units(size, transactional=True) for size in written))
        else:
            min_write = float(write_units(largest["session"]))
        stored = json.loads(answer.body)
        rows.append(
            {
                "ruleset": ruleset_name,
                "step": name,
                "operations": operations,
                "round_trips": len(operations),
                "read_units": rcu,
                "write_units": wcu,
                "min_read_units": min_read,
                "min_write_units": min_write,
                "ratio": (rcu + wcu) / (min_read + min_write) if min_read + min_write else None,
                "counter_read_units": counter_reads,
                "session_attribute_bytes": subject.session_attribute_bytes(),
                "calls": [
                    {
                        "operation": call.operation,
                        "read_units": call.read_units,
                        "write_units": call.write_units,
                        "charges": [[ch.table, ch.item_bytes, ch.basis] for ch in call.charges],
                    }
                    for call in calls
                ],
                "item_bytes_before": before,
                "item_bytes_after": after,
                "effects": len(stored.get("effects", [])),
                "effect_types": sorted({effect["effectType"] for effect in stored.get("effects", [])}),
            }
        )
    if ruleset.loyalty_programs and 0 in subjects:
        rows.append(_balance_read(runtime, meter, ruleset_name, headers, subjects[0], ruleset.loyalty_programs[0].id))
    return rows


def _balance_read(
    runtime: LocalRuntime,
    meter: FunctionMeter,
    ruleset_name: str,
    headers: dict[str, str],
    subject: Subject,
    program: int,
) -> dict[str, Any]:
    """The balance of the first session's customer (one BatchGetItem: the pointer, the profile, the ledger)."""
    from patron.loyalty.items import ledger_key

    mark = meter.mark()
    path = f"/v1/loyalty_programs/{program}/profile/{subject.customer}/balances"
    answer = runtime.request("GET", path, headers=headers)
    if answer.status != 200:
        fail(f"{ruleset_name}, balance read: {answer.status} {answer.body[:300]!r}")
    calls = [call for call in meter.since(mark) if meter.function_of(call) == FUNCTION]
    operations, rcu, wcu = _measured(calls)
    fixed = subject.fixed()
    ledger = subject.sizes.item("LedgersTable", ledger_key(subject.application_id, program, subject.customer))
    min_read = sum(read_units(size, consistent=True) for size in (ledger, fixed["profile"], fixed["pointer"]))
    return {
        "ruleset": ruleset_name,
        "step": "balance read",
        "operations": operations,
        "round_trips": len(operations),
        "read_units": rcu,
        "write_units": wcu,
        "min_read_units": min_read,
        "min_write_units": 0.0,
        "ratio": rcu / min_read if min_read else None,
        "session_attribute_bytes": {},
    }


COUPON_CODES = [("BENCH-TEN", 901), ("BENCH-FIVE", 902), ("BENCH-GIFT", 903)]
REFERRAL_CODE, REFERRAL_CAMPAIGN, ADVOCATE = "BENCH-FRIEND", 904, "bench-advocate"


def coupons_ruleset() -> Ruleset:
    """examples/campaigns (their points on every purchase among them), three coupon campaigns (`coupon.valid`), one
    with a gift card's value, a referral campaign (`referral.valid`), and one that spends ten points."""
    import msgspec

    from patron.promotions.loading import merge

    def campaign(campaign_id: int, value: str, feature: str = "coupons") -> dict[str, Any]:
        effect = {"type": "setDiscount", "name": f"code {campaign_id}", "value": value}
        condition = "coupon.valid" if feature == "coupons" else "referral.valid"
        rule = {"title": "Code is valid", "condition": condition, "effects": [effect]}
        return {"id": campaign_id, "name": f"Code {campaign_id}", "features": [feature], "rules": [rule]}

    campaigns = [
        campaign(901, "session.total * 0.1"),
        campaign(902, "5"),
        campaign(903, "session.total"),
        campaign(REFERRAL_CAMPAIGN, "3", "referrals"),
        {  # with examples/campaigns' points on every purchase (program 1): a close that earns and spends
            "id": 905,
            "name": "Pay ten points",
            "features": ["loyalty"],
            "rules": [
                {
                    "title": "Ten points off",
                    "condition": "session.total > 0",
                    "effects": [{"type": "deductLoyaltyPoints", "programId": 1, "value": "10"}],
                }
            ],
        },
    ]
    examples = examples_ruleset()
    extra = merge([("bench", {"campaigns": campaigns})]).campaigns
    return msgspec.structs.replace(examples, campaigns=[*examples.campaigns, *extra])


def add_coupons(runtime: LocalRuntime, application_id: int, coupons: Sequence[tuple[str, int]]) -> None:
    """The coupons, and with them (when any) the referral code `REFERRAL_CODE` of `ADVOCATE`, unlimited."""
    from decimal import Decimal

    from patron.coupons import items
    from patron.coupons.model import Coupon
    from patron.dynamo import codec
    from patron.referrals import items as referral_items
    from patron.referrals.model import Referral

    client, table = runtime.dynamodb_client(), runtime.table_names["LedgersTable"]
    for index, (code, campaign_id) in enumerate(coupons):
        limit = Decimal(1000) if code == "BENCH-GIFT" else None
        coupon = Coupon(code, campaign_id, 1000 + index, datetime.now(UTC), usage_limit=100, discount_limit=limit)
        client.put_item(TableName=table, Item=codec.to_item(items.coupon_item(application_id, coupon)))
    if coupons:
        referral = Referral(REFERRAL_CODE, REFERRAL_CAMPAIGN, ADVOCATE, 2000, datetime.now(UTC))
        client.put_item(TableName=table, Item=codec.to_item(referral_items.referral_item(application_id, referral)))


def measure_units(runtime: LocalRuntime) -> list[dict[str, Any]]:
    from patron.dynamo.client import dynamodb_client

    def first(customer: str) -> dict[str, Any]:
        return {"customerSession": cart_body(customer)}

    def later(customer: str) -> dict[str, Any]:
        return {"customerSession": {"cartItems": cart_body(customer, seed=8)["cartItems"]}}

    def close(customer: str) -> dict[str, Any]:
        return {"customerSession": {"state": "closed"}}

    meter = FunctionMeter()
    meter.attach(dynamodb_client())
    try:
        generated_steps: list[Step] = [
            ("first update (creates)", 0, first),
            ("later update (another cart)", 0, later),
            ("close", 0, close),
            ("new session, warm instance", 1, first),
        ]
        rows = _steps(runtime, meter, "1,000 generated", generated.ruleset(), generated_steps)
        example_steps: list[Step] = [("first update (creates)", 0, first), ("later update (another cart)", 0, later)]
        rows += _steps(runtime, meter, "examples", examples_ruleset(), example_steps)
        codes = [code for code, _ in COUPON_CODES]

        def with_coupons(customer: str) -> dict[str, Any]:
            body = {**cart_body(customer), "couponCodes": codes, "referralCode": REFERRAL_CODE}
            return {"customerSession": body}

        coupon_steps: list[Step] = [
            ("first update (creates)", 0, with_coupons),
            ("later update (another cart)", 0, later),
            ("close", 0, close),
        ]
        coded = _steps(runtime, meter, "examples + 3 coupons + referral", coupons_ruleset(), coupon_steps, COUPON_CODES)
        wanted = {"acceptCoupon", "acceptReferral", "addLoyaltyPoints", "deductLoyaltyPoints"}
        for row in coded[:3]:  # the first update, the later update and the close: each applies all of them
            if not wanted <= set(row["effect_types"]):
                fail(f"the coded session's {row['step']} lacks {sorted(wanted - set(row['effect_types']))}")
        rows += coded
    finally:
        meter.detach(dynamodb_client())
    return rows


# -- 2. CPU, storage excluded ---------------------------------------------------------------------------------


class ReplayClient:
    """DynamoDB Local's answers, recorded once per request and replayed; writes accepted unsent. The time spent
    finding an answer (the request made a key: ~0.1-0.2 ms for a read of ~60 keys) is the bench's, not Patron's:
    `spent` adds it up (thread CPU, wall) so the timing can take it out."""

    def __init__(self, real: Any):
        self._real = real
        self._answers: dict[str, Any] = {}
        self.recording = True
        self.batch_reads = 0
        self.spent = (0.0, 0.0)

    def _answer(self, operation: str, request: dict[str, Any]) -> Any:
        started_cpu, started = time.thread_time(), time.perf_counter()
        key = operation + json.dumps(request, sort_keys=True)
        if key not in self._answers:
            if not self.recording:
                raise AssertionError(f"an unrecorded {operation} while replaying")
            self._answers[key] = getattr(self._real, operation)(**request)
        cpu, wall = self.spent
        self.spent = (cpu + time.thread_time() - started_cpu, wall + time.perf_counter() - started)
        return self._answers[key]

    def batch_get_item(self, **request: Any) -> Any:
        self.batch_reads += 1
        return self._answer("batch_get_item", request)

    def get_item(self, **request: Any) -> Any:
        return self._answer("get_item", request)

    def put_item(self, **request: Any) -> Any:
        return {}

    def transact_write_items(self, **request: Any) -> Any:
        return {}


@contextlib.contextmanager
def _replaced(module: ModuleType, name: str, value: Any) -> Iterator[None]:
    """`module.name` is `value` for the block (what the handler's module imported, or the service's decide)."""
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


def _timed(
    work: Callable[[], object], rounds: int, client: ReplayClient | None = None
) -> tuple[list[float], list[float]]:
    """(CPU seconds, wall seconds) of each of `rounds` calls, less the replaying client's own time; gc frozen
    (collections off the measured calls)."""
    gc.collect()
    gc.freeze()
    cpu, wall = [], []
    try:
        for _ in range(rounds):
            replay_cpu, replay_wall = client.spent if client is not None else (0.0, 0.0)
            started_cpu, started = time.thread_time(), time.perf_counter()
            work()
            ended, ended_cpu = time.perf_counter(), time.thread_time()
            after_cpu, after_wall = client.spent if client is not None else (0.0, 0.0)
            wall.append(ended - started - (after_wall - replay_wall))
            cpu.append(ended_cpu - started_cpu - (after_cpu - replay_cpu))
    finally:
        gc.unfreeze()
    return cpu, wall


def _figures(cpu: Sequence[float], wall: Sequence[float]) -> dict[str, float]:
    return {
        "cpu_p50": percentile(cpu, 0.5) * 1000,
        "cpu_p99": percentile(cpu, 0.99) * 1000,
        "wall_p50": percentile(wall, 0.5) * 1000,
        "wall_p99": percentile(wall, 0.99) * 1000,
    }


def measure_cpu(runtime: LocalRuntime, rounds: int) -> dict[str, Any]:
    import patron.sessions.service as service_module
    from functions.sessions import app
    from patron.clock import SystemClock
    from patron.http import jsonbody
    from patron.http.validation import parse_model
    from patron.http.wire import to_builtins
    from patron.promotions.decide import decide, decide_on_read
    from patron.promotions.store import LiveRulesets
    from patron.sessions import wire
    from patron.sessions.service import SessionService
    from patron.sessions.store import SessionStore
    from patron.settings import Tables
    from patron_local.functions import LambdaContext

    application_id, key = new_api_key(runtime, "bench-sessions-cpu")
    publish(runtime, application_id, generated.ruleset())
    session_id, customer = f"cpu-{uuid.uuid4().hex[:8]}", f"cpu-customer-{uuid.uuid4().hex[:6]}"
    headers = {"Authorization": f"ApiKey-v1 {key}"}
    path = f"/v2/customer_sessions/{session_id}"
    first = runtime.request("PUT", path, headers=headers, body={"customerSession": cart_body(customer)})
    if first.status != 200:
        fail(f"setting up the CPU session: {first.status}")
    update = {
        "customerSession": {"cartItems": cart_body(customer, seed=9)["cartItems"]},
        "responseContent": ["customerSession"],
    }
    body = json.dumps(update).encode()

    # The proxy event the local runtime builds for this update (authorizer context included), kept for the handler
    # rows. The update it carries is made once for real, so the session replayed below is one that already holds
    # this cart: every timed update is the same later update.
    events: list[dict[str, Any]] = []
    registry = runtime.registry
    invoke = registry.invoke

    def capture(logical_id: str, event: Any) -> Any:
        if logical_id == FUNCTION:
            events.append(event)
        return invoke(logical_id, event)

    registry.invoke = capture  # type: ignore[method-assign]
    try:
        captured = runtime.request("PUT", path, headers=headers, body=body)
    finally:
        registry.invoke = invoke  # type: ignore[method-assign]
    if captured.status != 200 or not events:
        fail(f"capturing the update's event: {captured.status}")
    event = events[-1]

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
    service = SessionService(
        SessionStore(client, tables), LiveRulesets(client, tables), SystemClock(), lambda *_: (None, None)
    )

    def route() -> str:
        # The route's own path: jsonbody's exact numbers, the typed wire, the answer as the API writes it.
        request = parse_model(wire.IntegrationRequest, jsonbody.loads(body))
        outcome = service.update(application_id, session_id, wire.change_of(request.customer_session))
        state = wire.IntegrationStateV2(effects=outcome.effects, created_coupons=[], created_referrals=[])
        state.customer_session = wire.session_out(outcome.stored.session, application_id)
        return jsonbody.dumps(to_builtins(state))

    # The arguments the service passes decide_on_read(), caught on the warm-up's updates.
    decided: list[tuple[Any, ...]] = []

    def catch(*args: Any) -> Any:
        decided.append(args)
        return decide_on_read(*args)

    with _replaced(service_module, "decide_on_read", catch):
        for _ in range(WARM_UP):  # the ruleset compiled, every read recorded, the session's counters remembered
            route()
    client.recording = False
    client.batch_reads = 0
    route()
    batch_reads = client.batch_reads
    route_cpu, route_wall = _timed(route, rounds, client)
    ruleset, snapshot, _, _, only = decided[-1]
    now = datetime.now(UTC)
    decide_cpu, decide_wall = _timed(lambda: decide(ruleset, snapshot, now, only), rounds)

    # The whole handler, its composition root built on the replaying client (then forgotten: the runtime's
    # next request builds it again on the real one).
    context = LambdaContext(function_name=FUNCTION, memory_limit_in_mb=1024, timeout_s=29)
    client.recording = True
    emitted = io.StringIO()  # the route's EMF documents, one per invocation
    app.services.forget()
    try:
        with _replaced(app, "dynamodb_client", lambda: client), contextlib.redirect_stdout(emitted):
            for _ in range(WARM_UP):
                answer = app.lambda_handler(event, context)
                if answer.get("statusCode") != 200:
                    fail(f"the handler answered {answer.get('statusCode')}: {str(answer.get('body'))[:300]}")
            client.recording = False
            client.batch_reads = 0
            app.lambda_handler(event, context)
            handler_batch_reads = client.batch_reads
            handler_cpu, handler_wall = _timed(lambda: app.lambda_handler(event, context), rounds, client)
    finally:
        app.services.forget()
    return {
        "rounds": rounds,
        "warm_up": WARM_UP,
        "batch_reads_per_update": {"route": batch_reads, "handler": handler_batch_reads},
        "counters_in_snapshot": len(snapshot.counters),
        "route_ms": _figures(route_cpu, route_wall),
        "handler_ms": _figures(handler_cpu, handler_wall),
        "decide_ms": _figures(decide_cpu, decide_wall),
        "aim_p99_ms": CPU_AIM_MS,
    }


def run(runtime: LocalRuntime, rounds: int = DEFAULT_ROUNDS) -> dict[str, Any]:
    rows = measure_units(runtime)
    cpu = measure_cpu(runtime, rounds)
    print_table(
        "Session calls, 20-item cart: DynamoDB round trips and capacity units (SessionsFunction)",
        ["live ruleset, step", "calls", "RCU", "WCU", "min RCU", "min WCU", "ratio", f"<= {TARGET}x"],
        [
            [
                f"{row['ruleset']}: {row['step']}",
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
        note=f"(round-trip target: {TARGET_ROUND_TRIPS}, one batch read and one write; no Scan in any step)\n"
        + "\n".join(
            f"{row['ruleset']}, {row['step']}: session item {sum(row['session_attribute_bytes'].values()):,} B, "
            + ", ".join(f"{name} {size:,}" for name, size in list(row["session_attribute_bytes"].items())[:2])
            for row in rows
            if row["session_attribute_bytes"]
        ),
    )
    print_table(
        f"Session update, 1,000 campaigns, storage excluded ({cpu['rounds']} rounds after {cpu['warm_up']} warm-up)",
        ["part", "CPU p50 ms", "CPU p99 ms", "wall p50 ms", "wall p99 ms", f"CPU p99 <= {CPU_AIM_MS} ms"],
        [
            [
                label,
                f"{figures['cpu_p50']:.2f}",
                f"{figures['cpu_p99']:.2f}",
                f"{figures['wall_p50']:.2f}",
                f"{figures['wall_p99']:.2f}",
                mark,
            ]
            for label, figures, mark in [
                (
                    "lambda_handler (proxy event)",
                    cpu["handler_ms"],
                    "yes" if cpu["handler_ms"]["cpu_p99"] <= CPU_AIM_MS else "no",
                ),
                (
                    "route: decode + update + encode",
                    cpu["route_ms"],
                    "yes" if cpu["route_ms"]["cpu_p99"] <= CPU_AIM_MS else "no",
                ),
                ("of which decide()", cpu["decide_ms"], ""),
            ]
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
