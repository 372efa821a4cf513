"""Keys of the attribute catalog in the config table (docs/data-model.md).

  descriptor   PK=APP#<id>#CATALOG#<kind>   SK=A#<attribute name>

One partition per application and entity kind, so the whole catalog of a kind is one Query. The sort key prefix
is short on purpose: a sort key holds at most 1024 bytes, and a 255-character name can take 1020 bytes of UTF-8.
"""

from __future__ import annotations

from patron.applications.keys import application_pk
from patron.catalog.model import EntityKind

ATTRIBUTE_SK_PREFIX = "A#"
MAX_SORT_KEY_BYTES = 1024  # DynamoDB's limit
MAX_NAME_BYTES = MAX_SORT_KEY_BYTES - len(ATTRIBUTE_SK_PREFIX.encode())


def catalog_pk(application_id: int, kind: EntityKind) -> str:
    return f"{application_pk(application_id)}#CATALOG#{kind.value}"


def attribute_sk(name: str) -> str:
    return f"{ATTRIBUTE_SK_PREFIX}{name}"


def attribute_name(sk: str) -> str:
    return sk.removeprefix(ATTRIBUTE_SK_PREFIX)
