"""Sessions in the orders table, and the one read a session call starts with (docs/data-model.md, "Customer
sessions").

A session is one item, `APP#<application>#SESSION#<integrationId>` / `SESSION`, holding the cart as sent, its state
and version, and what its last evaluation decided: the effects (answered again by GET, rolled back by cancel,
return and reopen) and, once closed, what the close consumed of each budget counter and added to the profile.

`read` is the single BatchGetItem of a session call (strongly consistent: every write is conditional on it): the
session, its profile, the application's live-ruleset pointer and the budget counters the candidate campaigns bind.
"""

from __future__ import annotations

import contextvars
import zlib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import msgspec
from boto3.dynamodb.types import Binary

from patron.audiences import keys as audience_keys
from patron.audiences.model import Audience
from patron.audiences.repository import audience_from
from patron.coupons import items as coupon_items
from patron.coupons.holds import Holds, holds_from_item
from patron.coupons.model import Coupon, Holding
from patron.dynamo import codec, committer
from patron.dynamo.batch import MAX_KEYS, read_batch
from patron.events import keys as event_keys
from patron.item_catalogs import items as catalog_items
from patron.item_catalogs.keys import catalog_key, item_key, storable_sku
from patron.item_catalogs.model import Catalog, ItemState, StoredItem
from patron.loyalty import items as loyalty_items
from patron.orders.keys import ORDER_SK, customer_order_sk, customer_orders_pk, order_pk
from patron.orders.model import Order
from patron.orders.repository import index_item, order_from_item, order_to_item
from patron.outbox.repository import OutboxRecord, record_write
from patron.profiles.keys import PROFILE_SK, profile_pk
from patron.profiles.model import CustomerProfile
from patron.profiles.repository import profile_from_item
from patron.promotions import counters
from patron.promotions import effects as fx
from patron.promotions.budgets import CounterKey
from patron.promotions.store import live_version, pointer_key
from patron.referrals import items as referral_items
from patron.referrals.model import NOT_REFERRED, FriendRecord, Referral
from patron.sessions.keys import recent_keys
from patron.sessions.model import CartItem, Session, SessionState
from patron.settings import Tables

SESSION_SK = "SESSION"
LedgerRef = loyalty_items.LedgerRef


class SessionConflictError(Exception):
    """The session changed since it was read (another update won): Talon.One answers 409."""


def session_pk(application_id: int, integration_id: str) -> str:
    return f"APP#{application_id}#SESSION#{integration_id}"


def _session_key(application_id: int, integration_id: str) -> dict[str, str]:
    return {"PK": session_pk(application_id, integration_id), "SK": SESSION_SK}


_PROPS: dict[str, type[Any]] = {
    "setDiscount": fx.SetDiscountProps,
    "setDiscountPerItem": fx.SetDiscountPerItemProps,
    "setDiscountPerAdditionalCost": fx.SetDiscountPerAdditionalCostProps,
    "addFreeItem": fx.AddFreeItemProps,
    "showNotification": fx.ShowNotificationProps,
    "customEffect": fx.CustomEffectProps,
    "updateAttribute": fx.UpdateAttributeProps,
    "triggerWebhook": fx.TriggerWebhookProps,
    "acceptCoupon": fx.AcceptCouponProps,
    "rejectCoupon": fx.RejectionProps,
    "couponCreated": fx.CouponCreatedProps,
    "reserveCoupon": fx.ReserveCouponProps,
    "referralCreated": fx.ReferralCreatedProps,
    "rejectReferral": fx.RejectionProps,
    "rollbackDiscount": fx.RollbackDiscountProps,
    "rollbackCoupon": fx.RollbackCouponProps,
    "acceptReferral": fx.AcceptReferralProps,
    "rollbackReferral": fx.RollbackReferralProps,
    "addLoyaltyPoints": fx.AddLoyaltyPointsProps,
    "deductLoyaltyPoints": fx.DeductLoyaltyPointsProps,
    "changeLoyaltyTierLevel": fx.ChangeLoyaltyTierLevelProps,
    "rollbackAddedLoyaltyPoints": fx.RollbackLoyaltyPointsProps,
    "rollbackDeductedLoyaltyPoints": fx.RollbackLoyaltyPointsProps,
    "addToAudience": fx.AddToAudienceProps,
    "removeFromAudience": fx.RemoveFromAudienceProps,
}
_EFFECTS = msgspec.json.Encoder(decimal_format="number")
_STORED_EFFECTS = msgspec.json.Decoder(list[fx.Effect], float_hook=Decimal)


