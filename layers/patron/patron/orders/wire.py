"""The orders' wire: order payloads as integrations send them (Patron's PUT /v1/orders/{orderId}, Rfmcube's
merge_order and import), decoded into OrderRequest by msgspec and read into an OrderInput by the order's own rules,
every problem reported by its field path; fields we do not know are kept as sent. Then the answers, the status
change and the status mapping."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from patron.clock import normalise_timestamp
from patron.errors import FieldIssue, ValidationError
from patron.http.jsonbody import encoded_size
from patron.http.validation import parse_model
from patron.http.wire import Email, Number, Open, to_builtins
from patron.orders import repository
from patron.orders.model import (
    MAX_ITEMS_PER_ORDER,
    MAX_ORDER_JSON_BYTES,
    Order,
    OrderState,
    order_id_issue,
)
from patron.orders.statuses import StatusMapping
from patron.profiles.identifiers import normalise_email
from patron.profiles.model import integration_id_issue, value_issues

# The fields an order payload may carry that Patron reads; every other field is kept as sent.
ORDER_FIELDS = frozenset(
    {
        "id",
        "customerId",
        "customerEmail",
        "createdAt",
        "updatedAt",
        "amount",
        "currency",
        "status",
        "statusLabel",
        "items",
    }
)


class OrderInput(msgspec.Struct, frozen=True):
    order_id: str
    customer_id: str | None
    customer_email: str | None
    created_at: str
    amount: Decimal
    updated_at: str | None = None
    currency: str | None = None
    status: str | None = None
    status_label: str | None = None
    items: list[dict[str, Any]] = msgspec.field(default_factory=list)
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    # The state the sending dialect gives its status when the application's mapping does not name it (ECDP's
    # `canceled` is cancelled out of the box); None: the mapping's default.
    default_state: OrderState | None = None


# Ids and statuses arrive as strings or integers (Rfmcube sends both); both read as text. A number with a fraction
# or an exponent is refused: 1E2 and 100 would be two ids for one value.
Id = str | int
Status = Annotated[str, Meta(max_length=100)] | int
Label = Annotated[str, Meta(max_length=200)]
# Read by normalise_timestamp; documented as a date-time, the form answers use.
Timestamp = Annotated[
    str,
    Meta(
        extra_json_schema={"format": "date-time"},
        description="ISO-8601: a date-time (naive: UTC) or a date; years 1900 to 2999 once in UTC.",
    ),
]
# A list of objects, checked as a whole (`items`, not `items[3]`, names a list that is not one); each item's values
# are checked by the catalog's rules.
Items = Annotated[list[Any], Meta(extra_json_schema={"items": {"type": "object"}})]


class OrderRequest(msgspec.Struct, kw_only=True, rename="camel"):
    """An order as integrations send it: Patron's PUT /v1/orders/{orderId}, Rfmcube's merge_order `order` and its
    import's orders. Members not named here (delivery, payment, custom fields) are kept as sent."""

    id: Id | msgspec.UnsetType = msgspec.UNSET
    customer_id: Id | None = None
    customer_email: Email | None = None
    created_at: Timestamp
    updated_at: Timestamp | None = None
    amount: Number
    currency: Annotated[str, Meta(min_length=1, max_length=10)] | None = None
    status: Status | None = None
    status_label: Label | None = None
    items: Items | None = None


def _join(root: str, name: str) -> str:
    return f"{root}.{name}" if root else name


def _text(value: Id | None) -> str | None:
    return None if value is None else str(value)


def _money(amount: Decimal) -> bool:
    """Amounts sum exactly in statistics and read back exactly as JSON numbers."""
    if not amount.is_finite():
        return False
    _, digits, exponent = amount.normalize().as_tuple()
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return amount.is_zero() or (len(digits) <= 15 and decimals <= 6 and amount.adjusted() < 15)


def parse_order(payload: Any, order_id: str | None = None, root: str = "") -> OrderInput:
    """An order payload (a decoded JSON value) as the domain reads it, every problem named by its path under
    `root`. `order_id` comes from the path when the route has one; otherwise from the payload's `id`."""
    return order_input(parse_model(OrderRequest, payload, root), payload, order_id, root)


