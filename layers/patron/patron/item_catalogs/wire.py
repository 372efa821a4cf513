"""Talon.One's catalog shapes (`talon_one.models`: CatalogSyncRequest, CatalogAction and its payloads
AddItemCatalogAction, PatchItemCatalogAction, PatchManyItemsCatalogAction, RemoveItemCatalogAction,
RemoveManyItemsCatalogAction, AddPriceAdjustmentCatalogAction with NewPriceAdjustment and CatalogActionFilter;
Catalog), and the management API's own (NewCatalogRequest, CatalogListResponse, CatalogItemsResponse), as msgspec
Structs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from patron.clock import iso
from patron.errors import FieldIssue, ValidationError
from patron.http.validation import MAX_FIELD_ISSUES, parse_model
from patron.http.wire import Amount
from patron.item_catalogs import actions as act
from patron.item_catalogs.keys import storable_sku
from patron.item_catalogs.model import Catalog, ItemState
from patron.item_catalogs.service import SyncRequest
from patron.profiles.model import value_issues

MAX_ACTIONS = 1000
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
ActionType = Literal["ADD", "PATCH", "PATCH_MANY", "REMOVE", "REMOVE_MANY", "ADD_PRICE_ADJUSTMENT"]
Attributes = Annotated[dict[str, Any], msgspec.Meta(max_length=100)]
Filters = Annotated[list["FilterIn"], msgspec.Meta(max_length=100)]


class _In(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    pass


class _Out(msgspec.Struct, omit_defaults=True, rename="camel"):
    pass


class CatalogAction(_In, frozen=True):
    type: ActionType
    payload: dict[str, Any]


class CatalogSyncRequest(_In, frozen=True):
    actions: Annotated[list[CatalogAction], msgspec.Meta(min_length=1, max_length=MAX_ACTIONS)]
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None


class ProductIn(_In, frozen=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class AddPayload(_In, frozen=True):
    sku: Sku
    price: Amount | None = None
    attributes: Attributes | None = None
    product: ProductIn | None = None
    replace_if_exists: bool = False


class PatchPayload(_In, frozen=True):
    sku: Sku
    price: Amount | None = None
    attributes: Attributes | None = None
    product: ProductIn | None = None
    create_if_not_exists: bool = False


class RemovePayload(_In, frozen=True):
    sku: Sku


class FilterIn(_In, frozen=True):
    attr: Name
    op: act.Operator
    value: Any = None


class PatchManyPayload(_In, frozen=True):
    price: Amount | None = None
    filters: Filters | None = None
    attributes: Attributes | None = None


class RemoveManyPayload(_In, frozen=True):
    filters: Filters | None = None


class NewPriceAdjustment(_In, frozen=True):
    price_type: Name
    reference_id: Name
    price: Amount | None = None
    calculated_at: datetime | None = None
    effective_from: datetime | None = None
    effective_until: datetime | None = None
    context_id: Name | None = None


class AddPriceAdjustmentPayload(_In, frozen=True):
    sku: Sku
    adjustments: Annotated[list[NewPriceAdjustment], msgspec.Meta(min_length=1, max_length=act.MAX_ADJUSTMENTS)]


_PAYLOADS: dict[str, type[msgspec.Struct]] = {
    "ADD": AddPayload,
    "PATCH": PatchPayload,
    "PATCH_MANY": PatchManyPayload,
    "REMOVE": RemovePayload,
    "REMOVE_MANY": RemoveManyPayload,
    "ADD_PRICE_ADJUSTMENT": AddPriceAdjustmentPayload,
}


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return iso(value if value.tzinfo is not None else value.replace(tzinfo=UTC))  # naive: UTC


def _price(value: Amount | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _filters(sent: list[FilterIn] | None) -> tuple[act.Filter, ...]:
    return tuple(act.Filter(f.attr, f.op, f.value) for f in sent or ())


def _action(payload: msgspec.Struct) -> act.BySku | act.Many:
    if isinstance(payload, AddPayload):
        product = payload.product.name if payload.product else None
        return act.Add(payload.sku, _price(payload.price), payload.attributes, product, payload.replace_if_exists)
    if isinstance(payload, PatchPayload):
        product = payload.product.name if payload.product else None
        return act.Patch(payload.sku, _price(payload.price), payload.attributes, product, payload.create_if_not_exists)
    if isinstance(payload, RemovePayload):
        return act.Remove(payload.sku)
    if isinstance(payload, PatchManyPayload):
        return act.PatchMany(_price(payload.price), payload.attributes, _filters(payload.filters))
    if isinstance(payload, RemoveManyPayload):
        return act.RemoveMany(_filters(payload.filters))
    assert isinstance(payload, AddPriceAdjustmentPayload)
    adjustments = tuple(
        act.NewAdjustment(
            a.price_type,
            _price(a.price),
            a.reference_id,
            _instant(a.calculated_at),
            _instant(a.effective_from),
            _instant(a.effective_until),
            a.context_id,
        )
        for a in payload.adjustments
    )
    return act.AdjustPrice(payload.sku, adjustments)


def _payload_issues(position: int, payload: msgspec.Struct) -> list[FieldIssue]:
    root = f"actions[{position}].payload"
    issues: list[FieldIssue] = []
    sku = getattr(payload, "sku", None)
    if sku is not None and not storable_sku(sku):
        issues.append(FieldIssue(f"{root}.sku", "sku_too_long", "A catalog SKU takes at most 1,022 bytes of UTF-8."))
    attributes = getattr(payload, "attributes", None)
    if attributes:
        issues += value_issues(attributes, f"{root}.attributes")
    filters = getattr(payload, "filters", None)
    if filters:
        issues += act.filter_issues(_filters(filters), f"{root}.filters")
        issues += value_issues([f.value for f in filters], f"{root}.filters")
    if isinstance(payload, AddPriceAdjustmentPayload):
        for index, adjustment in enumerate(payload.adjustments):
            starts, ends = adjustment.effective_from, adjustment.effective_until
            if starts is not None and ends is not None and _instant(ends) <= _instant(starts):  # type: ignore[operator]
                path = f"{root}.adjustments[{index}].effectiveUntil"
                issues.append(FieldIssue(path, "invalid_period", "effectiveUntil must come after effectiveFrom."))
    return issues


def sync_request(body: CatalogSyncRequest) -> SyncRequest:
    """The sync as the service takes it; every fault of the request (a 400 naming each path) found first: payloads
    that are not their type's shape, actions of another type than the first (Talon.One: one type per request),
    a SKU named twice, a SKU too long for a key, unstorable values, non-numeric values for GE LE GT LT."""
    issues: list[FieldIssue] = []
    first = body.actions[0].type
    parsed: list[act.BySku | act.Many] = []
    seen: set[str] = set()
    for position, action in enumerate(body.actions):
        if action.type != first:
            message = "A sync takes actions of one type only."
            issues.append(FieldIssue(f"actions[{position}].type", "mixed_action_types", message))
            continue
        try:
            payload = parse_model(_PAYLOADS[action.type], action.payload, f"actions[{position}].payload")
        except ValidationError as error:
            issues += error.details
            continue
        issues += _payload_issues(position, payload)
        sku = getattr(payload, "sku", None)
        if sku is not None:
            if sku in seen:
                message = "A SKU may be named once per sync."
                issues.append(FieldIssue(f"actions[{position}].payload.sku", "duplicate_sku", message))
            seen.add(sku)
        parsed.append(_action(payload))
    if issues:
        raise ValidationError("The catalog sync is invalid.", issues[:MAX_FIELD_ISSUES])
    by_sku = tuple(a for a in parsed if isinstance(a, act.Add | act.Patch | act.Remove | act.AdjustPrice))
    many = tuple(a for a in parsed if isinstance(a, act.PatchMany | act.RemoveMany))
    return SyncRequest(by_sku=by_sku, many=many, version=body.version)


# -- answers ----------------------------------------------------------------------------------------------------


class CatalogResponse(_Out):
    """Talon.One's Catalog."""

    id: int
    created: str
    account_id: int
    modified: str
    name: str
    description: str
    version: int
    created_by: int
    subscribed_applications_ids: list[int]


