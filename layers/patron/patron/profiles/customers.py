"""Patron's own customer routes' wire shapes (Talon.One style: JSON, camelCase, integrationIds), carrying the
identifiers ExpertSender, Rfmcube and Maestra integrations send: email, phone, CRM id, device ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from patron.errors import FieldIssue, ValidationError
from patron.http.wire import Email, Open
from patron.profiles.consents import Consent
from patron.profiles.identifiers import KEEP, Change, IdentifierPatch, normalise_id, parse_patch
from patron.profiles.model import CustomerProfile, reserved_id_issue


class CustomerRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    # UNSET (absent) leaves an identifier as it is; null removes it.
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    phone: str | msgspec.UnsetType | None = msgspec.UNSET
    crm_id: str | msgspec.UnsetType | None = msgspec.UNSET
    device_ids: list[str] = []
    remove_device_ids: list[str] = []
    attributes: dict[str, Any] = {}
    # Per channel: {"value": true, "time": "2024-05-01T10:00:00Z", "source": "checkout"} (time defaults to now).
    # Checked channel by channel (patron.profiles.consents), so every problem names its channel.
    consents: dict[str, Any] = {}


class DeviceRequest(msgspec.Struct, forbid_unknown_fields=True):
    attributes: dict[str, Any] = {}
    consents: dict[str, Any] = {}


def client_id(integration_id: str) -> str:
    """A customer id a client chose: anything but the prefixes of Patron's anonymous profiles."""
    if issue := reserved_id_issue(integration_id):
        raise ValidationError("The integration id is reserved.", [issue])
    return integration_id


def device_id(raw: str) -> str:
    device = normalise_id(raw)
    if device is None:
        raise ValidationError(
            "The device id is invalid.", [FieldIssue("deviceId", "invalid_value", "1 to 255 printable characters.")]
        )
    return device


def _change(value: str | msgspec.UnsetType | None) -> Change:
    return KEEP if value is msgspec.UNSET else value


def identifier_patch(request: CustomerRequest) -> IdentifierPatch:
    patch, issues = parse_patch(
        email=_change(request.email),
        phone=_change(request.phone),
        crm_id=_change(request.crm_id),
        device_ids=request.device_ids,
        remove_device_ids=request.remove_device_ids,
    )
    if issues:
        raise ValidationError("The customer's identifiers are invalid.", issues)
    return patch


def expected_version(if_match: str | None) -> int | None:
    """`If-Match: 3` or `If-Match: "3"` (the ETag we send); 0 asks for a customer that does not exist yet."""
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationError(
            "The If-Match header is invalid.",
            [FieldIssue("header.If-Match", "invalid_value", "Expected a version number (the ETag).")],
        )
    return int(text)


class CustomerStatsItem(msgspec.Struct, rename="camel"):
    """The customer's order statistics (orders that count as sales)."""

    orders_count: int
    total_sales: Decimal
    average_order_value: Decimal | None
    first_order_at: str | None
    last_order_at: str | None


class ConsentItem(msgspec.Struct):
    value: bool
    time: str
    source: str | msgspec.UnsetType = msgspec.UNSET


class CustomerResponse(msgspec.Struct, rename="camel"):
    integration_id: str
    id: int
    version: int
    created: str
    updated: str
    email: str | None
    phone: str | None
    crm_id: str | None
    device_ids: list[str]
    attributes: dict[str, Any]
    stats: CustomerStatsItem
    consents: dict[str, ConsentItem]


def _consent(consent: Consent) -> ConsentItem:
    return ConsentItem(consent.value, consent.time, msgspec.UNSET if consent.source is None else consent.source)


def customer_response(profile: CustomerProfile) -> CustomerResponse:
    ids, stats = profile.identifiers, profile.stats
    return CustomerResponse(
        integration_id=profile.integration_id,
        id=profile.profile_id,
        version=profile.version,
        created=profile.created,
        updated=profile.updated,
        email=ids.email,
        phone=ids.phone,
        crm_id=ids.crm_id,
        device_ids=sorted(ids.device_ids),
        attributes=profile.attributes,
        stats=CustomerStatsItem(
            orders_count=stats.orders_count,
            total_sales=stats.sales_total,
            average_order_value=stats.average_order_value,
            first_order_at=stats.first_order_at,
            last_order_at=stats.last_order_at,
        ),
        consents={channel: _consent(consent) for channel, consent in sorted(profile.consents.items())},
    )


def etag(profile: CustomerProfile) -> str:
    return f'"{profile.version}"'


class CustomerDataResponse(Open, rename="camel"):
    """Everything Patron holds about a person (GET /v1/customer_data/{integrationId}): the profile as
    GET /v1/customers/{integrationId} answers it (null for a customer known only by orders that never counted as
    sales), every order as GET /v1/orders/{orderId} answers it, and each later context's own section."""

    integration_id: str
    exported_at: str
    profile: CustomerResponse | None
    orders: list[dict[str, Any]]


_EXPORT_MEMBERS = frozenset({"integrationId", "exportedAt", "profile", "orders"})


def customer_data_export(document: dict[str, Any]) -> CustomerDataResponse:
    """The exporter's document (patron.customers.export) as its answer."""
    profile = document["profile"]
    return CustomerDataResponse(
        extra={name: section for name, section in document.items() if name not in _EXPORT_MEMBERS},
        integration_id=document["integrationId"],
        exported_at=document["exportedAt"],
        profile=None if profile is None else msgspec.convert(profile, CustomerResponse),
        orders=document.get("orders", []),
    )
