"""What `addToAudience` / `removeFromAudience` cost a session's close and an event, through the local runtime on
DynamoDB Local, counted by the project's meter (bench.dynamo_meter; moto's figures are wrong).

Arms, each on a new customer of one application (the instance warm: it has seen the live ruleset):
  baseline close     a session opened, then closed; its campaign gives a discount and changes no membership
  close join+leave   the same, its campaign also adds the customer to one audience and removes it from another
                     it is in (added through POST /v2/customer_audiences first)
  close, no change   the same close for a customer already in the first audience and not in the second: the
                     effects are answered, nothing is written for them
  event join         POST /v2/events whose campaign adds the customer to an audience

The close of each arm must be 2 calls (one BatchGetItem, one TransactWriteItems) and the event 2 too. The units
are set against the baseline plus the minimum the memberships need (the marginal minimum):
  read   each audience the ruleset's effects name, read in the batch (strongly consistent, under 4 KB: 1 RCU);
  write  per membership changed, its member item (a Put or a Delete, under 1 KB, transactional: 2 WCU), and per
         join a ConditionCheck of the audience (2 WCU: the audience is live at the generation read, so a
         membership of a deleted or emptied audience is never written); the profile's `m:<id>` rides in the
         profile's own update (no more units while the profile stays under 1 KB).

    .venv/bin/python -m bench.audience_effects
"""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING, Any

from bench.common import fail, new_api_key, print_table, start_runtime, write_json
from bench.dynamo_meter import DynamoMeter

if TYPE_CHECKING:
    from patron_local.runtime import LocalRuntime

CART = [{"sku": "S-1", "name": "Shoe", "quantity": 1, "price": 100}]


def _request(runtime: LocalRuntime, key: str, method: str, path: str, body: Any, expected: int = 200) -> Any:
    response = runtime.request(method, path, headers={"Authorization": f"ApiKey-v1 {key}"}, body=body)
    if response.status != expected:
        fail(f"{method} {path} answered {response.status}: {response.body[:300]!r}")
    return response.json() if response.body else None


def _measured(meter: DynamoMeter, work: Any) -> dict[str, Any]:
    mark = meter.mark()
    answer = work()
    calls = [call for call in meter.since(mark) if not call.operation.startswith("Describe")]
    return {
        "operations": [call.operation for call in calls],
        "writeUnits": sum(charge.write_units for call in calls for charge in call.charges),
        "readUnits": sum(charge.read_units for call in calls for charge in call.charges),
        "answer": answer,
    }


