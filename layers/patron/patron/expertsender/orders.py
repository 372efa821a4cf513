"""ECDP's orders (POST /orders, PUT /orders/status) on Patron's one order model: an order posted the ECDP way is
translated into the order payload every dialect shares (patron.orders.wire) and stored by the same service, so it
counts in the customer's statistics, Rfmcube's and Talon.One's figures alike (docs/expertsender.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from patron.catalog.model import EntityKind
from patron.errors import FieldIssue, NotFoundError, ValidationError
from patron.expertsender.customers import (
    Catalog,
    NameValue,
    Profiles,
    consent_changes,
    resolve_customer,
    sent_consents,
    usable_phone,
)
from patron.expertsender.lenient import Reader, name_values
from patron.expertsender.lists import ORDER_MEMBERS, PRODUCT_MEMBERS, channels_by_id
from patron.expertsender.problems import ExpertSenderError
from patron.orders.model import Order, OrderState
from patron.orders.service import NOT_READ, NotRead
from patron.orders.wire import OrderInput, parse_order
from patron.profiles.identifiers import IdentifierPatch
from patron.profiles.model import CustomerProfile, new_guest_id

MAX_ITEMS = 1000
MODES = {"add": "Add", "addorreplace": "AddOrReplace", "replace": "Replace"}
STATUSES = {
    "placed": "placed",
    "paid": "paid",
    "completed": "completed",
    "canceled": "canceled",
    "cancelled": "canceled",
}
# What ECDP's statuses mean for the statistics unless the application's status mapping says otherwise: an order
# counts from the moment it is placed (Magento sends no status until it changes), a cancelled one does not.
STATES = {
    "placed": OrderState.SALE,
    "paid": OrderState.SALE,
    "completed": OrderState.SALE,
    "canceled": OrderState.CANCELLED,
}
# Patron's order fields and ECDP's names for them: error paths name what the client sent.
_NAMES = {"createdAt": "date", "amount": "totalValue", "items": "products"}


class SentOrder(msgspec.Struct, frozen=True):
    path: str
    payload: dict[str, Any]  # Patron's order payload, its customer still to resolve
    email: str | None
    phone: str | None
    crm_id: str | None
    status_sent: bool
    consents: list[tuple[int, str, str]]  # WooCommerce repeats the checkout's consents in the order's customer


def _products(reader: Reader, raw: Any, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for index, one in enumerate(reader.array(raw, path)):
        at = f"{path}[{index}]"
        product = reader.object(one, at, required=True)
        if product is None:
            continue
        item: dict[str, Any] = name_values(reader, product.get("productattributes"), f"{at}.productAttributes")
        fields = {
            "productId": reader.text(product.get("id"), f"{at}.id", 128, required=True),
            "name": reader.text(product.get("name"), f"{at}.name", 256),
            "price": reader.number(product.get("price"), f"{at}.price"),
            "quantity": reader.integer(product.get("quantity"), f"{at}.quantity"),
            "returned": reader.integer(product.get("returned"), f"{at}.returned"),
            "url": reader.text(product.get("url"), f"{at}.url", 2000),
            "imageUrl": reader.text(product.get("imageurl"), f"{at}.imageUrl", 2000),
            "category": reader.text(product.get("category"), f"{at}.category", 1000),
        }
        item.update({name: value for name, value in fields.items() if value is not None})
        items.append(item)
    return items


def _order(reader: Reader, raw: Any, path: str, now: str) -> SentOrder | None:
    found = reader.object(raw, path, required=True)
    if found is None:
        return None
    customer = reader.object(found.get("customer"), f"{path}.customer", required=True) or {}
    crm_id = reader.text(customer.get("crmid"), f"{path}.customer.crmId", 128)
    status = reader.choice(found.get("status"), f"{path}.status", STATUSES)
    own = {
        "websiteId": reader.integer(found.get("websiteid"), f"{path}.websiteId"),
        "timeZone": reader.text(found.get("timezone"), f"{path}.timeZone", 64),
        "returnsValue": reader.number(found.get("returnsvalue"), f"{path}.returnsValue"),
    }
    payload: dict[str, Any] = name_values(reader, found.get("orderattributes"), f"{path}.orderAttributes")
    payload.update(
        {
            "id": reader.text(found.get("id"), f"{path}.id", 128, required=True),
            # A null date (one Laravel client always sends one): the order is dated when it arrives.
            "createdAt": reader.text(found.get("date"), f"{path}.date", 64) or now,
            "amount": reader.number(found.get("totalvalue"), f"{path}.totalValue", required=True),
            "currency": reader.text(found.get("currency"), f"{path}.currency", 3),
            "items": _products(reader, found.get("products"), f"{path}.products"),
            "expertSender": {name: value for name, value in own.items() if value is not None},
        }
    )
    if status is not None:
        payload["status"] = status
    return SentOrder(
        path,
        payload,
        reader.text(customer.get("email"), f"{path}.customer.email", 320),
        reader.text(customer.get("phone"), f"{path}.customer.phone", 20),
        None if crm_id == "0" else crm_id,  # Magento's guests all have crmId "0": it names nobody (D7)
        status is not None,
        sent_consents(reader, customer.get("consentsdata"), f"{path}.customer.consentsData"),
    )


def _renamed(issue: FieldIssue, root: str) -> FieldIssue:
    """A Patron order issue (`data[2].createdAt`) named as the client sent it (`data[2].date`)."""
    rest = issue.path[len(root) + 1 :] if issue.path.startswith(f"{root}.") else issue.path
    head, dot, tail = rest.partition(".")
    bracket = head.find("[")
    name, index = (head[:bracket], head[bracket:]) if bracket >= 0 else (head, "")
    renamed = _NAMES.get(name, name) + index + dot + tail
    return FieldIssue(f"{root}.{renamed}", issue.code, issue.message)


class Orders(Protocol):
    def upsert(
        self, application_id: int, order: OrderInput, root: str = "", *, stored: Order | NotRead | None = NOT_READ
    ) -> Order: ...

    def get(self, application_id: int, order_id: str) -> Order: ...

    def soft_delete(self, application_id: int, order_id: str) -> Order: ...

    def update_status(
        self,
        application_id: int,
        order_id: str,
        status: str,
        label: str | None,
        default_state: OrderState | None = None,
        expect: Callable[[Order], bool] | None = None,
    ) -> Order: ...


class OrderCustomer(msgspec.Struct, frozen=True, rename="camel"):
    email: str | None
    phone: str | None
    crm_id: str | None


class ProductView(msgspec.Struct, frozen=True, rename="camel"):
    id: str | None
    name: str | None
    price: Decimal | None
    quantity: int | None
    returned: int | None
    url: str | None
    image_url: str | None
    category: str | None
    product_attributes: list[NameValue]


class OrderView(msgspec.Struct, frozen=True, rename="camel"):
    id: str
    date: str
    time_zone: str | None
    website_id: int | None
    status: str | None
    currency: str | None
    total_value: Decimal
    returns_value: Decimal | None
    customer: OrderCustomer
    products: list[ProductView]
    order_attributes: list[NameValue]
    is_deleted: bool


class OrderAnswer(msgspec.Struct, frozen=True):
    """ECDP's read answer: `{"status": 0, "data": {...}}`."""

    data: OrderView
    status: int = 0


