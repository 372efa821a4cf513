"""DynamoDB round trips and capacity units per route, for customers, orders, Rfmcube, erasure and Idempotency-Key,
against the least work each request can cost (docs/benchmarks.md, section 4, gives the reasoning per route).

Every request goes through the local runtime (API Gateway behaviour, the authorizer, the handlers, DynamoDB Local)
with a fresh application key. The project's meter (`bench.dynamo_meter`) is attached to the client the handlers
call, `patron.dynamo.client.dynamodb_client()`; each call is tagged with the function that made it (the local
runtime's `CURRENT_FUNCTION`), so the authorizer's lookups are reported apart from the routes'.

The figures are the steady state of a warm instance: before the measured requests, one request registers every
attribute name the bench uses in the catalog and one order write loads the status mapping, and every measured
row is checked to have touched neither. Each function builds its own services (its composition root), in the
local runtime as on AWS, so every function measured gets a first request of its own. What a cold instance adds is
measured on those warm-up requests and printed after the table. Every call any handler made during the run is
checked for a Scan.

Each minimum is priced from the stored items' sizes, read before and after the request through a client of
its own (not metered), by the same AWS rules as the meter.

    .venv/bin/python -m bench.capacity_customers
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.common import AUTHORIZER, FunctionMeter, fail, new_api_key, print_table, start_runtime, write_json
from bench.dynamo_meter import Call, item_size, read_units, totals, write_units

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

TARGET = 1.2
BULK_PROFILES = 100
LISTED_ORDERS = 30
PAGE = 20


# -- the minimum: the operations a request cannot do without, priced from stored item sizes ------------------


@dataclass(frozen=True)
class Need:
    """One DynamoDB call of the minimum, and its capacity."""

    operation: str
    what: str
    read_units: float = 0.0
    write_units: float = 0.0


def get(what: str, size: int, *, consistent: bool = True) -> Need:
    """A GetItem of an item of `size` bytes (0: absent, still the minimum unit)."""
    return Need("GetItem", what, read_units=read_units(size, consistent=consistent))


def query(what: str, sizes: Sequence[int], *, consistent: bool = True) -> Need:
    """One Query page: the items read, summed, then rounded up once."""
    return Need("Query", what, read_units=read_units(sum(sizes), consistent=consistent))


def write(operation: str, what: str, size: int) -> Need:
    """PutItem / UpdateItem / DeleteItem (a failed condition too): the larger of the item before and after."""
    return Need(operation, what, write_units=write_units(size))


def transact(what: str, sizes: Sequence[int]) -> Need:
    """TransactWriteItems: each item rounded up, doubled."""
    return Need("TransactWriteItems", what, write_units=sum(write_units(s, transactional=True) for s in sizes))


def batch_write(what: str, sizes: Sequence[int]) -> list[Need]:
    """BatchWriteItem: 25 items a call, each item rounded up."""
    return [
        Need("BatchWriteItem", what, write_units=sum(write_units(s) for s in sizes[start : start + 25]))
        for start in range(0, len(sizes), 25)
    ]


# -- rows ------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    group: str
    request: str
    calls: list[Call]
    minimum: list[Need]
    reason: str  # why the minimum is what it is (docs/benchmarks.md has the long form)
    per: int = 1  # requests or profiles the row stands for: the per-profile figures of a bulk update
    cold: bool = False  # the row touched the catalog or the status mapping: not the steady state

    @property
    def read_units(self) -> float:
        return sum(call.read_units for call in self.calls)

    @property
    def write_units(self) -> float:
        return sum(call.write_units for call in self.calls)

    @property
    def minimum_read_units(self) -> float:
        return sum(need.read_units for need in self.minimum)

    @property
    def minimum_write_units(self) -> float:
        return sum(need.write_units for need in self.minimum)

    @property
    def call_ratio(self) -> float | None:
        return _ratio(len(self.calls), len(self.minimum))

    @property
    def unit_ratio(self) -> float | None:
        return _ratio(self.read_units + self.write_units, self.minimum_read_units + self.minimum_write_units)

    @property
    def within_target(self) -> bool:
        if not self.minimum:
            return not self.calls
        return all(ratio is not None and ratio <= TARGET + 1e-9 for ratio in (self.call_ratio, self.unit_ratio))

    @property
    def scans(self) -> int:
        return sum(call.operation == "Scan" for call in self.calls)

    def operations(self) -> str:
        return ", ".join(f"{entry.calls} {name}" for name, entry in totals(self.calls).items()) or "none"

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "request": self.request,
            "stands_for": self.per,
            "dynamodb_calls": len(self.calls),
            "operations": {name: vars(entry) for name, entry in totals(self.calls).items()},
            "read_units": self.read_units,
            "write_units": self.write_units,
            "scans": self.scans,
            "cold": self.cold,
            "minimum": {
                "calls": len(self.minimum),
                "read_units": self.minimum_read_units,
                "write_units": self.minimum_write_units,
                "operations": [vars(need) for need in self.minimum],
                "reason": self.reason,
            },
            "ratio": {"calls": self.call_ratio, "units": self.unit_ratio},
            "within_target": self.within_target,
            "detail": [
                {"operation": call.operation, "error": call.error, "charges": [vars(c) for c in call.charges]}
                for call in self.calls
            ],
        }


def _ratio(measured: float, minimum: float) -> float | None:
    """measured / minimum; None when the minimum is zero (the JSON keeps both figures)."""
    return None if minimum == 0 else measured / minimum


def _ratio_text(measured: float, minimum: float) -> str:
    if minimum == 0:
        return "= min" if measured == 0 else "over (min 0)"
    return f"{measured / minimum:.2f}x"


def _units(value: float) -> str:
    return f"{value:g}"


# -- stored item sizes, read through a client the meter does not see ------------------------------------------


class Probe:
    def __init__(self, runtime: LocalRuntime, application_id: int):
        self._client = runtime.dynamodb_client()
        self._tables = runtime.table_names
        self.application_id = application_id

    def _get(self, table: str, pk: str, sk: str) -> dict[str, Any] | None:
        key = {"PK": {"S": pk}, "SK": {"S": sk}}
        result = self._client.get_item(TableName=self._tables[table], Key=key, ConsistentRead=True)
        item: dict[str, Any] | None = result.get("Item")
        return item

    def _size(self, table: str, pk: str, sk: str) -> int:
        item = self._get(table, pk, sk)
        return item_size(item) if item else 0

    def profile(self, integration_id: str) -> int:
        from patron.profiles.keys import PROFILE_SK, profile_pk

        return self._size("ProfilesTable", profile_pk(self.application_id, integration_id), PROFILE_SK)

    def profiles(self, integration_ids: Sequence[str]) -> list[int]:
        """Many profiles in BatchGetItem calls of 100 (the order of `integration_ids`; 0 when absent)."""
        from patron.profiles.keys import PROFILE_SK, profile_pk

        table = self._tables["ProfilesTable"]
        sizes: dict[str, int] = {}
        for start in range(0, len(integration_ids), 100):
            keys = [
                {"PK": {"S": profile_pk(self.application_id, i)}, "SK": {"S": PROFILE_SK}}
                for i in integration_ids[start : start + 100]
            ]
            pending: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
            while pending:
                result = self._client.batch_get_item(RequestItems=pending)
                for item in result["Responses"].get(table, []):
                    sizes[item["PK"]["S"]] = item_size(item)
                pending = dict(result.get("UnprocessedKeys") or {})
        return [sizes.get(profile_pk(self.application_id, i), 0) for i in integration_ids]

    def claim(self, kind: str, value: str) -> int:
        from patron.profiles.keys import IDENTIFIER_SK, identifier_pk

        return self._size("ProfilesTable", identifier_pk(self.application_id, kind, value), IDENTIFIER_SK)

    def order(self, order_id: str) -> int:
        from patron.orders.keys import ORDER_SK, order_pk

        return self._size("OrdersTable", order_pk(self.application_id, order_id), ORDER_SK)

    def index_items(self, customer_id: str) -> list[tuple[str, int]]:
        """The customer's order index items, newest first: (order id, size)."""
        from patron.orders.keys import customer_orders_pk

        found: list[tuple[str, int]] = []
        arguments: dict[str, Any] = {
            "TableName": self._tables["OrdersTable"],
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": customer_orders_pk(self.application_id, customer_id)}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**arguments)
            found.extend((item["orderId"]["S"], item_size(item)) for item in page.get("Items", []) if "orderId" in item)
            if "LastEvaluatedKey" not in page:
                return found
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def index_item(self, customer_id: str, order_id: str) -> int:
        return dict(self.index_items(customer_id)).get(order_id, 0)

    def record(self, key: str) -> dict[str, Any] | None:
        from patron.idempotency.keys import RECORD_SK, record_pk

        return self._get("IdempotencyTable", record_pk(self.application_id, key), RECORD_SK)

    def reference(self, subject: str, key: str) -> int:
        from patron.idempotency.keys import subject_pk, subject_sk

        return self._size("IdempotencyTable", subject_pk(self.application_id, subject), subject_sk(key))

    def api_key(self, secret: str) -> int:
        from patron.applications.apikeys import key_id_of

        return self._size("ConfigTable", f"KEY#{key_id_of(secret)}", "KEY")


def in_flight_size(completed: dict[str, Any]) -> int:
    """The idempotency record as its claim wrote it: the completed record without the stored answer, with the
    owner token (32 hex characters) and the lock (epoch ms) that completing removed."""
    claim = {name: value for name, value in completed.items() if name not in ("status", "headers", "body", "bodyZ")}
    claim["owner"] = {"S": "0" * 32}
    claim["lockedUntil"] = {"N": str(int(completed["startedAt"]["N"]) + 900_000)}
    return item_size(claim)


# -- payloads --------------------------------------------------------------------------------------------------


def _customer_attributes() -> dict[str, Any]:
    return {"tier": "gold", "city": "Lisbon", "points": 1200, "newsletter": True}


def _rfmcube_customer(customer_id: str, email: str) -> dict[str, Any]:
    """Rfmcube's documented merge_customer payload (shared/reference/001), with our ids."""
    return {
        "triggerIntegrations": False,
        "customer": {
            "id": customer_id,
            "email": email,
            "createdAt": "2020-01-01T13:06:39Z",
            "updatedAt": "2020-01-01T13:06:39Z",
        },
    }


def _rfmcube_order(order_id: str, customer_id: str, email: str, created_at: str) -> dict[str, Any]:
    """Rfmcube's documented merge_order payload, with our ids."""
    return {
        "triggerIntegrations": False,
        "order": {
            "id": order_id,
            "createdAt": created_at,
            "updatedAt": created_at,
            "amount": 85.85,
            "customerEmail": email,
            "customerId": customer_id,
            "status": "10",
            "statusLabel": "Completato",
            "delivery": {"province": "MI"},
            "items": [
                {"item_id": 1342, "product_id": 43421, "brand": "nike"},
                {"item_id": 1340, "product_id": 43420, "brand": "nike"},
            ],
        },
    }


def _order(customer_id: str, created_at: str, amount: int) -> dict[str, Any]:
    return {
        "customerId": customer_id,
        "createdAt": created_at,
        "amount": amount,
        "currency": "EUR",
        "status": "10",
        "statusLabel": "paid",
        "channel": "web",
        "items": [{"sku": "SKU-1", "productId": "P1", "brand": "acme", "quantity": 1, "price": amount}],
    }


def _bulk_attributes(index: int) -> dict[str, Any]:
    return {"tier": ["gold", "silver", "bronze"][index % 3], "points": index, "city": "Lisbon", "newsletter": True}


# -- the run ---------------------------------------------------------------------------------------------------

# row(group, request, calls, minimum, reason, per=1): adds a measured row.
Add = Callable[..., None]


@dataclass
class _Session:
    runtime: LocalRuntime
    meter: FunctionMeter
    secret: str
    config_table: str
    requests: int = 0
    authorizer_calls: list[list[Call]] = field(default_factory=list)
    handler_calls: list[Call] = field(default_factory=list)
    warmups: list[tuple[str, list[Call]]] = field(default_factory=list)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        expect: int = 200,
        headers: dict[str, str] | None = None,
        rfmcube: bool = False,
    ) -> list[Call]:
        """One request; the DynamoDB calls its handler made (the authorizer's are kept apart)."""
        # Rfmcube's integrations send `api-key`; the others Talon.One's Authorization header.
        auth = {"api-key": self.secret} if rfmcube else {"Authorization": f"ApiKey-v1 {self.secret}"}
        mark = self.meter.mark()
        response = self.runtime.request(method, path, headers={**auth, **(headers or {})}, body=body)
        calls = self.meter.since(mark)
        if response.status != expect:
            fail(f"{method} {path} answered {response.status}, not {expect}: {response.body[:300]!r}")
        self.requests += 1
        self.authorizer_calls.append([c for c in calls if self.meter.function_of(c) == AUTHORIZER])
        handler = [c for c in calls if self.meter.function_of(c) != AUTHORIZER]
        self.handler_calls.extend(handler)
        return handler

    def warm(self, label: str, method: str, path: str, body: Any = None, **options: Any) -> None:
        """A request outside the measured window that loads a cache; its configuration calls are what a cold
        instance adds."""
        calls = self.send(method, path, body, **options)
        self.warmups.append((label, [c for c in calls if self.config_table in c.tables]))

    def touches_config(self, calls: Sequence[Call]) -> bool:
        return any(self.config_table in call.tables for call in calls)


