"""The typed wire: bodies decoded into the Struct a route declares, every wrong field named at once (nested ones
too) with a stable code; answers checked against what the route declares and written exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import pytest

from patron.errors import ValidationError
from patron.http.api import Request, Response, RestApi
from patron.http.validation import MAX_FIELD_ISSUES, parse_model
from patron.http.wire import Number, Open, to_builtins
from patron.orders.wire import parse_order

AUTH = {"authorizer": {"applicationId": "7", "scope": "integration", "keyId": "k"}}


class Item(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    integration_id: str
    attributes: dict[str, Any] | None = None


class Body(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    items: list[Item]
    by_name: dict[str, Item] = {}
    nested: Item | None = None
    amount: Number | None = None
    short: Annotated[list[int], msgspec.Meta(max_length=2)] = []


class Answer(msgspec.Struct, rename="camel"):
    total: Decimal
    item_count: int


class OpenAnswer(Open, rename="camel"):
    order_id: str
    amount: Decimal


def issues(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as raised:
        parse_model(Body, data)
    return [(issue.path, issue.code) for issue in raised.value.details]


def test_every_wrong_field_is_named_at_once_down_nested_structs_lists_and_dicts():
    body = {
        "items": [{"integrationId": "ok"}, {"integrationId": 7}, {"attributes": {}, "extra": 1}],
        "byName": {"a": {"integrationId": "x"}, "b": {"integrationId": []}},
        "nested": {"integrationId": None},
        "amount": "12",
        "short": [1, 2, 3],
        "unknown": True,
    }
    assert issues(body) == [
        ("unknown", "unknown_field"),
        ("items[1].integrationId", "invalid_value"),
        ("items[2].extra", "unknown_field"),
        ("items[2].integrationId", "missing_field"),
        ("byName.b.integrationId", "invalid_value"),
        ("nested.integrationId", "invalid_value"),
        ("amount", "invalid_value"),
        ("short", "invalid_value"),  # a bound on the whole list is the list's
    ]


def test_a_body_that_is_not_an_object_is_named_as_the_body_itself():
    assert issues([1, 2]) == [("$", "invalid_value")]


def test_messages_name_types_never_the_values_sent():
    with pytest.raises(ValidationError) as raised:
        parse_model(Body, {"items": [{"integrationId": {"secret": "mario@example.com"}}], "amount": "mario"})
    assert "mario" not in json.dumps(raised.value.body())


def test_an_answer_names_at_most_max_field_issues():
    found = issues({"items": [{"integrationId": n} for n in range(MAX_FIELD_ISSUES * 3)]})
    assert len(found) == MAX_FIELD_ISSUES and found[0] == ("items[0].integrationId", "invalid_value")


@pytest.mark.parametrize("value", [1, Decimal("19.90"), Decimal("1E+2"), -3])
def test_numbers_are_read_exactly(value):
    amount = parse_model(Body, {"items": [], "amount": value}).amount
    assert amount == value and isinstance(amount, Decimal)


@pytest.mark.parametrize("value", ["12", True, [1], {"n": 1}])
def test_a_number_is_never_a_string_or_a_boolean(value):
    assert issues({"items": [], "amount": value}) == [("amount", "invalid_value")]


def test_an_order_item_that_is_not_an_object_names_the_items_and_rules_follow_types():
    base = {"customerId": "c", "createdAt": "2024-01-01", "amount": 1}
    with pytest.raises(ValidationError) as raised:
        parse_order({**base, "items": [1]}, order_id="o")
    assert [(i.path, i.code) for i in raised.value.details] == [("items", "invalid_value")]
    with pytest.raises(ValidationError) as raised:
        parse_order({**base, "createdAt": "yesterday", "customerEmail": "nope", "id": "other"}, order_id="o")
    assert [(i.path, i.code) for i in raised.value.details] == [
        ("id", "invalid_value"),
        ("customerEmail", "invalid_value"),
        ("createdAt", "invalid_value"),
    ]
    order = parse_order({**base, "id": 7, "amount": Decimal("19.90"), "delivery": {"city": "X"}}, root="order")
    assert order.order_id == "7" and order.amount == Decimal("19.90") and type(order.amount) is Decimal
    assert order.extra == {"delivery": {"city": "X"}}


def test_open_answers_carry_the_members_kept_beside_their_own():
    answer = OpenAnswer(
        extra={"delivery": {"city": "X"}, "orderId": "not this", "extra": 1}, order_id="o", amount=Decimal(1)
    )
    assert to_builtins(answer) == {"delivery": {"city": "X"}, "orderId": "o", "extra": 1, "amount": 1}


def event(method: str, resource: str, body: str | None = None) -> dict[str, Any]:
    return {
        "httpMethod": method,
        "resource": resource,
        "path": resource,
        "pathParameters": None,
        "queryStringParameters": None,
        "headers": {},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "r1", **AUTH},
    }


def make_api() -> RestApi:
    api = RestApi(max_body_bytes=lambda: 10_000)

    @api.route("POST", "/sums", body=Body, answers=Answer)
    def add(request: Request, body: Body) -> Answer:
        return Answer(total=sum((item_amount(i) for i in body.items), Decimal(0)), item_count=len(body.items))

    @api.route("POST", "/lies", body=Body, answers={201: Answer})
    def lies(request: Request, body: Body) -> Response:
        return Response(status=200, body=Answer(total=Decimal(0), item_count=0))

    @api.route("GET", "/dicts", answers=Answer)
    def dicts(request: Request) -> Response:
        return Response.json({"total": 0, "itemCount": 0})

    @api.route("DELETE", "/nothing", answers={204: None})
    def nothing(request: Request) -> Response:
        return Response(status=204)

    return api


def item_amount(item: Item) -> Decimal:
    return Decimal((item.attributes or {}).get("amount", 0))


def test_a_declared_body_reaches_the_route_decoded_and_its_answer_is_written_exactly():
    body = json.dumps({"items": [{"integrationId": "a", "attributes": {"amount": 1}}]})
    response = make_api().resolve(event("POST", "/sums", body.replace("1}", "19.90}")))
    assert response["statusCode"] == 200
    assert response["body"] == '{"total":19.9,"itemCount":1}'


def test_a_wrong_body_is_a_400_naming_every_field_before_the_route_runs():
    response = make_api().resolve(event("POST", "/sums", '{"items": [{"integrationId": 1}], "x": 1}'))
    assert response["statusCode"] == 400
    assert [(e["path"], e["code"]) for e in json.loads(response["body"])["errors"]] == [
        ("x", "unknown_field"),
        ("items[0].integrationId", "invalid_value"),
    ]
    missing = make_api().resolve(event("POST", "/sums"))
    assert json.loads(missing["body"])["errors"][0]["code"] == "missing_body"


@pytest.mark.parametrize(("method", "resource"), [("POST", "/lies"), ("GET", "/dicts")])
def test_an_answer_the_route_did_not_declare_is_a_500(method, resource):
    response = make_api().resolve(event(method, resource, '{"items": []}'))
    assert response["statusCode"] == 500 and json.loads(response["body"])["code"] == "internal_error"


def test_a_declared_empty_answer_has_no_body():
    response = make_api().resolve(event("DELETE", "/nothing"))
    assert (response["statusCode"], response["body"]) == (204, "")
