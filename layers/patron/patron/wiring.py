"""Cached factories: settings, clients and services are built on first use, once per process."""

from __future__ import annotations

from functools import cache

from patron.applications.repository import DynamoApplicationRepository
from patron.auth.authenticator import Authenticator
from patron.dynamo.client import dynamodb_client
from patron.profiles.repository import DynamoProfileRepository
from patron.profiles.service import ProfileService
from patron.settings import AuthorizerSettings, ProfilesSettings


@cache
def authorizer_settings() -> AuthorizerSettings:
    return AuthorizerSettings.from_environ()


@cache
def authenticator() -> Authenticator:
    settings = authorizer_settings()
    return Authenticator(
        repository=DynamoApplicationRepository(dynamodb_client(), settings.config_table_name),
        cache_ttl_seconds=settings.key_cache_ttl_seconds,
        public_routes=settings.public_route_set(),
    )


@cache
def profiles_settings() -> ProfilesSettings:
    return ProfilesSettings.from_environ()


@cache
def profile_service() -> ProfileService:
    return ProfileService(DynamoProfileRepository(dynamodb_client(), profiles_settings().profiles_table_name))