def measure(runtime: LocalRuntime) -> tuple[list[Row], _Session]:
    from patron.dynamo.client import dynamodb_client

    application_id, secret = new_api_key(runtime, "bench-capacity-customers")
    probe = Probe(runtime, application_id)
    client = dynamodb_client()  # the cached client the handlers call
    meter = FunctionMeter()
    meter.attach(client)
    session = _Session(runtime, meter, secret, runtime.table_names["ConfigTable"])
    rows: list[Row] = []
    run_id = uuid.uuid4().hex[:8]

    def row(group: str, request: str, calls: list[Call], minimum: list[Need], reason: str, per: int = 1) -> None:
        rows.append(Row(group, request, calls, minimum, reason, per, cold=session.touches_config(calls)))

    try:
        _warm_up(session, run_id)
        _customers(session, probe, run_id, row)
        _orders(session, probe, run_id, row)
        _rfmcube(session, probe, run_id, row)
        _talon(session, probe, run_id, row)
    finally:
        meter.detach(client)

    key_bytes = probe.api_key(secret)
    later = [call for calls in session.authorizer_calls[1:] for call in calls]
    rows.insert(
        0,
        Row(
            "authorizer",
            "first request with the new key (cache miss)",
            session.authorizer_calls[0],
            [get("the key", key_bytes, consistent=False)],
            "1 GetItem per key per KEY_CACHE_TTL_SECONDS, eventually consistent",
        ),
    )
    rows.insert(
        1,
        Row(
            "authorizer",
            f"the next {len(session.authorizer_calls) - 1} requests (key cached)",
            later,
            [],
            "no lookup while the key is cached",
        ),
    )
    return rows, session


