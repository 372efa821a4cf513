"""Custom events through the local runtime against DynamoDB Local (docs/events.md): `POST /v2/events` stores a
customer's event (with its TTL) and counts it, `eventCount(...)` reads the counts in session and event rules, the
definitions type the attributes, an Idempotency-Key replay counts once, and the customers port exports, erases and
merges the events."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from patron.clock import SystemClock
from patron.errors import ValidationError
from patron.events.definitions import DataField
from patron.events.wiring import custom_event_service
from patron.promotions.store import LiveRulesets
from patron.settings import Tables
from tests.conftest import Tenant
from tests.integration.rulesets import publish

SETTINGS = {"currency": "EUR", "timezone": "Europe/Rome"}
STORE_PURCHASE = {
    "id": 1,
    "type": "store_purchase",
    "name": "Store purchase",
    "fields": [{"name": "amount", "type": "Money", "required": True}, {"name": "store", "type": "String"}],
}
REGULAR = {
    "id": 21,
    "name": "Regular in-store shopper",
    "rules": [
        {
            "title": "Third purchase in 30 days",
            "condition": 'event.type == "store_purchase" and eventCount("store_purchase", 30) == 3',
            "effects": [{"type": "showNotification", "title": "Thanks", "body": "Third visit"}],
        }
    ],
}
REVIEWER_DEAL = {
    "id": 22,
    "name": "Reviewers' deal",
    "rules": [
        {
            "title": "Two reviews in a week",
            "condition": 'eventCount("review_written", 7) >= 2 and session.cartItemTotal > 0',
            "effects": [{"type": "setDiscount", "name": "reviewer", "value": "5"}],
        }
    ],
}
_deserializer = TypeDeserializer()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def track(
    runtime: Any, tenant: Tenant, body: dict[str, Any], headers: dict[str, str] | None = None, content: Any = None
) -> Any:
    if content:
        body = {**body, "responseContent": content}
    return runtime.request("POST", "/v2/events", headers={**tenant.headers, **(headers or {})}, body=body)


def purchase(profile_id: str | None, amount: Any, **attributes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "store_purchase", "attributes": {"amount": amount, **attributes}}
    if profile_id is not None:
        body["profileId"] = profile_id
    return body


def events_items(runtime: Any, application_id: int, profile_id: str) -> list[dict[str, Any]]:
    client = runtime.dynamodb_client()
    answer = client.query(
        TableName=runtime.table_names["OrdersTable"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"APP#{application_id}#EVENTS#{profile_id}"}},
        ConsistentRead=True,
    )
    return [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in answer["Items"]]


def export(runtime: Any, tenant: Tenant, profile_id: str) -> dict[str, Any]:
    answer = runtime.request("GET", f"/v1/customer_data/{profile_id}", headers=tenant.headers)
    assert answer.status == 200, answer.body
    document: dict[str, Any] = answer.json()
    return document


def session(runtime: Any, tenant: Tenant, session_id: str, profile_id: str) -> Any:
    body = {
        "customerSession": {
            "profileId": profile_id,
            "cartItems": [{"name": "Tee", "sku": "tee", "quantity": 1, "price": 20}],
        }
    }
    return runtime.request("PUT", f"/v2/customer_sessions/{session_id}", headers=tenant.headers, body=body)


def test_a_tracked_event_is_stored_with_its_retention_and_exported(runtime, tenant):
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE]})
    customer = uid("c")
    answer = track(runtime, tenant, purchase(customer, 12.5, store="Milano"), content=["event"])
    assert answer.status == 200, answer.body
    event = answer.json()["event"]
    items = events_items(runtime, tenant.application_id, customer)
    (record,) = [item for item in items if item["SK"].startswith("EVENT#")]
    (count,) = [item for item in items if item["SK"] == "COUNT#store_purchase"]
    assert record["id"] == event["id"] and record["type"] == "store_purchase" and record["definitionId"] == 1
    # Kept for EventRetentionDays (365 by default), then DynamoDB's TTL removes it.
    expected = time.time() + 365 * 86400
    assert abs(int(record["expiresAt"]) - expected) < 120
    today = datetime.now(UTC).strftime("d%Y%m%d")
    assert count[today] == 1
    document = export(runtime, tenant, customer)
    (exported,) = document["events"]["events"]
    assert exported["type"] == "store_purchase" and exported["attributes"] == {"amount": 12.5, "store": "Milano"}
    assert exported["id"] == event["id"] and exported["source"] == "talon" and exported["definitionId"] == 1
    assert document["events"]["dayCounts"] == {"store_purchase": {datetime.now(UTC).date().isoformat(): 1}}


def test_the_third_purchase_in_30_days_triggers_and_counts_the_event_itself(runtime, tenant):
    publish(
        runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE], "campaigns": [REGULAR]}
    )
    customer = uid("c")
    effects = [track(runtime, tenant, purchase(customer, 10)).json()["effects"] for _ in range(4)]
    assert [len(found) for found in effects] == [0, 0, 1, 0]
    assert effects[2][0]["props"]["body"] == "Third visit"
    # Another customer's purchases are not this one's.
    assert track(runtime, tenant, purchase(uid("c"), 10)).json()["effects"] == []


def test_a_session_rule_reads_past_events_in_its_one_batch(runtime, tenant, meter):
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "campaigns": [REVIEWER_DEAL]})
    customer = uid("c")
    review = {"type": "review_written", "profileId": customer, "attributes": {"rating": 5}}
    assert track(runtime, tenant, review).status == 200
    first = session(runtime, tenant, uid("s"), customer)
    assert first.status == 200, first.body
    assert first.json()["effects"] == []
    assert track(runtime, tenant, review).status == 200
    sid = uid("s")
    assert session(runtime, tenant, sid, customer).status == 200  # this instance now knows the ruleset
    mark = meter.mark()
    second = session(runtime, tenant, sid, customer)
    assert [effect["effectType"] for effect in second.json()["effects"]] == ["setDiscount"]
    calls = [call for call in meter.since(mark) if meter.function_of(call) == "SessionsFunction"]
    # Still one BatchGetItem (the count item read with the session, profile and pointer) and one write.
    assert [call.operation for call in calls] == ["BatchGetItem", "PutItem"]
    assert runtime.table_names["OrdersTable"] in calls[0].tables  # the rule held: the batch held the counts
    # An anonymous session has no past events: the function is absent, the rule does not hold.
    anonymous = runtime.request(
        "PUT",
        f"/v2/customer_sessions/{uid('s')}",
        headers=tenant.headers,
        body={"customerSession": {"cartItems": [{"name": "Tee", "sku": "tee", "quantity": 1, "price": 20}]}},
    )
    assert anonymous.status == 200 and anonymous.json()["effects"] == []


def test_a_replayed_idempotency_key_stores_and_counts_the_event_once(runtime, tenant):
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE]})
    customer = uid("c")
    keyed = {"Idempotency-Key": uid("k")}
    first = track(runtime, tenant, purchase(customer, 10), keyed, content=["event"])
    again = track(runtime, tenant, purchase(customer, 10), keyed, content=["event"])
    assert first.status == again.status == 200 and first.json()["event"]["id"] == again.json()["event"]["id"]
    assert len(export(runtime, tenant, customer)["events"]["events"]) == 1
    # Without a key a retry is a new event, as Talon.One documents.
    assert track(runtime, tenant, purchase(customer, 10)).status == 200
    document = export(runtime, tenant, customer)["events"]
    assert len(document["events"]) == 2
    assert document["dayCounts"]["store_purchase"] == {datetime.now(UTC).date().isoformat(): 2}


@pytest.mark.parametrize(
    ("attributes", "path", "code"),
    [
        ({"amount": "vermilion"}, "attributes.amount", "attribute_type_mismatch"),
        ({"amount": 10.123}, "attributes.amount", "attribute_type_mismatch"),  # EUR has 2 decimals
        ({"amount": True}, "attributes.amount", "attribute_type_mismatch"),
        ({"store": "vermilion"}, "attributes.amount", "required"),
        ({"amount": 5, "colour": "vermilion"}, "attributes.colour", "unknown_attribute"),
        ({"amount": 5, "store": "x" * 256}, "attributes.store", "attribute_type_mismatch"),
        ({"amount": [5]}, "attributes.amount", "attribute_type_mismatch"),
        ({"amount": {"value": 5}}, "attributes.amount", "attribute_type_mismatch"),
        ({"amount": None}, "attributes.amount", "required"),
    ],
)
def test_an_event_against_its_definition_is_refused_whole(runtime, tenant, attributes, path, code):
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE]})
    customer = uid("c")
    answer = track(runtime, tenant, {"type": "store_purchase", "profileId": customer, "attributes": attributes})
    assert answer.status == 400, answer.body
    errors = answer.json()["errors"]
    assert [(error["path"], error["code"]) for error in errors] == [(path, code)]
    assert "vermilion" not in answer.body.decode()  # values are never echoed
    assert events_items(runtime, tenant.application_id, customer) == []
    assert runtime.request("GET", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 404


def test_undefined_types_and_anonymous_events_are_taken_but_anonymous_ones_not_stored(runtime, tenant):
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE]})
    customer = uid("c")
    free = {"type": "newsletter_signup", "profileId": customer, "attributes": {"anything": [1, "two"]}}
    assert track(runtime, tenant, free).status == 200
    assert [e["type"] for e in export(runtime, tenant, customer)["events"]["events"]] == ["newsletter_signup"]
    before = runtime.dynamodb_client().scan(TableName=runtime.table_names["OrdersTable"], Select="COUNT")["Count"]
    assert track(runtime, tenant, purchase(None, 5)).status == 200
    after = runtime.dynamodb_client().scan(TableName=runtime.table_names["OrdersTable"], Select="COUNT")["Count"]
    assert after == before


def test_another_applications_events_are_neither_counted_nor_exported(runtime, tenant, other_tenant):
    for each in (tenant, other_tenant):
        publish(
            runtime,
            each.application_id,
            {"settings": SETTINGS, "customEvents": [STORE_PURCHASE], "campaigns": [REGULAR]},
        )
    customer = uid("c")
    for _ in range(2):
        assert track(runtime, other_tenant, purchase(customer, 10)).status == 200
    assert track(runtime, tenant, purchase(customer, 10)).json()["effects"] == []  # 1, not 3
    assert len(export(runtime, tenant, customer)["events"]["events"]) == 1


def test_erasure_removes_the_events_and_their_counts(runtime, tenant):
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE]})
    customer = uid("c")
    for _ in range(3):
        assert track(runtime, tenant, purchase(customer, 10)).status == 200
    assert len(events_items(runtime, tenant.application_id, customer)) == 4
    assert runtime.request("DELETE", f"/v1/customer_data/{customer}", headers=tenant.headers).status == 204
    assert events_items(runtime, tenant.application_id, customer) == []


def test_a_merge_moves_the_absorbed_profiles_events_and_adds_its_counts(runtime, tenant):
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE]})
    device, customer = uid("dev"), uid("cust")
    seen = runtime.request("PUT", f"/v1/devices/{device}", headers=tenant.headers, body={"attributes": {"visits": 1}})
    anonymous = seen.json()["integrationId"]
    for _ in range(2):
        assert track(runtime, tenant, purchase(anonymous, 10)).status == 200
    assert runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={}).status == 200
    assert track(runtime, tenant, purchase(customer, 20)).status == 200
    claimed = runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={"deviceIds": [device]})
    assert claimed.status == 200, claimed.body
    document = export(runtime, tenant, customer)["events"]
    assert sorted(event["attributes"]["amount"] for event in document["events"]) == [10, 10, 20]
    assert document["dayCounts"]["store_purchase"] == {datetime.now(UTC).date().isoformat(): 3}
    assert events_items(runtime, tenant.application_id, anonymous) == []


def _recorder(runtime: Any) -> Any:
    names = runtime.table_names
    tables = Tables(
        config_table_name=names["ConfigTable"],
        profiles_table_name=names["ProfilesTable"],
        orders_table_name=names["OrdersTable"],
        ledgers_table_name=names["LedgersTable"],
        outbox_table_name=names["OutboxTable"],
        outbox_ttl_seconds=3600,
        event_retention_days=30,
    )
    client = runtime.dynamodb_client()
    return custom_event_service(client, tables, LiveRulesets(client, tables), SystemClock())


def test_record_by_definition_id_types_the_data_fields(runtime, tenant):
    """The domain entry of ExpertSender's POST /scenariocustomevents (its route is built apart)."""
    publish(
        runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE], "campaigns": [REGULAR]}
    )
    recorder = _recorder(runtime)
    customer = uid("c")
    fields = [DataField("amount", "Money", "19.90"), DataField("store", "String", "Roma")]
    outcomes = [recorder.record(tenant.application_id, customer, 1, fields) for _ in range(3)]
    assert [len(outcome.effects) for outcome in outcomes] == [0, 0, 1]
    (first, *_) = export(runtime, tenant, customer)["events"]["events"]
    assert first["attributes"] == {"amount": 19.9, "store": "Roma"}
    assert first["source"] == "expertsender" and first["definitionId"] == 1
    # A past instant is its own day (counts and retention follow it).
    yesterday = datetime.now(UTC) - timedelta(days=1)
    recorder.record(tenant.application_id, customer, 1, fields[:1], occurred_at=yesterday)
    counts = export(runtime, tenant, customer)["events"]["dayCounts"]["store_purchase"]
    assert counts[yesterday.date().isoformat()] == 1
    with pytest.raises(ValidationError) as refused:
        recorder.record(tenant.application_id, customer, 7, fields)
    assert [(i.path, i.code) for i in refused.value.details] == [("customEventId", "unknown_custom_event")]
    bad = [DataField("amount", "Number", "1"), DataField("store", "String", "x"), DataField("nope", "String", "y")]
    with pytest.raises(ValidationError) as refused:
        recorder.record(tenant.application_id, customer, 1, [*bad, DataField("amount", "Money", "1.001")])
    assert [(i.path, i.code) for i in refused.value.details] == [
        ("dataFields[0].type", "field_type_mismatch"),
        ("dataFields[2].name", "unknown_field"),
        ("dataFields[3].value", "invalid_value"),
    ]
    with pytest.raises(ValidationError) as refused:
        recorder.record(tenant.application_id, customer, 1, fields, occurred_at=datetime.now(UTC) + timedelta(hours=1))
    assert [(i.path, i.code) for i in refused.value.details] == [("occurredAt", "in_future")]
    assert len(export(runtime, tenant, customer)["events"]["events"]) == 4
    assert Decimal("19.90") == Decimal(str(first["attributes"]["amount"]))


