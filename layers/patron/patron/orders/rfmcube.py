"""Rfmcube's push API payloads (shared/reference/001): merge_customer, merge_order, delete_customer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from patron.errors import FieldIssue, ValidationError
from patron.orders.wire import OrderInput, parse_order
from patron.profiles.identifiers import normalise_email
from patron.profiles.model import attribute_issues, integration_id_issue, reserved_id_issue

T = TypeVar("T")


@dataclass(frozen=True)
class RfmcubeCustomer:
    customer_id: str | None
    email: str | None
    # Every other field the shop sends (createdAt, updatedAt, name, ...): kept as customer attributes.
    attributes: dict[str, Any]


def _envelope(payload: Any, entity: str) -> tuple[dict[str, Any], bool]:
    if not isinstance(payload, dict):
        raise ValidationError("The request is invalid.", [FieldIssue("$", "invalid_value", "Expected an object.")])
    issues = [
        FieldIssue(n, "unknown_field", "Unknown field.") for n in sorted(set(payload) - {"triggerIntegrations", entity})
    ]
    trigger = payload.get("triggerIntegrations", False)
    if not isinstance(trigger, bool):
        issues.append(FieldIssue("triggerIntegrations", "invalid_value", "Expected true or false."))
    body = payload.get(entity)
    if not isinstance(body, dict):
        issues.append(FieldIssue(entity, "missing_field" if body is None else "invalid_value", "Expected an object."))
    if issues:
        raise ValidationError("The request is invalid.", issues)
    return body, bool(trigger)  # type: ignore[return-value]


def _id(value: Any) -> str | None:
    """A string or an integer (1E2 would be another spelling of 100)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def parse_merge_customer(payload: Any) -> tuple[RfmcubeCustomer, bool]:
    customer, trigger = _envelope(payload, "customer")
    issues: list[FieldIssue] = []
    customer_id = _id(customer.get("id")) if customer.get("id") is not None else None
    if customer.get("id") is not None and (customer_id is None or integration_id_issue(customer_id)):
        issues.append(FieldIssue("customer.id", "invalid_value", "Expected a string or a number (1000 at most)."))
    elif customer_id is not None and (reserved := reserved_id_issue(customer_id, "customer.id")):
        issues.append(reserved)
    email = None
    if customer.get("email") is not None:
        email = normalise_email(customer["email"]) if isinstance(customer["email"], str) else None
        if email is None:
            issues.append(FieldIssue("customer.email", "invalid_value", "Not a valid email address."))
    if customer.get("id") is None and customer.get("email") is None:
        issues.append(FieldIssue("customer.id", "missing_field", "A customer needs an id or an email."))
    attributes = {name: value for name, value in customer.items() if name not in ("id", "email")}
    issues += [issue.under("customer") for issue in attribute_issues(attributes)]
    if issues:
        raise ValidationError("The customer is invalid.", [_rooted(issue) for issue in issues])
    return RfmcubeCustomer(customer_id, email, attributes), trigger


def _rooted(issue: FieldIssue) -> FieldIssue:
    """attribute_issues names fields `attributes.x`; here they sit directly in `customer`."""
    return FieldIssue(issue.path.replace("customer.attributes.", "customer.", 1), issue.code, issue.message)


def parse_merge_order(payload: Any) -> tuple[OrderInput, bool]:
    order, trigger = _envelope(payload, "order")
    return parse_order(order, root="order"), trigger


def parse_delete_customer(payload: Any) -> tuple[str | None, str | None]:
    if not isinstance(payload, dict):
        raise ValidationError("The request is invalid.", [FieldIssue("$", "invalid_value", "Expected an object.")])
    issues = [FieldIssue(n, "unknown_field", "Unknown field.") for n in sorted(set(payload) - {"id", "email"})]
    customer_id = _id(payload.get("id")) if payload.get("id") is not None else None
    if payload.get("id") is not None and customer_id is None:
        issues.append(FieldIssue("id", "invalid_value", "Expected a string or a number."))
    email = None
    if payload.get("email") is not None:
        email = normalise_email(payload["email"]) if isinstance(payload["email"], str) else None
        if email is None:
            issues.append(FieldIssue("email", "invalid_value", "Not a valid email address."))
    if payload.get("id") is None and payload.get("email") is None:
        issues.append(FieldIssue("id", "missing_field", "Give the customer's id, email, or both."))
    if issues:
        raise ValidationError("The request is invalid.", issues)
    return customer_id, email


def merge_customer_attributes(write: Callable[[], T]) -> T:
    """Runs the customer write, naming refused fields where Rfmcube sends them (`customer.<name>`)."""
    try:
        return write()
    except ValidationError as error:
        raise ValidationError(error.message, [_rooted(issue.under("customer")) for issue in error.details]) from None
