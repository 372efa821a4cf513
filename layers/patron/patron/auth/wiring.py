"""Builder of the authorizer's authenticator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.applications.repository import DynamoApplicationRepository
from patron.auth.authenticator import Authenticator
from patron.settings import Auth, Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def authenticator(client: DynamoDBClient, tables: Tables, auth: Auth) -> Authenticator:
    return Authenticator(
        repository=DynamoApplicationRepository(client, tables.config),
        cache_ttl_seconds=auth.key_cache_ttl,
        public_routes=auth.public_route_set(),
        management_routes=auth.management_route_set(),
    )
