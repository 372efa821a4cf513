"""Rfmcube's push API: POST /v1/merge_customer, /v1/merge_order, /v1/delete_customer (reference 001)."""

from __future__ import annotations

from typing import Any

from patron.clock import SystemClock, iso
from patron.customers.wiring import customer_eraser, customer_merger
from patron.errors import NotFoundError
from patron.http.api import Request, Response, RestApi
from patron.idempotency.settings import IdempotencySettings
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.orders import rfmcube
from patron.orders.wiring import customer_resolver, order_service, orders_settings
from patron.outbox.repository import OutboxRecord
from patron.outbox.wiring import OutboxSettings, outbox
from patron.profiles.identifiers import IdentifierKind, IdentifierPatch
from patron.profiles.wiring import profile_service
from patron.settings import OrdersSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = (OrdersSettings, IdempotencySettings, OutboxSettings)

api = RestApi(max_body_bytes=lambda: orders_settings().max_body_bytes, idempotency=idempotency_store)


def _entity_subjects(request: Request, answer: Any) -> list[str]:
    """Filed under the customer who answered (a guest's answers are refiled under the customer it merges into)."""
    customer = answer.get("customerId") if isinstance(answer, dict) else None
    return [str(customer)] if customer else []


def _record(application_id: int, kind: str, entity_id: str, customer_id: str) -> None:
    """triggerIntegrations: the change waits in the outbox for the integrations' delivery worker (not built yet).
    Recorded after the write: if recording fails the request fails, and its retry (a merge) records it."""
    outbox().record(OutboxRecord(application_id, kind, entity_id, customer_id, iso(SystemClock().now())))


@api.route("POST", "/v1/merge_customer", idempotent=True, subjects=_entity_subjects)
def merge_customer(request: Request) -> Response:
    """Adds or updates the customer's data (never their orders). A customer without an id is a guest, found
    by their email."""
    customer, trigger = rfmcube.parse_merge_customer(request.json())
    application_id = request.caller.application_id
    integration_id = customer_resolver().resolve(application_id, customer.customer_id, customer.email)
    patch = IdentifierPatch(email=customer.email) if customer.email is not None else IdentifierPatch()
    profile = rfmcube.merge_customer_attributes(
        lambda: customer_merger().update_customer(application_id, integration_id, customer.attributes, patch)
    )
    if trigger:
        _record(application_id, "customer", profile.integration_id, profile.integration_id)
    return Response.json({"success": True, "customerId": profile.integration_id, "triggerIntegrations": trigger})


@api.route("POST", "/v1/merge_order", idempotent=True, subjects=_entity_subjects)
def merge_order(request: Request) -> Response:
    order, trigger = rfmcube.parse_merge_order(request.json())
    if order.customer_id is not None and order.customer_email is not None:
        customer_merger().link_email(request.caller.application_id, order.customer_id, order.customer_email)
    stored = order_service().upsert(request.caller.application_id, order, root="order")
    if trigger:
        _record(request.caller.application_id, "order", stored.order_id, stored.customer_id)
    return Response.json(
        {"success": True, "orderId": stored.order_id, "customerId": stored.customer_id, "triggerIntegrations": trigger}
    )


# Its answer names nobody (a count), so a stored one needs no subject.
@api.route("POST", "/v1/delete_customer", idempotent=True)
def delete_customer(request: Request) -> Response:
    """Deletes the customer and all their orders: searched by id first, then by email."""
    customer_id, email = rfmcube.parse_delete_customer(request.json())
    application_id = request.caller.application_id
    profile = profile_service().find_by_id(application_id, customer_id) if customer_id is not None else None
    if profile is None and email is not None:
        try:
            profile = profile_service().find(application_id, IdentifierKind.EMAIL, email)
        except NotFoundError:
            profile = None
    if profile is not None:
        erased = customer_eraser().erase(application_id, profile.integration_id, profile=profile)
    elif customer_id is not None:
        # Orders that never counted as sales create no profile; they are still the customer's (404 if none).
        try:
            erased = customer_eraser().erase(application_id, customer_id)
        except NotFoundError:
            raise NotFoundError("No customer with this id or email.", code="customer_not_found") from None
    else:
        raise NotFoundError("No customer with this id or email.", code="customer_not_found")
    return Response.json({"success": True, "deletedOrders": erased["orders"]})


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
