"""Python values <-> DynamoDB attribute values, with DynamoDB-safe types (Decimal, never float)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute(value: Any) -> AttributeValueTypeDef:
    # The common types directly, by exact type, as boto3's serializer writes them: it tries a dozen checks on
    # every value, a tenth of an import worker's time. Everything else (numbers' edge cases aside, sets,
    # binary, None, other mappings and sequences) takes boto3's own path and its errors.
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": {name: to_attribute(inner) for name, inner in value.items()}}
    if kind is list:
        return {"L": [to_attribute(inner) for inner in value]}
    if kind is Decimal or kind is int:
        # boto3's number rule: DynamoDB's context refuses what it would round; Infinity and NaN are refused.
        number = str(DYNAMODB_CONTEXT.create_decimal(value))
        if number in ("Infinity", "NaN"):
            raise TypeError("Infinity and NaN not supported")
        return {"N": number}
    if kind is bool:
        return {"BOOL": value}
    serialized: AttributeValueTypeDef = _serializer.serialize(value)
    return serialized


def to_item(values: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {name: to_attribute(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