def test_tracking_an_event_keeps_one_batch_read_and_one_transaction(runtime, tenant, meter):
    publish(
        runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE], "campaigns": [REGULAR]}
    )
    customer = uid("c")
    assert track(runtime, tenant, purchase(customer, 10)).status == 200  # the instance has seen the ruleset
    mark = meter.mark()
    assert track(runtime, tenant, purchase(customer, 10)).status == 200
    calls = [call for call in meter.since(mark) if meter.function_of(call) == "SessionsFunction"]
    assert [call.operation for call in calls] == ["BatchGetItem", "TransactWriteItems"]
    # The record and the count item are written with the event (both well under 1 KB: 2 units each, transactional).
    orders = [ch for ch in calls[1].charges if ch.table == runtime.table_names["OrdersTable"]]
    assert sum(ch.write_units for ch in orders) == 4


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ('{"amount": 1e999999}', "attributes.amount"),
        ('{"amount": ' + "9" * 5000 + "}", "attributes.amount"),
        ('{"amount": 5, "store": "\\ud800"}', "attributes.store"),
        ('{"amount": 5, "\\ud800": 1}', "attributes.\\ud800"),
        ('{"amount": 5, "store": "a\\u0000b"}', "attributes.store"),  # a String holds no control character
        ('{"amount": 5, "store": "a\\u001bb"}', "attributes.store"),
    ],
)
def test_hostile_values_of_a_defined_event_are_400_with_their_path(runtime, tenant, raw, path):
    publish(runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE]})
    customer = uid("c")
    body = '{"type": "store_purchase", "profileId": "' + customer + '", "attributes": ' + raw + "}"
    answer = runtime.request("POST", "/v2/events", headers=tenant.headers, body=body)
    assert answer.status == 400, answer.body
    assert answer.json()["errors"][0]["path"] == path
    assert events_items(runtime, tenant.application_id, customer) == []


