"""Cached factories of the authorizer: built on first use, once per process (never at import time)."""

from __future__ import annotations

from functools import cache

from patron.applications.repository import DynamoApplicationRepository
from patron.auth.authenticator import Authenticator
from patron.dynamo.client import dynamodb_client
from patron.settings import AuthorizerSettings


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
