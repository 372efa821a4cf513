"""Writing one import chunk: customers that do not exist yet in batches, every other one record by record.

Both ways apply the same rules, from the same services: the customer is checked by ProfileService.new_customer
(what update_customer checks), each order by OrderService.new_order (what upsert checks, the same status
mapping), the statistics are `stats_of` the orders (the rule of every order write). Their catalog additions are
decided as the records are built, each record seeing the earlier ones' as registered, and registered before the
batch writes anything (decide, then write).

The batch way (a first import into an application: nearly every customer) writes a chunk's new customers in a
few calls. It takes a customer only if a consistent read shows nothing of it stored (no profile, its identifiers
free, its orders absent) or only what an interrupted attempt of this same write left (its own claims and
orders, no profile), and if no earlier record of the chunk shares one of its keys. It writes in an order that
makes every interruption resumable: claims first (conditional: a claim taken meanwhile sends the customer the
other way, its own claims released), then the orders and their index entries, the profile last (conditional:
a profile created meanwhile sends it the other way, and its statistics are then counted again from its
orders). A profile therefore exists only once everything else of its customer does, and a redelivered chunk
finds either complete customers (their records are replays on the per-record way, writing nothing more than
the customer's attributes again) or resumable ones.

The other way is the routes' own: CustomerMerger.update_customer and OrderService.upsert, one record at a time,
for existing customers, guests known by email only, and anything the batch way declined.

A failure that belongs to one record is that record's alone. Each stage of a record (decoding it out of the
chunk, validating it, building its items, writing them) is isolated: a record, or one of its orders, that raises
is rejected with its index and path (the reason the error's code, `unprocessable` for an exception no rule
foresaw), and the rest of the chunk lands. The batch way sends a record it cannot build the per-record way; a
batch call that fails for a reason other than the infrastructure's sends the customers of the batch that way
(their keys read one by one when the read failed; counted again from their orders when orders may be stored),
where the bad one fails alone. A failure of the infrastructure (`fails_the_chunk`: throttling, a service
unavailable, a timeout) is never a record's: the chunk fails, and SQS delivers it again, which the resumable
writes above make safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from patron.catalog.model import EntityKind
from patron.catalog.service import PendingAdditions
from patron.clock import Clock, SystemClock, iso
from patron.customers.merge import CustomerMerger
from patron.dynamo.batch import UnprocessedItemsError
from patron.dynamo.errors import is_aws_failure, refuses_content
from patron.errors import MalformedJsonError, PatronError, ServiceUnavailableError, ValidationError
from patron.http import jsonbody
from patron.imports.aws import ImportStorage
from patron.imports.batch_store import BatchStore, Claim, Snapshot, insertable
from patron.imports.formats import (
    CustomerRecord,
    read_json_record,
    split_elements,
    split_members,
    storable_path,
    unencodable_path,
)
from patron.imports.model import ImportOptions, Rejection
from patron.imports.repository import ProcessRepository
from patron.logs import get_logger
from patron.orders.model import Order
from patron.orders.rfmcube import parse_merge_customer
from patron.orders.service import OrderService, stats_of
from patron.orders.wire import ORDER_FIELDS, OrderInput, parse_order
from patron.profiles.identifiers import IdentifierKind, IdentifierPatch, normalise_email
from patron.profiles.model import CustomerProfile
from patron.profiles.repository import profile_to_item
from patron.profiles.service import AttributeCatalog, ProfileService

Resolve = Callable[[int, str | None, str | None], str]
# (application id, [(kind, entity id, customer id)]): outbox records, when the import triggers integrations.
Record = Callable[[int, list[tuple[str, str, str]]], None]

log = get_logger("patron.imports.writer")

UNPROCESSABLE = "unprocessable"  # a record (or order) raised an exception that no rule of the services foresaw


def fails_the_chunk(error: Exception) -> bool:
    """Whether an exception met while writing a record is the infrastructure's rather than the record's: an AWS
    failure other than refused content (patron.dynamo.errors), a batch DynamoDB kept unprocessed, a dependency
    reported unavailable, the machine's own resources. The chunk then fails and SQS delivers it again; a record
    is never rejected for what a retry may cure."""
    if is_aws_failure(error):
        return not refuses_content(error)
    return isinstance(error, ServiceUnavailableError | UnprocessedItemsError | OSError | MemoryError)


class DecodedChunk(msgspec.Struct):
    """A chunk's customers with their record numbers in the file, and the rejections known before any write: the
    split's problems and the records that could not be decoded here."""

    numbers: list[int]
    customers: list[Any]
    rejections: list[Rejection]


