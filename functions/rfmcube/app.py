"""Rfmcube's push API: POST /v1/merge_customer, /v1/merge_order, /v1/delete_customer (reference 001)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.catalog.wiring import catalog_service
from patron.clock import SystemClock, iso
from patron.customers.erasure import CustomerEraser
from patron.customers.merge import CustomerMerger
from patron.customers.wiring import customer_eraser, customer_merger, personal_data
from patron.dynamo.client import dynamodb_client
from patron.errors import NotFoundError
from patron.http import subjects
from patron.http.api import Request, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.orders import rfmcube, wire
from patron.orders.customers import ProfileCustomerResolver
from patron.orders.service import OrderService
from patron.orders.wiring import customer_resolver, order_service
from patron.outbox.repository import DynamoOutboxRepository, OutboxRecord
from patron.outbox.wiring import outbox
from patron.profiles.identifiers import IdentifierKind, IdentifierPatch
from patron.profiles.service import ProfileService
from patron.profiles.wiring import profile_service
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_body_bytes: int
    profiles: ProfileService
    resolver: ProfileCustomerResolver
    merger: CustomerMerger
    orders: OrderService
    eraser: CustomerEraser
    outbox: DynamoOutboxRepository
    idempotency: IdempotencyStore


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: customers (merged by email), orders, erasure, and the outbox for
    triggerIntegrations; one catalog for customer and order fields."""
    client, tables = dynamodb_client(), Tables.from_environ(environ)
    catalog = catalog_service(client, tables)
    profiles = profile_service(client, tables, catalog)
    resolver = customer_resolver(profiles)
    answers, notifications = idempotency_store(client, tables), outbox(client, tables)
    holders = personal_data(client, tables, profiles, answers, notifications)
    return Services(
        max_body_bytes=Api.from_environ(environ).body_limit,
        profiles=profiles,
        resolver=resolver,
        merger=customer_merger(client, tables, profiles, holders),
        orders=order_service(client, tables, resolver, catalog),
        eraser=customer_eraser(profiles, holders),
        outbox=notifications,
        idempotency=answers,
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, idempotency=lambda: services().idempotency)


# Filed under the customer who answered (a guest's answers are refiled under the customer it merges into).
_entity_subjects = subjects.answer_field("customerId")


def _record(application_id: int, kind: str, entity_id: str, customer_id: str) -> None:
    """triggerIntegrations: the change waits in the outbox for the integrations' delivery worker (not built yet).
    Recorded after the write: if recording fails the request fails, and its retry (a merge) records it."""
    services().outbox.record(OutboxRecord(application_id, kind, entity_id, customer_id, iso(SystemClock().now())))


@api.route(
    "POST",
    "/v1/merge_customer",
    body=rfmcube.MergeCustomerRequest,
    answers=rfmcube.MergeCustomerResponse,
    idempotent=True,
    subjects=_entity_subjects,
)
def merge_customer(request: Request, body: rfmcube.MergeCustomerRequest) -> rfmcube.MergeCustomerResponse:
    """Adds or updates the customer's data (never their orders). A customer without an id is a guest, found
    by their email."""
    customer, trigger = rfmcube.customer_input(body.customer, request.json()["customer"]), body.trigger_integrations
    application_id = request.caller.application_id
    integration_id = services().resolver.resolve(application_id, customer.customer_id, customer.email)
    patch = IdentifierPatch(email=customer.email) if customer.email is not None else IdentifierPatch()
    profile = rfmcube.merge_customer_attributes(
        lambda: services().merger.update_customer(application_id, integration_id, customer.attributes, patch)
    )
    if trigger:
        _record(application_id, "customer", profile.integration_id, profile.integration_id)
    return rfmcube.MergeCustomerResponse(success=True, customer_id=profile.integration_id, trigger_integrations=trigger)


@api.route(
    "POST",
    "/v1/merge_order",
    body=rfmcube.MergeOrderRequest,
    answers=rfmcube.MergeOrderResponse,
    idempotent=True,
    subjects=_entity_subjects,
)
def merge_order(request: Request, body: rfmcube.MergeOrderRequest) -> rfmcube.MergeOrderResponse:
    order, trigger = wire.order_input(body.order, request.json()["order"], root="order"), body.trigger_integrations
    if order.customer_id is not None and order.customer_email is not None:
        services().merger.link_email(request.caller.application_id, order.customer_id, order.customer_email)
    stored = services().orders.upsert(request.caller.application_id, order, root="order")
    if trigger:
        _record(request.caller.application_id, "order", stored.order_id, stored.customer_id)
    return rfmcube.MergeOrderResponse(
        success=True, order_id=stored.order_id, customer_id=stored.customer_id, trigger_integrations=trigger
    )


# Its answer names nobody (a count), so a stored one needs no subject.
@api.route(
    "POST",
    "/v1/delete_customer",
    body=rfmcube.DeleteCustomerRequest,
    answers=rfmcube.DeleteCustomerResponse,
    idempotent=True,
)
def delete_customer(request: Request, body: rfmcube.DeleteCustomerRequest) -> rfmcube.DeleteCustomerResponse:
    """Deletes the customer and all their orders: searched by id first, then by email."""
    customer_id, email = rfmcube.delete_request(body)
    application_id = request.caller.application_id
    profile = services().profiles.find_by_id(application_id, customer_id) if customer_id is not None else None
    if profile is None and email is not None:
        try:
            profile = services().profiles.find(application_id, IdentifierKind.EMAIL, email)
        except NotFoundError:
            profile = None
    if profile is not None:
        erased = services().eraser.erase(application_id, profile.integration_id, profile=profile)
    elif customer_id is not None:
        # Orders that never counted as sales create no profile; they are still the customer's (404 if none).
        try:
            erased = services().eraser.erase(application_id, customer_id)
        except NotFoundError:
            raise NotFoundError("No customer with this id or email.", code="customer_not_found") from None
    else:
        raise NotFoundError("No customer with this id or email.", code="customer_not_found")
    return rfmcube.DeleteCustomerResponse(success=True, deleted_orders=erased["orders"])


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
