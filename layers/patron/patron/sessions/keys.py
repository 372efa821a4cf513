"""Keys of the orders table's recent-sessions index (docs/data-model.md, "OrdersTable — customer sessions").

Every session item carries `GSI1PK` / `GSI1SK`, so the sparse index `GSI1` (KEYS_ONLY) lists an application's
sessions newest first without a Scan: `campaigns simulate` re-evaluates the last N of them.

  GSI1PK  APP#<applicationId>#RECENT#<shard>      shard 0..RECENT_SHARDS-1, a stable hash of the integration id
  GSI1SK  <updated>#<16 hex digits of that hash>   ISO-8601 UTC with milliseconds: sorts as time

The shards spread one application's session writes over several index partitions (a busy shop writes sessions
far faster than one partition takes); a reader queries each shard newest first and merges. The hash in the sort
key makes the order total (two sessions updated in the same millisecond still sort the same way every time) and
keeps the key short: an integration id may take 1,024 bytes, a sort key at most 1,024.

Changing RECENT_SHARDS moves sessions between partitions: only sessions written afterwards would be found where
the new count expects them. Do not change it without rewriting the index attributes of every session.
"""

from __future__ import annotations

import hashlib

RECENT_INDEX = "GSI1"
RECENT_PK = "GSI1PK"
RECENT_SK = "GSI1SK"
RECENT_SHARDS = 8


def _digest(integration_id: str) -> bytes:
    # blake2b, not hash(): Python's string hash changes from one process to the next.
    return hashlib.blake2b(integration_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def recent_shard(integration_id: str) -> int:
    return int.from_bytes(_digest(integration_id), "big") % RECENT_SHARDS


def recent_pk(application_id: int, shard: int) -> str:
    return f"APP#{application_id}#RECENT#{shard}"


def recent_keys(application_id: int, integration_id: str, updated: str) -> dict[str, str]:
    """The index attributes of a session item (written with it by `store.to_item`)."""
    digest = _digest(integration_id)
    shard = int.from_bytes(digest, "big") % RECENT_SHARDS
    return {RECENT_PK: recent_pk(application_id, shard), RECENT_SK: f"{updated}#{digest.hex()}"}
