"""Published rulesets in the ConfigTable: immutable numbered versions and a pointer naming the live one.

Key design (docs/data-model.md, "ConfigTable — published rulesets"):
  pointer   PK=APP#<id>#RULESET  SK=LIVE                    version, published, publishedBy, note
  version   PK=APP#<id>#RULESET  SK=V#<version, 10 digits>  version, created, note, source, rolledBackFrom?,
                                                            campaigns (count), publishedBy, body (zlib of the JSON)

Every version is the whole merged `Ruleset` as JSON, compressed (an item holds at most 400 KB). A publish is one
TransactWriteItems: the new version (`attribute_not_exists`) and the pointer (conditional on the version the
publisher saw), so of two concurrent publishes exactly one wins. The sessions function reads the pointer in its
batch read (`pointer_key`, `live_version`) and a version once per Lambda instance (`LiveRulesets`).
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from patron.dynamo import codec
from patron.dynamo.committer import Committer, Write, put, update
from patron.errors import ConflictError, PatronError
from patron.promotions.definitions import Ruleset
from patron.promotions.ruleset import CompiledRuleset, compile_ruleset
from patron.settings import Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

POINTER_SK = "LIVE"
VERSION_PREFIX = "V#"
# A version item's attributes besides the body take well under 2 KB (note at most 1,000 characters).
MAX_BODY_BYTES = 400 * 1024 - 4 * 1024
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Ruleset)


def ruleset_pk(application_id: int) -> str:
    return f"APP#{application_id}#RULESET"


def version_sk(version: int) -> str:
    return f"{VERSION_PREFIX}{version:010d}"


def pointer_key(application_id: int) -> dict[str, str]:
    """The live-version pointer's key (Python values: codec.to_item writes it for a BatchGetItem)."""
    return {"PK": ruleset_pk(application_id), "SK": POINTER_SK}


def version_key(application_id: int, version: int) -> dict[str, str]:
    return {"PK": ruleset_pk(application_id), "SK": version_sk(version)}


def live_version(item: Mapping[str, Any] | None) -> int | None:
    """The live version named by a pointer item in boto3's client format (`{"version": {"N": "3"}}`); None when
    the application has none."""
    if not item or "version" not in item:
        return None
    return int(item["version"]["N"])


def compile_version(ruleset: Ruleset, version: int) -> CompiledRuleset:
    """The one way a ruleset is compiled, at publish (the check) and in the sessions function (the use), so a
    version that was accepted compiles the same way where it runs."""
    return compile_ruleset(ruleset, version)


def encode_body(ruleset: Ruleset) -> bytes:
    return zlib.compress(_ENCODER.encode(ruleset), 9)


def decode_body(body: bytes) -> Ruleset:
    return _DECODER.decode(zlib.decompress(body))


def canonical(ruleset: Ruleset) -> bytes:
    """The ruleset's JSON as stored (defaults omitted): two rulesets that read the same are equal here."""
    return _ENCODER.encode(ruleset)


class RulesetTooLargeError(PatronError):
    def __init__(self, size: int) -> None:
        super().__init__(
            message=f"The ruleset takes {size} bytes compressed; a version holds at most {MAX_BODY_BYTES}.",
            code="ruleset_too_large",
            status=413,
        )


class RulesetChangedError(ConflictError):
    def __init__(self) -> None:
        super().__init__(
            "Another version was published meanwhile; plan again against the live version.", code="ruleset_changed"
        )


class VersionMissingError(PatronError):
    """The pointer names a version that is not stored: never written so (one transaction writes both)."""

    def __init__(self) -> None:
        super().__init__(message="The live ruleset cannot be read.", code="ruleset_unavailable", status=500)


class VersionInfo(msgspec.Struct, frozen=True):
    version: int
    created: str
    note: str
    source: str  # publish | rollback
    rolled_back_from: int | None
    campaigns: int
    published_by: str
    body_bytes: int


class StoredVersion(msgspec.Struct, frozen=True):
    info: VersionInfo
    ruleset: Ruleset


class LivePointer(msgspec.Struct, frozen=True):
    version: int
    published: str
    published_by: str
    note: str


def _info(item: Mapping[str, Any]) -> VersionInfo:
    rolled = item.get("rolledBackFrom")
    return VersionInfo(
        version=int(item["version"]),
        created=str(item["created"]),
        note=str(item.get("note", "")),
        source=str(item.get("source", "publish")),
        rolled_back_from=int(rolled) if rolled is not None else None,
        campaigns=int(item.get("campaigns", 0)),
        published_by=str(item.get("publishedBy", "")),
        body_bytes=int(item.get("bodyBytes", 0)),
    )


