"""Customers with identifiers: create or update, read by integration id, look up by email, phone, CRM id or
device id (ExpertSender's GET by id/email/phone/crmId, Maestra's DeviceUUID)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.catalog.wiring import catalog_service
from patron.customers.merge import CustomerMerger
from patron.customers.wiring import customer_merger, personal_data
from patron.dynamo.client import dynamodb_client
from patron.errors import FieldIssue, ValidationError
from patron.http import subjects
from patron.http.api import Request, Response, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.outbox.wiring import outbox
from patron.profiles import customers
from patron.profiles.identifiers import IdentifierKind
from patron.profiles.service import ProfileService
from patron.profiles.wiring import profile_service
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_body_bytes: int
    profiles: ProfileService
    merger: CustomerMerger
    idempotency: IdempotencyStore


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: profiles (with the catalog), and the merger that folds an anonymous
    profile into a customer, moving what every context holds about it (orders, stored answers, notifications)."""
    client, tables = dynamodb_client(), Tables.from_environ(environ)
    profiles = profile_service(client, tables, catalog_service(client, tables))
    answers = idempotency_store(client, tables)
    holders = personal_data(client, tables, profiles, answers, outbox(client, tables))
    return Services(
        max_body_bytes=Api.from_environ(environ).body_limit,
        profiles=profiles,
        merger=customer_merger(client, tables, profiles, holders),
        idempotency=answers,
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, idempotency=lambda: services().idempotency)

_LOOKUPS = {kind.value: kind for kind in IdentifierKind}


# Filed under the profile that answered for the device (an anonymous one is refiled under the customer it merges
# into, so erasing the customer finds the answer).
_device_subjects = subjects.answer_field("integrationId")


def _answer(profile: Any) -> Response:
    return Response(200, customers.customer_response(profile), {"ETag": customers.etag(profile)})


@api.route(
    "PUT",
    "/v1/customers/{integrationId}",
    body=customers.CustomerRequest,
    answers=customers.CustomerResponse,
    idempotent=True,
    subjects=subjects.path("integrationId"),
)
def update_customer(request: Request, body: customers.CustomerRequest) -> Response:
    profile = services().merger.update_customer(
        request.caller.application_id,
        customers.client_id(request.path_params["integrationId"]),
        body.attributes,
        customers.identifier_patch(body),
        customers.expected_version(request.headers.get("if-match")),
        body.consents,
    )
    return _answer(profile)


@api.route(
    "PUT",
    "/v1/devices/{deviceId}",
    body=customers.DeviceRequest,
    answers=customers.CustomerResponse,
    idempotent=True,
    subjects=_device_subjects,
)
def update_device_profile(request: Request, body: customers.DeviceRequest) -> Response:
    """Maestra's DeviceUUID: updates the device's customer, or the anonymous profile that stands for it until
    a customer claims the device (then the two merge)."""
    device = customers.device_id(request.path_params["deviceId"])
    profile = services().merger.track_device(request.caller.application_id, device, body.attributes, body.consents)
    return _answer(profile)


@api.route("GET", "/v1/customers/{integrationId}", answers=customers.CustomerResponse)
def get_customer(request: Request) -> Response:
    return _answer(services().profiles.get(request.caller.application_id, request.path_params["integrationId"]))


@api.route("GET", "/v1/customers", answers=customers.CustomerResponse)
def find_customer(request: Request) -> Response:
    given = [(name, value) for name, value in request.query.items() if name in _LOOKUPS]
    if len(given) != 1 or len(request.query) != 1:
        raise ValidationError(
            "Look a customer up by exactly one identifier.",
            [FieldIssue("query", "invalid_value", "Give one of email, phone, crmId or deviceId.")],
        )
    name, value = given[0]
    return _answer(services().profiles.find(request.caller.application_id, _LOOKUPS[name], value))


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
