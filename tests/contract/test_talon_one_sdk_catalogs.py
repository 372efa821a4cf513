"""Cart item catalog sync through the official talon-one-sdk IntegrationApi: every action type built from the SDK's
own models (AddItemCatalogAction, PatchItemCatalogAction, PatchManyItemsCatalogAction with CatalogActionFilter,
RemoveItemCatalogAction, RemoveManyItemsCatalogAction, AddPriceAdjustmentCatalogAction with NewPriceAdjustment),
the answer parsed as its Catalog, and Talon.One's errors as the SDK raises them; then a session priced from it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import talon_one
from talon_one.exceptions import ApiException, BadRequestException, NotFoundException

from tests.contract.test_talon_one_sdk import base_url, integration_api
from tests.integration.item_catalogs import create_catalog

__all__ = ["base_url"]  # the module's server fixture, shared


def action(kind: str, payload: Any) -> dict[str, Any]:
    """A CatalogAction: this SDK's CatalogSyncRequest takes them as dicts of `type` and `payload`."""
    return {"type": kind, "payload": payload.to_dict()}


def sync(api: talon_one.IntegrationApi, catalog_id: int, *actions: dict[str, Any], **extra: Any) -> talon_one.Catalog:
    return api.sync_catalog(catalog_id, talon_one.CatalogSyncRequest(actions=list(actions), **extra))


def test_every_action_type_through_the_sdk(base_url, runtime, tenant):
    api = integration_api(base_url, tenant.key)
    catalog_id = create_catalog(runtime, tenant)
    added = sync(
        api,
        catalog_id,
        action(
            "ADD",
            talon_one.AddItemCatalogAction(
                sku="SDK-1", price=10, attributes={"color": "red", "size": 40}, product=talon_one.Product(name="Shoe")
            ),
        ),
        action("ADD", talon_one.AddItemCatalogAction(sku="SDK-2", price=20, attributes={"color": "blue", "size": 44})),
        version=1,
    )
    assert isinstance(added, talon_one.Catalog)
    assert (added.id, added.version, added.subscribed_applications_ids) == (catalog_id, 2, [tenant.application_id])

    with pytest.raises(ApiException) as conflict:
        sync(api, catalog_id, action("ADD", talon_one.AddItemCatalogAction(sku="SDK-1", price=1)))
    assert conflict.value.status == 409
    assert json.loads(conflict.value.body or "{}")["errors"][0]["source"]["pointer"] == "/actions/0/payload/sku"
    with pytest.raises(ApiException) as stale:
        sync(api, catalog_id, action("ADD", talon_one.AddItemCatalogAction(sku="SDK-3")), version=1)
    assert stale.value.status == 409

    patch = talon_one.PatchItemCatalogAction(sku="SDK-1", attributes={"size": 41})
    assert sync(api, catalog_id, action("PATCH", patch)).version == 3
    with pytest.raises(NotFoundException):
        sync(api, catalog_id, action("PATCH", talon_one.PatchItemCatalogAction(sku="NONE", price=1)))
    created = talon_one.PatchItemCatalogAction(sku="SDK-3", price=30, createIfNotExists=True)
    assert sync(api, catalog_id, action("PATCH", created)).version == 4

    many = talon_one.PatchManyItemsCatalogAction(
        price=15, filters=[talon_one.CatalogActionFilter(attr="color", op="EQ", value="blue")]
    )
    assert sync(api, catalog_id, action("PATCH_MANY", many)).version == 5
    adjustment = talon_one.AddPriceAdjustmentCatalogAction(
        sku="SDK-1",
        adjustments=[
            talon_one.NewPriceAdjustment(
                priceType="base",
                price=8,
                referenceId=str(uuid.uuid4()),
                calculatedAt=datetime(2026, 1, 1, tzinfo=UTC),
                effectiveFrom=datetime(2020, 1, 1, tzinfo=UTC),
                contextId="winter sale",
            )
        ],
    )
    assert sync(api, catalog_id, action("ADD_PRICE_ADJUSTMENT", adjustment)).version == 6

    session = talon_one.IntegrationRequest(
        customerSession=talon_one.NewCustomerSessionV2(
            cartItems=[
                talon_one.CartItem(sku="SDK-1", quantity=1),
                talon_one.CartItem(sku="SDK-2", quantity=2),
            ]
        ),
        responseContent=["customerSession"],
    )
    answer = api.update_customer_session_v2(f"sdk-cat-{uuid.uuid4().hex[:8]}", session)
    answered = answer.customer_session
    assert answered is not None and answered.cart_items is not None
    assert [item.price for item in answered.cart_items] == [8, 15]
    assert answered.cart_item_total == 38

    removed = sync(api, catalog_id, action("REMOVE", talon_one.RemoveItemCatalogAction(sku="SDK-3")))
    assert removed.version == 7
    remove_many = talon_one.RemoveManyItemsCatalogAction(
        filters=[talon_one.CatalogActionFilter(attr="size", op="GE", value=44)]
    )
    assert sync(api, catalog_id, action("REMOVE_MANY", remove_many)).version == 8
    with pytest.raises(NotFoundException):
        sync(api, catalog_id, action("REMOVE", talon_one.RemoveItemCatalogAction(sku="SDK-2")))


def test_duplicate_skus_mixed_types_and_unknown_catalogs_as_the_sdk_raises_them(base_url, runtime, tenant):
    api = integration_api(base_url, tenant.key)
    catalog_id = create_catalog(runtime, tenant)
    twice = talon_one.RemoveItemCatalogAction(sku="X")
    with pytest.raises(BadRequestException) as duplicate:
        sync(api, catalog_id, action("REMOVE", twice), action("REMOVE", twice))
    assert [e["code"] for e in json.loads(duplicate.value.body or "{}")["errors"]] == ["duplicate_sku"]
    with pytest.raises(BadRequestException) as mixed:
        sync(api, catalog_id, action("REMOVE", twice), action("ADD", talon_one.AddItemCatalogAction(sku="Y")))
    assert json.loads(mixed.value.body or "{}")["errors"][0]["source"]["pointer"] == "/actions/1/type"
    with pytest.raises(NotFoundException):
        sync(api, catalog_id + 1, action("ADD", talon_one.AddItemCatalogAction(sku="Y")))