class RulesetRepository(Protocol):
    def live(self, application_id: int) -> LivePointer | None: ...
    def version(self, application_id: int, version: int) -> StoredVersion | None: ...
    def history(self, application_id: int, limit: int, before: int | None) -> list[VersionInfo]: ...
    def publish_writes(
        self, application_id: int, info: VersionInfo, body: bytes, based_on: int | None
    ) -> list[Write]: ...
    def commit(self, writes: list[Write]) -> None: ...


class DynamoRulesetRepository:
    def __init__(self, client: DynamoDBClient, table_name: str, committer: Committer | None = None):
        self._client = client
        self._table = table_name
        self._committer = committer or Committer(client)

    def live(self, application_id: int) -> LivePointer | None:
        found = self._client.get_item(
            TableName=self._table, Key=codec.to_item(pointer_key(application_id)), ConsistentRead=True
        ).get("Item")
        if not found:
            return None
        item = codec.from_item(found)
        return LivePointer(
            int(item["version"]), str(item["published"]), str(item.get("publishedBy", "")), str(item.get("note", ""))
        )

    def version(self, application_id: int, version: int) -> StoredVersion | None:
        found = self._client.get_item(
            TableName=self._table, Key=codec.to_item(version_key(application_id, version)), ConsistentRead=True
        ).get("Item")
        if not found:
            return None
        item = codec.from_item(found)
        return StoredVersion(_info(item), decode_body(bytes(item["body"])))

    def history(self, application_id: int, limit: int, before: int | None) -> list[VersionInfo]:
        """Newest first, without the bodies; `before`: only versions older than it (the page's cursor)."""
        values: dict[str, Any] = {":pk": ruleset_pk(application_id), ":low": VERSION_PREFIX}
        condition = "PK = :pk AND SK BETWEEN :low AND :high"
        values[":high"] = version_sk(before - 1) if before is not None else f"{VERSION_PREFIX}~"
        answer = self._client.query(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=codec.to_item(values),
            ExpressionAttributeNames={"#v": "version", "#s": "source", "#c": "campaigns"},
            ProjectionExpression="#v, created, note, #s, rolledBackFrom, #c, publishedBy, bodyBytes",
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        return [_info(codec.from_item(item)) for item in answer.get("Items", [])]

    def publish_writes(self, application_id: int, info: VersionInfo, body: bytes, based_on: int | None) -> list[Write]:
        """The new version (never overwritten) and the pointer moved to it, if it still names `based_on`."""
        item: dict[str, Any] = {
            **version_key(application_id, info.version),
            "version": info.version,
            "created": info.created,
            "note": info.note,
            "source": info.source,
            "campaigns": info.campaigns,
            "publishedBy": info.published_by,
            "bodyBytes": info.body_bytes,
            "body": body,
        }
        if info.rolled_back_from is not None:
            item["rolledBackFrom"] = info.rolled_back_from
        values: dict[str, Any] = {
            ":version": info.version,
            ":published": info.created,
            ":by": info.published_by,
            ":note": info.note,
        }
        if based_on is None:
            condition = "attribute_not_exists(PK)"
        else:
            condition = "#v = :based"
            values[":based"] = based_on
        return [
            put(self._table, item, condition="attribute_not_exists(PK)", failed=RulesetChangedError),
            update(
                self._table,
                pointer_key(application_id),
                "SET #v = :version, published = :published, publishedBy = :by, note = :note",
                condition=condition,
                names={"#v": "version"},
                values=values,
                failed=RulesetChangedError,
            ),
        ]

    def commit(self, writes: list[Write]) -> None:
        size = max((len(w.request.get("Item", {}).get("body", {}).get("B", b"")) for w in writes), default=0)
        self._committer.commit(writes, too_large=lambda: RulesetTooLargeError(size), conflict=RulesetChangedError)


class LiveRulesets:
    """The compiled versions one Lambda instance uses: a version is read (GetItem) and compiled at its first use,
    then kept, least recently used out beyond `cache_size`. Versions never change, so nothing here expires."""

    def __init__(self, client: Any, tables: Tables, cache_size: int = 16):
        self._repository = DynamoRulesetRepository(client, tables.config)
        self._cache: OrderedDict[tuple[int, int], CompiledRuleset] = OrderedDict()
        self._published: dict[tuple[int, int], str] = {}  # when each cached version was published
        self._size = cache_size

    def compiled(self, application_id: int, version: int) -> CompiledRuleset:
        key = (application_id, version)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        stored = self._repository.version(application_id, version)
        if stored is None:
            raise VersionMissingError()
        compiled = compile_version(stored.ruleset, version)
        self._cache[key] = compiled
        self._published[key] = stored.info.created
        while len(self._cache) > self._size:
            evicted, _ = self._cache.popitem(last=False)
            self._published.pop(evicted, None)
        return compiled

    def published(self, application_id: int, version: int) -> str:
        """When a version went live (its campaigns' `created` in Talon.One's shapes)."""
        if (application_id, version) not in self._published:
            self.compiled(application_id, version)
        return self._published[(application_id, version)]