def encode_effects(effects: Sequence[fx.Effect]) -> bytes:
    """The effects as zlib-compressed JSON: with 1,000 campaigns a cart's 60-odd effects are 17 KB of JSON and 1.3 KB
    compressed, and the session item is written at every update and read at every call (1 unit per 1 KB written,
    per 4 KB read). Level 1: a tenth of level 6's time for a few percent more bytes."""
    return zlib.compress(_EFFECTS.encode(list(effects)), 1)


def decode_effects(stored: bytes | str) -> list[fx.Effect]:
    """Stored effects with typed props again (rollback() needs them): compressed bytes, or the JSON text that
    sessions written before compression hold."""
    decoded = _STORED_EFFECTS.decode(zlib.decompress(stored) if isinstance(stored, bytes) else stored)
    typed = []
    for effect in decoded:
        kind = _PROPS.get(effect.effect_type)
        props = msgspec.convert(effect.props, kind) if kind is not None else effect.props
        typed.append(msgspec.structs.replace(effect, props=props))
    return typed


class StoredSession(msgspec.Struct, frozen=True):
    """A session and what its evaluations left on it."""

    session: Session
    effects: list[fx.Effect] = msgspec.field(default_factory=list)
    # What the close consumed, per counter, and added to the profile: given back exactly by a cancel, return or
    # reopen.
    consumed: Mapping[CounterKey, Decimal] = msgspec.field(default_factory=dict)
    counted_total: Decimal | None = None  # the totalSales the close added; None: not counted
    ruleset_version: int | None = None
    # Idempotency of returns is the route's (Idempotency-Key); the returns themselves are kept for previousReturns.
    returns: list[dict[str, Any]] = msgspec.field(default_factory=list)
    # The loyalty entries the close wrote, (program id, entry): what a cancel or reopen rolls back.
    loyalty: list[tuple[int, loyalty_items.Entry]] = msgspec.field(default_factory=list)


_loyalty_decoder = msgspec.json.Decoder(list[tuple[int, loyalty_items.Entry]])


def _cart_to_item(item: CartItem) -> dict[str, Any]:
    stored: dict[str, Any] = {"sku": item.sku, "quantity": item.quantity, "price": item.price}
    if item.name is not None:
        stored["name"] = item.name
    if item.category is not None:
        stored["category"] = item.category
    if item.attributes:
        stored["attributes"] = dict(item.attributes)
    if item.returned_quantity:
        stored["returnedQuantity"] = item.returned_quantity
    if item.extra:
        stored["extra"] = dict(item.extra)
    if not item.priced:
        stored["unpriced"] = True
    if item.catalog_attributes:
        stored["catalogAttributes"] = dict(item.catalog_attributes)
    return stored


def _cart_from_item(stored: Mapping[str, Any]) -> CartItem:
    return CartItem(
        sku=str(stored["sku"]),
        quantity=int(stored["quantity"]),
        price=Decimal(stored["price"]),
        name=stored.get("name"),
        category=stored.get("category"),
        attributes=stored.get("attributes") or {},
        returned_quantity=int(stored.get("returnedQuantity", 0)),
        extra=stored.get("extra") or {},
        priced=not stored.get("unpriced", False),
        catalog_attributes=stored.get("catalogAttributes") or {},
    )


