"""The attribute catalog: the customer, order and product attributes an application uses, with their types."""

from __future__ import annotations

from typing import Any

from patron.catalog import wire
from patron.catalog.model import EntityKind, entity_kind
from patron.catalog.settings import CatalogSettings
from patron.catalog.wiring import catalog_service, catalog_settings
from patron.http.api import Request, Response, RestApi
from patron.observability import api_handler

# The settings this function reads; a template test checks template.yaml gives it every one.
SETTINGS = CatalogSettings

api = RestApi(max_body_bytes=lambda: catalog_settings().max_body_bytes)


@api.route("GET", "/v1/attributes/{entity}")
def list_entity_attributes(request: Request) -> Response:
    kind = entity_kind(request.path_params["entity"])
    descriptors = catalog_service().list(request.caller.application_id, kind)
    return Response.json(wire.attribute_list_response(descriptors))


@api.route("GET", "/v1/consents")
def list_consents(request: Request) -> Response:
    """The consent channels the application's customers have given or refused (ExpertSender's consent list)."""
    descriptors = catalog_service().list(request.caller.application_id, EntityKind.CONSENT)
    return Response.json({"data": [{"channel": d.name, "firstSeen": d.first_seen} for d in descriptors]})


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