def test_definitions_are_published_planned_and_refused_through_the_management_api(runtime, tenant):
    from patron.applications.model import Scope

    key = runtime.applications().create_key(tenant.application_id, Scope.MANAGEMENT, "ops").secret
    ops = {"Authorization": f"ApiKey-v1 {key}"}
    rulesets = "/v1/management/rulesets"
    first = runtime.request(
        "POST", rulesets, headers=ops, body={"settings": SETTINGS, "customEvents": [STORE_PURCHASE]}
    )
    assert first.status == 201, first.body
    assert first.json()["plan"]["customEvents"] == [{"id": 1, "name": "store_purchase", "change": "added"}]
    # A definition alone changing is a change (a publish "if changed" does not skip it).
    renamed = {**STORE_PURCHASE, "name": "Till purchase"}
    planned = runtime.request(
        "POST", f"{rulesets}/plan", headers=ops, body={"settings": SETTINGS, "customEvents": [renamed]}
    )
    assert planned.json()["changed"] and planned.json()["customEvents"][0]["change"] == "changed"
    twice = {"settings": SETTINGS, "customEvents": [STORE_PURCHASE, {**STORE_PURCHASE, "id": 2}]}
    refused = runtime.request("POST", rulesets, headers=ops, body=twice)
    assert refused.status == 400, refused.body
    assert [(e["path"], e["code"]) for e in refused.json()["errors"]] == [("customEvents[1].type", "duplicate_type")]
    bad_type = {"settings": SETTINGS, "customEvents": [{**STORE_PURCHASE, "fields": [{"name": "a", "type": "Colour"}]}]}
    refused = runtime.request("POST", rulesets, headers=ops, body=bad_type)
    assert refused.status == 400 and refused.json()["errors"][0]["path"].startswith("customEvents[0].fields[0]")


