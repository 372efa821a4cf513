"""Order use cases: create or update (idempotent by order id), read, change status, soft delete, list a
customer's orders; and the rule that keeps each customer's statistics exact whatever the sequence of changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Context, localcontext
from typing import Protocol

import msgspec

from patron.catalog.model import EntityKind
from patron.catalog.service import CatalogAdditions, PendingAdditions
from patron.clock import Clock, SystemClock, iso
from patron.errors import ConflictError, FieldIssue, NotFoundError, ValidationError
from patron.orders.model import Contribution, Order, OrderState, order_id_issue
from patron.orders.repository import OrderRepository, OrderSummary, StatsUpdate
from patron.orders.statuses import MAX_MAPPED_STATUSES, StatusMapping, StatusMappingRepository
from patron.orders.wire import OrderInput
from patron.profiles.model import VersionConflictError, is_anonymous, reserved_id_issue
from patron.profiles.service import AttributeCatalog
from patron.profiles.stats import CustomerStats

WRITE_ATTEMPTS = 5
# What an anonymised order keeps of its items: the product, never free fields (a gift message, a name...).
PRODUCT_FIELDS = frozenset(
    {"item_id", "itemId", "product_id", "productId", "sku", "brand", "category", "quantity", "price", "currency"}
)
MAX_PAGE_SIZE = 100


class NotRead:
    """The caller did not read the stored order (its absence is None)."""


NOT_READ = NotRead()


class CustomerResolver(Protocol):
    def exists(self, application_id: int, customer_id: str) -> bool: ...

    def resolve(self, application_id: int, customer_id: str | None, email: str | None) -> str:
        """The integration id of the order's customer: its id, or the customer holding its email (a guest
        customer is created for an email nobody holds yet)."""
        ...


def recompute(
    stats: CustomerStats,
    customer_id: str,
    before: Contribution | None,
    after: Contribution | None,
    extremes_without_this_order: Callable[[bool, bool], tuple[str | None, str | None]],
) -> CustomerStats:
    """One customer's statistics after one order changed from `before` to `after` (either may be another
    customer's or None). Counts and sums move by the difference; first and last order dates are re-read from
    the customer's other orders only when the order that held one of them stops counting or moves, and only the
    end it held (`extremes_without_this_order(need_first, need_last)`)."""
    with localcontext(Context(prec=38)):  # DynamoDB's precision: sums of 15-digit amounts stay exact
        return _recompute(stats, customer_id, before, after, extremes_without_this_order)


def _recompute(
    stats: CustomerStats,
    customer_id: str,
    before: Contribution | None,
    after: Contribution | None,
    extremes_without_this_order: Callable[[bool, bool], tuple[str | None, str | None]],
) -> CustomerStats:
    count, total = stats.orders_count, stats.sales_total
    first, last = stats.first_order_at, stats.last_order_at
    removed = before if before is not None and before.customer_id == customer_id else None
    added = after if after is not None and after.customer_id == customer_id else None
    if removed and added and removed.date == added.date:
        # The same order, same date, still counting: only the amount can have moved.
        return CustomerStats(count, total - removed.amount + added.amount, first, last)
    if removed:
        count, total = count - 1, total - removed.amount
        if count == 0:
            first = last = None
        elif removed.date in (first, last):
            need_first, need_last = removed.date == first, removed.date == last
            new_first, new_last = extremes_without_this_order(need_first, need_last)
            first = new_first if need_first else first
            last = new_last if need_last else last
    if added:
        count, total = count + 1, total + added.amount
        first = added.date if first is None or added.date < first else first
        last = added.date if last is None or added.date > last else last
    if count == 0:
        first = last = None
    return CustomerStats(orders_count=count, sales_total=total, first_order_at=first, last_order_at=last)


def stats_of(customer_id: str, contributions: Iterable[Contribution | None]) -> CustomerStats:
    """A customer's statistics from nothing but these orders' contributions: `recompute`, one order at a time."""
    stats = CustomerStats()
    for contribution in contributions:
        stats = recompute(stats, customer_id, None, contribution, _no_other_orders)
    return stats


def _no_other_orders(first: bool, last: bool) -> tuple[str | None, str | None]:
    raise AssertionError("an order only added never needs the customer's other orders")


def _state(mapping: StatusMapping, status: str | None, default: OrderState | None) -> OrderState:
    """The application's mapping of the status; for a status it does not name, the dialect's default if any."""
    if default is not None and (status is None or status not in mapping.states):
        return default
    return mapping.state_of(status)


def _as_order(
    application_id: int, order: OrderInput, customer_id: str, mapping: StatusMapping, old: Order | None
) -> Order:
    """The order as a create-or-replace stores it (a soft delete survives a replace)."""
    return Order(
        application_id=application_id,
        order_id=order.order_id,
        customer_id=customer_id,
        created_at=order.created_at,
        amount=order.amount,
        state=_state(mapping, order.status, order.default_state),
        status=order.status,
        status_label=order.status_label,
        currency=order.currency,
        updated_at=order.updated_at,
        deleted=old.deleted if old else False,
        default_state=order.default_state,
        items=order.items,
        extra=order.extra,
    )


class OrderService:
    def __init__(
        self,
        orders: OrderRepository,
        statuses: StatusMappingRepository,
        customers: CustomerResolver,
        clock: Clock | None = None,
        catalog: AttributeCatalog | None = None,
    ):
        self._orders = orders
        self._statuses = statuses
        self._customers = customers
        self._clock = clock or SystemClock()
        self._catalog = catalog

    def upsert(
        self, application_id: int, order: OrderInput, root: str = "", *, stored: Order | NotRead | None = NOT_READ
    ) -> Order:
        """Creates or replaces the order. Replaying the same order changes nothing (and writes nothing).
        `root` names where the order sits in the request, for error paths (Rfmcube: `order`). `stored`: the order
        as the caller just read it (None: absent), so it is not read again; a conflict reads it afresh."""
        self._register(application_id, order, root)
        # An anonymous profile Patron created (a device's, a guest's) may be named; a client may not make one.
        anonymous = order.customer_id is not None and is_anonymous(order.customer_id)
        if anonymous and not self._customers.exists(application_id, order.customer_id or ""):
            path = f"{root}.customerId" if root else "customerId"
            issue = reserved_id_issue(order.customer_id or "", path)
            raise ValidationError("The customer id is reserved.", [issue] if issue else [])
        customer_id = self._customers.resolve(application_id, order.customer_id, order.customer_email)
        mapping = self._statuses.get(application_id)

        def replace(old: Order | None) -> Order:
            return _as_order(application_id, order, customer_id, mapping, old)

        return self._change(application_id, order.order_id, replace, must_exist=False, stored=stored)

    def new_order(
        self, application_id: int, order: OrderInput, customer_id: str, root: str = "", *, pending: PendingAdditions
    ) -> Order:
        """The order upsert would store for `customer_id` if the order did not exist yet, checked the same way
        (catalog types, status mapping) but not written: for writers that store many new orders at once (an
        import's batches). The customer's statistics are then `stats_of` its new orders. What it adds to the
        catalog joins `pending`, which the caller registers before writing the order."""
        _check_order_id(order.order_id)
        self._check(application_id, order, root, pending)
        order_ = _as_order(application_id, order, customer_id, self._statuses.get(application_id), None)
        return msgspec.structs.replace(order_, version=1, written=iso(self._clock.now()))

    def recount_customer(self, application_id: int, customer_id: str) -> CustomerStats:
        """Recomputes the customer's statistics from their orders, as a repair after writes that bypassed the
        per-order transactions (an import batch that could not finish its customer). Conditional on the version
        of the profile read, so a concurrent order write is never overwritten: it is read again."""
        for _ in range(WRITE_ATTEMPTS):
            version, stats = self._orders.customer_stats(application_id, customer_id)
            entries: dict[str, list[OrderSummary]] = {}
            cursor = None
            while True:
                page, cursor = self._orders.list_for_customer(
                    application_id, customer_id, MAX_PAGE_SIZE, cursor, consistent=True
                )
                for summary in page:
                    entries.setdefault(summary.order_id, []).append(summary)
                if cursor is None:
                    break
            contributions = [
                Contribution(customer_id, s.amount, s.created_at)
                for s in self._without_stale_entries(application_id, customer_id, entries)
                if s.state is OrderState.SALE and not s.deleted
            ]
            counted = stats_of(customer_id, contributions)
            if counted == stats and version:
                return stats
            try:
                self._orders.write_stats(
                    application_id, StatsUpdate(customer_id, version, counted), iso(self._clock.now())
                )
                return counted
            except VersionConflictError:
                continue
        raise ConflictError("The customer is being changed by other requests; try again.", "concurrent_update")

    def _register(self, application_id: int, order: OrderInput, root: str) -> None:
        """The order's own fields enter the order catalog, its items' fields the product catalog; another type
        than the catalog's is refused before anything is written."""
        if self._catalog is not None:
            for additions in self._check(application_id, order, root):
                self._catalog.register(additions)

    def _check(
        self, application_id: int, order: OrderInput, root: str, pending: PendingAdditions | None = None
    ) -> list[CatalogAdditions]:
        """What the order adds to the order and product catalogs, decided (nothing written); a value of another
        type than the catalog's is refused, named where it sits in the order."""
        if self._catalog is None:
            return []
        prefix = f"{root}." if root else ""
        try:
            items = [(f"items[{i}]", item) for i, item in enumerate(order.items)]
            return [
                self._catalog.check_many(application_id, EntityKind.ORDER, [("", order.extra)], pending=pending),
                self._catalog.check_many(application_id, EntityKind.PRODUCT, items, pending=pending),
            ]
        except ValidationError as error:
            # The catalog names fields `<root>.attributes.<name>`; in an order they sit directly in it.
            raise ValidationError(
                error.message,
                [
                    FieldIssue(prefix + issue.path.replace("attributes.", "", 1), issue.code, issue.message)
                    for issue in error.details
                ],
            ) from None

    def update_status(
        self,
        application_id: int,
        order_id: str,
        status: str,
        label: str | None,
        default_state: OrderState | None = None,
        expect: Callable[[Order], bool] | None = None,
    ) -> Order:
        """`default_state`: as OrderInput's; `expect`: the order must also pass it (ECDP's websiteId), else 404."""
        mapping = self._statuses.get(application_id)

        def restatus(old: Order | None) -> Order:
            assert old is not None
            if expect is not None and not expect(old):
                raise NotFoundError("No order with this id.", code="order_not_found")
            state = _state(mapping, status, default_state)
            return msgspec.structs.replace(
                old, status=status, status_label=label, state=state, default_state=default_state
            )

        return self._change(application_id, order_id, restatus, must_exist=True)

    def soft_delete(self, application_id: int, order_id: str) -> Order:
        """ExpertSender's IsDeleted: the order stays readable, flagged, and out of the statistics."""

        def flag(old: Order | None) -> Order:
            assert old is not None  # must_exist
            return msgspec.structs.replace(old, deleted=True)

        return self._change(application_id, order_id, flag, must_exist=True)

    def move_to_customer(self, application_id: int, order_id: str, customer_id: str) -> Order:
        """The order now belongs to another customer (a merge): its figures move with it."""

        def move(old: Order | None) -> Order:
            assert old is not None
            return msgspec.structs.replace(old, customer_id=customer_id)

        return self._change(application_id, order_id, move, must_exist=True)

    def restate_customer(self, application_id: int, customer_id: str) -> int:
        """Maps every order of the customer again with the current status mapping (recalculateStats); the
        statistics follow each change. Returns how many orders changed state."""
        mapping = self._statuses.get(application_id, fresh=True)
        changed, cursor = 0, None
        while True:
            page, cursor = self._orders.list_for_customer(application_id, customer_id, MAX_PAGE_SIZE, cursor)
            for summary in page:
                if summary.state is not mapping.state_of(summary.status):

                    def restate(old: Order | None) -> Order:
                        assert old is not None
                        return msgspec.structs.replace(old, state=_state(mapping, old.status, old.default_state))

                    self._change(application_id, summary.order_id, restate, must_exist=True)
                    changed += 1
            if cursor is None:
                return changed

    def anonymise(self, application_id: int, order_id: str, tombstone_customer_id: str) -> Order:
        """Moves the order to a customer with no personal data, keeping what the figures need."""

        def strip(old: Order | None) -> Order:
            assert old is not None
            items = [{k: v for k, v in item.items() if k in PRODUCT_FIELDS} for item in old.items]
            return msgspec.structs.replace(old, customer_id=tombstone_customer_id, extra={}, items=items)

        return self._change(application_id, order_id, strip, must_exist=True)

    def get(self, application_id: int, order_id: str) -> Order:
        _check_order_id(order_id)
        order = self._orders.get(application_id, order_id)
        if order is None:
            raise NotFoundError("No order with this id.", code="order_not_found")
        return order

    def list_for_customer(
        self, application_id: int, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[OrderSummary], str | None]:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(
                "The page size is invalid.",
                [FieldIssue("query.limit", "invalid_value", f"Between 1 and {MAX_PAGE_SIZE}.")],
            )
        page, next_cursor = self._orders.list_for_customer(application_id, customer_id, limit, cursor)
        if not page and cursor is None and self._customers.exists(application_id, customer_id) is False:
            raise NotFoundError("No customer with this integration id.", code="customer_not_found")
        return page, next_cursor

    def _without_stale_entries(
        self, application_id: int, customer_id: str, entries: dict[str, list[OrderSummary]]
    ) -> list[OrderSummary]:
        """One index entry per order: two writers of one new order with different dates can each leave one; the
        order item says which is current, and the other is deleted."""
        kept = []
        for order_id, found in entries.items():
            if len(found) > 1:
                order = self._orders.get(application_id, order_id)
                current = order.created_at if order is not None and order.customer_id == customer_id else None
                for summary in found:
                    if summary.created_at != current:
                        self._orders.delete_index_entry(application_id, customer_id, summary.created_at, order_id)
                found = [s for s in found if s.created_at == current][:1]
            kept += found
        return kept

    def status_mapping(self, application_id: int, fresh: bool = False) -> StatusMapping:
        """`fresh`: read now, not from the short cache (and cached from now on)."""
        return self._statuses.get(application_id, fresh=fresh)

    def set_status_mapping(self, application_id: int, mapping: StatusMapping) -> StatusMapping:
        """Applies to orders written from now on; existing orders keep their state until rewritten."""
        if len(mapping.states) > MAX_MAPPED_STATUSES:
            raise ValidationError(
                "Too many statuses.", [FieldIssue("states", "too_many", f"At most {MAX_MAPPED_STATUSES}.")]
            )
        stamped = msgspec.structs.replace(mapping, updated=iso(self._clock.now()))
        self._statuses.put(application_id, stamped)
        return stamped

    def _change(
        self,
        application_id: int,
        order_id: str,
        build: Callable[[Order | None], Order],
        must_exist: bool,
        stored: Order | NotRead | None = NOT_READ,
    ) -> Order:
        _check_order_id(order_id)
        for _ in range(WRITE_ATTEMPTS):
            given = not isinstance(stored, NotRead)
            old = stored if not isinstance(stored, NotRead) else self._orders.get(application_id, order_id)
            stored = NOT_READ  # a retry reads it afresh
            if old is None and must_exist:
                raise NotFoundError("No order with this id.", code="order_not_found")
            candidate = build(old)
            if old is not None and old.same_content(candidate):
                if given:  # the caller's copy may be stale: a write is conditional, but "nothing to do" is not
                    continue
                return old
            now = iso(self._clock.now())
            new = msgspec.structs.replace(candidate, version=(old.version if old else 0) + 1, written=now)
            try:
                self._orders.write(application_id, old, new, self._stats_updates(application_id, old, new), now)
                return new
            except VersionConflictError:
                continue  # the order or a customer changed since we read them: read again
        raise ConflictError("The order is being changed by other requests; try again.", "concurrent_update")

    def _stats_updates(self, application_id: int, old: Order | None, new: Order) -> list[StatsUpdate]:
        before, after = (old.contribution() if old else None), new.contribution()
        if before == after:
            return []
        updates = []
        for customer_id in sorted({c.customer_id for c in (before, after) if c is not None}):
            version, stats = self._orders.customer_stats(application_id, customer_id)
            updated = recompute(
                stats,
                customer_id,
                before,
                after,
                lambda need_first, need_last, customer_id=customer_id: self._orders.counted_extremes(  # type: ignore[misc]
                    application_id, customer_id, new.order_id, need_first, need_last
                ),
            )
            if updated != stats or version == 0:
                updates.append(StatsUpdate(customer_id, version, updated))
        return updates


def _check_order_id(order_id: str) -> None:
    if issue := order_id_issue(order_id):
        raise ValidationError("The order id is invalid.", [issue])
