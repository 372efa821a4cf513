"""Cached factories of the attribute catalog: built on first use, once per process."""

from __future__ import annotations

from functools import cache

from patron.catalog.repository import DynamoCatalogRepository
from patron.catalog.service import CatalogService
from patron.catalog.settings import CatalogSettings, CatalogStoreSettings
from patron.dynamo.client import dynamodb_client


@cache
def catalog_settings() -> CatalogSettings:
    return CatalogSettings.from_environ()


@cache
def catalog_service() -> CatalogService:
    # Only the table name: any function holding CONFIG_TABLE_NAME (the profile writers too) may use the catalog.
    # One service per process, so its cache lives as long as the warm Lambda.
    settings = CatalogStoreSettings.from_environ()
    return CatalogService(DynamoCatalogRepository(dynamodb_client(), settings.config_table_name))
