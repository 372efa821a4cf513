"""Builder of the profile service, for the composition roots of the functions that read or write profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.profiles.repository import DynamoProfileRepository
from patron.profiles.service import AttributeCatalog, ProfileService
from patron.settings import Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def profile_service(client: DynamoDBClient, tables: Tables, catalog: AttributeCatalog) -> ProfileService:
    return ProfileService(DynamoProfileRepository(client, tables.profiles), catalog=catalog)