def _warm_up(session: _Session, run_id: str) -> None:
    """Every attribute name the measured requests use enters the catalog (customer, order and product kinds),
    with the types they will have; the status mapping is set and loaded."""
    customer = {
        **_customer_attributes(),
        **_rfmcube_customer("x", "x@example.com")["customer"],
        **_bulk_attributes(0),
    }
    customer.pop("id")
    customer.pop("email")
    session.warm(
        "first customer write (new attributes)", "PUT", f"/v1/customers/warm-{run_id}", {"attributes": customer}
    )
    # The other functions writing customer attributes load their own catalog (nothing new to register).
    session.warm(
        "first Talon.One profile write (its function's catalog)",
        "PUT",
        f"/v2/customer_profiles/warm-{run_id}",
        {"attributes": customer},
    )
    session.warm(
        "first merge_customer (its function's catalog)",
        "POST",
        "/v1/merge_customer",
        {"customer": {"id": f"warm-{run_id}", **customer}},
        rfmcube=True,
    )
    session.send("PUT", "/v1/order_statuses", {"states": {"20": "cancelled"}})
    order = _order(f"warm-{run_id}", "2023-12-01T00:00:00Z", 5)
    session.warm("first order write (mapping; new order and item fields)", "PUT", f"/v1/orders/warm-{run_id}", order)
    rfm = _rfmcube_order(f"warm-rfm-{run_id}", f"warm-{run_id}", f"warm-{run_id}@example.com", "2023-12-02T00:00:00Z")
    session.warm("first merge_order (new order and item fields)", "POST", "/v1/merge_order", rfm, rfmcube=True)


