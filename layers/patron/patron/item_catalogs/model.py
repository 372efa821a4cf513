"""A cart item catalog and its items as the domain sees them, and the rule that says which state of an item is
visible (docs/item-catalogs.md, "A sync is all or nothing").

An item keeps two states: `current`, and `staged`, written by a sync under the catalog version it is to become.
The staged state is visible once the catalog's committed version reaches that number (the sync's last write, one
conditional update of the catalog, is its commit point) and unless that version was abandoned (a sync that died
between staging and committing: the next sync records its version as `aborted`). So a sync of 1,000 items, written
in 40 batches, shows all of its changes or none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from patron.clock import iso

# Adjustments of this price type set the price a session pays for an item it sends without one (Patron's choice:
# Talon.One's price types are the account's own names; other types are kept and answered, not applied).
BASE_PRICE_TYPE = "base"


class PriceAdjustment(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    price_type: str
    price: Decimal
    reference_id: str
    calculated_at: str  # ISO-8601 UTC; the latest wins where adjustments of one type overlap
    effective_from: str | None = None
    effective_until: str | None = None
    context_id: str | None = None

    def effective_at(self, moment: str) -> bool:
        starts = self.effective_from is None or self.effective_from <= moment
        return starts and (self.effective_until is None or moment < self.effective_until)


class ItemState(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    """One SKU of a catalog: `version` is the catalog version that last changed it."""

    sku: str
    created: str
    version: int
    price: Decimal | None = None
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    product: str | None = None
    adjustments: tuple[PriceAdjustment, ...] = ()

    def price_at(self, moment: datetime | str) -> Decimal | None:
        """The price of the item at `moment`: its newest effective `base` adjustment's, else its own."""
        instant = moment if isinstance(moment, str) else iso(moment)
        effective = [a for a in self.adjustments if a.price_type == BASE_PRICE_TYPE and a.effective_at(instant)]
        if effective:
            return max(effective, key=lambda a: (a.calculated_at, a.reference_id)).price
        return self.price


class Pending(msgspec.Struct, frozen=True):
    """A sync under way: the version it stages, whose it is, and until when it holds the catalog."""

    version: int
    token: str
    until: str


class Catalog(msgspec.Struct, frozen=True):
    id: int
    name: str
    description: str
    created: str
    modified: str
    version: int  # the committed version: 1 when created, one more for each sync
    deleted: bool = False
    claimed: int = 0  # the highest version any sync staged under: a new sync stages under the next one
    pending: Pending | None = None
    aborted: tuple[int, ...] = ()  # versions staged by syncs that never committed (their staged states are void)

    def holds(self, now: str) -> bool:
        """Whether a sync holds the catalog at `now`."""
        return self.pending is not None and self.pending.until > now


class StoredItem(msgspec.Struct, frozen=True):
    """An item as stored: the catalog id it belongs to, its current state and the state a sync staged."""

    sku: str
    catalog_id: int
    current: ItemState | None = None
    staged: ItemState | None = None
    staged_version: int = 0  # 0: nothing staged; with `staged` None, a removal

    def visible(self, catalog: Catalog | None) -> ItemState | None:
        """What readers see of the item under `catalog` (None: no catalog, another catalog's item, removed)."""
        if catalog is None or catalog.deleted or catalog.id != self.catalog_id:
            return None
        staged = self.staged_version
        if staged and staged <= catalog.version and staged not in catalog.aborted:
            return self.staged
        return self.current
