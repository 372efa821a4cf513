"""Cached factories of the customer profiles function: built on first use, once per process."""

from __future__ import annotations

from functools import cache

from patron.dynamo.client import dynamodb_client
from patron.profiles.repository import DynamoProfileRepository
from patron.profiles.service import ProfileService
from patron.settings import ProfilesSettings


@cache
def profiles_settings() -> ProfilesSettings:
    return ProfilesSettings.from_environ()


@cache
def profile_service() -> ProfileService:
    return ProfileService(DynamoProfileRepository(dynamodb_client(), profiles_settings().profiles_table_name))