def _customers(session: _Session, probe: Probe, run_id: str, row: Add) -> None:
    group = "customers"
    customer = f"cust-{run_id}"
    path = f"/v1/customers/{customer}"
    email, phone, crm, device = f"{customer}@example.com", "+351912345678", f"crm-{run_id}", f"dev-{run_id}"
    body = {"email": email, "phone": phone, "crmId": crm, "deviceIds": [device], "attributes": _customer_attributes()}
    calls = session.send("PUT", path, body)
    claims = [probe.claim(k, v) for k, v in (("email", email), ("phone", phone), ("crmId", crm), ("deviceId", device))]
    row(
        group,
        "PUT /v1/customers/{id}: create, email + phone + crmId + 1 deviceId",
        calls,
        [get("profile, absent", 0), transact("profile + 4 claims", [probe.profile(customer), *claims])],
        "read the profile (identifiers to release, version); one transaction: profile + a claim per identifier",
    )

    before = probe.profile(customer)
    calls = session.send("PUT", path, {"attributes": {"points": 1350}})
    row(
        group,
        "PUT /v1/customers/{id}: attributes only (fast path)",
        calls,
        [write("UpdateItem", "profile", max(before, probe.profile(customer)))],
        "no identifier changes: one UpdateItem merges the attributes",
    )

    before, old_claim = probe.profile(customer), probe.claim("email", email)
    email = f"new-{customer}@example.com"
    calls = session.send("PUT", path, {"email": email})
    after = probe.profile(customer)
    row(
        group,
        "PUT /v1/customers/{id}: change the email (claim + release)",
        calls,
        [
            get("profile", before),
            transact(
                "profile + new claim + old claim deleted", [max(before, after), probe.claim("email", email), old_claim]
            ),
        ],
        "read the profile (the email to release); one transaction: profile + claim + release",
    )

    calls = session.send("GET", path)
    row(
        group,
        "GET /v1/customers/{id}",
        calls,
        [get("profile", probe.profile(customer))],
        "one strongly consistent read",
    )

    calls = session.send("GET", f"/v1/customers?email={email}")
    row(
        group,
        "GET /v1/customers?email=...",
        calls,
        [get("email claim", probe.claim("email", email)), get("profile", probe.profile(customer))],
        "the claim names the owner, then the profile",
    )