def decode_chunk(raw: bytes) -> DecodedChunk:
    """The chunk's records, decoded at once, or one by one when that fails (a record the split accepted cannot
    fail, but a damaged object or another version's split may): a record that cannot be decoded is rejected
    alone, as the reader would have rejected it. So is a record holding text that is not Unicode, which the split
    refuses now but once let through. A chunk whose own structure is broken cannot be told apart into records:
    it raises, and fails."""
    try:
        chunk = jsonbody.loads(raw)
    except MalformedJsonError:
        return _decode_one_by_one(raw)
    customers = chunk["customers"]
    decoded = DecodedChunk(_numbers(chunk["indices"], customers), [], _problems(chunk["problems"]))
    if not jsonbody.may_be_unencodable(raw):
        decoded.customers = customers
        return decoded
    numbers, decoded.numbers = decoded.numbers, []
    for number, customer in zip(numbers, customers, strict=True):
        if (where := unencodable_path(customer, f"customers[{number}]")) is not None:
            decoded.rejections.append(Rejection(str(number), where, "invalid_text"))
        else:
            decoded.numbers.append(number)
            decoded.customers.append(customer)
    return decoded


def _decode_one_by_one(raw: bytes) -> DecodedChunk:
    """The chunk's parts delimited without decoding them (formats.split_members), then each record decoded alone."""
    members = split_members(raw)
    elements = split_elements(members["customers"])
    decoded = DecodedChunk([], [], _problems(jsonbody.loads(members["problems"])))
    for number, element in zip(_numbers(jsonbody.loads(members["indices"]), elements), elements, strict=True):
        try:
            record = read_json_record(element, number)  # the reader's own rules: an object, and Unicode text
        except MalformedJsonError:
            decoded.rejections.append(Rejection(str(number), f"customers[{number}]", "malformed_json"))
            continue
        if isinstance(record, CustomerRecord):
            decoded.numbers.append(number)
            decoded.customers.append(record.customer)
        else:
            decoded.rejections.append(Rejection(str(number), record.path, record.reason))
    return decoded


def _numbers(indices: Any, customers: Any) -> list[int]:
    if not isinstance(indices, list) or not isinstance(customers, list) or len(indices) != len(customers):
        raise ValueError("a chunk's records and their numbers do not match")
    return [int(n) for n in indices]


def _problems(problems: Any) -> list[Rejection]:
    """The records the split could not read, as the chunk lists them."""
    return [Rejection(str(p["index"]), str(p["path"]), str(p["reason"])) for p in problems]


class _Counts(msgspec.Struct):
    customers: int = 0
    orders: int = 0
    rejections: list[Rejection] = msgspec.field(default_factory=list)


class _NewCustomer(msgspec.Struct):
    """A record the batch way may write: the profile and orders the services built for it, not written yet."""

    number: int
    profile: CustomerProfile
    orders: list[Order]
    order_rejections: list[Rejection]

    @property
    def integration_id(self) -> str:
        return self.profile.integration_id

    @property
    def claims(self) -> set[Claim]:
        return self.profile.identifiers.claims()

    def keys(self) -> set[tuple[str, str]]:
        return {("profile", self.integration_id), *(("claim", f"{k}#{v}") for k, v in self.claims)} | {
            ("order", order.order_id) for order in self.orders
        }


