"""The attribute catalog's use cases: check values against their descriptors, register new ones, and list.

Checking decides and writes nothing (`check_many` returns the additions), so a dry call checks exactly as a real
one and leaves the catalog as it was. The additions are then written one of two ways:

- in the writer's own transaction (`items`, then `written` once it committed): a profile update carries its new
  attributes' descriptors in the TransactWriteItems of the profile, so a write that fails leaves no descriptor,
  and one that succeeds never leaves a value without one. Each is a put conditional on the name being free; a
  name another request took meanwhile cancels the transaction (AttributeTypeTakenError), and `recheck` reads the
  catalog again: a type that takes the call's values leaves the name out of the next attempt (two requests adding
  one attribute both succeed), another type refuses them, as a check would;
- on their own (`register`), before the writer's own writes: one conditional PutItem each, whose loser learns
  the winner's type in the same round trip. For writers whose records cannot share one transaction (a bulk
  update, an import's batches, orders): a descriptor may then stay without a value, never a value without one.

The steady state costs no DynamoDB call: each (application, kind) catalog is cached in memory for `ttl_seconds`
after it was read. The cache only ever lets through values of a type the table held at most `ttl_seconds` ago;
it never refuses on its own (a disagreement is re-read from the table first) and never loses a descriptor (new
ones are conditional writes). Round trips per call:

  nothing new, cache warm ............ 0
  cache cold or expired .............. +1 Query (consistent; one more per 1 MB page)
  each new attribute ................. +1 conditional PutItem (registered), or an item of the writer's transaction
  a type disagreeing with the cache .. +1 Query (all such attributes at once), then refuse or accept
  overwrite=True ..................... 1 Query + 1 PutItem per attribute whose type changes (or is new)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from patron.catalog.keys import MAX_NAME_BYTES
from patron.catalog.model import (
    AttributeDescriptor,
    AttributeType,
    EntityKind,
    accepts,
    infer_type,
    mismatch_issue,
)
from patron.catalog.repository import CatalogRepository
from patron.clock import Clock, SystemClock, iso
from patron.dynamo.committer import Write
from patron.errors import ConflictError, FieldIssue, ValidationError
from patron.logs import get_logger

_log = get_logger("patron.catalog")

DEFAULT_TTL_SECONDS = 60
# (application, kind) catalogs kept per process; the least recently loaded goes first.
DEFAULT_MAX_CACHED = 1024

Catalog = Mapping[str, AttributeDescriptor]


class _Use(msgspec.Struct, frozen=True):
    """One typed value in a call: which item (its path root), which attribute, which type."""

    root: str
    name: str
    type: AttributeType

    def mismatch(self, expected: AttributeType) -> FieldIssue:
        issue = mismatch_issue(self.name, expected, self.type)
        return issue.under(self.root) if self.root else issue


class _Entry(msgspec.Struct, frozen=True):
    loaded_at: datetime
    # Replaced, never mutated: a reader keeps a consistent snapshot without copying.
    descriptors: Catalog


def _name_issue(root: str, name: str) -> FieldIssue | None:
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        size = -1
    if 0 < size <= MAX_NAME_BYTES:
        return None
    issue = FieldIssue(
        f"attributes.{name}", "invalid_name", f"Attribute names are non-empty text of at most {MAX_NAME_BYTES} bytes."
    )
    return issue.under(root) if root else issue


def _refuse(issues: list[FieldIssue]) -> ValidationError:
    return ValidationError("Some attribute values do not match their type in the attribute catalog.", issues)


def _typed_uses(items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[_Use]:
    uses: list[_Use] = []
    issues: list[FieldIssue] = []
    for root, attributes in items:
        for name, value in attributes.items():
            kind = infer_type(value)
            if kind is None:
                continue  # null removes an attribute elsewhere; it has no type
            if issue := _name_issue(root, name):
                issues.append(issue)
            else:
                uses.append(_Use(root, name, kind))
    if issues:
        raise ValidationError("Some attribute names are invalid.", issues)
    return uses


def _call_types(uses: list[_Use]) -> dict[str, AttributeType]:
    """One type per attribute for the whole call: the first value's type, widened from date to string when the
    call also holds plain strings for it. A value fitting neither is refused: a call must agree with itself."""
    types: dict[str, AttributeType] = {}
    for use in uses:
        current = types.setdefault(use.name, use.type)
        if not accepts(current, use.type) and accepts(use.type, current):
            types[use.name] = use.type
    issues = [use.mismatch(types[use.name]) for use in uses if not accepts(types[use.name], use.type)]
    if issues:
        raise _refuse(issues)
    return types


class CatalogAdditions(msgspec.Struct, frozen=True):
    """What a checked call adds to an application's catalog of one kind: decided by `check_many`, written by
    `register` or as `items` of the writer's transaction (a dry call writes nothing). `types`: the new attributes'
    types (with `overwrite`, every type the call implies, replacing the stored ones)."""

    application_id: int
    kind: EntityKind
    uses: tuple[_Use, ...]
    types: Mapping[str, AttributeType]
    overwrite: bool = False


class AttributeTypeTakenError(ConflictError):
    """A descriptor in a writer's transaction found its name taken (another request registered the attribute
    meanwhile): the transaction was cancelled. The writer asks `CatalogService.recheck` what to do next."""

    def __init__(self) -> None:
        super().__init__("Another request registered an attribute meanwhile.", "attribute_type_taken")


class PendingAdditions:
    """What a writer of many records has decided to add to the catalog and not written yet (an import's batches).
    Each `check_many` given it sees the earlier checks' additions as if they were registered, so the records agree
    with each other as they would written one at a time, and adds its own; `register` each of `additions()`,
    before the records themselves."""

    def __init__(self) -> None:
        self._pending: dict[tuple[int, EntityKind], CatalogAdditions] = {}

    def types(self, application_id: int, kind: EntityKind) -> Mapping[str, AttributeType]:
        pending = self._pending.get((application_id, kind))
        return pending.types if pending else {}

    def add(self, additions: CatalogAdditions) -> None:
        key = (additions.application_id, additions.kind)
        earlier = self._pending.get(key)
        if earlier is None:
            self._pending[key] = additions
        elif additions.types or additions.uses:
            types = {**additions.types, **earlier.types}  # an earlier record's type stands
            self._pending[key] = CatalogAdditions(*key, earlier.uses + additions.uses, types)

    def additions(self) -> list[CatalogAdditions]:
        return [additions for additions in self._pending.values() if additions.types]


class CatalogService:
    def __init__(
        self,
        repository: CatalogRepository,
        clock: Clock | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_cached: int = DEFAULT_MAX_CACHED,
    ):
        if ttl_seconds < 0 or max_cached < 1:
            raise ValueError("ttl_seconds must be >= 0 and max_cached >= 1")
        self._repository = repository
        self._clock = clock or SystemClock()
        self._ttl = ttl_seconds
        self._max_cached = max_cached
        self._cache: OrderedDict[tuple[int, EntityKind], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def check_and_register(
        self, application_id: int, kind: EntityKind, attributes: Mapping[str, Any], overwrite: bool = False
    ) -> None:
        """Checks each non-null value against its attribute's descriptor and registers the new attributes.

        Raises ValidationError (nothing registered, unless another request won a race for a new attribute and the
        ones written before it stay) with one `attributes.<name>` issue, code
        `attribute_type_mismatch`, per value of another type than its descriptor's. With `overwrite`, the types
        inferred from these values replace the stored ones instead (Rfmcube's overwriteDescriptors).
        """
        self.check_and_register_many(application_id, kind, [("", attributes)], overwrite=overwrite)

    def check_and_register_many(
        self,
        application_id: int,
        kind: EntityKind,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        overwrite: bool = False,
    ) -> None:
        """`check_and_register` for a batch of (root, attributes) items: `check_many`, then `register`."""
        self.register(self.check_many(application_id, kind, items, overwrite))

    def check_many(
        self,
        application_id: int,
        kind: EntityKind,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        overwrite: bool = False,
        pending: PendingAdditions | None = None,
    ) -> CatalogAdditions:
        """Decides, writing nothing: the batch of (root, attributes) items checked together, issues reading
        `<root>.attributes.<name>` (the bare path when root is empty). Within one call an attribute takes its
        first value's type (date widened to string if plain strings come too); values of another type than the
        call's or the catalog's (or `pending`'s) are refused (ValidationError). Returns what is to be written: the
        new attributes (with `overwrite`, every type the call implies), also added to `pending` when given."""
        uses = _typed_uses(items)
        if not uses:
            return CatalogAdditions(application_id, kind, (), {}, overwrite)
        types = _call_types(uses)
        if overwrite:
            return CatalogAdditions(application_id, kind, tuple(uses), types, overwrite)
        catalog, fresh = self._catalog(application_id, kind)
        if not fresh and any(u.name in catalog and not accepts(catalog[u.name].type, u.type) for u in uses):
            # The cache may predate an overwrite elsewhere: only the table may refuse a value.
            catalog = self._load(application_id, kind)
        decided = pending.types(application_id, kind) if pending is not None else {}
        known = {**decided, **{name: descriptor.type for name, descriptor in catalog.items()}}
        issues = [
            use.mismatch(known[use.name])
            for use in uses
            if use.name in known and not accepts(known[use.name], use.type)
        ]
        if issues:
            raise _refuse(issues)
        new = {name: attribute_type for name, attribute_type in types.items() if name not in known}
        additions = CatalogAdditions(application_id, kind, tuple(uses), new, overwrite)
        if pending is not None:
            pending.add(additions)
        return additions

    def register(self, additions: CatalogAdditions) -> None:
        """Writes what `check_many` decided, on its own: each new attribute by a conditional write. Raises
        ValidationError when another request registered one of them first with another type (its type stands; the
        descriptors written before stay), with one `attribute_type_mismatch` issue per value of the call it
        refuses."""
        application_id, kind = additions.application_id, additions.kind
        if additions.overwrite:
            if additions.types:
                self._overwrite(application_id, kind, dict(additions.types))
            return
        issues: list[FieldIssue] = []
        added = 0
        for name, attribute_type in additions.types.items():
            descriptor = AttributeDescriptor(name, attribute_type, iso(self._clock.now()))
            winner = self._repository.add_if_absent(application_id, kind, descriptor)
            self._remember(application_id, kind, winner or descriptor)
            if winner is None:
                added += 1
            else:  # another request registered it first (maybe another type): its type stands
                issues.extend(
                    u.mismatch(winner.type)
                    for u in additions.uses
                    if u.name == name and not accepts(winner.type, u.type)
                )
        if added:
            _log.info("attributes registered", kind=kind.value, count=added)
        if issues:
            raise _refuse(issues)

    def items(self, additions: CatalogAdditions) -> list[Write]:
        """The new attributes' descriptors as items of the writer's own transaction (patron.dynamo.committer), which
        writes them with its own items or not at all; after it committed, call `written`. A name another request
        took meanwhile cancels the transaction with AttributeTypeTakenError: then `recheck`."""
        if additions.overwrite:
            raise ValueError("an overwrite replaces descriptors on its own: register it")
        now = iso(self._clock.now())
        return [
            self._repository.addition(
                additions.application_id,
                additions.kind,
                AttributeDescriptor(name, attribute_type, now),
                AttributeTypeTakenError,
            )
            for name, attribute_type in additions.types.items()
        ]

    def written(self, additions: CatalogAdditions) -> None:
        """The writer's transaction committed the `items` of `additions`: this instance's cache learns them."""
        now = iso(self._clock.now())
        for name, attribute_type in additions.types.items():
            self._remember(additions.application_id, additions.kind, AttributeDescriptor(name, attribute_type, now))
        if additions.types:
            _log.info("attributes registered", kind=additions.kind.value, count=len(additions.types))

    def recheck(self, additions: Sequence[CatalogAdditions]) -> list[CatalogAdditions]:
        """After a transaction carrying these additions was cancelled by AttributeTypeTakenError: the catalog read
        again (one Query per kind, the cache refreshed). Raises ValidationError, one `attribute_type_mismatch`
        issue per value a type another request stored meanwhile refuses; else returns what is still to be added
        (the names taken by a type that takes the values are left out: nothing is refused, nothing lost)."""
        issues: list[FieldIssue] = []
        still: list[CatalogAdditions] = []
        for added in additions:
            catalog = self._load(added.application_id, added.kind)
            issues += [
                use.mismatch(catalog[use.name].type)
                for use in added.uses
                if use.name in added.types and use.name in catalog and not accepts(catalog[use.name].type, use.type)
            ]
            new = {name: attribute_type for name, attribute_type in added.types.items() if name not in catalog}
            if new:
                still.append(msgspec.structs.replace(added, types=new))
        if issues:
            raise _refuse(issues)
        return still

    def declare(
        self, application_id: int, kind: EntityKind, name: str, attribute_type: AttributeType
    ) -> tuple[AttributeDescriptor, bool]:
        """An attribute (or consent channel) declared before any value carries it, so that lists show it at once
        (a Magento admin maps ExpertSender's attributes from them). The descriptor and whether this call created
        it: declaring it again with its type changes nothing; with another type, 409 `attribute_type_conflict`
        (a descriptor's type is what values were checked against: it is never changed by a declaration)."""
        if (issue := _name_issue("", name)) is not None:
            raise ValidationError("The name is invalid.", [FieldIssue("name", issue.code, issue.message)])
        descriptor = AttributeDescriptor(name, attribute_type, iso(self._clock.now()))
        winner = self._repository.add_if_absent(application_id, kind, descriptor)
        self._remember(application_id, kind, winner or descriptor)
        if winner is None:
            _log.info("attribute declared", kind=kind.value)
            return descriptor, True
        if winner.type is not attribute_type:
            raise ConflictError(f"The attribute exists with type {winner.type.value}.", "attribute_type_conflict")
        return winner, False

    def list(self, application_id: int, kind: EntityKind) -> list[AttributeDescriptor]:
        """Every descriptor, sorted by name. Always read from the table (one Query), never from the cache."""
        return sorted(self._load(application_id, kind).values(), key=lambda descriptor: descriptor.name)

    # -- overwrite -------------------------------------------------------------------------------------------

    def _overwrite(self, application_id: int, kind: EntityKind, types: dict[str, AttributeType]) -> None:
        # Decided on a fresh read: a stale cache agreeing with the call would skip a write the table needs.
        catalog = self._load(application_id, kind)
        now = iso(self._clock.now())
        changed = 0
        for name, attribute_type in types.items():
            known = catalog.get(name)
            if known is not None and known.type == attribute_type:
                continue
            descriptor = AttributeDescriptor(name, attribute_type, known.first_seen if known else now)
            self._repository.replace(application_id, kind, descriptor)
            self._remember(application_id, kind, descriptor)
            changed += 1
        if changed:
            _log.info("attribute types overwritten", kind=kind.value, count=changed)

    # -- the cache -------------------------------------------------------------------------------------------

    def _catalog(self, application_id: int, kind: EntityKind) -> tuple[Catalog, bool]:
        """The catalog, and whether it was read from the table just now."""
        now = self._clock.now()
        with self._lock:
            entry = self._cache.get((application_id, kind))
        if entry is not None and 0 <= (now - entry.loaded_at).total_seconds() < self._ttl:
            return entry.descriptors, False
        return self._load(application_id, kind), True

    def _load(self, application_id: int, kind: EntityKind) -> Catalog:
        loaded_at = self._clock.now()
        descriptors = {d.name: d for d in self._repository.load(application_id, kind)}
        with self._lock:
            self._cache[(application_id, kind)] = _Entry(loaded_at, descriptors)
            self._cache.move_to_end((application_id, kind))
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        return descriptors

    def _remember(self, application_id: int, kind: EntityKind, descriptor: AttributeDescriptor) -> None:
        """Adds what this process wrote or learnt to a cached catalog. A catalog not cached stays absent: a cache
        entry always means 'the whole catalog as of loaded_at, plus what we learnt since'."""
        with self._lock:
            entry = self._cache.get((application_id, kind))
            if entry is not None:
                descriptors = {**entry.descriptors, descriptor.name: descriptor}
                self._cache[(application_id, kind)] = _Entry(entry.loaded_at, descriptors)