def _orders(session: _Session, probe: Probe, run_id: str, row: Add) -> None:
    group = "orders"
    customer = f"cust-{run_id}"  # created above, with two earlier orders seeded here
    for index, created_at in enumerate(("2024-01-10T09:00:00Z", "2024-02-01T09:00:00Z")):
        session.send("PUT", f"/v1/orders/seed{index}-{run_id}", _order(customer, created_at, 20))
    order_id = f"ord-{run_id}"
    path = f"/v1/orders/{order_id}"
    body = _order(customer, "2024-03-01T09:00:00Z", 50)

    profile_before = probe.profile(customer)
    calls = session.send("PUT", path, body)
    order_after, index_after, profile_after = (
        probe.order(order_id),
        probe.index_item(customer, order_id),
        probe.profile(customer),
    )
    row(
        group,
        "PUT /v1/orders/{id}: create, existing customer",
        calls,
        [
            get("order, absent", 0),
            get("customer statistics", profile_before),
            transact("order + index item + statistics", [order_after, index_after, max(profile_before, profile_after)]),
        ],
        "read the order (replay?) and the customer's statistics; one transaction: order, index item, statistics",
    )

    calls = session.send("PUT", path, body)
    row(
        group,
        "PUT /v1/orders/{id}: replay of the same order",
        calls,
        [get("order", probe.order(order_id))],
        "read the order: same content, nothing to write",
    )

    order_before, index_before, profile_before = order_after, index_after, probe.profile(customer)
    calls = session.send("PUT", path, {**body, "amount": 60})
    order_after, index_after, profile_after = (
        probe.order(order_id),
        probe.index_item(customer, order_id),
        probe.profile(customer),
    )
    row(
        group,
        "PUT /v1/orders/{id}: amount changed",
        calls,
        [
            get("order", order_before),
            get("customer statistics", profile_before),
            transact(
                "order + index item + statistics",
                [max(order_before, order_after), max(index_before, index_after), max(profile_before, profile_after)],
            ),
        ],
        "as a create; same date and customer, so first/last order dates cannot move: no index query",
    )

    order_before, profile_before = order_after, probe.profile(customer)
    newest = probe.index_items(customer)  # newest first: this order, then the next counted one
    if not newest or newest[0][0] != order_id:
        fail(f"the order under test should be the customer's newest: {newest}")
    calls = session.send("PUT", f"{path}/status", {"status": "20"})
    order_after, index_after, profile_after = (
        probe.order(order_id),
        probe.index_item(customer, order_id),
        probe.profile(customer),
    )
    row(
        group,
        "PUT /v1/orders/{id}/status: mapped to cancelled",
        calls,
        [
            get("order", order_before),
            get("customer statistics", profile_before),
            query("index, newest first, to the next counted order", [size for _, size in newest[:2]]),
            transact(
                "order + index item + statistics",
                [max(order_before, order_after), max(newest[0][1], index_after), max(profile_before, profile_after)],
            ),
        ],
        "the order held the last order date and stops counting: one query for the new last date (not the first)",
    )

    order_before, index_before = order_after, index_after
    calls = session.send("DELETE", path)
    row(
        group,
        "DELETE /v1/orders/{id} (already cancelled)",
        calls,
        [
            get("order", order_before),
            transact(
                "order + index item",
                [max(order_before, probe.order(order_id)), max(index_before, probe.index_item(customer, order_id))],
            ),
        ],
        "a cancelled order counts for nothing: no statistics read or write",
    )

    calls = session.send("GET", path)
    row(group, "GET /v1/orders/{id}", calls, [get("order", probe.order(order_id))], "one strongly consistent read")

    listed = f"list-{run_id}"
    for index in range(LISTED_ORDERS):
        session.send(
            "PUT", f"/v1/orders/list{index:02d}-{run_id}", _order(listed, f"2024-04-{index + 1:02d}T10:00:00Z", 10)
        )
    calls = session.send("GET", f"/v1/customers/{listed}/orders?limit={PAGE}")
    row(
        group,
        f"GET /v1/customers/{{id}}/orders?limit={PAGE} ({LISTED_ORDERS} orders)",
        calls,
        [
            query(
                f"{PAGE} index items, eventually consistent",
                [s for _, s in probe.index_items(listed)[:PAGE]],
                consistent=False,
            )
        ],
        "one page of the customer's index",
    )


