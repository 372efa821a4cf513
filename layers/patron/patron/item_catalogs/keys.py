"""Keys of an application's cart item catalog in the config table (docs/data-model.md).

  catalog   PK=APP#<id>#ITEMCATALOG   SK=CATALOG
  item      PK=APP#<id>#ITEMCATALOG   SK=I#<sku>

One partition per application: an application has at most one catalog (as in Talon.One), so a session knows every
key it needs from its cart alone (the catalog and its SKUs, in the session's one BatchGetItem), and a PATCH_MANY or
REMOVE_MANY is a paged Query of one partition, never a Scan. An item names the catalog id it belongs to: the items of
a deleted catalog are invisible to the next one.
"""

from __future__ import annotations

from patron.applications.keys import application_pk

CATALOG_SK = "CATALOG"
ITEM_SK_PREFIX = "I#"
MAX_SORT_KEY_BYTES = 1024  # DynamoDB's limit
MAX_SKU_BYTES = MAX_SORT_KEY_BYTES - len(ITEM_SK_PREFIX.encode())


def catalog_pk(application_id: int) -> str:
    return f"{application_pk(application_id)}#ITEMCATALOG"


def catalog_key(application_id: int) -> dict[str, str]:
    return {"PK": catalog_pk(application_id), "SK": CATALOG_SK}


def item_key(application_id: int, sku: str) -> dict[str, str]:
    return {"PK": catalog_pk(application_id), "SK": f"{ITEM_SK_PREFIX}{sku}"}


def sku_of(sk: str) -> str:
    return sk.removeprefix(ITEM_SK_PREFIX)


def storable_sku(sku: str) -> bool:
    """Whether a SKU fits a sort key: a longer one (a session may send SKUs of up to 1,000 characters) is simply
    not in any catalog, and is never looked up."""
    return len(sku.encode("utf-8", "surrogatepass")) <= MAX_SKU_BYTES
