"""DynamoDB round trips and capacity units per request, for the customer-profile routes and the authorizer.

The routes run through the local runtime (API Gateway behaviour, the authorizer, the handlers, DynamoDB Local)
with `bench.dynamo_meter` attached to the client the handlers use: `patron.dynamo.client.dynamodb_client()` is a
cached factory, so after `runtime.start()` the client it returns is the very object the handlers will call.
Each row is compared with the least DynamoDB work the request could cost: one UpdateItem of the stored item for
a PUT, one GetItem (at the consistency the handler asks for) for the GET, one GetItem per key per cache TTL for
the authorizer. Each call is attributed to the function that made it (`bench.common.FunctionMeter`). The rows are
a warm instance's: one request first registers every attribute name in the catalog (what a cold catalog adds is
in `bench.capacity_customers`).

    .venv/bin/python -m bench.capacity
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer

from bench.common import AUTHORIZER, FunctionMeter, fail, new_api_key, print_table, start_runtime, write_json
from bench.dynamo_meter import Call, item_size, read_units, totals, write_units

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

_serializer = TypeSerializer()


def _wire(values: dict[str, Any]) -> dict[str, Any]:
    """Values as DynamoDB stores them (floats are not allowed: JSON bodies become Decimal in the handler)."""
    from patron.http.jsonbody import loads

    return {name: _serializer.serialize(value) for name, value in loads(json.dumps(values)).items()}


def small_profile() -> dict[str, Any]:
    """About ten attributes of the kinds a shop sends."""
    return {
        "tier": "gold",
        "city": "Lisbon",
        "locale": "pt-PT",
        "points": 1200,
        "birthYear": 1990,
        "newsletter": True,
        "balance": 12.5,
        "channel": "web",
        "tags": ["vip", "early-adopter"],
        "preferences": {"sms": False, "email": True},
    }


def large_profile() -> dict[str, Any]:
    """About 3 KB of attributes: the small profile plus twelve 220-character notes."""
    notes = {f"note{index:02d}": ("lorem ipsum dolor sit amet " * 9)[:220] for index in range(12)}
    return {**small_profile(), **notes}


def small_changes() -> dict[str, Any]:
    return {"points": 1350, "tier": "platinum"}


def large_changes() -> dict[str, Any]:
    return {"points": 1350, "note00": ("consectetur adipiscing elit " * 8)[:220]}


@dataclass
class Row:
    route: str
    profile: str
    calls: list[Call]
    minimum_calls: int
    minimum_read_units: float
    minimum_write_units: float
    item_bytes: int | None
    customer_bytes: int | None = None
    note: str = ""

    @property
    def read_units(self) -> float:
        return sum(call.read_units for call in self.calls)

    @property
    def write_units(self) -> float:
        return sum(call.write_units for call in self.calls)

    def consistency(self) -> str:
        kinds = {charge.consistent for call in self.calls for charge in call.charges if charge.consistent is not None}
        return "/".join(sorted("strong" if kind else "eventual" for kind in kinds)) or "-"

    def operations(self) -> str:
        counts = totals(self.calls)
        return ", ".join(f"{entry.calls} {name}" for name, entry in counts.items()) or "none"

    def as_dict(self) -> dict[str, Any]:
        return {
            "route": ROUTES.get(self.route, self.route),
            "profile": self.profile,
            "dynamodb_calls": len(self.calls),
            "operations": {name: vars(entry) for name, entry in totals(self.calls).items()},
            "read_units": self.read_units,
            "read_consistency": self.consistency(),
            "write_units": self.write_units,
            "item_bytes": self.item_bytes,
            "customer_attribute_bytes": self.customer_bytes,
            "minimum": {
                "calls": self.minimum_calls,
                "read_units": self.minimum_read_units,
                "write_units": self.minimum_write_units,
            },
            "ratio": {
                "calls": _ratio(len(self.calls), self.minimum_calls),
                "units": _ratio(*self._units_pair()),
            },
            "detail": [
                {
                    "operation": call.operation,
                    "error": call.error,
                    "charges": [vars(charge) for charge in call.charges],
                }
                for call in self.calls
            ],
            "note": self.note,
        }

    def _units_pair(self) -> tuple[float, float]:
        return self.read_units + self.write_units, self.minimum_read_units + self.minimum_write_units


def _ratio(measured: float, minimum: float) -> float | None:
    """measured / minimum; None when the minimum is zero (the JSON keeps both figures)."""
    return None if minimum == 0 else measured / minimum


def _ratio_text(measured: float, minimum: float) -> str:
    if minimum == 0:
        return "0 = min" if measured == 0 else "over (min 0)"
    return f"{measured / minimum:.2f}x"


def _units(value: float) -> str:
    return f"{value:g}"


class _Probe:
    """Reads stored items through a client of its own (not metered): the sizes the minimums are built from."""

    def __init__(self, runtime: LocalRuntime, application_id: int):
        self._client = runtime.dynamodb_client()
        self._tables = runtime.table_names
        self._application_id = application_id

    def profile_bytes(self, integration_id: str) -> int:
        from patron.profiles.keys import PROFILE_SK, profile_pk

        key = {"PK": {"S": profile_pk(self._application_id, integration_id)}, "SK": {"S": PROFILE_SK}}
        result = self._client.get_item(TableName=self._tables["ProfilesTable"], Key=key, ConsistentRead=True)
        return item_size(result["Item"])

    def key_bytes(self, secret: str) -> int:
        from patron.applications.apikeys import key_id_of

        key = {"PK": {"S": f"KEY#{key_id_of(secret)}"}, "SK": {"S": "KEY"}}
        result = self._client.get_item(TableName=self._tables["ConfigTable"], Key=key, ConsistentRead=True)
        return item_size(result["Item"])


ROUTES = {
    "PUT create": "PUT /v2/customer_profiles/{integrationId} (new profile)",
    "PUT update": "PUT /v2/customer_profiles/{integrationId} (two attributes changed)",
    "GET": "GET /v1/customer_profiles/{integrationId}/inventory?profile=true",
}


def measure(runtime: LocalRuntime) -> tuple[list[Row], dict[str, int]]:
    """Rows per request, and the HTTP attempts per operation (retries would show as attempts > calls)."""
    from patron.dynamo.client import dynamodb_client

    application_id, secret = new_api_key(runtime, "bench-capacity")
    headers = {"Authorization": f"ApiKey-v1 {secret}"}
    probe = _Probe(runtime, application_id)

    client = dynamodb_client()  # the cached client the handlers call
    meter = FunctionMeter()
    meter.attach(client)
    rows: list[Row] = []
    authorizer_calls: list[list[Call]] = []
    try:
        # The attribute catalog registers each name on first use (1 Query + 1 PutItem per name on a cold
        # instance): one request outside the rows does it, so the rows show the steady state.
        mark = meter.mark()
        warm_up = f"/v2/customer_profiles/bench-warm-{uuid.uuid4().hex[:12]}"
        response = runtime.request("PUT", warm_up, headers=headers, body={"attributes": large_profile()})
        if response.status != 200:
            fail(f"PUT {warm_up} answered {response.status}: {response.body[:200]!r}")
        authorizer_calls.append([call for call in meter.since(mark) if meter.function_of(call) == AUTHORIZER])
        for profile, attributes, changes in (
            ("~10 attributes", small_profile(), small_changes()),
            ("~3 KB of attributes", large_profile(), large_changes()),
        ):
            integration_id = f"bench-{uuid.uuid4().hex[:12]}"
            put_path = f"/v2/customer_profiles/{integration_id}"
            get_path = f"/v1/customer_profiles/{integration_id}/inventory?profile=true"
            customer_bytes = item_size(_wire(attributes))
            before = 0
            for route, method, path, body in (
                ("PUT create", "PUT", put_path, {"attributes": attributes}),
                ("PUT update", "PUT", put_path, {"attributes": changes}),
                ("GET", "GET", get_path, None),
            ):
                mark = meter.mark()
                response = runtime.request(method, path, headers=headers, body=body)
                if response.status != 200:
                    fail(f"{method} {path} answered {response.status}: {response.body[:200]!r}")
                calls = meter.since(mark)
                authorizer_calls.append([call for call in calls if meter.function_of(call) == AUTHORIZER])
                handler_calls = [call for call in calls if meter.function_of(call) != AUTHORIZER]
                stored = probe.profile_bytes(integration_id)
                if method == "PUT":
                    minimum_read, minimum_write = 0.0, float(write_units(max(before, stored)))
                    note = "1 UpdateItem; WCU of the larger of the item before and after"
                else:
                    # The minimum at the consistency the handler asks for; the note gives the other one.
                    strong = any(charge.consistent for call in handler_calls for charge in call.charges)
                    minimum_read = read_units(stored, consistent=strong)
                    note = (
                        f"1 GetItem, strongly consistent (eventually consistent: {read_units(stored):g} RCU)"
                        if strong
                        else f"1 GetItem, eventually consistent (strongly: {read_units(stored, consistent=True):g})"
                    )
                    minimum_write = 0.0
                rows.append(
                    Row(
                        route=route,
                        profile=profile,
                        calls=handler_calls,
                        minimum_calls=1,
                        minimum_read_units=minimum_read,
                        minimum_write_units=minimum_write,
                        item_bytes=stored,
                        customer_bytes=customer_bytes,
                        note=note,
                    )
                )
                before = stored
    finally:
        meter.detach(client)

    key_bytes = probe.key_bytes(secret)
    authorizer_rows = [
        Row(
            route="authorizer, new key (cache miss)",
            profile="-",
            calls=authorizer_calls[0],
            minimum_calls=1,
            minimum_read_units=read_units(key_bytes),
            minimum_write_units=0.0,
            item_bytes=key_bytes,
            note="1 GetItem per key per KEY_CACHE_TTL_SECONDS",
        ),
        Row(
            route=f"authorizer, next {len(authorizer_calls) - 1} requests",
            profile="(cache warm)",
            calls=[call for calls in authorizer_calls[1:] for call in calls],
            minimum_calls=0,
            minimum_read_units=0.0,
            minimum_write_units=0.0,
            item_bytes=None,
            note="no lookup while the key is cached",
        ),
    ]
    return authorizer_rows + rows, meter.attempts


def report(rows: list[Row], attempts: dict[str, int]) -> dict[str, Any]:
    table = []
    for row in rows:
        measured_units = row.read_units + row.write_units
        minimum_units = row.minimum_read_units + row.minimum_write_units
        table.append(
            [
                row.route,
                row.profile,
                f"{len(row.calls)} ({row.operations()})",
                _units(row.read_units),
                row.consistency(),
                _units(row.write_units),
                "-" if row.item_bytes is None else f"{row.item_bytes:,}",
                "-" if row.customer_bytes is None else f"{row.customer_bytes:,}",
                f"{row.minimum_calls} call, {_units(minimum_units)} u",
                _ratio_text(len(row.calls), row.minimum_calls),
                _ratio_text(measured_units, minimum_units),
            ]
        )
    print_table(
        "DynamoDB round trips and capacity units per request (computed from item sizes by AWS's rules)",
        [
            "request",
            "profile",
            "DynamoDB calls",
            "RCU",
            "read",
            "WCU",
            "item B",
            "attrs B",
            "minimum",
            "calls x",
            "units x",
        ],
        table,
        note="\n".join(
            [
                *(f"{name}: {route}" for name, route in ROUTES.items()),
                "item B: the stored item's size by AWS's rules; attrs B: the customer's attributes alone.",
                "minimum: the least DynamoDB work the request can cost (u = capacity units, RCU + WCU).",
                "Reads: see `read` (strong = 1 RCU per 4 KB, eventual = half). The local runtime's usage-plan",
                "lookups (API Gateway's job on AWS) use a client of their own and are not counted.",
                "Warm instance: a first request registered the attribute names in the catalog; a cold instance adds",
                "1 Query, and 1 PutItem per attribute never seen (bench.capacity_customers measures it).",
            ]
        ),
    )
    return {"routes": ROUTES, "rows": [row.as_dict() for row in rows], "http_attempts": attempts}


def run(runtime: LocalRuntime | None = None) -> dict[str, Any]:
    owned = runtime is None
    active = runtime or start_runtime()
    try:
        results = report(*measure(active))
    finally:
        if owned:
            active.stop()
    write_json("capacity", results)
    return results


if __name__ == "__main__":
    run()