def test_parallel_events_of_one_customer_all_count(runtime, tenant):
    from concurrent.futures import ThreadPoolExecutor

    publish(runtime, tenant.application_id, {"settings": SETTINGS, "customEvents": [STORE_PURCHASE]})
    customer = uid("c")
    assert track(runtime, tenant, purchase(customer, 1)).status == 200  # the profile exists: no profile write
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: track(runtime, tenant, purchase(customer, n + 2)), range(12)))
    # The day count's ADD commutes: no event conflicts with another, none is lost.
    assert [answer.status for answer in answers] == [200] * 12, [a.body for a in answers if a.status != 200]
    document = export(runtime, tenant, customer)["events"]
    assert len(document["events"]) == 13
    assert document["dayCounts"]["store_purchase"] == {datetime.now(UTC).date().isoformat(): 13}


@pytest.mark.parametrize("raw_type", ['"\\ud800"', '"' + "\\ud834\\udd1e" * 255 + '"', '"   "'])
def test_an_event_type_that_cannot_be_a_key_is_400(runtime, tenant, raw_type):
    customer = uid("c")
    body = '{"type": ' + raw_type + ', "profileId": "' + customer + '"}'
    answer = runtime.request("POST", "/v2/events", headers=tenant.headers, body=body)
    assert answer.status == 400, answer.body
    assert answer.json()["errors"][0]["path"] == "type"
    assert events_items(runtime, tenant.application_id, customer) == []


def test_a_profile_id_that_cannot_be_a_key_is_400(runtime, tenant):
    body = '{"type": "visit", "profileId": "' + "\\ud834\\udd1e" * 1000 + '"}'  # 1,000 characters, 4,000 bytes
    answer = runtime.request("POST", "/v2/events", headers=tenant.headers, body=body)
    assert answer.status == 400, answer.body
    assert [(e["path"], e["code"]) for e in answer.json()["errors"]] == [("profileId", "too_long")]