def run(runtime: LocalRuntime) -> dict[str, Any]:
    from patron.dynamo.client import dynamodb_client
    from patron.promotions.loading import merge
    from patron.promotions.wiring import ruleset_service

    rulesets = ruleset_service(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])

    def publish(document: dict[str, Any]) -> None:
        rulesets.publish(application_id, merge([("bench", document)]), published_by="bench")

    application_id, key = new_api_key(runtime, "bench-audience-effects")
    vip = _request(runtime, key, "POST", "/v2/audiences", {"name": "VIP"}, 201)["id"]
    trial = _request(runtime, key, "POST", "/v2/audiences", {"name": "Trial"}, 201)["id"]
    discount = {"type": "setDiscount", "name": "Ten", "value": "10"}
    on_close = {
        "id": 1,
        "name": "Members",
        "rules": [
            {
                "title": "Buyers",
                "condition": "session.total > 0",
                "effects": [
                    discount,
                    {"type": "addToAudience", "audienceId": vip},
                    {"type": "removeFromAudience", "audienceId": trial},
                ],
            }
        ],
    }
    on_event = {
        "id": 2,
        "name": "Reviewers",
        "rules": [
            {
                "title": "A review",
                "condition": 'event.type == "review"',
                "effects": [{"type": "addToAudience", "audienceId": vip}],
            }
        ],
    }
    baseline = {**on_close, "id": 3, "rules": [{**on_close["rules"][0], "effects": [discount]}]}  # type: ignore[index]

    def session_close(customer: str) -> Any:
        session_id = f"s-{uuid.uuid4().hex[:10]}"
        path = f"/v2/customer_sessions/{session_id}"
        _request(runtime, key, "PUT", path, {"customerSession": {"profileId": customer, "cartItems": CART}})
        return lambda: _request(runtime, key, "PUT", path, {"customerSession": {"state": "closed"}})

    client = dynamodb_client()
    meter = DynamoMeter().attach(client)
    arms: dict[str, dict[str, Any]] = {}
    try:
        publish({"settings": {"currency": "EUR"}, "campaigns": [baseline]})
        session_close(f"warm-{uuid.uuid4().hex[:8]}")()  # the instance compiles and sees the ruleset
        arms["baseline close"] = _measured(meter, session_close(f"b-{uuid.uuid4().hex[:8]}"))

        publish({"settings": {"currency": "EUR"}, "campaigns": [on_close, on_event]})
        session_close(f"warm-{uuid.uuid4().hex[:8]}")()
        customer = f"c-{uuid.uuid4().hex[:8]}"
        joining = [{"action": "add", "profileIntegrationId": customer, "audienceId": trial}]
        _request(runtime, key, "POST", "/v2/customer_audiences", {"data": joining}, 204)
        arms["close join+leave"] = _measured(meter, session_close(customer))
        arms["close, no change"] = _measured(meter, session_close(customer))
        reviewer = f"r-{uuid.uuid4().hex[:8]}"
        _request(runtime, key, "POST", "/v2/events", {"profileId": reviewer, "type": "warm", "attributes": {}})
        event = {"profileId": reviewer, "type": "review", "attributes": {}}
        arms["event join"] = _measured(meter, lambda: _request(runtime, key, "POST", "/v2/events", event))
    finally:
        meter.detach(client)

    base = arms["baseline close"]
    audiences_read = 2.0  # the two audiences the live ruleset names
    minimum = {
        "baseline close": (base["readUnits"], base["writeUnits"]),
        "close join+leave": (base["readUnits"] + audiences_read, base["writeUnits"] + 2 * 2 + 2),
        "close, no change": (base["readUnits"] + audiences_read, base["writeUnits"]),
        # The profile, the pointer and the event type's day count (read, as every stored event's), the two
        # audiences; the profile's update, the member item and the check, and the event's own record and its day
        # count (every stored event writes them: docs/events.md).
        "event join": (3.0 + audiences_read, 2 + 2 + 2 + 2 + 2),
    }
    rows = []
    for name, arm in arms.items():
        operations = arm.pop("operations")
        answer = arm.pop("answer")
        expected = ["BatchGetItem", "TransactWriteItems"]
        if operations != expected:
            fail(f"{name}: {operations}, not one read and one write")
        kinds = [effect["effectType"] for effect in answer["effects"]]
        arm.update({"calls": len(operations), "effects": kinds})
        reads, writes = minimum[name]
        arm["minimum"] = {"calls": 2, "readUnits": reads, "writeUnits": writes}
        rows.append(
            [
                name,
                f"{len(operations)} / 2",
                f"{arm['readUnits']:.1f} / {reads:.1f}",
                f"{arm['writeUnits']:.0f} / {writes:.0f}",
                ", ".join(kinds),
            ]
        )
    print_table(
        "addToAudience / removeFromAudience: a close's and an event's DynamoDB cost",
        ["arm", "calls / minimum", "RCU / minimum", "WCU / minimum", "effects answered"],
        rows,
        note="DynamoDB Local in memory, the project's meter; minimum: the baseline close plus the memberships' own.",
    )
    results = {"arms": arms}
    write_json("audience_effects", results)
    return results


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(prog="python -m bench.audience_effects", description=__doc__).parse_args(argv)
    runtime = start_runtime()
    try:
        run(runtime)
    finally:
        runtime.stop()


if __name__ == "__main__":
    main()
