"""Storage of applications and keys: the interface, and its DynamoDB implementation on the config table.

Key design (see docs/data-model.md):
  application   PK=APP#<id>      SK=APP   GSI1PK=APPS              GSI1SK=<id, zero-padded>
  api key       PK=KEY#<key id>  SK=KEY   GSI1PK=APP#<id>#KEYS     GSI1SK=<created>#<key id>
  id counter    PK=COUNTER       SK=APP
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from patron.applications import keys
from patron.applications.model import ApiKey, Application, RateLimit, Scope
from patron.dynamo import codec
from patron.dynamo.errors import is_condition_failure, translate
from patron.errors import NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class ApplicationRepository(Protocol):
    def next_application_id(self) -> int: ...
    def add_application(self, application: Application) -> None: ...
    def get_application(self, application_id: int) -> Application | None: ...
    def list_applications(self) -> list[Application]: ...
    def update_rate_limit(self, application_id: int, rate_limit: RateLimit) -> Application: ...
    def add_key(self, key: ApiKey) -> None: ...
    def get_key(self, key_id: str) -> ApiKey | None: ...
    def list_keys(self, application_id: int) -> list[ApiKey]: ...
    def revoke_key(self, key_id: str, revoked_at: str) -> ApiKey: ...


def _application_from(item: dict[str, Any]) -> Application:
    return Application(
        id=int(item["applicationId"]),
        name=str(item["name"]),
        created=str(item["created"]),
        rate_limit=RateLimit(rate=float(item["rateLimit"]), burst=int(item["burstLimit"])),
        usage_key=str(item["usageKey"]),
    )


def _key_from(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        key_id=str(item["keyId"]),
        application_id=int(item["applicationId"]),
        scope=Scope(str(item["scope"])),
        label=str(item["label"]),
        created=str(item["created"]),
        key_hash=str(item["keyHash"]),
        usage_key=str(item["usageKey"]),
        revoked_at=str(item["revokedAt"]) if item.get("revokedAt") else None,
    )


class DynamoApplicationRepository:
    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def next_application_id(self) -> int:
        result = self._client.update_item(
            TableName=self._table,
            Key=codec.to_item({"PK": keys.COUNTER_PK, "SK": keys.COUNTER_SK}),
            UpdateExpression="ADD #v :one",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(codec.from_item(result["Attributes"])["value"])

    def add_application(self, application: Application) -> None:
        item = {
            "PK": keys.application_pk(application.id),
            "SK": keys.APPLICATION_SK,
            "GSI1PK": keys.ALL_APPLICATIONS,
            "GSI1SK": keys.application_gsi1sk(application.id),
            "applicationId": application.id,
            "name": application.name,
            "created": application.created,
            "rateLimit": Decimal(str(application.rate_limit.rate)),
            "burstLimit": application.rate_limit.burst,
            "usageKey": application.usage_key,
        }
        self._client.put_item(
            TableName=self._table,
            Item=codec.to_item(item),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_application(self, application_id: int) -> Application | None:
        result = self._client.get_item(
            TableName=self._table,
            Key=codec.to_item({"PK": keys.application_pk(application_id), "SK": keys.APPLICATION_SK}),
        )
        return _application_from(codec.from_item(result["Item"])) if "Item" in result else None

    def list_applications(self) -> list[Application]:
        return [_application_from(item) for item in self._query_gsi1(keys.ALL_APPLICATIONS)]

    def update_rate_limit(self, application_id: int, rate_limit: RateLimit) -> Application:
        try:
            result = self._client.update_item(
                TableName=self._table,
                Key=codec.to_item({"PK": keys.application_pk(application_id), "SK": keys.APPLICATION_SK}),
                UpdateExpression="SET rateLimit = :rate, burstLimit = :burst",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=codec.to_item(
                    {":rate": Decimal(str(rate_limit.rate)), ":burst": rate_limit.burst}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise NotFoundError("No such application.", code="application_not_found") from None
            raise translate(exc) from exc
        return _application_from(codec.from_item(result["Attributes"]))

    def add_key(self, key: ApiKey) -> None:
        item = {
            "PK": keys.api_key_pk(key.key_id),
            "SK": keys.API_KEY_SK,
            "GSI1PK": keys.application_keys_gsi1pk(key.application_id),
            "GSI1SK": keys.api_key_gsi1sk(key.created, key.key_id),
            "keyId": key.key_id,
            "applicationId": key.application_id,
            "scope": key.scope.value,
            "label": key.label,
            "created": key.created,
            "keyHash": key.key_hash,
            "usageKey": key.usage_key,
        }
        self._client.put_item(
            TableName=self._table,
            Item=codec.to_item(item),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_key(self, key_id: str) -> ApiKey | None:
        result = self._client.get_item(
            TableName=self._table, Key=codec.to_item({"PK": keys.api_key_pk(key_id), "SK": keys.API_KEY_SK})
        )
        return _key_from(codec.from_item(result["Item"])) if "Item" in result else None

    def list_keys(self, application_id: int) -> list[ApiKey]:
        return [_key_from(item) for item in self._query_gsi1(keys.application_keys_gsi1pk(application_id))]

    def revoke_key(self, key_id: str, revoked_at: str) -> ApiKey:
        try:
            result = self._client.update_item(
                TableName=self._table,
                Key=codec.to_item({"PK": keys.api_key_pk(key_id), "SK": keys.API_KEY_SK}),
                # Revoking twice keeps the first revocation time.
                UpdateExpression="SET revokedAt = if_not_exists(revokedAt, :now)",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=codec.to_item({":now": revoked_at}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise NotFoundError("No such API key.", code="api_key_not_found") from None
            raise translate(exc) from exc
        return _key_from(codec.from_item(result["Attributes"]))

    def _query_gsi1(self, partition: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": partition}},
        ):
            items.extend(codec.from_item(item) for item in page.get("Items", []))
        return items