def to_item(application_id: int, stored: StoredSession) -> dict[str, Any]:
    session = stored.session
    item: dict[str, Any] = {
        **_session_key(application_id, session.integration_id),
        **recent_keys(application_id, session.integration_id, session.updated),
        "id": session.id,
        "created": session.created,
        "updated": session.updated,
        "state": session.state.value,
        "version": session.version,
        "updateCount": session.update_count,
        "firstSession": session.first_session,
        "cartItems": [_cart_to_item(item) for item in session.cart_items],
        "additionalCosts": dict(session.additional_costs),
        "effectsZ": encode_effects(stored.effects),
    }
    optional = {
        "profileId": session.profile_id,
        "storeIntegrationId": session.store_integration_id,
        "couponCodes": list(session.coupon_codes),
        "referralCode": session.referral_code,
        "loyaltyCards": list(session.loyalty_cards),
        "identifiers": list(session.identifiers),
        "attributes": dict(session.attributes),
        "consumed": {key.label(): amount for key, amount in stored.consumed.items()},
        "countedTotal": stored.counted_total,
        "rulesetVersion": stored.ruleset_version,
        "returns": stored.returns,
        "loyalty": msgspec.json.encode(stored.loyalty).decode() if stored.loyalty else None,
    }
    item.update({name: value for name, value in optional.items() if value not in (None, [], {})})
    return item


def from_item(item: Mapping[str, Any]) -> StoredSession:
    _, _, _, integration_id = str(item["PK"]).split("#", 3)
    session = Session(
        integration_id=integration_id,
        id=int(item["id"]),
        created=str(item["created"]),
        updated=str(item["updated"]),
        state=SessionState(item["state"]),
        profile_id=item.get("profileId"),
        store_integration_id=item.get("storeIntegrationId"),
        coupon_codes=tuple(item.get("couponCodes", ())),
        referral_code=item.get("referralCode"),
        loyalty_cards=tuple(item.get("loyaltyCards", ())),
        identifiers=tuple(item.get("identifiers", ())),
        attributes=item.get("attributes") or {},
        cart_items=tuple(_cart_from_item(cart) for cart in item.get("cartItems", ())),
        additional_costs={name: Decimal(price) for name, price in (item.get("additionalCosts") or {}).items()},
        first_session=bool(item.get("firstSession", True)),
        update_count=int(item.get("updateCount", 1)),
        version=int(item["version"]),
    )
    counted = item.get("countedTotal")
    version = item.get("rulesetVersion")
    return StoredSession(
        session=session,
        effects=_stored_effects(item),
        consumed={counters.key_of(label): Decimal(amount) for label, amount in (item.get("consumed") or {}).items()},
        counted_total=Decimal(counted) if counted is not None else None,
        ruleset_version=int(version) if version is not None else None,
        returns=list(item.get("returns") or []),
        loyalty=_loyalty_decoder.decode(str(item["loyalty"])) if item.get("loyalty") else [],
    )


def _stored_effects(item: Mapping[str, Any]) -> list[fx.Effect]:
    compressed = item.get("effectsZ")
    if compressed is not None:
        return decode_effects(bytes(compressed.value if isinstance(compressed, Binary) else compressed))
    return decode_effects(str(item.get("effects", "[]")))


