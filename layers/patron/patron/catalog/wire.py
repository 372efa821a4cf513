"""The catalog's wire shapes (ExpertSender-style attribute lists, in Patron's camelCase JSON)."""

from __future__ import annotations

import msgspec

from patron.catalog.model import AttributeDescriptor, AttributeType


class AttributeItem(msgspec.Struct, rename="camel"):
    name: str
    type: AttributeType
    first_seen: str


class AttributeListResponse(msgspec.Struct):
    data: list[AttributeItem]


class ConsentChannelItem(msgspec.Struct, rename="camel"):
    channel: str
    first_seen: str


class ConsentChannelListResponse(msgspec.Struct):
    data: list[ConsentChannelItem]


class NewAttribute(msgspec.Struct, forbid_unknown_fields=True):
    """POST /v1/attributes/{entity}: an attribute declared before any value carries it."""

    name: str
    type: AttributeType


class NewConsentChannel(msgspec.Struct, forbid_unknown_fields=True):
    """POST /v1/consents: a consent channel declared before any customer gives or refuses it."""

    channel: str


def consent_response(descriptor: AttributeDescriptor) -> ConsentChannelItem:
    return ConsentChannelItem(descriptor.name, descriptor.first_seen)


def attribute_response(descriptor: AttributeDescriptor) -> AttributeItem:
    return AttributeItem(name=descriptor.name, type=descriptor.type, first_seen=descriptor.first_seen)


def attribute_list_response(descriptors: list[AttributeDescriptor]) -> AttributeListResponse:
    return AttributeListResponse(data=[attribute_response(descriptor) for descriptor in descriptors])


def consent_list_response(descriptors: list[AttributeDescriptor]) -> ConsentChannelListResponse:
    """The consent channels the application's customers have given or refused (ExpertSender's consent list)."""
    return ConsentChannelListResponse(data=[ConsentChannelItem(d.name, d.first_seen) for d in descriptors])
