"""Customers with identifiers: create or update, read by integration id, look up by email, phone, CRM id or
device id (ExpertSender's GET by id/email/phone/crmId, Maestra's DeviceUUID)."""

from __future__ import annotations

from typing import Any

from patron.catalog.settings import CatalogStoreSettings
from patron.customers.wiring import customer_merger
from patron.errors import FieldIssue, ValidationError
from patron.http.api import Request, Response, RestApi
from patron.http.validation import parse_model
from patron.idempotency.settings import IdempotencySettings
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.outbox.wiring import OutboxSettings
from patron.profiles import customers
from patron.profiles.identifiers import IdentifierKind
from patron.profiles.wiring import customers_settings, profile_service
from patron.settings import CustomerDataSettings, CustomersSettings

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = (CustomersSettings, CatalogStoreSettings, CustomerDataSettings, IdempotencySettings, OutboxSettings)

api = RestApi(max_body_bytes=lambda: customers_settings().max_body_bytes, idempotency=idempotency_store)

_LOOKUPS = {kind.value: kind for kind in IdentifierKind}


def _device_subjects(request: Request, answer: Any) -> list[str]:
    """Filed under the profile that answered for the device (an anonymous one is refiled under the customer it
    merges into, so erasing the customer finds the answer)."""
    profile = answer.get("integrationId") if isinstance(answer, dict) else None
    return [str(profile)] if profile else []


def _answer(profile: Any) -> Response:
    response = Response.json(customers.customer_response(profile))
    response.headers["ETag"] = customers.etag(profile)
    return response


@api.route(
    "PUT", "/v1/customers/{integrationId}", idempotent=True, subjects=lambda r, _: [r.path_params["integrationId"]]
)
def update_customer(request: Request) -> Response:
    body = parse_model(customers.CustomerRequest, request.json())
    profile = customer_merger().update_customer(
        request.caller.application_id,
        customers.client_id(request.path_params["integrationId"]),
        body.attributes,
        customers.identifier_patch(body),
        customers.expected_version(request.headers.get("if-match")),
        body.consents,
    )
    return _answer(profile)


@api.route("PUT", "/v1/devices/{deviceId}", idempotent=True, subjects=_device_subjects)
def update_device_profile(request: Request) -> Response:
    """Maestra's DeviceUUID: updates the device's customer, or the anonymous profile that stands for it until
    a customer claims the device (then the two merge)."""
    body = parse_model(customers.DeviceRequest, request.json())
    device = customers.device_id(request.path_params["deviceId"])
    profile = customer_merger().track_device(request.caller.application_id, device, body.attributes, body.consents)
    return _answer(profile)


@api.route("GET", "/v1/customers/{integrationId}")
def get_customer(request: Request) -> Response:
    return _answer(profile_service().get(request.caller.application_id, request.path_params["integrationId"]))


@api.route("GET", "/v1/customers")
def find_customer(request: Request) -> Response:
    given = [(name, value) for name, value in request.query.items() if name in _LOOKUPS]
    if len(given) != 1 or len(request.query) != 1:
        raise ValidationError(
            "Look a customer up by exactly one identifier.",
            [FieldIssue("query", "invalid_value", "Give one of email, phone, crmId or deviceId.")],
        )
    name, value = given[0]
    return _answer(profile_service().find(request.caller.application_id, _LOOKUPS[name], value))


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