def _product(item: dict[str, Any]) -> ProductView:
    def text(name: str) -> str | None:
        value = item.get(name)
        return str(value) if value is not None and not isinstance(value, dict | list) else None

    def whole(name: str) -> int | None:
        value = item.get(name)
        return int(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else None

    price = item.get("price")
    return ProductView(
        id=text("productId") or text("sku"),
        name=text("name"),
        price=Decimal(price) if isinstance(price, int | Decimal) and not isinstance(price, bool) else None,
        quantity=whole("quantity"),
        returned=whole("returned"),
        url=text("url"),
        image_url=text("imageUrl"),
        category=text("category"),
        product_attributes=[NameValue(k, v) for k, v in sorted(item.items()) if k not in PRODUCT_MEMBERS],
    )


def order_view(order: Order, customer: CustomerProfile | None) -> OrderView:
    """An order (posted through any dialect) as ECDP's read answers it; a deleted one has status `Deleted`."""
    found = order.extra.get("expertSender")
    own: dict[str, Any] = found if isinstance(found, dict) else {}
    ids = customer.identifiers if customer is not None else None
    website, returns = own.get("websiteId"), own.get("returnsValue")
    return OrderView(
        id=order.order_id,
        date=order.created_at,
        time_zone=str(own["timeZone"]) if own.get("timeZone") is not None else None,
        website_id=int(website) if website is not None else None,
        status="Deleted" if order.deleted else order.status,
        currency=order.currency,
        total_value=order.amount,
        returns_value=Decimal(returns) if returns is not None else None,
        customer=OrderCustomer(ids.email, ids.phone, ids.crm_id) if ids else OrderCustomer(None, None, None),
        products=[_product(item) for item in order.items],
        order_attributes=[NameValue(k, v) for k, v in sorted(order.extra.items()) if k not in ORDER_MEMBERS],
        is_deleted=order.deleted,
    )


class ExpertSenderOrders:
    def __init__(
        self,
        orders: Orders,
        profiles: Profiles,
        catalog: Catalog,
        new_id: Callable[[], str] = new_guest_id,
    ):
        self._orders = orders
        self._profiles = profiles
        self._catalog = catalog
        self._new_id = new_id

    def post(self, application_id: int, payload: Any, now: datetime | None = None) -> int:
        """Adds or replaces every order of a POST /orders, or none when one is invalid (400 naming each problem)
        or `mode` refuses one (Add: OrderAlreadyExists; Replace: OrderDoesNotExist). Returns how many."""
        stamp = (now or datetime.now(UTC)).isoformat()
        reader = Reader()
        body = reader.object(payload, "$", required=True) or {}
        mode = reader.choice(body.get("mode"), "mode", MODES, required=True) or "AddOrReplace"
        raw = reader.array(body.get("data"), "data", required=True)
        if not raw and "data" in body:
            reader.problem("data", "At least one order.")
        if len(raw) > MAX_ITEMS:
            raise ExpertSenderError(400, "TooManyItems", f"At most {MAX_ITEMS} orders per request.")
        sent = [one for index, item in enumerate(raw) if (one := _order(reader, item, f"data[{index}]", stamp))]
        issues = list(reader.issues)
        inputs: list[tuple[SentOrder, OrderInput]] = []
        for one in sent:
            if one.email is None and one.phone is None and one.crm_id is None:
                message = "An email, phone or crmId names the customer."
                issues.append(FieldIssue(f"{one.path}.customer", "missing_field", message))
            elif one.email is None and one.crm_id is None and usable_phone(one.phone) is None:
                # Refused before any order is written: the phone alone would name nobody.
                message = "A phone number in international form."
                issues.append(FieldIssue(f"{one.path}.customer.phone", "invalid_value", message))
            try:
                inputs.append((one, parse_order({**one.payload, "customerId": "pending"}, root=one.path)))
            except ValidationError as error:
                known = {issue.path for issue in issues}  # a member the reader refused is not named twice
                issues += [renamed for i in error.details if (renamed := _renamed(i, one.path)).path not in known]
        consents: dict[str, dict[str, Any]] = {}
        if any(one.consents for one in sent):
            channels = channels_by_id(self._catalog.list(application_id, EntityKind.CONSENT))
            consents = {one.path: consent_changes(one.consents, channels, issues) for one in sent}
        if issues:
            raise ValidationError("The orders are invalid.", issues)
        stored = {one.path: self._stored(application_id, order.order_id) for one, order in inputs}
        for one, _ in inputs:
            if mode == "Add" and stored[one.path] is not None:
                raise ExpertSenderError(400, "OrderAlreadyExists", f"{one.path}: the order exists (Add).")
            if mode == "Replace" and stored[one.path] is None:
                raise ExpertSenderError(400, "OrderDoesNotExist", f"{one.path}: no such order (Replace).")
        written: set[str] = set()
        for one, order in inputs:
            # An order sent twice in one request: the later one reads what the earlier one wrote.
            old = self._stored(application_id, order.order_id) if order.order_id in written else stored[one.path]
            written.add(order.order_id)
            status = order.status
            if not one.status_sent:  # Magento sends none: placed when new, else the stored one stays (D9)
                status = old.status if old is not None and old.status is not None else "placed"
            customer = resolve_customer(self._profiles, self._new_id, application_id, one.email, one.phone, one.crm_id)
            default = STATES.get(status or "")
            order = msgspec.structs.replace(order, customer_id=customer, status=status, default_state=default)
            self._orders.upsert(application_id, order, root=one.path, stored=old)
            if consents.get(one.path):
                self._profiles.update_customer(
                    application_id, customer, {}, IdentifierPatch(), None, consents[one.path]
                )
        return len(inputs)

    def _stored(self, application_id: int, order_id: str) -> Order | None:
        try:
            return self._orders.get(application_id, order_id)
        except NotFoundError:
            return None

    def read(self, application_id: int, order_id: str, website: str | None) -> OrderView:
        """GET /orders/id/{id} (also /orders/{id}), `?websiteId=`: the order, or 404 OrderNotFound."""
        order = self._found(application_id, order_id, website)
        return order_view(order, self._profiles.find_by_id(application_id, order.customer_id))

    def delete(self, application_id: int, order_id: str, website: str | None) -> None:
        """DELETE /orders/{id} (also /orders/id/{id}): a soft delete (status Deleted, out of the statistics);
        deleting a deleted order changes nothing and succeeds."""
        self._found(application_id, order_id, website)
        self._orders.soft_delete(application_id, order_id)

    def _found(self, application_id: int, order_id: str, website: str | None) -> Order:
        reader = Reader()
        wanted = reader.integer(website, "websiteId")
        if reader.issues:
            raise ValidationError("The website id is invalid.", reader.issues)
        order = self._stored(application_id, order_id)
        own = order.extra.get("expertSender") if order is not None else None
        if order is None or (wanted is not None and (not isinstance(own, dict) or own.get("websiteId") != wanted)):
            raise ExpertSenderError(404, "OrderNotFound", "No order with this id.", "order_not_found")
        return order

    def update_status(self, application_id: int, payload: Any) -> Order:
        """PUT /orders/status `{orderId, orderStatus, websiteId?}`: 404 OrderNotFound for an unknown order, or
        one of another website when `websiteId` is sent."""
        reader = Reader()
        body = reader.object(payload, "$", required=True) or {}
        order_id = reader.text(body.get("orderid"), "orderId", 128, required=True)
        status = reader.choice(body.get("orderstatus"), "orderStatus", STATUSES, required=True)
        website = reader.integer(body.get("websiteid"), "websiteId")
        if reader.issues or order_id is None or status is None:
            raise ValidationError("The order status is invalid.", reader.issues)

        def same_website(order: Order) -> bool:
            own = order.extra.get("expertSender")
            return website is None or (isinstance(own, dict) and own.get("websiteId") == website)

        try:
            return self._orders.update_status(application_id, order_id, status, None, STATES[status], same_website)
        except NotFoundError:
            raise ExpertSenderError(404, "OrderNotFound", "No order with this id.", "order_not_found") from None