def catalog_response(catalog: Catalog, application_id: int, account_id: int) -> CatalogResponse:
    return CatalogResponse(
        id=catalog.id,
        created=catalog.created,
        account_id=account_id,
        modified=catalog.modified,
        name=catalog.name,
        description=catalog.description,
        version=catalog.version,
        created_by=0,  # Patron has no users: catalogs are created by management keys
        subscribed_applications_ids=[application_id],
    )


class NewCatalogRequest(_In, frozen=True):
    """Talon.One's NewCatalog, less `subscribedApplicationsIds`: a catalog serves the application of the key that
    creates it."""

    name: Name
    description: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class CatalogListResponse(_Out):
    total_result_size: int
    data: list[CatalogResponse]


class CatalogItemView(_Out):
    sku: str
    created: str
    version: int
    price: Decimal | None = None
    attributes: dict[str, Any] | None = None
    product: dict[str, str] | None = None
    prices: dict[str, Any] | None = None


class CatalogItemListResponse(msgspec.Struct, rename="camel"):
    """A page of a catalog's items, in SKU order; `nextCursor` (absent on the last page) asks for the next."""

    data: list[CatalogItemView]
    has_more: bool
    next_cursor: str | None = None


def item_view(state: ItemState) -> CatalogItemView:
    prices = None
    if state.adjustments:
        prices = {"adjustments": [msgspec.to_builtins(a, builtin_types=(Decimal,)) for a in state.adjustments]}
    return CatalogItemView(
        sku=state.sku,
        created=state.created,
        version=state.version,
        price=state.price,
        attributes=dict(state.attributes) or None,
        product={"name": state.product} if state.product else None,
        prices=prices,
    )
