"""ExpertSender ECDP's API as its clients call it (docs/expertsender.md): paths at the root, `x-api-key`, its
bodies read leniently, its answers (`{"status": 0, "data": ...}`) and its errors (ProblemDetails with `substatus`
and `errors`). Every route goes through the same domain services as the other dialects: one customer, one order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.catalog.model import EntityKind
from patron.catalog.service import CatalogService
from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.expertsender import documented, lists
from patron.expertsender.customers import CustomerAnswer, Done, ExpertSenderCustomers
from patron.expertsender.orders import ExpertSenderOrders, OrderAnswer
from patron.expertsender.problems import problem_response
from patron.http import jsonbody
from patron.http.api import Request, Response, RestApi
from patron.observability import api_handler
from patron.orders.wiring import customer_resolver, order_service
from patron.profiles.wiring import profile_service
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_body_bytes: int
    customers: ExpertSenderCustomers
    orders: ExpertSenderOrders
    catalog: CatalogService


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: profiles and orders with the one attribute catalog."""
    client, tables = dynamodb_client(), Tables.from_environ(environ)
    catalog = catalog_service(client, tables)
    profiles = profile_service(client, tables, catalog)
    orders = order_service(client, tables, customer_resolver(profiles), catalog)
    return Services(
        max_body_bytes=Api.from_environ(environ).body_limit,
        customers=ExpertSenderCustomers(profiles, catalog),
        orders=ExpertSenderOrders(orders, profiles, catalog),
        catalog=catalog,
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, errors=problem_response)

_CREATED = {201: Done}


@api.route("POST", "/customers", answers=_CREATED, documents=documented.EcdpCustomersRequest)
def post_customers(request: Request) -> Response:
    services().customers.post(request.caller.application_id, jsonbody.loads(request.body))
    return Response(201, Done())


@api.route("GET", "/customers/{lookup}/{value}", answers=CustomerAnswer)
def find_customer(request: Request) -> CustomerAnswer:
    """`/customers/email/{email}`, `/phone/{phone}`, `/crmId/{crmId}` (any letter case); the value is decoded once
    by API Gateway, and `+` stays a plus (a path, not a form)."""
    application_id, customers = request.caller.application_id, services().customers
    found = customers.find(application_id, request.path_params["lookup"], request.path_params["value"])
    return CustomerAnswer(customers.view(application_id, found))


@api.route("POST", "/orders", answers=_CREATED, documents=documented.EcdpOrdersRequest)
def post_orders(request: Request) -> Response:
    services().orders.post(request.caller.application_id, jsonbody.loads(request.body))
    return Response(201, Done())


@api.route("PUT", "/orders/status", answers=Done, documents=documented.EcdpOrderStatusRequest)
def put_order_status(request: Request) -> Done:
    services().orders.update_status(request.caller.application_id, jsonbody.loads(request.body))
    return Done()


@api.route("GET", "/orders/id/{orderId}", answers=OrderAnswer)
@api.route("GET", "/orders/{orderId}", answers=OrderAnswer)
def get_order(request: Request) -> OrderAnswer:
    """The Laravel client's path, and the one symmetric to DELETE's; `?websiteId=` narrows it."""
    found = services().orders.read(
        request.caller.application_id, request.path_params["orderId"], request.query.get("websiteId")
    )
    return OrderAnswer(found)


@api.route("DELETE", "/orders/{orderId}", answers=Done)
@api.route("DELETE", "/orders/id/{orderId}", answers=Done)
def delete_order(request: Request) -> Done:
    """A soft delete (ECDP's IsDeleted): the order stays readable, with status Deleted, out of the statistics."""
    orders = services().orders
    orders.delete(request.caller.application_id, request.path_params["orderId"], request.query.get("websiteId"))
    return Done()


def _attributes(request: Request, kind: EntityKind) -> lists.SettingList:
    return lists.attribute_list(kind, services().catalog.list(request.caller.application_id, kind))


@api.route("GET", "/customerattributes", answers=lists.SettingList)
def customer_attributes(request: Request) -> lists.SettingList:
    return _attributes(request, EntityKind.CUSTOMER)


@api.route("GET", "/orderattributes", answers=lists.SettingList)
def order_attributes(request: Request) -> lists.SettingList:
    return _attributes(request, EntityKind.ORDER)


@api.route("GET", "/productattributes", answers=lists.SettingList)
def product_attributes(request: Request) -> lists.SettingList:
    return _attributes(request, EntityKind.PRODUCT)


@api.route("GET", "/customerconsents", answers=lists.SettingList)
def customer_consents(request: Request) -> lists.SettingList:
    return lists.consent_list(services().catalog.list(request.caller.application_id, EntityKind.CONSENT))


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