class ChunkWriter:
    def __init__(
        self,
        processes: ProcessRepository,
        storage: ImportStorage,
        merger: CustomerMerger,
        resolve: Resolve,
        orders: OrderService,
        catalog: AttributeCatalog | None,
        record: Record | None,
        clock: Clock | None = None,
        profiles: ProfileService | None = None,
        batch: BatchStore | None = None,
    ):
        self._processes = processes
        self._storage = storage
        self._merger = merger
        self._resolve = resolve
        self._orders = orders
        self._catalog = catalog
        self._record = record
        self._clock = clock or SystemClock()
        self._profiles = profiles
        self._batch = batch

    def write(self, application_id: int, process_id: int, index: int, key: str) -> bool:
        """Writes the chunk and records it; False when it had been recorded already (a redelivery)."""
        if not key.startswith(f"imports/{application_id}/{process_id}/"):
            raise ValueError("a chunk message names another process's object")
        process = self._processes.get(application_id, process_id)
        if process is None or self._processes.chunk_recorded(application_id, process_id, index):
            return False  # a redelivery of a chunk written whole: one read, and nothing written again
        chunk = decode_chunk(self._storage.get(key))
        numbers, customers = chunk.numbers, chunk.customers  # each customer's record number in the file
        options = process.options
        if options.overwrite_descriptors:
            self._overwrite_descriptors(application_id, customers)
        if options.recalculate_stats:
            # Rfmcube's recalculateStats: today's status mapping, read now, maps this chunk's new orders...
            self._orders.status_mapping(application_id, fresh=True)
        counts = _Counts(rejections=chunk.rejections)
        one_by_one = list(range(len(customers)))
        recount: dict[int, str] = {}
        if self._batch is not None and self._profiles is not None:
            one_by_one, recount = self._write_new_customers(application_id, numbers, customers, options, counts)
        existing: list[str] = []
        for position in one_by_one:
            if accepted := self._customer(application_id, numbers[position], customers[position], options, counts):
                existing.append(accepted)
            if position in recount:
                # Its orders went out with the batch but its profile did not: the statistics are counted again.
                self._orders.recount_customer(application_id, recount[position])
        if options.recalculate_stats:
            # ... and every order the customers written record by record held already (statistics following).
            for customer_id in dict.fromkeys(existing):
                self._orders.restate_customer(application_id, customer_id)
        counts.rejections.sort(key=lambda r: _record_order(r.index))
        return self._processes.complete_chunk(
            application_id,
            process_id,
            index,
            counts.customers,
            counts.orders,
            counts.rejections,
            False,
            iso(self._clock.now()),
        )

    # -- the batch way ---------------------------------------------------------------------------------------

    def _write_new_customers(
        self, application_id: int, numbers: list[int], customers: list[Any], options: ImportOptions, counts: _Counts
    ) -> tuple[list[int], dict[int, str]]:
        """Writes the chunk's new customers in batches; returns the positions left to the per-record way (in
        order), and those of them whose statistics must be counted again from their stored orders afterwards
        (with their integration ids)."""
        assert self._batch is not None
        candidates: dict[int, _NewCustomer] = {}
        # What the records add to the catalog, decided as each is built (each sees the earlier ones' additions, as
        # if registered) and written before any record of the batch.
        pending = PendingAdditions()
        for position, raw in enumerate(customers):
            try:
                built = self._build(application_id, numbers[position], raw, pending)
            except Exception as error:
                if fails_the_chunk(error):
                    raise
                built = None  # the per-record way tries it, and rejects it alone if it fails there too
            if built is not None:
                candidates[position] = built
        snapshot = self._snapshot(application_id, candidates)
        # A record joins the batch only if nothing of it is stored but what an interrupted attempt left, and no
        # earlier record of the chunk shares a key with it (the per-record way then keeps the records' order).
        batch: dict[int, _NewCustomer] = {}
        seen: set[tuple[str, str]] = set()
        recount: dict[int, str] = {}
        for position in range(len(customers)):
            candidate = candidates.get(position)
            if candidate is None:
                seen |= _keys_named(customers[position])  # a record the per-record way writes: it comes first
                continue
            me = candidate.integration_id
            keys = candidate.keys()
            fresh = (
                me not in snapshot.profiles
                and all(snapshot.claims.get(claim, me) == me for claim in candidate.claims)
                and all(snapshot.orders.get(o.order_id, (me,))[0] == me for o in candidate.orders)
                and len(keys) == 1 + len(candidate.claims) + len(candidate.orders)  # no order id twice
                and not keys & seen
            )
            seen |= keys
            if fresh:
                batch[position] = candidate
            elif any(snapshot.orders.get(o.order_id, ("",))[0] == me for o in candidate.orders):
                # Its orders are stored already: replays on the per-record way change no figure, so if an
                # interrupted batch attempt wrote them before its profile existed, only a recount counts them.
                recount[position] = me
        if not self._register_catalog(pending):
            return list(range(len(customers))), recount
        # DynamoDB refusing a batch call for its content (not the infrastructure failing) sends the whole batch the
        # per-record way, nothing of it counted, where the record at fault fails alone.
        try:
            self._insert_claims(application_id, batch, snapshot)
        except Exception as error:
            if fails_the_chunk(error):
                raise
            self._give_up_batch(application_id, batch, error)
            return list(range(len(customers))), recount
        try:
            declined = self._insert_orders_and_profiles(batch, snapshot)
        except Exception as error:
            if fails_the_chunk(error):
                raise
            self._give_up_batch(application_id, batch, error)
            # Orders of the batch may be stored already, and replays on the per-record way change no figure.
            recount |= {position: c.integration_id for position, c in batch.items() if c.orders}
            return list(range(len(customers))), recount
        recount |= {position: batch[position].integration_id for position in declined}
        records: list[tuple[str, str, str]] = []
        for position, candidate in batch.items():
            if position in declined:
                continue
            counts.customers += 1
            counts.orders += len(candidate.orders)
            counts.rejections += candidate.order_rejections
            if options.trigger_integrations:
                records.append(("customer", candidate.integration_id, candidate.integration_id))
                records += [("order", order.order_id, order.customer_id) for order in candidate.orders]
        if records and self._record is not None:
            self._record(application_id, records)
        return [p for p in range(len(customers)) if p not in batch or p in declined], recount

    def _register_catalog(self, pending: PendingAdditions) -> bool:
        """The catalog's new attributes, decided while the chunk's records were built, written before any record
        of the batch: a value is never stored without its descriptor. False, with nothing of the batch written,
        when another request gave one of them another type meanwhile: the records then go the per-record way, each
        checked against the catalog as it stands."""
        if self._catalog is None:
            return True
        try:
            for additions in pending.additions():
                self._catalog.register(additions)
        except Exception as error:
            if fails_the_chunk(error):
                raise
            log.info("import catalog changed meanwhile, written record by record", error=type(error).__name__)
            return False
        return True

    def _snapshot(self, application_id: int, candidates: dict[int, _NewCustomer]) -> Snapshot:
        """What is stored of the candidates' keys. When DynamoDB refuses the read for its content, each candidate's
        keys are read on their own, and a candidate whose keys cannot be read leaves `candidates` for the
        per-record way (nothing of it can be stored: no write takes a key no read takes)."""
        assert self._batch is not None
        try:
            return self._batch.read(
                application_id,
                {c.integration_id for c in candidates.values()},
                {claim for c in candidates.values() for claim in c.claims},
                {o.order_id for c in candidates.values() for o in c.orders},
            )
        except Exception as error:
            if fails_the_chunk(error):
                raise
            log.warning("import batch read refused, read record by record", error=type(error).__name__)
        snapshot = Snapshot()
        for position, candidate in list(candidates.items()):
            orders = {o.order_id for o in candidate.orders}
            try:
                found = self._batch.read(application_id, {candidate.integration_id}, candidate.claims, orders)
            except Exception as error:
                if fails_the_chunk(error):
                    raise
                del candidates[position]
                continue
            snapshot.profiles |= found.profiles
            snapshot.claims |= found.claims
            snapshot.orders |= found.orders
        return snapshot

    def _insert_claims(self, application_id: int, batch: dict[int, _NewCustomer], snapshot: Snapshot) -> None:
        """Claims first: one taken meanwhile sends its customer the per-record way (it leaves `batch`), with
        nothing of it written."""
        assert self._batch is not None
        wanted = [
            (claim, c.integration_id) for c in batch.values() for claim in c.claims if claim not in snapshot.claims
        ]
        refused = self._batch.insert_claims(application_id, wanted) if wanted else set()
        if refused:
            for position, candidate in list(batch.items()):
                if candidate.claims & refused:
                    mine = [claim for claim in candidate.claims - refused if claim not in snapshot.claims]
                    self._batch.release_claims(application_id, mine)
                    del batch[position]

    def _insert_orders_and_profiles(self, batch: dict[int, _NewCustomer], snapshot: Snapshot) -> set[int]:
        """Then the orders (an earlier attempt's entry under another date goes), then the profiles; returns the
        positions of the customers whose profile existed by then (their statistics are counted again)."""
        assert self._batch is not None
        orders = [order for candidate in batch.values() for order in candidate.orders]
        stale = [
            (order.customer_id, stored[1], order.order_id)
            for order in orders
            if (stored := snapshot.orders.get(order.order_id)) is not None and stored[1] != order.created_at
        ]
        if orders:
            self._batch.put_orders(orders, stale)
        not_created = self._batch.insert_profiles([c.profile for c in batch.values()]) if batch else set()
        return {position for position, c in batch.items() if c.integration_id in not_created}

    def _give_up_batch(self, application_id: int, batch: dict[int, _NewCustomer], error: Exception) -> None:
        """Releases the claims held by the batch's customers that still have no profile, so that none stays with a
        customer the per-record way then rejects (that way takes them again for those it writes). They are read
        back first: a call that failed leaves unknown which claims it took."""
        assert self._batch is not None
        log.warning("import batch refused, written record by record", error=type(error).__name__)
        owners = {claim: c.integration_id for c in batch.values() for claim in c.claims}
        if not owners:
            return
        stored = self._batch.read(application_id, set(owners.values()), set(owners), set())
        mine = [c for c, owner in stored.claims.items() if owners[c] == owner and owner not in stored.profiles]
        if mine:
            self._batch.release_claims(application_id, mine)

    def _build(self, application_id: int, number: int, raw: Any, pending: PendingAdditions) -> _NewCustomer | None:
        """The profile and orders the services would create for this record, or None when the record is not
        for the batch way (invalid: its rejection comes from the per-record way; or known by email only; or an
        order naming another customer). What they add to the catalog joins `pending` as each check passes, written
        nowhere yet. An unforeseen exception propagates: the record then goes the per-record way too."""
        assert self._profiles is not None
        if not isinstance(raw, dict) or not isinstance(raw.get("orders") or [], list):
            return None
        root = f"customers[{number}]"
        try:
            customer, _ = parse_merge_customer({"customer": {k: v for k, v in raw.items() if k != "orders"}})
            if customer.customer_id is None:
                return None  # a guest: the resolver finds or creates it by email
            patch = IdentifierPatch(email=customer.email) if customer.email is not None else IdentifierPatch()
            profile = self._profiles.new_customer(
                application_id, customer.customer_id, customer.attributes, patch, pending
            )
        except PatronError as error:
            if fails_the_chunk(error):
                raise
            return None
        me = customer.customer_id
        orders: list[Order] = []
        rejections: list[Rejection] = []
        for position, order in enumerate(raw.get("orders") or []):
            order_root = f"{root}.orders[{position}]"
            try:
                parsed = _nested_order(order, me, order_root)
                if parsed.customer_id != me or parsed.customer_email is not None:
                    return None
                orders.append(self._orders.new_order(application_id, parsed, me, root=order_root, pending=pending))
            except PatronError as error:
                if fails_the_chunk(error):
                    raise
                rejections.append(_rejection(f"{number}.orders[{position}]", order_root, error, ""))
        stats = stats_of(me, (order.contribution() for order in orders))
        profile = msgspec.structs.replace(profile, stats=stats)
        if not insertable(profile_to_item(profile)):
            return None  # too many or too long attribute names for one statement, or too large an item
        return _NewCustomer(number, profile, orders, rejections)

    # -- the per-record way ----------------------------------------------------------------------------------

    def _customer(
        self, application_id: int, number: int, raw: Any, options: ImportOptions, counts: _Counts
    ) -> str | None:
        """Writes the record through the routes' services; returns the customer's integration id, or None when
        the record was rejected."""
        root = f"customers[{number}]"
        if not isinstance(raw, dict):
            counts.rejections.append(Rejection(str(number), root, "invalid_value"))
            return None
        orders = raw.get("orders") or []
        if not isinstance(orders, list):
            counts.rejections.append(Rejection(str(number), f"{root}.orders", "invalid_value"))
            return None
        fields = {name: value for name, value in raw.items() if name != "orders"}
        try:
            customer, _ = parse_merge_customer({"customer": fields})
            integration_id = self._resolve(application_id, customer.customer_id, customer.email)
            patch = IdentifierPatch(email=customer.email) if customer.email is not None else IdentifierPatch()
            self._merger.update_customer(application_id, integration_id, customer.attributes, patch)
        except Exception as error:
            if fails_the_chunk(error):
                raise
            counts.rejections.append(_rejection(str(number), root, error, "customer."))
            return None
        counts.customers += 1
        records = [("customer", integration_id, integration_id)]
        for position, order in enumerate(orders):
            order_root = f"{root}.orders[{position}]"
            try:
                parsed = _nested_order(order, integration_id, order_root)
                stored = self._orders.upsert(application_id, parsed, root=order_root)
            except Exception as error:
                if fails_the_chunk(error):
                    raise
                counts.rejections.append(_rejection(f"{number}.orders[{position}]", order_root, error, ""))
                continue
            counts.orders += 1
            records.append(("order", stored.order_id, stored.customer_id))
        if options.trigger_integrations and self._record is not None:
            self._record(application_id, list(dict.fromkeys(records)))  # an order id twice is one change
        return integration_id

    def _overwrite_descriptors(self, application_id: int, customers: list[Any]) -> None:
        """Rfmcube's overwriteDescriptors: the types this call implies replace the catalog's."""
        if self._catalog is None:
            return
        overwrite = self._catalog.check_and_register_many
        people = [c for c in customers if isinstance(c, dict)]
        orders = [o for c in people for o in (c.get("orders") or []) if isinstance(o, dict)]
        known = {"id", "email", "orders"}
        try:
            overwrite(
                application_id,
                EntityKind.CUSTOMER,
                [("", {k: v for k, v in c.items() if k not in known}) for c in people],
                overwrite=True,
            )
            overwrite(
                application_id,
                EntityKind.ORDER,
                [("", {k: v for k, v in o.items() if k not in ORDER_FIELDS}) for o in orders],
                overwrite=True,
            )
            items = [i for o in orders for i in (o.get("items") or []) if isinstance(i, dict)]
            overwrite(application_id, EntityKind.PRODUCT, [("", i) for i in items], overwrite=True)
        except ValidationError:
            pass  # conflicting types within the call itself: each record is then checked as usual
        except Exception as error:
            if isinstance(error, PatronError) or fails_the_chunk(error):
                raise
            # A record the catalog could not take, unforeseen: each record is then checked as usual, against the
            # catalog as it stands, and the one at fault fails alone.
            log.warning("import descriptors not overwritten", error=type(error).__name__)


