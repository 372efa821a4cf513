"""Python values <-> DynamoDB attribute values, with DynamoDB-safe types (Decimal, never float)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute(value: Any) -> AttributeValueTypeDef:
    serialized: AttributeValueTypeDef = _serializer.serialize(value)
    return serialized


def to_item(values: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {name: to_attribute(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
