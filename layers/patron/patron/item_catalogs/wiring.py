"""Builder of the cart item catalogs' service (patron.wiring: a function's composition root calls it once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.catalog.service import CatalogService
from patron.clock import SystemClock
from patron.item_catalogs.repository import DynamoItemCatalogRepository
from patron.item_catalogs.service import ItemCatalogService

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def item_catalog_service(client: DynamoDBClient, config_table: str, attributes: CatalogService) -> ItemCatalogService:
    """Catalogs live in the config table; their item attributes are checked against the attribute catalog's
    product attributes (the same table)."""
    return ItemCatalogService(DynamoItemCatalogRepository(client, config_table), attributes, SystemClock())