def _rfmcube(session: _Session, probe: Probe, run_id: str, row: Add) -> None:
    group = "Rfmcube"
    customer, email = f"rfm-{run_id}", f"rfm-{run_id}@rfmcube.com"
    payload = _rfmcube_customer(customer, email)
    calls = session.send("POST", "/v1/merge_customer", payload, rfmcube=True)
    row(
        group,
        "POST /v1/merge_customer: new customer with email",
        calls,
        [
            get("profile, absent", 0),
            transact("profile + email claim", [probe.profile(customer), probe.claim("email", email)]),
        ],
        "as PUT /v1/customers with one identifier",
    )

    before = probe.profile(customer)
    calls = session.send("POST", "/v1/merge_customer", payload, rfmcube=True)
    row(
        group,
        "POST /v1/merge_customer: same customer again (email unchanged)",
        calls,
        [
            get("profile", before),
            write("UpdateItem", "profile, conditional on the version", max(before, probe.profile(customer))),
        ],
        "nothing to claim or release: the write is one item, so a conditional UpdateItem (no transaction)",
    )

    profile_before = probe.profile(customer)
    order_id = f"rfm-ord-{run_id}"
    calls = session.send(
        "POST", "/v1/merge_order", _rfmcube_order(order_id, customer, email, "2020-01-01T13:30:39Z"), rfmcube=True
    )
    row(
        group,
        "POST /v1/merge_order: new order, existing customer",
        calls,
        [
            # customerId and customerEmail both sent: who holds the email decides whether a guest merges in.
            get("email claim", probe.claim("email", email)),
            get("order, absent", 0),
            get("customer statistics", profile_before),
            transact(
                "order + index item + statistics",
                [
                    probe.order(order_id),
                    probe.index_item(customer, order_id),
                    max(profile_before, probe.profile(customer)),
                ],
            ),
        ],
        "as PUT /v1/orders/{id}, plus the email claim: a guest holding it would merge into the customer",
    )

    for index in range(4):
        payload_order = _rfmcube_order(f"rfm-ord{index}-{run_id}", customer, email, f"2020-02-0{index + 1}T10:00:00Z")
        session.send("POST", "/v1/merge_order", payload_order, rfmcube=True)
    index_items = probe.index_items(customer)
    orders = [probe.order(order) for order, _ in index_items]
    profile, claim = probe.profile(customer), probe.claim("email", email)
    calls = session.send("POST", "/v1/delete_customer", {"id": customer}, rfmcube=True)
    row(
        group,
        f"POST /v1/delete_customer: by id, {len(index_items)} orders",
        calls,
        [
            get("profile (exists? version, claims)", profile),
            query("the customer's order index", [size for _, size in index_items]),
            *batch_write("orders + index items", [*orders, *(size for _, size in index_items)]),
            query("idempotency references of the subject", []),
            transact("profile + email claim deleted", [profile, claim]),
        ],
        "one profile read serves both the lookup by id and the erasure's version and claims",
    )


