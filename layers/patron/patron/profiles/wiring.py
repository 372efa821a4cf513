"""Cached factories of the customer profiles function: built on first use, once per process."""

from __future__ import annotations

from functools import cache

from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.profiles.repository import DynamoProfileRepository
from patron.profiles.service import ProfileService
from patron.settings import CustomersSettings, ProfilesSettings, ProfileTableSettings


@cache
def profiles_settings() -> ProfilesSettings:
    return ProfilesSettings.from_environ()


@cache
def customers_settings() -> CustomersSettings:
    return CustomersSettings.from_environ()


@cache
def profile_service() -> ProfileService:
    table = ProfileTableSettings.from_environ().profiles_table_name
    return ProfileService(DynamoProfileRepository(dynamodb_client(), table), catalog=catalog_service())
