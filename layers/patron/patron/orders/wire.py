"""Order payloads as integrations send them (Rfmcube's merge_order, Patron's PUT /v1/orders/{orderId}), read
into an OrderInput with every problem reported by its field path. Fields we do not know are kept as sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from patron.clock import normalise_timestamp
from patron.errors import FieldIssue, ValidationError
from patron.http.jsonbody import encoded_size
from patron.orders.model import (
    MAX_ITEMS_PER_ORDER,
    MAX_ORDER_JSON_BYTES,
    Order,
    OrderState,
    order_id_issue,
)
from patron.orders.repository import OrderSummary
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


@dataclass(frozen=True)
class OrderInput:
    order_id: str
    customer_id: str | None
    customer_email: str | None
    created_at: str
    amount: Decimal
    updated_at: str | None = None
    currency: str | None = None
    status: str | None = None
    status_label: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _join(root: str, name: str) -> str:
    return f"{root}.{name}" if root else name


def _text_or_number(value: Any) -> str | None:
    """Ids and statuses arrive as strings or integers (Rfmcube sends both); both read as text. A number with a
    fraction or an exponent is refused: 1E2 and 100 would be two ids for one value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return None


def _money(amount: Decimal) -> bool:
    """Amounts sum exactly in statistics and read back exactly as JSON numbers."""
    if not amount.is_finite():
        return False
    _, digits, exponent = amount.normalize().as_tuple()
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return amount.is_zero() or (len(digits) <= 15 and decimals <= 6 and amount.adjusted() < 15)


def parse_order(payload: Any, order_id: str | None = None, root: str = "") -> OrderInput:
    """`order_id` comes from the path when the route has one; otherwise from the payload's `id`."""
    if not isinstance(payload, dict):
        raise ValidationError(
            "The order is invalid.", [FieldIssue(root or "$", "invalid_value", "Expected an object.")]
        )
    issues: list[FieldIssue] = []

    def path(name: str) -> str:
        return _join(root, name)

    sent_id = _text_or_number(payload.get("id")) if "id" in payload else None
    if "id" in payload and sent_id is None:
        issues.append(FieldIssue(path("id"), "invalid_value", "Expected a string or a number."))
    if order_id is not None and sent_id is not None and sent_id != order_id:
        issues.append(FieldIssue(path("id"), "invalid_value", "Differs from the order id in the path."))
    resolved_id = order_id if order_id is not None else sent_id
    if resolved_id is None:
        if "id" not in payload:
            issues.append(FieldIssue(path("id"), "missing_field", "Required field."))
        resolved_id = ""
    elif issue := order_id_issue(resolved_id, path("id") if order_id is None else "orderId"):
        issues.append(issue)

    customer_id: str | None = None
    if payload.get("customerId") is not None:
        customer_id = _text_or_number(payload["customerId"])
        if customer_id is None:
            issues.append(FieldIssue(path("customerId"), "invalid_value", "Expected a string or a number."))
        elif issue := integration_id_issue(customer_id):
            issues.append(FieldIssue(path("customerId"), issue.code, issue.message))
            customer_id = None
    customer_email: str | None = None
    if payload.get("customerEmail") is not None:
        raw = payload["customerEmail"]
        customer_email = normalise_email(raw) if isinstance(raw, str) else None
        if customer_email is None:
            issues.append(FieldIssue(path("customerEmail"), "invalid_value", "Not a valid email address."))
    if payload.get("customerId") is None and payload.get("customerEmail") is None:
        issues.append(FieldIssue(path("customerId"), "missing_field", "An order needs customerId or customerEmail."))

    created_at = _timestamp(payload, "createdAt", path, issues, required=True) or ""
    updated_at = _timestamp(payload, "updatedAt", path, issues, required=False)

    amount = payload.get("amount")
    if "amount" not in payload:
        issues.append(FieldIssue(path("amount"), "missing_field", "Required field."))
        amount = Decimal(0)
    elif isinstance(amount, bool) or not isinstance(amount, int | Decimal) or not _money(Decimal(amount)):
        issues.append(
            FieldIssue(path("amount"), "invalid_value", "Expected an amount: at most 15 digits, 6 after the point.")
        )
        amount = Decimal(0)

    currency = payload.get("currency")
    if currency is not None and (not isinstance(currency, str) or not 1 <= len(currency) <= 10):
        issues.append(FieldIssue(path("currency"), "invalid_value", "Expected a currency code."))
        currency = None
    status = _text_or_number(payload["status"]) if payload.get("status") is not None else None
    if payload.get("status") is not None and (status is None or len(status) > 100):
        issues.append(FieldIssue(path("status"), "invalid_value", "Expected a string or a number (100 at most)."))
    label = payload.get("statusLabel")
    if label is not None and (not isinstance(label, str) or len(label) > 200):
        issues.append(FieldIssue(path("statusLabel"), "invalid_value", "Expected a string (200 at most)."))
        label = None

    items = payload.get("items") or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
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
        amount=Decimal(amount),
        updated_at=updated_at,
        currency=currency,
        status=status,
        status_label=label,
        items=items,
        extra=extra,
    )