def _talon(session: _Session, probe: Probe, run_id: str, row: Add) -> None:
    group = "Talon.One"
    ids = [f"bulk{index:03d}-{run_id}" for index in range(BULK_PROFILES)]
    body = {"customerProfiles": [{"integrationId": i, "attributes": _bulk_attributes(n)} for n, i in enumerate(ids)]}
    calls = session.send("PUT", "/v2/customer_profiles", body, expect=204)
    row(
        group,
        f"PUT /v2/customer_profiles: bulk of {BULK_PROFILES} new profiles",
        calls,
        [write("UpdateItem", "profile", size) for size in probe.profiles(ids)],
        "one UpdateItem per profile (a merge needs UpdateItem; BatchWriteItem only replaces items)",
        per=BULK_PROFILES,
    )

    customer = f"cust-{run_id}"  # 3 orders (one cancelled and soft-deleted), 4 identifiers
    index_items = probe.index_items(customer)
    orders = [probe.order(order) for order, _ in index_items]
    profile = probe.profile(customer)
    claims = [
        probe.claim(kind, value)
        for kind, value in (
            ("email", f"new-{customer}@example.com"),
            ("phone", "+351912345678"),
            ("crmId", f"crm-{run_id}"),
            ("deviceId", f"dev-{run_id}"),
        )
    ]
    calls = session.send("DELETE", f"/v1/customer_data/{customer}", expect=204)
    row(
        group,
        f"DELETE /v1/customer_data/{{id}}: {len(index_items)} orders, 4 identifiers",
        calls,
        [
            query("the customer's order index", [size for _, size in index_items]),
            *batch_write("orders + index items", [*orders, *(size for _, size in index_items)]),
            query("idempotency references of the subject", []),
            get("profile (version, claims)", profile),
            transact("profile + 4 claims deleted", [profile, *claims]),
        ],
        "orders in batches; the profile and its claims in one transaction conditional on the version read",
    )

    group = "Idempotency-Key"
    subject = f"idem-{run_id}"
    key = f"bench-{run_id}"
    path = f"/v2/customer_profiles/{subject}"
    single = {"attributes": _customer_attributes()}
    calls = session.send("PUT", path, single, headers={"Idempotency-Key": key})
    stored = probe.record(key)
    if stored is None:
        fail("the idempotency record was not stored")
        return
    claim_size, record_size = in_flight_size(stored), item_size(stored)
    row(
        group,
        "PUT /v2/customer_profiles/{id} + Idempotency-Key: first",
        calls,
        [
            write("PutItem", "claim the key, conditional", claim_size),
            write("UpdateItem", "profile (the route)", probe.profile(subject)),
            *batch_write("reference of the subject", [probe.reference(subject, key)]),
            write("UpdateItem", "complete: store the answer", max(claim_size, record_size)),
        ],
        "claim, the route's write, the subject's reference (erasure without a scan), the stored answer",
    )

    calls = session.send("PUT", path, single, headers={"Idempotency-Key": key})
    row(
        group,
        "PUT /v2/customer_profiles/{id} + Idempotency-Key: replay",
        calls,
        [write("PutItem", "claim fails, returns the stored answer", record_size)],
        "the failed claim returns the live record: the route does not run",
    )


# -- the report ------------------------------------------------------------------------------------------------


