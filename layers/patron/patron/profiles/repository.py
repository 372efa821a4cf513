"""Storage of customer profiles: the interface and its DynamoDB implementation."""

from __future__ import annotations

import contextvars
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from patron.dynamo import codec
from patron.dynamo.errors import is_item_too_large, translate
from patron.errors import PatronError
from patron.profiles.keys import ATTRIBUTE_PREFIX, PROFILE_SK, parse_profile_pk, profile_pk
from patron.profiles.model import CustomerProfile, ProfileTooLargeError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
# Concurrent UpdateItem calls of one bulk request; the DynamoDB client's connection pool matches it.
BULK_CONCURRENCY = 16


def new_profile_id() -> int:
    """A numeric id (Talon.One's CustomerProfile.id is an integer): time-ordered, 12 random bits, < 2**53."""
    return ((int(time.time() * 1000) - _EPOCH_MS) << 12) | random.getrandbits(12)


@dataclass(frozen=True)
class ProfileUpdate:
    integration_id: str
    set_attributes: dict[str, Any]
    remove: list[str]


class ProfileRepository(Protocol):
    def upsert(
        self,
        application_id: int,
        integration_id: str,
        set_attributes: dict[str, Any],
        remove: list[str],
        now: str,
    ) -> CustomerProfile: ...

    def upsert_many(
        self, application_id: int, updates: list[ProfileUpdate], now: str
    ) -> list[CustomerProfile | PatronError]:
        """One upsert per update (distinct integration ids); for each, in order, its profile or why it failed."""
        ...

    def get(self, application_id: int, integration_id: str) -> CustomerProfile | None: ...

    def erase(self, application_id: int, integration_id: str) -> bool:
        """Deletes everything stored for this profile; False when there was no profile."""
        ...


def profile_from_item(item: dict[str, Any]) -> CustomerProfile:
    application_id, integration_id = parse_profile_pk(str(item["PK"]))
    return CustomerProfile(
        application_id=application_id,
        integration_id=integration_id,
        profile_id=int(item["profileId"]),
        created=str(item["created"]),
        updated=str(item["updated"]),
        last_activity=str(item["lastActivity"]),
        version=int(item["version"]),
        # Absent until sessions exist: every byte of a profile item is paid on each write.
        closed_sessions=int(item.get("closedSessions", 0)),
        total_sales=Decimal(item.get("totalSales", 0)),
        attributes={
            name[len(ATTRIBUTE_PREFIX) :]: value for name, value in item.items() if name.startswith(ATTRIBUTE_PREFIX)
        },
    )


class DynamoProfileRepository:
    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def upsert(
        self,
        application_id: int,
        integration_id: str,
        set_attributes: dict[str, Any],
        remove: list[str],
        now: str,
    ) -> CustomerProfile:
        """Creates the profile or merges into it, in one UpdateItem (one write, one round trip)."""
        names = {
            "#pid": "profileId",
            "#created": "created",
            "#updated": "updated",
            "#activity": "lastActivity",
            "#version": "version",
        }
        values: dict[str, Any] = {
            ":pid": new_profile_id(),
            ":now": now,
            ":zero": 0,
            ":one": 1,
        }
        # The application and integration ids live in the key only (see parse_profile_pk).
        sets = [
            "#pid = if_not_exists(#pid, :pid)",
            "#created = if_not_exists(#created, :now)",
            "#activity = if_not_exists(#activity, :now)",
            "#updated = :now",
            "#version = if_not_exists(#version, :zero) + :one",
        ]
        for index, (name, value) in enumerate(set_attributes.items()):
            names[f"#a{index}"] = ATTRIBUTE_PREFIX + name
            values[f":a{index}"] = value
            sets.append(f"#a{index} = :a{index}")
        expression = "SET " + ", ".join(sets)
        if remove:
            for index, name in enumerate(remove):
                names[f"#r{index}"] = ATTRIBUTE_PREFIX + name
            expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(remove)))
        try:
            result = self._client.update_item(
                TableName=self._table,
                Key=codec.to_item({"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK}),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=codec.to_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_item_too_large(exc):
                raise ProfileTooLargeError() from None
            raise translate(exc) from exc
        return profile_from_item(codec.from_item(result["Attributes"]))

    def upsert_many(
        self, application_id: int, updates: list[ProfileUpdate], now: str
    ) -> list[CustomerProfile | PatronError]:
        # A merge needs UpdateItem (BatchWriteItem only replaces whole items), so the calls run side by side: one
        # round trip per profile, BULK_CONCURRENCY in flight. Profiles are independent items: one that fails (it
        # would pass 400 KB, or DynamoDB throttles) is reported and the others stand; a retry is safe.
        def one(update: ProfileUpdate) -> CustomerProfile | PatronError:
            try:
                return self.upsert(application_id, update.integration_id, update.set_attributes, update.remove, now)
            except PatronError as error:
                return error

        # Each call runs in a copy of the caller's context, so request-scoped context (logging, the local
        # runtime's per-function IAM check) follows the work into the pool's threads.
        contexts = [contextvars.copy_context() for _ in updates]
        with ThreadPoolExecutor(max_workers=BULK_CONCURRENCY) as pool:
            return list(pool.map(lambda context, update: context.run(one, update), contexts, updates))

    def erase(self, application_id: int, integration_id: str) -> bool:
        result = self._client.delete_item(
            TableName=self._table,
            Key=codec.to_item({"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK}),
            ReturnValues="ALL_OLD",
        )
        return "Attributes" in result

    def get(self, application_id: int, integration_id: str) -> CustomerProfile | None:
        result = self._client.get_item(
            TableName=self._table,
            Key=codec.to_item({"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK}),
            # Read-your-writes: an integration reads the profile it has just updated.
            ConsistentRead=True,
        )
        return profile_from_item(codec.from_item(result["Item"])) if "Item" in result else None
