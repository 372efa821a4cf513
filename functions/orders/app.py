"""Orders: create or update, read, change status, soft delete, list a customer's orders; status mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.http import subjects
from patron.http.api import Request, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.orders import wire
from patron.orders.service import MAX_PAGE_SIZE, OrderService
from patron.orders.wiring import customer_resolver, order_service
from patron.profiles.wiring import profile_service
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_body_bytes: int
    orders: OrderService
    idempotency: IdempotencyStore


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: orders, with the catalog their fields enter and the profiles whose
    statistics they keep."""
    client, tables = dynamodb_client(), Tables.from_environ(environ)
    catalog = catalog_service(client, tables)
    resolver = customer_resolver(profile_service(client, tables, catalog))
    return Services(
        max_body_bytes=Api.from_environ(environ).body_limit,
        orders=order_service(client, tables, resolver, catalog),
        idempotency=idempotency_store(client, tables),
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, idempotency=lambda: services().idempotency)


# Stored answers quote the order and what was sent with it: they are filed under its customer, and erased with them.
_order_subject = subjects.answer_field("customerId")


DEFAULT_PAGE_SIZE = 20


@api.route(
    "PUT",
    "/v1/orders/{orderId}",
    body=wire.OrderRequest,
    answers=wire.OrderResponse,
    idempotent=True,
    subjects=_order_subject,
)
def upsert_order(request: Request, body: wire.OrderRequest) -> wire.OrderResponse:
    order = wire.order_input(body, request.json(), order_id=request.path_params["orderId"])
    return wire.order_response(services().orders.upsert(request.caller.application_id, order))


@api.route("GET", "/v1/orders/{orderId}", answers=wire.OrderResponse)
def get_order(request: Request) -> wire.OrderResponse:
    return wire.order_response(services().orders.get(request.caller.application_id, request.path_params["orderId"]))


@api.route(
    "PUT",
    "/v1/orders/{orderId}/status",
    body=wire.OrderStatusRequest,
    answers=wire.OrderResponse,
    idempotent=True,
    subjects=_order_subject,
)
def update_order_status(request: Request, body: wire.OrderStatusRequest) -> wire.OrderResponse:
    status = wire.status_change(body)
    order = services().orders.update_status(
        request.caller.application_id, request.path_params["orderId"], status.status, status.label
    )
    return wire.order_response(order)


@api.route("DELETE", "/v1/orders/{orderId}", answers=wire.OrderResponse, idempotent=True, subjects=_order_subject)
def delete_order(request: Request) -> wire.OrderResponse:
    order = services().orders.soft_delete(request.caller.application_id, request.path_params["orderId"])
    return wire.order_response(order)


@api.route("GET", "/v1/customers/{integrationId}/orders", answers=wire.OrderListResponse)
def list_customer_orders(request: Request) -> wire.OrderListResponse:
    limit = request.query_int("limit", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    summaries, cursor = services().orders.list_for_customer(
        request.caller.application_id, request.path_params["integrationId"], limit, request.query_cursor()
    )
    return wire.order_list_response(summaries, cursor)


@api.route("GET", "/v1/order_statuses", answers=wire.StatusMappingResponse)
def get_order_statuses(request: Request) -> wire.StatusMappingResponse:
    return wire.mapping_response(services().orders.status_mapping(request.caller.application_id))


@api.route(
    "PUT", "/v1/order_statuses", body=wire.StatusMappingRequest, answers=wire.StatusMappingResponse, idempotent=True
)
def set_order_statuses(request: Request, body: wire.StatusMappingRequest) -> wire.StatusMappingResponse:
    stored = services().orders.set_status_mapping(request.caller.application_id, wire.status_mapping(body))
    return wire.mapping_response(stored)


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