def report(rows: list[Row], session: _Session) -> dict[str, Any]:
    table = []
    for r in rows:
        table.append(
            [
                f"{r.group}: {r.request}",
                f"{len(r.calls)} ({r.operations()})",
                _units(r.read_units),
                _units(r.write_units),
                len(r.minimum),
                _units(r.minimum_read_units),
                _units(r.minimum_write_units),
                _ratio_text(len(r.calls), len(r.minimum)),
                _ratio_text(r.read_units + r.write_units, r.minimum_read_units + r.minimum_write_units),
                ("yes" if r.within_target else "OVER") + (" (cold)" if r.cold else ""),
            ]
        )
    all_calls = session.handler_calls + [c for calls in session.authorizer_calls for c in calls]
    scans = [c for c in all_calls if c.operation == "Scan"]
    attempts = session.meter.attempts
    retried = {op: n for op, n in attempts.items() if n > sum(1 for c in all_calls if c.operation == op)}
    print_table(
        "DynamoDB round trips and capacity units per route: customers, orders, Rfmcube, erasure, Idempotency-Key"
        " (warm instance)",
        ["request", "DynamoDB calls", "RCU", "WCU", "min calls", "min RCU", "min WCU", "calls x", "units x", "<= 1.2x"],
        table,
        note="\n".join(
            [
                "min: the least DynamoDB work the request can cost (docs/benchmarks.md, section 4); units x compares"
                " RCU + WCU.",
                "Items are priced from their stored sizes (a client of the bench's own); transactions count double.",
                *(
                    f"{r.request}: {len(r.calls) / r.per:.2f} calls and {r.write_units / r.per:g} WCU per profile"
                    f" (minimum {len(r.minimum) / r.per:.2f} and {r.minimum_write_units / r.per:g})."
                    for r in rows
                    if r.per > 1
                ),
                f"Scan: {len(scans)} of {len(all_calls)} DynamoDB calls made by the handlers in {session.requests}"
                " requests (warm-ups and seeding included)" + (" -- SCAN ON A REQUEST PATH" if scans else "."),
                "Retries: none (HTTP attempts = calls)." if not retried else f"Retried: {retried}",
            ]
        ),
    )
    cold_rows = []
    for label, calls in session.warmups:
        cold_rows.append(
            [
                label,
                f"{len(calls)} ({', '.join(f'{e.calls} {n}' for n, e in totals(calls).items()) or 'none'})",
                _units(sum(c.read_units for c in calls)),
                _units(sum(c.write_units for c in calls)),
            ]
        )
    print_table(
        "What a cold instance adds (config-table calls of the warm-up requests, outside the table above)",
        ["warm-up request", "config-table calls", "RCU", "WCU"],
        cold_rows,
        note="\n".join(
            [
                "Catalog: 1 Query per (application, kind) per 60 s per instance; each attribute never seen is one more"
                " item of the profile's transaction (customers), or 1 PutItem (orders).",
                "Status mapping: 1 GetItem per order write once its 30 s cache lapses or PUT /v1/order_statuses ran.",
                "Each function's instances warm their own caches (each function builds its own services, in the"
                " local runtime as on AWS).",
            ]
        ),
    )
    return {
        "target_ratio": TARGET,
        "requests": session.requests,
        "rows": [r.as_dict() for r in rows],
        "over_target": [f"{r.group}: {r.request}" for r in rows if not r.within_target],
        "scans": len(scans),
        "handler_calls": len(all_calls),
        "http_attempts": attempts,
        "cold_additions": [
            {
                "request": label,
                "calls": [{"operation": c.operation, "charges": [vars(x) for x in c.charges]} for c in calls],
            }
            for label, calls in session.warmups
        ],
    }


def run(runtime: LocalRuntime | None = None) -> dict[str, Any]:
    owned = runtime is None
    active = runtime or start_runtime()
    try:
        results = report(*measure(active))
    finally:
        if owned:
            active.stop()
    write_json("capacity_customers", results)
    return results


def check(results: dict[str, Any]) -> None:
    """A Scan on a request path fails the bench (after every table has been printed)."""
    if results["scans"]:
        fail(f"{results['scans']} Scan call(s) on request paths (see .patron/bench/capacity_customers.json)")


if __name__ == "__main__":
    check(run())
