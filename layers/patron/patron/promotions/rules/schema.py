"""The language's types, and the attribute schema that gives declared attributes a static type.

Every value may also be absent (an attribute not set, an anonymous session's profile, a division by zero): the
types say what a value is when it is there. `dynamic` is the type of an undeclared attribute, known only when a
request brings it (docs/rules.md, "Absent and dynamic values").
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import msgspec


class Kind(StrEnum):
    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    TIME = "time"  # an instant: an aware datetime
    DATE = "date"  # a calendar date in the application's timezone
    LIST = "list"
    NULL = "null"  # the literal `null`: only compared with `==`/`!=` or given to coalesce
    DYNAMIC = "dynamic"


class Type(msgspec.Struct, frozen=True):
    kind: Kind
    element: Type | None = None  # for lists

    def __str__(self) -> str:
        return f"list[{self.element}]" if self.kind is Kind.LIST else self.kind.value


NUMBER = Type(Kind.NUMBER)
STRING = Type(Kind.STRING)
BOOLEAN = Type(Kind.BOOLEAN)
TIME = Type(Kind.TIME)
DATE = Type(Kind.DATE)
NULL = Type(Kind.NULL)
DYNAMIC = Type(Kind.DYNAMIC)


def list_of(element: Type) -> Type:
    return Type(Kind.LIST, element)


# The attribute catalog's type names (Talon.One's, and Patron's own catalog: `date` is an ISO-8601 string there,
# read as an instant; `array` and `object` carry no element type).
_CATALOG_TYPES: dict[str, Type] = {
    "string": STRING,
    "number": NUMBER,
    "boolean": BOOLEAN,
    "time": TIME,
    "date": TIME,
    "list of string": list_of(STRING),
    "list of number": list_of(NUMBER),
    "(list) string": list_of(STRING),
    "(list) number": list_of(NUMBER),
    "array": list_of(DYNAMIC),
    "object": DYNAMIC,
}

SCOPES = ("session", "profile", "item", "event", "coupon", "referral")


def catalog_type(name: str) -> Type:
    try:
        return _CATALOG_TYPES[name.strip().lower()]
    except KeyError:
        known = ", ".join(_CATALOG_TYPES)
        raise ValueError(f"unknown attribute type {name!r}; one of: {known}") from None


class AttributeSchema(msgspec.Struct, frozen=True):
    """Declared attributes per scope: `AttributeSchema.of({"profile": {"tier": "string"}})`."""

    scopes: Mapping[str, Mapping[str, Type]]

    @classmethod
    def of(cls, declared: Mapping[str, Mapping[str, str | Type]]) -> AttributeSchema:
        scopes: dict[str, dict[str, Type]] = {}
        for scope, attributes in declared.items():
            if scope not in SCOPES:
                raise ValueError(f"unknown attribute scope {scope!r}; one of: {', '.join(SCOPES)}")
            scopes[scope] = {
                name: kind if isinstance(kind, Type) else catalog_type(kind) for name, kind in attributes.items()
            }
        return cls(scopes)

    def type_of(self, scope: str, name: str) -> Type:
        return self.scopes.get(scope, {}).get(name, DYNAMIC)


NO_SCHEMA = AttributeSchema({})

SchemaLike = AttributeSchema | Mapping[str, Mapping[str, str | Type]] | None


def as_schema(schema: SchemaLike) -> AttributeSchema:
    if schema is None:
        return NO_SCHEMA
    return schema if isinstance(schema, AttributeSchema) else AttributeSchema.of(schema)
