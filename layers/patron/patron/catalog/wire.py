"""The catalog's wire shapes (ExpertSender-style attribute lists, in Patron's camelCase JSON)."""

from __future__ import annotations

from typing import Any

from patron.catalog.model import AttributeDescriptor


def attribute_response(descriptor: AttributeDescriptor) -> dict[str, Any]:
    return {"name": descriptor.name, "type": descriptor.type.value, "firstSeen": descriptor.first_seen}


def attribute_list_response(descriptors: list[AttributeDescriptor]) -> dict[str, Any]:
    return {"data": [attribute_response(descriptor) for descriptor in descriptors]}
