"""In-memory fakes of the repositories, type-checked against their interfaces (see the assignments below)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from msgspec.structs import replace

from patron.applications.model import ApiKey, Application, RateLimit
from patron.applications.repository import ApplicationRepository
from patron.catalog.model import AttributeDescriptor, EntityKind
from patron.catalog.repository import CatalogRepository
from patron.dynamo.committer import Failure, Write
from patron.errors import NotFoundError, PatronError
from patron.idempotency.model import (
    MAX_STORED_BYTES,
    IdempotencyRecord,
    ResponseTooLargeToStoreError,
    StoredResponse,
    encode_body,
    stored_size,
)
from patron.idempotency.repository import IdempotencyRepository
from patron.item_catalogs.model import Catalog, Pending, StoredItem
from patron.item_catalogs.repository import CatalogBusyError, CatalogExistsError, ItemCatalogRepository
from patron.profiles.consents import Consent
from patron.profiles.identifiers import IdentifierKind, Identifiers
from patron.profiles.model import CustomerProfile, IdentifierTakenError, VersionConflictError, new_profile_id
from patron.profiles.repository import ProfileChange, ProfileRepository, ProfileUpdate


class InMemoryApplicationRepository:
    def __init__(self) -> None:
        self.applications: dict[int, Application] = {}
        self.keys: dict[str, ApiKey] = {}
        self.key_reads = 0
        self._next_id = 0

    def next_application_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_application(self, application: Application) -> None:
        assert application.id not in self.applications
        self.applications[application.id] = application

    def get_application(self, application_id: int) -> Application | None:
        return self.applications.get(application_id)

    def list_applications(self) -> list[Application]:
        return sorted(self.applications.values(), key=lambda app: app.id)

    def update_rate_limit(self, application_id: int, rate_limit: RateLimit) -> Application:
        if application_id not in self.applications:
            raise NotFoundError("No such application.", code="application_not_found")
        self.applications[application_id] = replace(self.applications[application_id], rate_limit=rate_limit)
        return self.applications[application_id]

    def add_key(self, key: ApiKey) -> None:
        assert key.key_id not in self.keys
        self.keys[key.key_id] = key

    def get_key(self, key_id: str) -> ApiKey | None:
        self.key_reads += 1
        return self.keys.get(key_id)

    def list_keys(self, application_id: int) -> list[ApiKey]:
        return sorted((k for k in self.keys.values() if k.application_id == application_id), key=lambda k: k.created)

    def revoke_key(self, key_id: str, revoked_at: str) -> ApiKey:
        if key_id not in self.keys:
            raise NotFoundError("No such API key.", code="api_key_not_found")
        key = self.keys[key_id]
        if key.revoked_at is None:
            self.keys[key_id] = replace(key, revoked_at=revoked_at)
        return self.keys[key_id]


class InMemoryProfileRepository:
    def __init__(self) -> None:
        self.profiles: dict[tuple[int, str], CustomerProfile] = {}
        self.claims: dict[tuple[int, str, str], str] = {}

    def upsert(
        self,
        application_id: int,
        integration_id: str,
        set_attributes: dict[str, Any],
        remove: list[str],
        now: str,
    ) -> CustomerProfile:
        current = self.profiles.get((application_id, integration_id)) or CustomerProfile(
            application_id=application_id,
            integration_id=integration_id,
            profile_id=new_profile_id(),
            created=now,
            updated=now,
            last_activity=now,
            version=0,
            total_sales=Decimal(0),
        )
        attributes = {**current.attributes, **set_attributes}
        for name in remove:
            attributes.pop(name, None)
        updated = replace(current, attributes=attributes, updated=now, version=current.version + 1)
        self.profiles[(application_id, integration_id)] = updated
        return updated

    def upsert_many(
        self, application_id: int, updates: list[ProfileUpdate], now: str
    ) -> list[CustomerProfile | PatronError]:
        return [
            self.upsert(application_id, update.integration_id, update.set_attributes, update.remove, now)
            for update in updates
        ]

    def get(self, application_id: int, integration_id: str) -> CustomerProfile | None:
        return self.profiles.get((application_id, integration_id))

    def write(
        self,
        application_id: int,
        current: CustomerProfile | None,
        change: ProfileChange,
        also: Sequence[Write] = (),
    ) -> CustomerProfile:
        """`also`: other contexts' items in DynamoDB's wire format, which an in-memory store cannot write: none."""
        assert not also, "the in-memory profiles write no other context's items"
        stored = self.profiles.get((application_id, change.integration_id))
        if (stored.version if stored else 0) != change.expected_version:
            raise VersionConflictError()
        me = change.integration_id
        old = stored.identifiers.claims() if stored else set()
        for kind, value in change.identifiers.claims() - old:
            owner = self.claims.get((application_id, kind, value))
            if owner not in (None, me):
                raise IdentifierTakenError(
                    {"email": "email", "phone": "phone", "crmId": "crmId"}.get(kind, "deviceIds")
                )
        for kind, value in old - change.identifiers.claims():
            self.claims.pop((application_id, kind, value), None)
        for kind, value in change.identifiers.claims():
            self.claims[(application_id, kind, value)] = me
        profile = self.upsert(application_id, me, change.set_attributes, change.remove, change.now)
        profile = replace(profile, identifiers=change.identifiers, version=change.expected_version + 1)
        self.profiles[(application_id, me)] = profile
        return profile

    def owner_of(self, application_id: int, kind: IdentifierKind, value: str) -> str | None:
        return self.claims.get((application_id, kind, value))

    def holders_of_number(self, application_id: int, profile_id: int) -> list[str]:
        return [i for (a, i), p in self.profiles.items() if a == application_id and p.profile_id == profile_id]

    def copy_missing_attributes(
        self, application_id: int, integration_id: str, attributes: dict[str, Any], now: str
    ) -> None:
        current = self.profiles.get((application_id, integration_id))
        missing = {k: v for k, v in attributes.items() if not current or k not in current.attributes}
        self.upsert(application_id, integration_id, missing, [], now)

    def absorb(
        self,
        application_id: int,
        survivor: CustomerProfile | None,
        survivor_id: str,
        absorbed: CustomerProfile,
        identifiers: Identifiers,
        consents: dict[str, Consent],
        now: str,
    ) -> None:
        stored = self.profiles.get((application_id, survivor_id))
        if (stored.version if stored else 0) != (survivor.version if survivor else 0):
            raise VersionConflictError()
        base = stored or self.upsert(application_id, survivor_id, {}, [], now)
        self.profiles[(application_id, survivor_id)] = replace(
            base, identifiers=identifiers, consents=consents, version=base.version + 1
        )
        del self.profiles[(application_id, absorbed.integration_id)]
        for kind, value in absorbed.identifiers.claims():
            if (kind, value) in identifiers.claims():
                self.claims[(application_id, kind, value)] = survivor_id
            else:
                self.claims.pop((application_id, kind, value), None)

    def erase(self, application_id: int, integration_id: str, current: CustomerProfile | None = None) -> bool:
        profile = self.profiles.pop((application_id, integration_id), None)
        if profile is None:
            return False
        for kind, value in profile.identifiers.claims():
            self.claims.pop((application_id, kind, value), None)
        return True


# The fakes must keep satisfying the interfaces the services depend on (mypy checks these).
_application_repository: ApplicationRepository = InMemoryApplicationRepository()
_profile_repository: ProfileRepository = InMemoryProfileRepository()


class InMemoryCatalogRepository:
    """The catalog's storage in memory. `calls` records each call as the DynamoDB round trip it stands for;
    `before_add` runs inside the next conditional write, before its condition: a concurrent writer winning."""

    def __init__(self) -> None:
        self.descriptors: dict[tuple[int, EntityKind, str], AttributeDescriptor] = {}
        self.calls: list[str] = []
        self.before_add: Callable[[], None] | None = None

    def load(self, application_id: int, kind: EntityKind) -> list[AttributeDescriptor]:
        self.calls.append("Query")
        found = [d for (app, k, _), d in self.descriptors.items() if (app, k) == (application_id, kind)]
        return sorted(found, key=lambda descriptor: descriptor.name)  # sort key order, as a Query returns them

    def add_if_absent(
        self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor
    ) -> AttributeDescriptor | None:
        self.calls.append("PutItem")
        if self.before_add is not None:
            race, self.before_add = self.before_add, None
            race()
        existing = self.descriptors.get((application_id, kind, descriptor.name))
        if existing is not None:
            return existing
        self.descriptors[(application_id, kind, descriptor.name)] = descriptor
        return None

    def replace(self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor) -> None:
        self.calls.append("PutItem")
        self.descriptors[(application_id, kind, descriptor.name)] = descriptor

    def addition(
        self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor, failed: Failure
    ) -> Write:
        """Stands for the item (no call: the caller's transaction sends it); `added` writes it as DynamoDB would."""
        return Write("Put", {"descriptor": (application_id, kind, descriptor)}, failed)

    def added(self, write: Write) -> None:
        """What committing `write` (from `addition`) does: the descriptor written if its name is free, else the
        item's failure raised."""
        application_id, kind, descriptor = write.request["descriptor"]
        if (application_id, kind, descriptor.name) in self.descriptors:
            assert write.failed is not None
            raise write.failed()
        self.descriptors[(application_id, kind, descriptor.name)] = descriptor


_catalog_repository: CatalogRepository = InMemoryCatalogRepository()


class InMemoryIdempotencyRepository:
    """The idempotency table in memory, with the DynamoDB implementation's conditions (patron.idempotency)."""

    def __init__(self) -> None:
        self.records: dict[tuple[int, str], IdempotencyRecord] = {}
        self.subjects: dict[tuple[int, str], dict[str, int]] = {}  # (app, subject) -> {key: expiresAt}
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def claim(self, record: IdempotencyRecord, now_ms: int) -> IdempotencyRecord | None:
        with self._lock:
            self.calls.append("claim")
            current = self.records.get((record.application_id, record.key))
            replaceable = (
                current is None
                or current.expires_at <= now_ms // 1000
                or (current.in_flight and current.locked_until_ms <= now_ms)
            )
            if not replaceable:
                return current
            self.records[(record.application_id, record.key)] = record
            return None

    def add_subjects(self, application_id: int, key: str, subjects: Sequence[str], expires_at: int) -> None:
        with self._lock:
            self.calls.append("add_subjects")
            for subject in subjects:
                self.subjects.setdefault((application_id, subject), {})[key] = expires_at

    def complete(self, application_id: int, key: str, owner: str, response: StoredResponse) -> bool:
        with self._lock:
            self.calls.append("complete")
            body, _ = encode_body(response.body)
            if stored_size(response, body) > MAX_STORED_BYTES:
                raise ResponseTooLargeToStoreError()
            current = self.records.get((application_id, key))
            if current is None or current.owner != owner or not current.in_flight:
                return False
            self.records[(application_id, key)] = replace(current, response=response, owner="", locked_until_ms=0)
            return True

    def release(self, application_id: int, key: str, owner: str) -> None:
        with self._lock:
            self.calls.append("release")
            current = self.records.get((application_id, key))
            if current is not None and current.owner == owner and current.in_flight:
                del self.records[(application_id, key)]

    def refile_subject(self, application_id: int, subject: str, new_subject: str) -> int:
        with self._lock:
            self.calls.append("refile_subject")
            moved = self.subjects.pop((application_id, subject), {})
            self.subjects.setdefault((application_id, new_subject), {}).update(moved)
            return len(moved)

    def forget_subject(self, application_id: int, subject: str) -> int:
        with self._lock:
            self.calls.append("forget_subject")
            keys = self.subjects.pop((application_id, subject), {})
            for key in keys:
                self.records.pop((application_id, key), None)
            return len(keys)


_idempotency_repository: IdempotencyRepository = InMemoryIdempotencyRepository()


class InMemoryItemCatalogRepository:
    """Cart item catalogs in dicts, with the DynamoDB repository's conditions. `fail_stage_after`: the number of
    items staged before a stage call raises (a Lambda dying mid-sync), then None again."""

    def __init__(self) -> None:
        self.catalogs: dict[int, Catalog] = {}
        self.stored: dict[tuple[int, str], StoredItem] = {}
        self.fail_stage_after: int | None = None
        self.released: list[int] = []

    def catalog(self, application_id: int) -> Catalog | None:
        return self.catalogs.get(application_id)

    def create(self, application_id: int, catalog: Catalog) -> None:
        existing = self.catalogs.get(application_id)
        if existing is not None and not existing.deleted:
            raise CatalogExistsError()
        self.catalogs[application_id] = catalog

    def delete(self, application_id: int, catalog: Catalog, now: str) -> None:
        current = self.catalogs.get(application_id)
        if current is None or current.deleted or current.version != catalog.version or current.holds(now):
            raise CatalogBusyError()
        self.catalogs[application_id] = replace(current, deleted=True, modified=now)

    def items(self, application_id: int, skus: Any) -> dict[str, StoredItem]:
        return {sku: item for sku in set(skus) if (item := self.stored.get((application_id, sku))) is not None}

    def pages(self, application_id: int, page_size: int) -> Any:
        ordered = [item for (app, _), item in sorted(self.stored.items()) if app == application_id]
        for start in range(0, len(ordered), page_size):
            yield [replace(item) for item in ordered[start : start + page_size]]

    def page(self, application_id: int, limit: int, after: str | None) -> tuple[list[StoredItem], str | None]:
        ordered = [item for (app, sku), item in sorted(self.stored.items()) if app == application_id]
        rest = [item for item in ordered if after is None or item.sku > after]
        found = [replace(item) for item in rest[:limit]]
        return found, found[-1].sku if len(rest) > limit else None

    def claim(self, application_id: int, read: Catalog, pending: Pending, aborted: tuple[int, ...], now: str) -> None:
        current = self.catalogs.get(application_id)
        if (
            current is None
            or current.deleted
            or (current.version, current.claimed) != (read.version, read.claimed)
            or current.holds(now)
        ):
            raise CatalogBusyError()
        self.catalogs[application_id] = replace(current, pending=pending, claimed=pending.version, aborted=aborted)

    def stage(self, application_id: int, staged: Sequence[StoredItem]) -> None:
        for item in staged:
            if self.fail_stage_after is not None:
                if self.fail_stage_after == 0:
                    self.fail_stage_after = None
                    raise ConnectionError("the Lambda died")
                self.fail_stage_after -= 1
            self.stored[(application_id, item.sku)] = item

    def commit(self, application_id: int, token: str, version: int, now: str) -> None:
        current = self.catalogs[application_id]
        if current.pending is None or current.pending.token != token:
            raise CatalogBusyError()
        self.catalogs[application_id] = replace(current, version=version, modified=now, pending=None)

    def release(self, application_id: int, token: str, version: int) -> None:
        self.released.append(version)
        current = self.catalogs[application_id]
        if current.pending is not None and current.pending.token == token:
            self.catalogs[application_id] = replace(current, pending=None, aborted=(*current.aborted, version))


_item_catalogs: ItemCatalogRepository = InMemoryItemCatalogRepository()