def order_input(body: OrderRequest, payload: dict[str, Any], order_id: str | None = None, root: str = "") -> OrderInput:
    """The order's rules past its types (ids, email, dates, amount, items, the members kept as sent), every broken
    one at once. `payload` is the JSON object `body` was decoded from: its other members are the order's `extra`."""
    issues: list[FieldIssue] = []

    def path(name: str) -> str:
        return _join(root, name)

    sent_id = None if body.id is msgspec.UNSET else str(body.id)
    if order_id is not None and sent_id is not None and sent_id != order_id:
        issues.append(FieldIssue(path("id"), "invalid_value", "Differs from the order id in the path."))
    resolved_id = order_id if order_id is not None else sent_id
    if resolved_id is None:
        issues.append(FieldIssue(path("id"), "missing_field", "Required field."))
        resolved_id = ""
    elif issue := order_id_issue(resolved_id, path("id") if order_id is None else "orderId"):
        issues.append(issue)

    customer_id = _text(body.customer_id)
    if customer_id is not None and (issue := integration_id_issue(customer_id)):
        issues.append(FieldIssue(path("customerId"), issue.code, issue.message))
        customer_id = None
    customer_email: str | None = None
    if body.customer_email is not None:
        customer_email = normalise_email(body.customer_email)
        if customer_email is None:
            issues.append(FieldIssue(path("customerEmail"), "invalid_value", "Not a valid email address."))
    if body.customer_id is None and body.customer_email is None:
        issues.append(FieldIssue(path("customerId"), "missing_field", "An order needs customerId or customerEmail."))

    created_at = _timestamp(body.created_at, path("createdAt"), issues) or ""
    updated_at = _timestamp(body.updated_at, path("updatedAt"), issues)

    amount = Decimal(body.amount)
    if not _money(amount):
        issues.append(
            FieldIssue(path("amount"), "invalid_value", "Expected an amount: at most 15 digits, 6 after the point.")
        )

    items = body.items or []
    if not all(isinstance(item, dict) for item in items):
        issues.append(FieldIssue(path("items"), "invalid_value", "Expected a list of objects."))
        items = []
    elif len(items) > MAX_ITEMS_PER_ORDER:
        issues.append(FieldIssue(path("items"), "too_many", f"At most {MAX_ITEMS_PER_ORDER} items per order."))
    else:
        for index, item in enumerate(items):
            issues.extend(value_issues(item, path(f"items[{index}]")))

    extra = {name: value for name, value in payload.items() if name not in ORDER_FIELDS}
    for name, value in extra.items():
        if not name:
            issues.append(FieldIssue(path(name), "invalid_name", "Field names must not be empty."))
        else:
            issues.extend(value_issues(value, path(name)))
    if not issues and encoded_size(payload) > MAX_ORDER_JSON_BYTES:
        issues.append(FieldIssue(root or "$", "too_large", f"An order is at most {MAX_ORDER_JSON_BYTES} bytes."))
    if issues:
        raise ValidationError("The order is invalid.", issues)
    return OrderInput(
        order_id=resolved_id,
        customer_id=customer_id,
        customer_email=customer_email,
        created_at=created_at,
        amount=amount,
        updated_at=updated_at,
        currency=body.currency,
        status=_text(body.status),
        status_label=body.status_label,
        items=items,
        extra=extra,
    )


def _timestamp(raw: str | None, path: str, issues: list[FieldIssue]) -> str | None:
    if raw is None:
        return None
    normalised = normalise_timestamp(raw)
    if normalised is None:
        issues.append(FieldIssue(path, "invalid_value", "Expected an ISO-8601 date or date-time."))
    return normalised


class OrderResponse(Open, rename="camel"):
    """An order as stored: the members Patron reads, what it made of them (state, countsAsSale), and every other
    member as it was sent."""

    order_id: str
    customer_id: str
    created_at: str
    updated_at: str | None
    amount: Decimal
    currency: str | None
    status: str | None
    status_label: str | None
    state: OrderState
    counts_as_sale: bool
    is_deleted: bool
    items: list[dict[str, Any]]
    version: int


def order_response(order: Order) -> OrderResponse:
    return OrderResponse(
        extra=order.extra,
        order_id=order.order_id,
        customer_id=order.customer_id,
        created_at=order.created_at,
        updated_at=order.updated_at,
        amount=order.amount,
        currency=order.currency,
        status=order.status,
        status_label=order.status_label,
        state=order.state,
        counts_as_sale=order.counts_as_sale,
        is_deleted=order.deleted,
        items=order.items,
        version=order.version,
    )


def order_document(order: Order) -> dict[str, Any]:
    """The order as GET /v1/orders/{orderId} answers it, as JSON-ready values (a customer's data export)."""
    document: dict[str, Any] = to_builtins(order_response(order))
    return document


class OrderSummaryItem(msgspec.Struct, rename="camel"):
    order_id: str
    created_at: str
    amount: Decimal
    currency: str | None
    status: str | None
    status_label: str | None
    state: OrderState
    is_deleted: bool


class OrderListResponse(msgspec.Struct, rename="camel"):
    """A page of a customer's orders, newest first; `nextCursor` asks for the next page (null: none)."""

    data: list[OrderSummaryItem]
    next_cursor: str | None


def summary_response(summary: repository.OrderSummary) -> OrderSummaryItem:
    return OrderSummaryItem(
        order_id=summary.order_id,
        created_at=summary.created_at,
        amount=summary.amount,
        currency=summary.currency,
        status=summary.status,
        status_label=summary.status_label,
        state=summary.state,
        is_deleted=summary.deleted,
    )


def order_list_response(summaries: list[repository.OrderSummary], cursor: str | None) -> OrderListResponse:
    return OrderListResponse(data=[summary_response(s) for s in summaries], next_cursor=cursor)


class OrderStatusRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """PUT /v1/orders/{orderId}/status."""

    status: Annotated[str, Meta(min_length=1, max_length=100)] | int
    status_label: Label | None = None


class StatusChange(msgspec.Struct, frozen=True):
    status: str
    label: str | None


def status_change(body: OrderStatusRequest) -> StatusChange:
    return StatusChange(status=str(body.status), label=body.status_label)


class StatusMappingRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """PUT /v1/order_statuses: raw statuses (1 to 100 characters) and the state each maps to; unmapped statuses
    and orders without one take `defaultState`."""

    states: dict[str, OrderState] = {}
    default_state: OrderState = OrderState.SALE


def status_mapping(body: StatusMappingRequest) -> StatusMapping:
    issues = [
        FieldIssue(f"states.{raw}", "invalid_name", "A status has 1 to 100 characters.")
        for raw in body.states
        if not raw or len(raw) > 100
    ]
    if issues:
        raise ValidationError("The mapping is invalid.", issues)
    return StatusMapping(states=dict(body.states), default_state=body.default_state)


class StatusMappingResponse(msgspec.Struct, rename="camel"):
    states: dict[str, OrderState]
    default_state: OrderState
    updated: str | None


def mapping_response(mapping: StatusMapping) -> StatusMappingResponse:
    return StatusMappingResponse(
        states=dict(sorted(mapping.states.items())), default_state=mapping.default_state, updated=mapping.updated
    )
