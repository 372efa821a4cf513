"""The attribute catalog: the customer, order and product attributes an application uses, with their types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.catalog import wire
from patron.catalog.model import AttributeType, EntityKind, entity_kind
from patron.catalog.service import CatalogService
from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.errors import FieldIssue, ValidationError
from patron.http.api import Request, Response, RestApi
from patron.observability import api_handler
from patron.profiles.consents import is_channel_name
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    """What this function's handlers use."""

    max_body_bytes: int
    catalog: CatalogService


def compose(environ: Mapping[str, str]) -> Services:
    """This function's composition root: the catalog (config table) and the API's body limit."""
    return Services(
        Api.from_environ(environ).body_limit, catalog_service(dynamodb_client(), Tables.from_environ(environ))
    )


services = CompositionRoot(compose)

api = RestApi(max_body_bytes=lambda: services().max_body_bytes)


@api.route("GET", "/v1/attributes/{entity}", answers=wire.AttributeListResponse)
def list_entity_attributes(request: Request) -> wire.AttributeListResponse:
    kind = entity_kind(request.path_params["entity"])
    return wire.attribute_list_response(services().catalog.list(request.caller.application_id, kind))


@api.route(
    "POST",
    "/v1/attributes/{entity}",
    body=wire.NewAttribute,
    answers={201: wire.AttributeItem, 200: wire.AttributeItem},
)
def declare_attribute(request: Request, body: wire.NewAttribute) -> Response:
    """Declares an attribute before any value carries it (201; 200 when it exists with this type; 409
    `attribute_type_conflict` with another)."""
    kind = entity_kind(request.path_params["entity"])
    declared, created = services().catalog.declare(request.caller.application_id, kind, body.name, body.type)
    return Response(status=201 if created else 200, body=wire.attribute_response(declared))


@api.route(
    "POST",
    "/v1/consents",
    body=wire.NewConsentChannel,
    answers={201: wire.ConsentChannelItem, 200: wire.ConsentChannelItem},
)
def declare_consent_channel(request: Request, body: wire.NewConsentChannel) -> Response:
    """Declares a consent channel before any customer gives or refuses it (201; 200 when it exists)."""
    if not is_channel_name(body.channel):
        issue = FieldIssue("channel", "invalid_name", "A channel is lower case letters, digits and _.")
        raise ValidationError("The channel is invalid.", [issue])
    # A channel's values are given or refused: typed boolean, as a customer's first consent registers it.
    kind, boolean = EntityKind.CONSENT, AttributeType.BOOLEAN
    declared, created = services().catalog.declare(request.caller.application_id, kind, body.channel, boolean)
    return Response(status=201 if created else 200, body=wire.consent_response(declared))


@api.route("GET", "/v1/consents", answers=wire.ConsentChannelListResponse)
def list_consents(request: Request) -> wire.ConsentChannelListResponse:
    """The consent channels the application's customers have given or refused (ExpertSender's consent list)."""
    return wire.consent_list_response(services().catalog.list(request.caller.application_id, EntityKind.CONSENT))


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
