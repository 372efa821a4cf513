"""Builders of the audiences context, for the composition roots of the functions that use it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.audiences.jobs import SqsJobQueue
from patron.audiences.repository import DynamoAudienceRepository
from patron.audiences.service import AudienceService, MembershipService
from patron.audiences.worker import AudienceWorker
from patron.profiles.service import ProfileService
from patron.settings import Audiences, Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def audience_repository(client: DynamoDBClient, tables: Tables) -> DynamoAudienceRepository:
    return DynamoAudienceRepository(client, tables.profiles)


def audience_service(
    client: DynamoDBClient, tables: Tables, settings: Audiences, profiles: ProfileService
) -> AudienceService:
    return AudienceService(audience_repository(client, tables), SqsJobQueue(settings.queue_url), profiles)


def audience_worker(client: DynamoDBClient, tables: Tables, profiles: ProfileService) -> AudienceWorker:
    return AudienceWorker(audience_repository(client, tables), profiles)


def membership_service(client: DynamoDBClient, tables: Tables) -> MembershipService:
    return MembershipService(audience_repository(client, tables))
