"""A catalog and its items as config-table items (keys: patron.item_catalogs.keys). An item's states are stored as
compact JSON text (`cur`, `nxt`): attributes are arbitrary JSON, and text keeps their numbers exact and the item's
size what the sync measured. Values are Python values as codec.from_item gives them and committer's builders take.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from patron.item_catalogs.keys import CATALOG_SK, ITEM_SK_PREFIX, catalog_key, item_key, sku_of
from patron.item_catalogs.model import Catalog, ItemState, Pending, StoredItem

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_STATE = msgspec.json.Decoder(ItemState, float_hook=Decimal)


def encode_state(state: ItemState) -> str:
    return _ENCODER.encode(state).decode()


def decode_state(text: str) -> ItemState:
    return _STATE.decode(text)


def is_catalog(item: Mapping[str, Any]) -> bool:
    return item.get("SK") == CATALOG_SK


def is_item(item: Mapping[str, Any]) -> bool:
    return str(item.get("SK", "")).startswith(ITEM_SK_PREFIX)


def catalog_to_item(application_id: int, catalog: Catalog) -> dict[str, Any]:
    item: dict[str, Any] = {
        **catalog_key(application_id),
        "id": catalog.id,
        "name": catalog.name,
        "description": catalog.description,
        "created": catalog.created,
        "modified": catalog.modified,
        "version": catalog.version,
        "claimed": catalog.claimed,
        "deleted": catalog.deleted,
    }
    if catalog.aborted:
        item["aborted"] = list(catalog.aborted)
    return item


def catalog_from_item(item: Mapping[str, Any]) -> Catalog:
    pending = item.get("pending")
    return Catalog(
        id=int(item["id"]),
        name=str(item["name"]),
        description=str(item.get("description", "")),
        created=str(item["created"]),
        modified=str(item["modified"]),
        version=int(item["version"]),
        deleted=bool(item.get("deleted", False)),
        claimed=int(item.get("claimed", 0)),
        pending=(Pending(int(pending["version"]), str(pending["token"]), str(pending["until"])) if pending else None),
        aborted=tuple(int(version) for version in item.get("aborted") or ()),
    )


def stored_item_to_item(application_id: int, stored: StoredItem) -> dict[str, Any]:
    item: dict[str, Any] = {**item_key(application_id, stored.sku), "catalogId": stored.catalog_id}
    if stored.current is not None:
        item["cur"] = encode_state(stored.current)
    if stored.staged_version:
        item["nv"] = stored.staged_version
        if stored.staged is not None:
            item["nxt"] = encode_state(stored.staged)
    return item


def stored_item_from_item(item: Mapping[str, Any]) -> StoredItem:
    current, staged = item.get("cur"), item.get("nxt")
    return StoredItem(
        sku=sku_of(str(item["SK"])),
        catalog_id=int(item["catalogId"]),
        current=decode_state(str(current)) if current is not None else None,
        staged=decode_state(str(staged)) if staged is not None else None,
        staged_version=int(item.get("nv", 0)),
    )