def _keys_named(raw: Any) -> set[tuple[str, str]]:
    """The keys a record the batch way declined may write (its id, its email's claim, its orders and the
    customers they name), as far as they can be read: records after it that share one keep the file's order."""
    if not isinstance(raw, dict):
        return set()
    keys: set[tuple[str, str]] = set()
    if isinstance(raw.get("id"), str | int) and not isinstance(raw.get("id"), bool):
        keys.add(("profile", str(raw["id"])))
    if isinstance(raw.get("email"), str) and (email := normalise_email(raw["email"])):
        keys.add(("claim", f"{IdentifierKind.EMAIL}#{email}"))
    orders = raw.get("orders")
    for order in orders if isinstance(orders, list) else []:
        if isinstance(order, dict):
            for kind, name in (("order", "id"), ("profile", "customerId")):
                if isinstance(order.get(name), str | int):
                    keys.add((kind, str(order[name])))
    return keys


def _nested_order(raw: Any, customer_id: str, root: str) -> OrderInput:
    """An order nested in a customer's record: it belongs to that customer unless it names another."""
    fields = {"customerId": customer_id, **raw} if isinstance(raw, dict) else raw
    return parse_order(fields, root=root)


def _rejection(index: str, root: str, error: Exception, prefix: str) -> Rejection:
    """The rejection of the record (or order) at `root` that raised `error`, which is not the infrastructure's."""
    if not isinstance(error, PatronError):
        # No rule named it: the record is rejected at its root. The exception's type is logged, never its text,
        # which may quote the record's values.
        log.warning("import record unprocessable", error=type(error).__name__)
        return Rejection(index=index, path=root, reason=UNPROCESSABLE)
    issue = error.details[0] if error.details else None
    # Field paths as the services name them (`customer.x`, `attributes.x`), placed in the import's record.
    path = issue.path.removeprefix(prefix).removeprefix("attributes.") if issue else ""
    path = path if path.startswith(root) else f"{root}.{path}" if path else root
    return Rejection(index=index, path=storable_path(path), reason=issue.code if issue else error.code)


def _record_order(index: str) -> tuple[int, int]:
    """Rejections listed in file order: "12" before "12.orders[0]" before "13"."""
    customer, _, order = index.partition(".orders[")
    return int(customer), int(order.rstrip("]")) if order else -1
