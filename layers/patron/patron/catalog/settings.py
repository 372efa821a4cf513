"""Configuration of the attribute catalog (see patron.settings for how settings are read)."""

from __future__ import annotations

from patron.settings import HttpSettings, Settings, TableName


class CatalogStoreSettings(Settings, frozen=True):
    """What any function using the catalog needs: the config table holds it."""

    config_table_name: TableName


class CatalogSettings(HttpSettings, frozen=True):
    """The catalog function (GET /v1/attributes/{entity})."""

    config_table_name: TableName
