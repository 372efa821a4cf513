"""ECDP's settings lists (GET /customerattributes, /orderattributes, /productattributes, /customerconsents) read
from Patron's attribute catalog, with the numeric ids ECDP's clients keep.

ECDP numbers its attributes and consents; Patron's catalog names them. A name's id is derived from the name (31
bits of its BLAKE2b digest), so it is the same on every instance and forever, needs no counter, and leads back to
its name by looking the short list up. A consent channel named `consent_<n>` has id n: a client that only knows
ECDP's ids (`consents: [{id: 7}]`) finds channel `consent_7` again under id 7."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import msgspec

from patron.catalog.model import AttributeDescriptor, AttributeType, EntityKind

_NUMBERED = re.compile(r"consent_([1-9][0-9]{0,8})")

# ECDP's own members of a customer, order or product, stored as Patron attributes under these names: not custom
# attributes, so not listed.
CUSTOMER_MEMBERS = frozenset({"firstName", "lastName", "dateOfBirth", "gender"})
ORDER_MEMBERS = frozenset({"expertSender"})  # websiteId, timeZone, returnsValue: one object of ECDP's own
PRODUCT_MEMBERS = frozenset({"productId", "name", "price", "quantity", "returned", "url", "imageUrl", "category"})
_OWN = {EntityKind.CUSTOMER: CUSTOMER_MEMBERS, EntityKind.ORDER: ORDER_MEMBERS, EntityKind.PRODUCT: PRODUCT_MEMBERS}

_TYPES = {
    AttributeType.STRING: "String",
    AttributeType.NUMBER: "Number",
    AttributeType.BOOLEAN: "Boolean",
    AttributeType.DATE: "DateTime",
    AttributeType.OBJECT: "Text",
    AttributeType.ARRAY: "Text",
}


class Setting(msgspec.Struct, frozen=True):
    id: int
    name: str
    type: str


class SettingList(msgspec.Struct, frozen=True):
    """ECDP's list answer: `{"status": 0, "data": [...]}`."""

    data: list[Setting]
    status: int = 0


def stable_id(kind: EntityKind, name: str) -> int:
    if kind is EntityKind.CONSENT and (numbered := _NUMBERED.fullmatch(name)):
        return int(numbered[1])
    digest = hashlib.blake2b(f"{kind.value}:{name}".encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF or 1


def consent_type(channel: str) -> str:
    """ECDP's consent types: Email, Sms, or General for any other channel."""
    return {"email": "Email", "sms": "Sms"}.get(channel, "General")


def attribute_list(kind: EntityKind, descriptors: Iterable[AttributeDescriptor]) -> SettingList:
    own = _OWN.get(kind, frozenset())
    return SettingList(
        [Setting(stable_id(kind, d.name), d.name, _TYPES[d.type]) for d in descriptors if d.name not in own]
    )


def consent_list(descriptors: Iterable[AttributeDescriptor]) -> SettingList:
    kind = EntityKind.CONSENT
    return SettingList([Setting(stable_id(kind, d.name), d.name, consent_type(d.name)) for d in descriptors])


def channels_by_id(descriptors: Iterable[AttributeDescriptor]) -> dict[int, str]:
    return {stable_id(EntityKind.CONSENT, d.name): d.name for d in descriptors}
