"""Builder of the attribute catalog (patron.wiring: each function's composition root calls it once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.catalog.repository import DynamoCatalogRepository
from patron.catalog.service import CatalogService
from patron.settings import Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def catalog_service(client: DynamoDBClient, tables: Tables) -> CatalogService:
    """One per function instance: every service of the function shares it, and its cache lives as long as the
    warm Lambda. The catalog lives in the config table, which every function writing attributes is given."""
    return CatalogService(DynamoCatalogRepository(client, tables.config))