def _timestamp(payload: dict[str, Any], name: str, path: Any, issues: list[FieldIssue], required: bool) -> str | None:
    raw = payload.get(name)
    if raw is None:
        if required:
            issues.append(FieldIssue(path(name), "missing_field", "Required field."))
        return None
    normalised = normalise_timestamp(raw) if isinstance(raw, str) else None
    if normalised is None:
        issues.append(FieldIssue(path(name), "invalid_value", "Expected an ISO-8601 date or date-time."))
    return normalised


def order_response(order: Order) -> dict[str, Any]:
    body: dict[str, Any] = {
        **order.extra,
        "orderId": order.order_id,
        "customerId": order.customer_id,
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
        "amount": order.amount,
        "currency": order.currency,
        "status": order.status,
        "statusLabel": order.status_label,
        "state": order.state.value,
        "countsAsSale": order.counts_as_sale,
        "isDeleted": order.deleted,
        "items": order.items,
        "version": order.version,
    }
    return body


def summary_response(summary: OrderSummary) -> dict[str, Any]:
    return {
        "orderId": summary.order_id,
        "createdAt": summary.created_at,
        "amount": summary.amount,
        "currency": summary.currency,
        "status": summary.status,
        "statusLabel": summary.status_label,
        "state": summary.state.value,
        "isDeleted": summary.deleted,
    }


def parse_state(value: Any, path: str) -> OrderState:
    try:
        return OrderState(value)
    except ValueError:
        raise ValidationError(
            "An order state is invalid.",
            [FieldIssue(path, "invalid_value", "One of sale, pending, cancelled, returned.")],
        ) from None


@dataclass(frozen=True)
class StatusChange:
    status: str
    label: str | None


def parse_status(payload: Any) -> StatusChange:
    issues: list[FieldIssue] = []
    if not isinstance(payload, dict):
        raise ValidationError("The status is invalid.", [FieldIssue("$", "invalid_value", "Expected an object.")])
    unknown = set(payload) - {"status", "statusLabel"}
    issues += [FieldIssue(name, "unknown_field", "Unknown field.") for name in sorted(unknown)]
    status = _text_or_number(payload.get("status"))
    if status is None or not 0 < len(status) <= 100:
        issues.append(FieldIssue("status", "invalid_value", "Expected a string or a number (100 at most)."))
    label = payload.get("statusLabel")
    if label is not None and (not isinstance(label, str) or len(label) > 200):
        issues.append(FieldIssue("statusLabel", "invalid_value", "Expected a string (200 at most)."))
    if issues:
        raise ValidationError("The status is invalid.", issues)
    assert status is not None
    return StatusChange(status=status, label=label)


def parse_mapping(payload: Any) -> StatusMapping:
    if not isinstance(payload, dict) or not isinstance(payload.get("states", {}), dict):
        raise ValidationError(
            "The mapping is invalid.", [FieldIssue("states", "invalid_value", "Expected an object of statuses.")]
        )
    issues = [
        FieldIssue(name, "unknown_field", "Unknown field.")
        for name in sorted(set(payload) - {"states", "defaultState"})
    ]
    states: dict[str, OrderState] = {}
    for raw, state in payload.get("states", {}).items():
        try:
            states[raw] = parse_state(state, f"states.{raw}")
        except ValidationError as error:
            issues += error.details
        if not raw or len(raw) > 100:
            issues.append(FieldIssue(f"states.{raw}", "invalid_name", "A status has 1 to 100 characters."))
    default = OrderState.SALE
    if "defaultState" in payload:
        try:
            default = parse_state(payload["defaultState"], "defaultState")
        except ValidationError as error:
            issues += error.details
    if issues:
        raise ValidationError("The mapping is invalid.", issues)
    return StatusMapping(states=states, default_state=default)


def mapping_response(mapping: StatusMapping) -> dict[str, Any]:
    return {
        "states": {raw: state.value for raw, state in sorted(mapping.states.items())},
        "defaultState": mapping.default_state.value,
        "updated": mapping.updated,
    }
