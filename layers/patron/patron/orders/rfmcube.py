"""Rfmcube's push API payloads (shared/reference/001): merge_customer, merge_order, delete_customer, their answers,
and the rules past their types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from patron.errors import FieldIssue, ValidationError
from patron.http.validation import parse_model
from patron.http.wire import Email
from patron.orders.wire import Id, OrderRequest
from patron.profiles.identifiers import normalise_email
from patron.profiles.model import attribute_issues, integration_id_issue, reserved_id_issue

T = TypeVar("T")


class RfmcubeCustomerItem(msgspec.Struct):
    """Rfmcube's customer: an id (a guest has none), an email, and any other member (createdAt, name, ...), kept
    as the customer's attributes."""

    id: Id | None = None
    email: Email | None = None


class MergeCustomerRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    trigger_integrations: bool = False
    customer: RfmcubeCustomerItem


class MergeOrderRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    trigger_integrations: bool = False
    order: OrderRequest


class DeleteCustomerRequest(msgspec.Struct, forbid_unknown_fields=True):
    """By id, then by email; one of them at least."""

    id: Id | None = None
    email: Email | None = None


class MergeCustomerResponse(msgspec.Struct, rename="camel"):
    success: bool
    customer_id: str
    trigger_integrations: bool


class MergeOrderResponse(msgspec.Struct, rename="camel"):
    success: bool
    order_id: str
    customer_id: str
    trigger_integrations: bool


class DeleteCustomerResponse(msgspec.Struct, rename="camel"):
    success: bool
    deleted_orders: int


class RfmcubeCustomer(msgspec.Struct, frozen=True):
    customer_id: str | None
    email: str | None
    # Every other field the shop sends (createdAt, updatedAt, name, ...): kept as customer attributes.
    attributes: dict[str, Any]


def customer_input(fields: RfmcubeCustomerItem, payload: dict[str, Any]) -> RfmcubeCustomer:
    """The customer's rules past its types, every broken one at once. `payload` is the JSON object `fields` was
    decoded from: its other members are the attributes."""
    issues: list[FieldIssue] = []
    customer_id = None if fields.id is None else str(fields.id)
    if customer_id is not None and integration_id_issue(customer_id):
        issues.append(FieldIssue("customer.id", "invalid_value", "Expected a string or a number (1000 at most)."))
    elif customer_id is not None and (reserved := reserved_id_issue(customer_id, "customer.id")):
        issues.append(reserved)
    email = None
    if fields.email is not None:
        email = normalise_email(fields.email)
        if email is None:
            issues.append(FieldIssue("customer.email", "invalid_value", "Not a valid email address."))
    if fields.id is None and fields.email is None:
        issues.append(FieldIssue("customer.id", "missing_field", "A customer needs an id or an email."))
    attributes = {name: value for name, value in payload.items() if name not in ("id", "email")}
    issues += [issue.under("customer") for issue in attribute_issues(attributes)]
    if issues:
        raise ValidationError("The customer is invalid.", [_rooted(issue) for issue in issues])
    return RfmcubeCustomer(customer_id, email, attributes)


def parse_merge_customer(payload: Any) -> tuple[RfmcubeCustomer, bool]:
    """merge_customer's body (a decoded JSON value), as the import's records are read too."""
    body = parse_model(MergeCustomerRequest, payload)
    return customer_input(body.customer, payload["customer"]), body.trigger_integrations


def _rooted(issue: FieldIssue) -> FieldIssue:
    """attribute_issues names fields `attributes.x`; here they sit directly in `customer`."""
    return FieldIssue(issue.path.replace("customer.attributes.", "customer.", 1), issue.code, issue.message)


def delete_request(body: DeleteCustomerRequest) -> tuple[str | None, str | None]:
    """The customer's id and normalised email, at least one of them."""
    issues: list[FieldIssue] = []
    email = None
    if body.email is not None:
        email = normalise_email(body.email)
        if email is None:
            issues.append(FieldIssue("email", "invalid_value", "Not a valid email address."))
    if body.id is None and body.email is None:
        issues.append(FieldIssue("id", "missing_field", "Give the customer's id, email, or both."))
    if issues:
        raise ValidationError("The request is invalid.", issues)
    return (None if body.id is None else str(body.id)), email


def merge_customer_attributes(write: Callable[[], T]) -> T:
    """Runs the customer write, naming refused fields where Rfmcube sends them (`customer.<name>`)."""
    try:
        return write()
    except ValidationError as error:
        raise ValidationError(error.message, [_rooted(issue.under("customer")) for issue in error.details]) from None
