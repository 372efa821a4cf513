"""Orders: create or update, read, change status, soft delete, list a customer's orders; status mapping."""

from __future__ import annotations

from typing import Any

from patron.http.api import Request, Response, RestApi
from patron.idempotency.settings import IdempotencySettings
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.orders import wire
from patron.orders.service import MAX_PAGE_SIZE
from patron.orders.statuses import StatusMapping
from patron.orders.wiring import order_service, orders_settings
from patron.settings import OrdersSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = (OrdersSettings, IdempotencySettings)

api = RestApi(max_body_bytes=lambda: orders_settings().max_body_bytes, idempotency=idempotency_store)


def _order_subject(request: Request, answer: Any) -> list[str]:
    """Stored answers quote the order and what was sent with it: they are filed under its customer, and erased
    with them (an answer without one, a 4xx, names nobody)."""
    customer = answer.get("customerId") if isinstance(answer, dict) else None
    return [str(customer)] if customer else []


DEFAULT_PAGE_SIZE = 20


@api.route("PUT", "/v1/orders/{orderId}", idempotent=True, subjects=_order_subject)
def upsert_order(request: Request) -> Response:
    order = wire.parse_order(request.json(), order_id=request.path_params["orderId"])
    return Response.json(wire.order_response(order_service().upsert(request.caller.application_id, order)))


@api.route("GET", "/v1/orders/{orderId}")
def get_order(request: Request) -> Response:
    order = order_service().get(request.caller.application_id, request.path_params["orderId"])
    return Response.json(wire.order_response(order))


@api.route("PUT", "/v1/orders/{orderId}/status", idempotent=True, subjects=_order_subject)
def update_order_status(request: Request) -> Response:
    body = request.json()
    status = wire.parse_status(body)
    order = order_service().update_status(
        request.caller.application_id, request.path_params["orderId"], status.status, status.label
    )
    return Response.json(wire.order_response(order))


@api.route("DELETE", "/v1/orders/{orderId}", idempotent=True, subjects=_order_subject)
def delete_order(request: Request) -> Response:
    order = order_service().soft_delete(request.caller.application_id, request.path_params["orderId"])
    return Response.json(wire.order_response(order))


@api.route("GET", "/v1/customers/{integrationId}/orders")
def list_customer_orders(request: Request) -> Response:
    limit = request.query_int("limit", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    summaries, cursor = order_service().list_for_customer(
        request.caller.application_id, request.path_params["integrationId"], limit, request.query_cursor()
    )
    return Response.json({"data": [wire.summary_response(s) for s in summaries], "nextCursor": cursor})


@api.route("GET", "/v1/order_statuses")
def get_order_statuses(request: Request) -> Response:
    return Response.json(wire.mapping_response(order_service().status_mapping(request.caller.application_id)))


@api.route("PUT", "/v1/order_statuses", idempotent=True)
def set_order_statuses(request: Request) -> Response:
    mapping: StatusMapping = wire.parse_mapping(request.json())
    stored = order_service().set_status_mapping(request.caller.application_id, mapping)
    return Response.json(wire.mapping_response(stored))


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
