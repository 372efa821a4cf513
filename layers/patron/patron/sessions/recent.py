"""An application's most recent customer sessions, read-only, without a Scan (docs/data-model.md, "OrdersTable —
customer sessions"): each shard of the sparse recent-sessions index queried newest first, the shards merged, the
newest N sessions fetched with BatchGetItem, and their profiles with another. `campaigns simulate` reads here.

The index is eventually consistent: a session written a moment ago may be missing, or found with its previous
`updated`; the session itself is read as stored now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import msgspec

from patron.dynamo.batch import read_all
from patron.profiles.keys import PROFILE_SK, profile_pk
from patron.profiles.model import CustomerProfile
from patron.profiles.repository import profile_from_item
from patron.sessions.keys import RECENT_INDEX, RECENT_PK, RECENT_SHARDS, RECENT_SK, recent_pk
from patron.sessions.store import SESSION_SK, StoredSession, from_item


class RecordedSession(msgspec.Struct, frozen=True):
    """A session as stored, with its profile as it is now (None: anonymous, or the profile is gone)."""

    stored: StoredSession
    profile: CustomerProfile | None


class RecentSessionRepository(Protocol):
    def recent(self, application_id: int, limit: int) -> list[RecordedSession]:
        """At most `limit` sessions of the application, newest `updated` first."""
        ...


class DynamoRecentSessionRepository:
    def __init__(self, client: Any, orders_table: str, profiles_table: str, shards: int = RECENT_SHARDS):
        self._client = client
        self._orders = orders_table
        self._profiles = profiles_table
        self._shards = shards

    def recent(self, application_id: int, limit: int) -> list[RecordedSession]:
        if limit <= 0:
            return []
        entries: list[tuple[str, str]] = []  # (index sort key, session PK)
        for shard in range(self._shards):
            entries += self._newest(recent_pk(application_id, shard), limit)
        entries.sort(reverse=True)  # newest first; ties in order of the key
        picked = [pk for _, pk in entries[:limit]]
        sessions = {
            str(item["PK"]): from_item(item)
            for item in self._get(self._orders, [{"PK": pk, "SK": SESSION_SK} for pk in picked])
        }
        ordered = [sessions[pk] for pk in picked if pk in sessions]  # a session erased meanwhile is left out
        profiles = self._profiles_of(application_id, {s.session.profile_id for s in ordered if s.session.profile_id})
        return [
            RecordedSession(stored, profiles.get(stored.session.profile_id) if stored.session.profile_id else None)
            for stored in ordered
        ]

    def _newest(self, partition: str, limit: int) -> list[tuple[str, str]]:
        """The newest `limit` index entries of one shard (keys only; more than one page only for long ids)."""
        found: list[tuple[str, str]] = []
        arguments: dict[str, Any] = {
            "TableName": self._orders,
            "IndexName": RECENT_INDEX,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": RECENT_PK},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": False,
        }
        while len(found) < limit:
            page = self._client.query(**arguments, Limit=limit - len(found))
            found += [(str(item[RECENT_SK]["S"]), str(item["PK"]["S"])) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found

    def _profiles_of(self, application_id: int, ids: Iterable[str]) -> dict[str, CustomerProfile]:
        keys = [{"PK": profile_pk(application_id, profile_id), "SK": PROFILE_SK} for profile_id in sorted(ids)]
        profiles = (profile_from_item(item) for item in self._get(self._profiles, keys))
        return {profile.integration_id: profile for profile in profiles}

    def _get(self, table: str, keys: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
        """BatchGetItem of `keys` (eventually consistent: a simulation needs no more), 100 keys a call."""
        return read_all(self._client, table, keys, consistent=False)
