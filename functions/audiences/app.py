"""Audiences, Talon.One style: create (from scratch or mirroring a third-party audience), rename, delete and empty
them, add and remove members, and set attributes on every member."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.audiences import wire
from patron.audiences.model import audience_id_from_path
from patron.audiences.service import AudienceService, MembershipAction, MembershipService, NewAudience
from patron.audiences.wiring import audience_service, membership_service
from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.errors import FieldIssue, ValidationError
from patron.http import subjects
from patron.http.api import Request, Response, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.observability import api_handler
from patron.profiles.wiring import profile_service
from patron.settings import Api, Audiences, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_body_bytes: int
    account_id: int
    audiences: AudienceService
    memberships: MembershipService
    idempotency: IdempotencyStore


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: audiences and memberships (profiles table), the attribute catalog (config
    table: the types of attributes set on every member), the audience queue, stored answers."""
    client, tables, settings = dynamodb_client(), Tables.from_environ(environ), Api.from_environ(environ)
    profiles = profile_service(client, tables, catalog_service(client, tables))
    return Services(
        max_body_bytes=settings.body_limit,
        account_id=settings.account,
        audiences=audience_service(client, tables, Audiences.from_environ(environ), profiles),
        memberships=membership_service(client, tables),
        idempotency=idempotency_store(client, tables),
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes, idempotency=lambda: services().idempotency)


def _audience_id(request: Request) -> int:
    return audience_id_from_path(request.path_params["audienceId"])


@api.route("POST", "/v2/audiences", body=wire.NewAudience, answers={201: wire.AudienceResponse}, idempotent=True)
def create_audience_v2(request: Request, body: wire.NewAudience) -> Response:
    """A new audience (201); mirroring a third-party one by `integration` and `integrationId` that is already
    mirrored: 409, as Talon.One answers."""
    if body.sandbox:
        issue = FieldIssue("sandbox", "invalid_value", "Patron's applications are live: sandbox must be false.")
        raise ValidationError("The request is invalid.", [issue])
    new = NewAudience(body.name, body.description, body.integration, body.integration_id)
    audience = services().audiences.create(request.caller.application_id, new)
    return Response(status=201, body=wire.audience_response(audience, services().account_id))


@api.route("PUT", "/v2/audiences/{audienceId}", body=wire.UpdateAudience, answers=wire.AudienceResponse)
def update_audience_v2(request: Request, body: wire.UpdateAudience) -> wire.AudienceResponse:
    """Renames the audience; no rule runs."""
    audience = services().audiences.rename(request.caller.application_id, _audience_id(request), body.name)
    return wire.audience_response(audience, services().account_id)


@api.route("DELETE", "/v2/audiences/{audienceId}", answers={204: None})
def delete_audience_v2(request: Request) -> Response:
    """The audience is gone at once; its memberships are removed in the background (docs/audiences.md)."""
    services().audiences.delete(request.caller.application_id, _audience_id(request))
    return Response(status=204)


@api.route("DELETE", "/v2/audiences/{audienceId}/memberships", answers={204: None})
def delete_audience_memberships_v2(request: Request) -> Response:
    """Every current member leaves (in the background); the audience stays, and profiles added from now on stay."""
    services().audiences.empty(request.caller.application_id, _audience_id(request))
    return Response(status=204)


@api.route(
    "POST",
    "/v2/customer_audiences",
    body=wire.CustomerProfileAudienceRequest,
    answers={204: None},
    idempotent=True,
    subjects=subjects.body_list_field("data", "profileIntegrationId"),
)
def update_customer_profile_audiences(request: Request, body: wire.CustomerProfileAudienceRequest) -> Response:
    """Up to 1000 `add` and `delete` actions; adding creates the profile. An unknown audience: 404, nothing written."""
    actions = [
        MembershipAction(item.action == "add", item.profile_integration_id, item.audience_id)
        for item in body.data or []
    ]
    services().memberships.change(request.caller.application_id, actions)
    return Response(status=204)


@api.route("PUT", "/v2/audience_customers/{audienceId}/attributes", answers={204: None})
def update_audience_customers_attributes(request: Request) -> Response:
    """Sets these profile attributes on every member of the audience, in the background (a null removes one)."""
    attributes = request.json()
    if not isinstance(attributes, dict):
        issue = FieldIssue("$", "invalid_type", "The body is an object of attributes.")
        raise ValidationError("The request is invalid.", [issue])
    services().audiences.update_members(request.caller.application_id, _audience_id(request), attributes)
    return Response(status=204)


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
