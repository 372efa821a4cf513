"""Cart item catalogs (Talon.One's): created, read, listed and deleted by `management` keys
(`/v1/management/catalogs...`), synced by integration keys (`PUT /v1/catalogs/{catalogId}/sync`). Sessions read
them in their own function (patron.sessions.store)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from patron.applications.model import Scope
from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.errors import ForbiddenError, PayloadTooLargeError
from patron.http.api import Request, Response, RestApi
from patron.idempotency.service import IdempotencyStore
from patron.idempotency.wiring import idempotency_store
from patron.item_catalogs import wire
from patron.item_catalogs.service import CatalogNotFoundError, ItemCatalogService
from patron.item_catalogs.wiring import item_catalog_service
from patron.observability import api_handler
from patron.settings import Api, Tables
from patron.wiring import CompositionRoot


class Services(msgspec.Struct, frozen=True):
    max_body_bytes: int
    max_sync_bytes: int
    account_id: int
    catalogs: ItemCatalogService
    idempotency: IdempotencyStore


def compose(environ: Mapping[str, str]) -> Services:
    """Catalogs and their items live in the config table, beside the attribute catalog their item attributes are
    checked against; Idempotency-Key answers in the idempotency table."""
    client, tables, settings = dynamodb_client(), Tables.from_environ(environ), Api.from_environ(environ)
    return Services(
        max_body_bytes=settings.body_limit,
        max_sync_bytes=settings.catalog_sync_limit,
        account_id=settings.account,
        catalogs=item_catalog_service(client, tables.config, catalog_service(client, tables)),
        idempotency=idempotency_store(client, tables),
    )


services = CompositionRoot(compose)

# The resolver's limit is the sync's (1,000 items with their attributes pass the API's usual limit); the
# management routes keep the usual one (`_body_limit`).
api = RestApi(max_body_bytes=lambda: services().max_sync_bytes, idempotency=lambda: services().idempotency)


def _body_limit(request: Request) -> None:
    limit = services().max_body_bytes
    if len(request.body) > limit:
        raise PayloadTooLargeError(limit)


def _management(request: Request) -> int:
    """The caller's application, once its key is known to be a management key (the authorizer checked it too)."""
    if request.caller.scope != Scope.MANAGEMENT.value:
        raise ForbiddenError()
    return request.caller.application_id


def _catalog_id(request: Request) -> int:
    """A path's catalog id; anything that is not one names no catalog (404)."""
    text = request.path_params["catalogId"]
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise CatalogNotFoundError()
    return int(text)


def _answer(request: Request, catalog: Any) -> wire.CatalogResponse:
    return wire.catalog_response(catalog, request.caller.application_id, services().account_id)


@api.route("PUT", "/v1/catalogs/{catalogId}/sync", body=wire.CatalogSyncRequest, answers=wire.CatalogResponse,
           idempotent=True)  # fmt: skip
def sync_catalog(request: Request, body: wire.CatalogSyncRequest) -> wire.CatalogResponse:
    """Up to 1,000 actions of one type, all applied or none (docs/item-catalogs.md); `version`: only if the catalog
    is still at it (409 `catalog_version_mismatch`). Answers the catalog at its new version."""
    catalog_id = _catalog_id(request)
    synced = services().catalogs.sync(request.caller.application_id, catalog_id, wire.sync_request(body))
    return _answer(request, synced)


@api.route("POST", "/v1/management/catalogs", body=wire.NewCatalogRequest, answers={201: wire.CatalogResponse},
           idempotent=True, guard=_body_limit)  # fmt: skip
def create_catalog(request: Request, body: wire.NewCatalogRequest) -> Response:
    """The application's cart item catalog (one per application: 409 `catalog_exists` for a second)."""
    application_id = _management(request)
    catalog = services().catalogs.create(application_id, body.name, body.description)
    return Response(201, _answer(request, catalog), {"Location": f"/v1/management/catalogs/{catalog.id}"})


@api.route("GET", "/v1/management/catalogs", answers=wire.CatalogListResponse)
def list_catalogs(request: Request) -> wire.CatalogListResponse:
    catalogs = services().catalogs.catalogs(_management(request))
    return wire.CatalogListResponse(total_result_size=len(catalogs), data=[_answer(request, c) for c in catalogs])


@api.route("GET", "/v1/management/catalogs/{catalogId}", answers=wire.CatalogResponse)
def get_catalog(request: Request) -> wire.CatalogResponse:
    return _answer(request, services().catalogs.get(_management(request), _catalog_id(request)))


@api.route("DELETE", "/v1/management/catalogs/{catalogId}", answers={204: None})
def delete_catalog(request: Request) -> Response:
    """The catalog and its items, for every reader at once (409 `catalog_sync_conflict` while a sync holds it)."""
    services().catalogs.delete(_management(request), _catalog_id(request))
    return Response(204, None)


@api.route("GET", "/v1/management/catalogs/{catalogId}/items", answers=wire.CatalogItemListResponse)
def list_catalog_items(request: Request) -> wire.CatalogItemListResponse:
    """The items as sessions see them now, in SKU order, `limit` (1 to 1,000, default 50) a page; `cursor`: the
    `nextCursor` of the page before."""
    application_id = _management(request)
    limit = request.query_int("limit", default=50, minimum=1, maximum=1000)
    states, cursor = services().catalogs.items_page(application_id, _catalog_id(request), limit, request.query_cursor())
    return wire.CatalogItemListResponse([wire.item_view(state) for state in states], cursor is not None, cursor)


@api.route("GET", "/v1/management/catalogs/{catalogId}/items/{sku}", answers=wire.CatalogItemView)
def get_catalog_item(request: Request) -> wire.CatalogItemView:
    """One item as sessions see it now (404 `catalog_item_not_found`)."""
    application_id = _management(request)
    state = services().catalogs.item(application_id, _catalog_id(request), request.path_params["sku"])
    return wire.item_view(state)


@api_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.resolve(event, context)
