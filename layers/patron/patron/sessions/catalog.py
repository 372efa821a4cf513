"""A cart as the application's cart item catalog completes it (docs/item-catalogs.md, "Sessions"): an item found by
SKU takes the catalog's attributes under its own (Talon.One: attributes the session does not send are loaded from
the catalog), and, sent without a price, the catalog's price at the session's time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from patron.sessions.model import CartItem
from patron.sessions.store import Read


def from_catalog(items: Sequence[CartItem], read: Read, now: datetime) -> tuple[CartItem, ...]:
    if not read.catalog_items:
        return tuple(items)
    completed = []
    for item in items:
        found = read.catalog_items.get(item.sku)
        if found is None:
            completed.append(item)
            continue
        price = found.price_at(now) if not item.priced else None
        completed.append(
            msgspec.structs.replace(
                item,
                catalog_attributes=dict(found.attributes),
                price=price if price is not None else item.price,
                priced=item.priced or price is not None,
            )
        )
    return tuple(completed)