class Read(msgspec.Struct, frozen=True):
    """What one session call read."""

    session: StoredSession | None
    profile: CustomerProfile | None
    order: Order | None  # the order of the session's id (a closed session is one of the customer's orders)
    live_version: int | None
    used: dict[CounterKey, Decimal]
    profile_read: str | None  # the profile id the read looked for (None: none)
    counters_read: frozenset[CounterKey]
    coupons: Mapping[str, Coupon] = msgspec.field(default_factory=dict)  # by stored code
    coupons_read: frozenset[str] = frozenset()  # the codes looked up, found or not
    holdings: Mapping[str, Holding] = msgspec.field(default_factory=dict)  # what `holder_read` holds of them, by code
    holder_read: str | None = None  # the profile whose holdings were read with the coupons (None: none)
    coupon_holds: Mapping[str, Holds] = msgspec.field(default_factory=dict)  # each coupon's checkout holds, by code
    referrals: Mapping[str, Referral] = msgspec.field(default_factory=dict)  # by stored code
    referrals_read: frozenset[str] = frozenset()  # the referral codes looked up, found or not
    friend: FriendRecord = NOT_REFERRED  # what `friend_read` has been referred in
    friend_read: str | None = None  # the profile whose friend record was read with the referral (None: none)
    # Loyalty ledger items by (program id, holder: a profile's integration id or a card), and those looked up.
    ledgers: Mapping[LedgerRef, Mapping[str, Any]] = msgspec.field(default_factory=dict)
    ledgers_read: frozenset[LedgerRef] = frozenset()
    cards: Mapping[LedgerRef, Mapping[str, Any]] = msgspec.field(default_factory=dict)  # card items, read with theirs
    # Recipients (profiles other than the session's whose ledgers were read) whose profile exists.
    recipients: frozenset[str] = frozenset()
    # The customer's event count items (patron.events.counts) by event type, those looked up, and whose they are.
    event_counts: Mapping[str, Mapping[str, Any]] = msgspec.field(default_factory=dict)
    event_counts_read: frozenset[str] = frozenset()
    counts_holder: str | None = None

    def lacks_event_counts(self, holder: str | None, wanted: frozenset[str]) -> frozenset[str]:
        """The count items of `holder` (None: no customer, nothing to read) wanted that this read did not look up."""
        if holder is None or not wanted:
            return frozenset()
        if holder != self.counts_holder:
            return wanted
        return wanted - self.event_counts_read

    # The application's cart item catalog's items for the cart's SKUs, as visible now (those it has).
    catalog_items: Mapping[str, ItemState] = msgspec.field(default_factory=dict)
    # The audiences the ruleset's membership effects name (deleted ones included), and those looked up.
    audiences: Mapping[int, Audience] = msgspec.field(default_factory=dict)
    audiences_read: frozenset[int] = frozenset()
    # Whether the application has a live cart item catalog (None: its catalog item was not read), and the SKUs
    # whose items were looked up.
    catalog_live: bool | None = None
    skus_read: frozenset[str] = frozenset()

    def lacks_skus(self, skus: Iterable[str]) -> frozenset[str]:
        """The cart's SKUs a live catalog may hold that this read did not look up (none without a live catalog)."""
        if not self.catalog_live:
            return frozenset()
        return frozenset(sku for sku in skus if storable_sku(sku)) - self.skus_read

    def recipient_exists(self, integration_id: str) -> bool:
        return integration_id in self.recipients

    def lacks_ledgers(self, wanted: frozenset[LedgerRef]) -> frozenset[LedgerRef]:
        """The ledgers wanted that this read did not look up."""
        return wanted - self.ledgers_read

    def merged(self, more: Read, profile_id: str | None) -> Read:
        """This read with a second one's counters and coupons, its profile when the second read was for
        `profile_id`, and its holdings when it read a holder's (then they replace these: another profile's)."""
        holdings = self.holdings
        if more.holder_read is not None:
            same = more.holder_read == self.holder_read
            holdings = {**self.holdings, **more.holdings} if same else dict(more.holdings)
        return msgspec.structs.replace(
            self,
            profile=more.profile if profile_id else self.profile,
            profile_read=profile_id or self.profile_read,
            used={**self.used, **more.used},
            counters_read=self.counters_read | more.counters_read,
            coupons={**self.coupons, **more.coupons},
            coupon_holds={**self.coupon_holds, **more.coupon_holds},
            referrals={**self.referrals, **more.referrals},
            referrals_read=self.referrals_read | more.referrals_read,
            friend=more.friend if more.friend_read is not None else self.friend,
            friend_read=more.friend_read or self.friend_read,
            coupons_read=self.coupons_read | more.coupons_read,
            holdings=holdings,
            holder_read=more.holder_read or self.holder_read,
            **self._merged_ledgers(more),
            **self._merged_event_counts(more),
            audiences={**self.audiences, **more.audiences},
            audiences_read=self.audiences_read | more.audiences_read,
            catalog_items={**self.catalog_items, **more.catalog_items},
            catalog_live=more.catalog_live if more.catalog_live is not None else self.catalog_live,
            skus_read=self.skus_read | more.skus_read,
        )

    def _merged_event_counts(self, more: Read) -> dict[str, Any]:
        if more.counts_holder is None:
            return {}
        if more.counts_holder != self.counts_holder:
            return {
                "event_counts": more.event_counts,
                "event_counts_read": more.event_counts_read,
                "counts_holder": more.counts_holder,
            }
        return {
            "event_counts": {**self.event_counts, **more.event_counts},
            "event_counts_read": self.event_counts_read | more.event_counts_read,
        }

    def _merged_ledgers(self, more: Read) -> dict[str, Any]:
        if not more.ledgers_read:
            return {}
        return {
            "ledgers": {**self.ledgers, **more.ledgers},
            "ledgers_read": self.ledgers_read | more.ledgers_read,
            "cards": {**self.cards, **more.cards},
            "recipients": self.recipients | more.recipients,
        }


