"""Cart item catalogs: created, read, listed and deleted through the management API, synced by the integration
API (Talon.One's `PUT /v1/catalogs/{catalogId}/sync`). Decide, then write: a sync is decided whole (every fault
answered before anything is written), then claimed, staged and committed (patron.item_catalogs.repository), so it
shows all of its changes or none (docs/item-catalogs.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

import msgspec

from patron.catalog.model import EntityKind
from patron.catalog.service import CatalogAdditions, CatalogService
from patron.clock import Clock, iso
from patron.dynamo import cursor as cursor_codec
from patron.errors import ConflictError, FieldIssue, NotFoundError, PatronError
from patron.item_catalogs import actions as act
from patron.item_catalogs import keys
from patron.item_catalogs.model import Catalog, ItemState, Pending, StoredItem
from patron.item_catalogs.repository import CatalogBusyError, CatalogExistsError, ItemCatalogRepository

# How long a sync holds its catalog: far past the function's timeout (20 s), so a sync whose Lambda died is the
# only one whose hold expires, and a hold never expires under a sync still writing.
HOLD = timedelta(seconds=90)
PAGE_SIZE = 500  # items a PATCH_MANY or REMOVE_MANY holds in memory at once
# Items a PATCH_MANY or REMOVE_MANY examines at most (40 pages): past this it is refused and changes nothing.
MAX_EXAMINED = 20_000


class SyncRequest(msgspec.Struct, frozen=True):
    """Actions of one type (the wire checked it), and the version the caller expects the catalog at."""

    by_sku: tuple[act.BySku, ...] = ()
    many: tuple[act.Many, ...] = ()
    version: int | None = None


class CatalogNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No cart item catalog with this id.", code="catalog_not_found")


class CatalogVersionMismatchError(ConflictError):
    def __init__(self) -> None:
        super().__init__("The catalog is not at the version sent.", code="catalog_version_mismatch")


class FilterScopeTooLargeError(PatronError):
    def __init__(self, position: int) -> None:
        message = f"A PATCH_MANY or REMOVE_MANY examines at most {MAX_EXAMINED} items; narrow the catalog first."
        super().__init__(
            message=message,
            code="catalog_too_large_for_filters",
            status=400,
            details=[FieldIssue(f"actions[{position}].payload.filters", "catalog_too_large_for_filters", message)],
        )


class ItemCatalogService:
    def __init__(
        self,
        repository: ItemCatalogRepository,
        attributes: CatalogService,
        clock: Clock,
        token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ):
        self._repository = repository
        self._attributes = attributes
        self._clock = clock
        self._token = token

    # -- management -----------------------------------------------------------------------------------------

    def create(self, application_id: int, name: str, description: str) -> Catalog:
        """The application's catalog (one per application, as in Talon.One): id 1, or the deleted one's next."""
        existing = self._repository.catalog(application_id)
        if existing is not None and not existing.deleted:
            raise CatalogExistsError()
        now = iso(self._clock.now())
        catalog = Catalog(
            id=existing.id + 1 if existing is not None else 1,
            name=name,
            description=description,
            created=now,
            modified=now,
            version=1,  # Talon.One's versions start at 1 (CatalogSyncRequest.version >= 1)
            claimed=1,
        )
        self._repository.create(application_id, catalog)
        return catalog

    def get(self, application_id: int, catalog_id: int) -> Catalog:
        catalog = self._repository.catalog(application_id)
        if catalog is None or catalog.deleted or catalog.id != catalog_id:
            raise CatalogNotFoundError()
        return catalog

    def item(self, application_id: int, catalog_id: int, sku: str) -> ItemState:
        catalog = self.get(application_id, catalog_id)
        stored = self._repository.items(application_id, [sku]).get(sku)
        state = stored.visible(catalog) if stored is not None else None
        if state is None:
            raise act.CatalogItemNotFoundError([])
        return state

    def items_page(
        self, application_id: int, catalog_id: int, limit: int, cursor: str | None
    ) -> tuple[list[ItemState], str | None]:
        """A page of the items sessions see now, in SKU order, and the cursor of the next page (None: no more).
        One Query of `limit` stored items: a page may hold fewer visible ones (a sync's staged SKUs, a deleted
        catalog's leftovers), and the next cursor goes on past them."""
        catalog = self.get(application_id, catalog_id)
        after = cursor_codec.decode(cursor, keys.ITEM_SK_PREFIX)[len(keys.ITEM_SK_PREFIX) :] if cursor else None
        stored, last = self._repository.page(application_id, limit, after)
        visible = [state for item in stored if (state := item.visible(catalog)) is not None]
        return visible, cursor_codec.encode(f"{keys.ITEM_SK_PREFIX}{last}") if last is not None else None

    def catalogs(self, application_id: int) -> list[Catalog]:
        catalog = self._repository.catalog(application_id)
        return [catalog] if catalog is not None and not catalog.deleted else []

    def delete(self, application_id: int, catalog_id: int) -> None:
        """The catalog and its items stop existing for every reader at once (the items stay as storage of a
        deleted catalog: invisible, and overwritten by the next catalog's syncs)."""
        catalog = self.get(application_id, catalog_id)
        now = iso(self._clock.now())
        if catalog.holds(now):
            raise CatalogBusyError()
        self._repository.delete(application_id, catalog, now)

    # -- sync ---------------------------------------------------------------------------------------------------

    def sync(self, application_id: int, catalog_id: int, request: SyncRequest) -> Catalog:
        catalog = self.get(application_id, catalog_id)
        if request.version is not None and request.version != catalog.version:
            raise CatalogVersionMismatchError()
        now = iso(self._clock.now())
        if catalog.holds(now):
            raise CatalogBusyError()
        version = max(catalog.claimed, catalog.version) + 1
        # A hold that expired: its sync died before committing; its staged states stay void for good.
        aborted = catalog.aborted + ((catalog.pending.version,) if catalog.pending is not None else ())
        pending = Pending(version, self._token(), iso(self._clock.now() + HOLD))
        if request.by_sku:
            staged, additions = self._decide_by_sku(application_id, catalog, request.by_sku, version, now)
            self._repository.claim(application_id, catalog, pending, aborted, now)
            committed = self._written(application_id, pending, lambda: self._stage(application_id, staged, additions))
        else:
            additions = self._check_attributes(application_id, request.many)
            self._repository.claim(application_id, catalog, pending, aborted, now)
            held = msgspec.structs.replace(catalog, aborted=aborted)
            committed = self._written(
                application_id,
                pending,
                lambda: self._stage_many(application_id, held, request.many, version, additions),
            )
        return msgspec.structs.replace(
            catalog, version=version, claimed=version, aborted=aborted, modified=committed, pending=None
        )

    def _written(self, application_id: int, pending: Pending, stage: Callable[[], None]) -> str:
        """Stages, then commits (returns when); anything failing between the claim and the commit voids this
        version."""
        try:
            stage()
        except BaseException:
            self._repository.release(application_id, pending.token, pending.version)
            raise
        committed = iso(self._clock.now())
        self._repository.commit(application_id, pending.token, pending.version, committed)
        return committed

    def _decide_by_sku(
        self, application_id: int, catalog: Catalog, actions: Sequence[act.BySku], version: int, now: str
    ) -> tuple[list[StoredItem], CatalogAdditions]:
        stored = self._repository.items(application_id, [action.sku for action in actions])
        found = {sku: item.visible(catalog) for sku, item in stored.items()}
        outcome = act.decide_by_sku(actions, found, version, now)
        issues = [
            issue
            for position, action in enumerate(actions)
            if (issue := act.state_size_issue(outcome.get(action.sku), f"actions[{position}].payload")) is not None
        ]
        if issues:
            raise act.refuse(issues)
        additions = self._check_attributes(application_id, actions)
        staged = [
            StoredItem(sku, catalog.id, current=found.get(sku), staged=state, staged_version=version)
            for sku, state in outcome.items()
        ]
        return staged, additions

    def _check_attributes(self, application_id: int, actions: Sequence[act.BySku | act.Many]) -> CatalogAdditions:
        """Item attributes are product attributes of the attribute catalog: a value of another type than the one the
        application's products (orders' items, ExpertSender's product list, earlier syncs) gave it is refused."""
        sent = [
            (f"actions[{position}].payload", {k: v for k, v in action.attributes.items() if v is not None})
            for position, action in enumerate(actions)
            if isinstance(action, act.Add | act.Patch | act.PatchMany) and action.attributes
        ]
        return self._attributes.check_many(application_id, EntityKind.PRODUCT, sent)

    def _stage(self, application_id: int, staged: Sequence[StoredItem], additions: CatalogAdditions) -> None:
        self._attributes.register(additions)
        self._repository.stage(application_id, staged)

    def _stage_many(
        self,
        application_id: int,
        catalog: Catalog,
        actions: Sequence[act.Many],
        version: int,
        additions: CatalogAdditions,
    ) -> None:
        """Each action over the catalog a page at a time: every page staged before the next is read, so memory
        holds one page whatever the catalog's size. Several actions (all PATCH_MANY or all REMOVE_MANY) apply in
        order to each item."""
        self._attributes.register(additions)
        examined = 0
        for page in self._repository.pages(application_id, PAGE_SIZE):
            examined += len(page)
            if examined > MAX_EXAMINED:
                raise FilterScopeTooLargeError(0)
            staged: list[StoredItem] = []
            for stored in page:
                visible = stored.visible(catalog)
                if visible is None:
                    continue
                state: ItemState | None = visible
                for position, action in enumerate(actions):
                    if state is None:
                        break
                    changed = act.apply_many(action, state, version)
                    if changed is False:
                        continue
                    issue = act.state_size_issue(changed, f"actions[{position}].payload")
                    if issue is not None:
                        raise act.refuse([issue])
                    state = changed
                if state is not visible:
                    staged.append(StoredItem(stored.sku, catalog.id, visible, state, version))
            self._repository.stage(application_id, staged)