class SessionStore:
    def __init__(self, client: Any, tables: Tables):
        self._client = client
        self._orders = tables.orders
        self._profiles = tables.profiles
        self._config = tables.config
        self._ledgers = tables.ledgers
        self._outbox = tables.outbox
        self._outbox_ttl = tables.outbox_ttl
        self._committer = committer.Committer(client)

    def read(
        self,
        application_id: int,
        session_id: str | None,
        profile_id: str | None,
        counter_keys: Iterable[CounterKey],
        pointer: bool = True,
        coupons: Iterable[str] = (),
        holder: str | None = None,
        referrals: Iterable[str] = (),
        ledgers: Iterable[LedgerRef] = (),
        event_types: Iterable[str] = (),
        counts_of: str | None = None,
        skus: Iterable[str] = (),
        audiences: Iterable[int] = (),
        catalog: bool = False,
    ) -> Read:
        """One BatchGetItem (more only past 100 keys or for keys DynamoDB left unprocessed). `coupons`: codes as
        stored, each read with what `holder` (a profile's integration id) holds of it; `referrals`: referral codes
        as stored, read with the holder's friend record (what it has been referred in); `ledgers`: loyalty ledgers,
        each with its card's item when a card holds it, or its profile's when another profile than `holder`'s (the
        session's) holds it (a recipient's: whether it exists); `event_types`: the count items of these event types
        of `counts_of` (default: `profile_id`; none without a profile); `skus`: a cart's SKUs, read with the
        application's cart item catalog (its items are visible only under it); `catalog`: the catalog item even
        without SKUs (whether the application has one); `audiences`: audience items (membership effects)."""
        wanted: list[tuple[str, dict[str, str]]] = []
        if session_id is not None:
            wanted.append((self._orders, _session_key(application_id, session_id)))
            wanted.append((self._orders, {"PK": order_pk(application_id, session_id), "SK": ORDER_SK}))
        if profile_id is not None:
            wanted.append((self._profiles, {"PK": profile_pk(application_id, profile_id), "SK": PROFILE_SK}))
        if pointer:
            wanted.append((self._config, pointer_key(application_id)))
        keys = frozenset(counter_keys)
        wanted += [(self._ledgers, counters.counter_item_key(application_id, key)) for key in sorted(keys)]
        codes = frozenset(coupons)
        for code in sorted(codes):
            wanted.append((self._ledgers, coupon_items.coupon_key(application_id, code)))
            if holder is not None:
                wanted.append((self._ledgers, coupon_items.holding_key(application_id, holder, code)))
        referral_codes = frozenset(referrals)
        for code in sorted(referral_codes):
            wanted.append((self._ledgers, referral_items.referral_key(application_id, code)))
        friend_holder = holder if referral_codes else None
        if friend_holder is not None:
            wanted.append((self._ledgers, referral_items.friend_key(application_id, friend_holder)))
        ledger_refs = frozenset(ledgers)
        for program_id, ledger_holder in sorted(ledger_refs, key=str):
            wanted.append((self._ledgers, loyalty_items.ledger_key(application_id, program_id, ledger_holder)))
            if isinstance(ledger_holder, loyalty_items.Card):
                wanted.append(
                    (self._ledgers, loyalty_items.card_key(application_id, program_id, ledger_holder.identifier))
                )
        others = {h for _, h in ledger_refs if isinstance(h, str) and h not in (profile_id, holder)}
        for other in sorted(others):
            wanted.append((self._profiles, {"PK": profile_pk(application_id, other), "SK": PROFILE_SK}))
        counts_holder = counts_of or profile_id
        types = frozenset(event_types) if counts_holder is not None else frozenset()
        for event_type in sorted(types):
            wanted.append((self._orders, event_keys.count_key(application_id, counts_holder or "", event_type)))
        found_counts: dict[str, dict[str, Any]] = {}
        catalog_skus = sorted({sku for sku in skus if storable_sku(sku)})
        if catalog_skus or catalog:
            wanted.append((self._config, catalog_key(application_id)))
            wanted += [(self._config, item_key(application_id, sku)) for sku in catalog_skus]
        audience_ids = frozenset(audiences)
        wanted += [(self._profiles, audience_keys.audience_key(application_id, one)) for one in sorted(audience_ids)]
        own_pk = profile_pk(application_id, profile_id) if profile_id is not None else None
        recipients: set[str] = set()
        found = self._get(wanted)
        found_ledgers: dict[LedgerRef, dict[str, Any]] = {}
        found_cards: dict[LedgerRef, dict[str, Any]] = {}
        session = profile = order = None
        found_referrals: dict[str, Referral] = {}
        friend = NOT_REFERRED
        version: int | None = None
        used: dict[CounterKey, Decimal] = dict.fromkeys(keys, Decimal(0))
        found_coupons: dict[str, Coupon] = {}
        coupon_holds: dict[str, Holds] = {}
        holdings: dict[str, Holding] = {}
        found_catalog: Catalog | None = None
        stored_items: list[StoredItem] = []
        found_audiences: dict[int, Audience] = {}
        for table, item in found:
            if table == self._profiles and item["SK"] == audience_keys.AUDIENCE_SK:
                audience = audience_from(item)
                found_audiences[audience.audience_id] = audience
            elif table == self._orders and item["SK"] == SESSION_SK:
                session = from_item(item)
            elif table == self._orders and str(item["SK"]).startswith(event_keys.COUNT_PREFIX):
                found_counts[str(item["SK"])[len(event_keys.COUNT_PREFIX) :]] = item
            elif table == self._orders:
                order = order_from_item(application_id, str(item["PK"]).split("#", 3)[3], item)
            elif table == self._profiles and item["PK"] != own_pk:
                recipients.add(profile_from_item(item).integration_id)
            elif table == self._profiles:
                profile = profile_from_item(item)
            elif table == self._config and catalog_items.is_catalog(item):
                found_catalog = catalog_items.catalog_from_item(item)
            elif table == self._config and catalog_items.is_item(item):
                stored_items.append(catalog_items.stored_item_from_item(item))
            elif table == self._config:
                version = live_version(codec.to_item(item))
            elif item["SK"] == coupon_items.COUPON_SK:
                coupon = coupon_items.coupon_from_item(item)
                found_coupons[coupon.value] = coupon
                coupon_holds[coupon.value] = holds_from_item(item)
            elif item["SK"] == referral_items.REFERRAL_SK:
                referral = referral_items.referral_from_item(item)
                found_referrals[referral.code] = referral
            elif item["SK"] == loyalty_items.LEDGER_SK:
                found_ledgers[(loyalty_items.program_of(item), loyalty_items.holder_of(item))] = item
            elif item["SK"] == loyalty_items.CARD_SK:
                found_cards[(loyalty_items.program_of(item), loyalty_items.holder_of(item))] = item
            elif item["SK"] == referral_items.FRIEND_SK:
                friend = referral_items.friend_record_from_item(item)
            elif str(item["SK"]).startswith(coupon_items.HOLDING_PREFIX):
                holdings[str(item["SK"])[len(coupon_items.HOLDING_PREFIX) :]] = coupon_items.holding_from_item(item)
            else:
                used.update(counters.used_from([item]))
        return Read(
            session,
            profile,
            order,
            version,
            used,
            profile_id,
            keys,
            found_coupons,
            codes,
            holdings,
            holder if codes else None,
            coupon_holds,
            found_referrals,
            referral_codes,
            friend,
            friend_holder,
            found_ledgers,
            ledger_refs,
            found_cards,
            frozenset(recipients),
            found_counts,
            types,
            counts_holder if types else None,
            {s.sku: state for s in stored_items if (state := s.visible(found_catalog)) is not None},
            found_audiences,
            audience_ids,
            (found_catalog is not None and not found_catalog.deleted) if catalog_skus or catalog else None,
            frozenset(catalog_skus),
        )

    def _get(self, wanted: Sequence[tuple[str, dict[str, str]]]) -> list[tuple[str, dict[str, Any]]]:
        """Past 100 keys (BatchGetItem's limit: a cart whose candidates bind many budget counters), the batches go
        out at once, so the read still takes one round trip's time."""
        chunks = [wanted[start : start + MAX_KEYS] for start in range(0, len(wanted), MAX_KEYS)]
        if len(chunks) <= 1:
            return [found for chunk in chunks for found in self._get_chunk(chunk)]
        # Each batch in a copy of the caller's context: request-scoped context (logging, the local runtime's
        # per-function IAM check) follows it into the pool's threads.
        contexts = [contextvars.copy_context() for _ in chunks]
        with ThreadPoolExecutor(len(chunks)) as pool:
            parts = pool.map(lambda context, chunk: context.run(self._get_chunk, chunk), contexts, chunks)
            return [found for part in parts for found in part]

    def _get_chunk(self, chunk: Sequence[tuple[str, dict[str, str]]]) -> list[tuple[str, dict[str, Any]]]:
        request: dict[str, Any] = {}
        for table, key in chunk:
            request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(codec.to_item(key))
        return read_batch(self._client, request)

    # -- item builders ------------------------------------------------------------------------------------------

    def session_write(self, application_id: int, stored: StoredSession, read_version: int) -> committer.Write:
        """The session, if nobody wrote it since it was read at `read_version` (0: it did not exist)."""
        item = to_item(application_id, stored)
        if read_version == 0:
            return committer.put(self._orders, item, condition="attribute_not_exists(PK)", failed=SessionConflictError)
        return committer.put(
            self._orders,
            item,
            condition="#version = :read",
            names={"#version": "version"},
            values={":read": read_version},
            failed=SessionConflictError,
        )

    def order_writes(self, old: Order | None, new: Order) -> list[committer.Write]:
        """The order and its customer-index entry, if the order is still as read (`old`; None: absent)."""
        order = committer.put(
            self._orders,
            order_to_item(new),
            condition="attribute_not_exists(PK)" if old is None else "#version = :version",
            names=None if old is None else {"#version": "version"},
            values=None if old is None else {":version": old.version},
            failed=SessionConflictError,
        )
        writes = [order, committer.put(self._orders, index_item(new))]
        if old is not None and (old.customer_id, old.created_at) != (new.customer_id, new.created_at):
            stale = {
                "PK": customer_orders_pk(new.application_id, old.customer_id),
                "SK": customer_order_sk(old.created_at, old.order_id),
            }
            writes.append(committer.delete(self._orders, stale))
        return writes

    def outbox_writes(self, records: Sequence[OutboxRecord]) -> list[committer.Write]:
        return [record_write(self._outbox, self._outbox_ttl, record) for record in records]

    @property
    def ledgers(self) -> str:
        return self._ledgers

    @property
    def loyalty_outbox(self) -> tuple[str, int]:
        """Where a ledger change's loyalty events go (table, TTL), with the change."""
        return self._outbox, self._outbox_ttl

    def recipient_check(self, application_id: int, integration_id: str) -> committer.Write:
        """A recipient's points go to a profile that exists when they are written (one erased or merged away since
        the read: read again, and the effect fails)."""
        key = {"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK}
        return committer.check(self._profiles, key, "attribute_exists(PK)", failed=loyalty_items.LedgerChangedError)

    @property
    def profiles(self) -> str:
        return self._profiles

    @property
    def events_table(self) -> str:
        """Where tracked events and their day counts live (patron.events.keys): the orders table."""
        return self._orders

    def commit(self, plan: Sequence[committer.Write]) -> None:
        self._committer.commit(plan, conflict=SessionConflictError)
