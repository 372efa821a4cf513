"""The six sync actions of Talon.One's catalog sync, decided without I/O: what each SKU becomes.

Semantics (docs/item-catalogs.md, "Sync actions"): ADD creates, or with `replaceIfExists` replaces the attributes
and product (the price is kept unless sent); PATCH changes the fields sent (an attribute set to null is removed),
or with `createIfNotExists` creates; REMOVE deletes; PATCH_MANY and REMOVE_MANY do the same to every item their
filters match (all of them without filters); ADD_PRICE_ADJUSTMENT adds adjustments to an item's prices (a null
price withdraws that price type). An ADD of an existing SKU is 409 `catalog_item_exists`; a PATCH, REMOVE or
ADD_PRICE_ADJUSTMENT of a missing one is 404 `catalog_item_not_found`; each names every action at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import msgspec

from patron.errors import FieldIssue, PatronError, ValidationError
from patron.item_catalogs.model import ItemState, PriceAdjustment

MAX_ADJUSTMENTS = 100  # per item: every adjustment is read with the item by each session that holds its SKU
MAX_ITEM_BYTES = 64 * 1024  # per state of an item: two states (current and staged) stay far inside 400 KB

Operator = Literal["EQ", "LT", "LE", "GT", "GE", "IN"]
NUMERIC_OPERATORS = frozenset({"LT", "LE", "GT", "GE"})


class Filter(msgspec.Struct, frozen=True):
    attr: str
    op: Operator
    value: Any


class Add(msgspec.Struct, frozen=True):
    sku: str
    price: Decimal | None
    attributes: Mapping[str, Any] | None
    product: str | None
    replace_if_exists: bool


class Patch(msgspec.Struct, frozen=True):
    sku: str
    price: Decimal | None
    attributes: Mapping[str, Any] | None
    product: str | None
    create_if_not_exists: bool


class Remove(msgspec.Struct, frozen=True):
    sku: str


class NewAdjustment(msgspec.Struct, frozen=True):
    price_type: str
    price: Decimal | None  # None: the price type no longer applies to the SKU
    reference_id: str
    calculated_at: str | None
    effective_from: str | None
    effective_until: str | None
    context_id: str | None


class AdjustPrice(msgspec.Struct, frozen=True):
    sku: str
    adjustments: tuple[NewAdjustment, ...]


class PatchMany(msgspec.Struct, frozen=True):
    price: Decimal | None
    attributes: Mapping[str, Any] | None
    filters: tuple[Filter, ...]


class RemoveMany(msgspec.Struct, frozen=True):
    filters: tuple[Filter, ...]


BySku = Add | Patch | Remove | AdjustPrice
Many = PatchMany | RemoveMany


class CatalogItemConflictError(PatronError):
    def __init__(self, details: list[FieldIssue]):
        message = "An item with this SKU is already in the catalog (send replaceIfExists to replace it)."
        super().__init__(message=message, code="catalog_item_exists", status=409, details=details)


class CatalogItemNotFoundError(PatronError):
    def __init__(self, details: list[FieldIssue]):
        message = "No item with this SKU in the catalog."
        super().__init__(message=message, code="catalog_item_not_found", status=404, details=details)


def _sku_path(position: int) -> str:
    return f"actions[{position}].payload.sku"


def _merged(current: Mapping[str, Any], sent: Mapping[str, Any] | None) -> dict[str, Any]:
    if sent is None:
        return dict(current)
    merged = {**current, **sent}
    return {name: value for name, value in merged.items() if value is not None}


def _created(action: Add | Patch, version: int, now: str) -> ItemState:
    kept = {name: value for name, value in (action.attributes or {}).items() if value is not None}
    return ItemState(
        sku=action.sku, created=now, version=version, price=action.price, attributes=kept, product=action.product
    )


def _adjusted(item: ItemState, sent: Sequence[NewAdjustment], version: int, now: str) -> ItemState:
    kept = list(item.adjustments)
    for adjustment in sent:
        if adjustment.price is None:
            kept = [a for a in kept if a.price_type != adjustment.price_type]
            continue
        kept = [a for a in kept if a.reference_id != adjustment.reference_id]
        kept.append(
            PriceAdjustment(
                price_type=adjustment.price_type,
                price=adjustment.price,
                reference_id=adjustment.reference_id,
                calculated_at=adjustment.calculated_at or now,
                effective_from=adjustment.effective_from,
                effective_until=adjustment.effective_until,
                context_id=adjustment.context_id,
            )
        )
    return msgspec.structs.replace(item, adjustments=tuple(kept), version=version)


def decide_by_sku(
    actions: Sequence[BySku], found: Mapping[str, ItemState | None], version: int, now: str
) -> dict[str, ItemState | None]:
    """What each SKU named becomes (None: removed) under catalog version `version`; raises naming every action at
    fault (409 before 404: an ADD conflict is the likelier mistake to report first)."""
    conflicts: list[FieldIssue] = []
    missing: list[FieldIssue] = []
    outcome: dict[str, ItemState | None] = {}
    for position, action in enumerate(actions):
        current = found.get(action.sku)
        if isinstance(action, Add):
            if current is not None and not action.replace_if_exists:
                conflicts.append(FieldIssue(_sku_path(position), "catalog_item_exists", "The SKU exists."))
                continue
            if current is None:
                outcome[action.sku] = _created(action, version, now)
            else:
                outcome[action.sku] = msgspec.structs.replace(
                    current,
                    version=version,
                    price=action.price if action.price is not None else current.price,
                    attributes=_merged({}, action.attributes),
                    product=action.product,
                )
        elif isinstance(action, Patch):
            if current is None and not action.create_if_not_exists:
                missing.append(FieldIssue(_sku_path(position), "catalog_item_not_found", "No item with this SKU."))
                continue
            if current is None:
                outcome[action.sku] = _created(action, version, now)
            else:
                outcome[action.sku] = patched(current, action.price, action.attributes, action.product, version)
        elif current is None:
            missing.append(FieldIssue(_sku_path(position), "catalog_item_not_found", "No item with this SKU."))
        elif isinstance(action, Remove):
            outcome[action.sku] = None
        else:
            outcome[action.sku] = _adjusted(current, action.adjustments, version, now)
    if conflicts:
        raise CatalogItemConflictError(conflicts)
    if missing:
        raise CatalogItemNotFoundError(missing)
    return outcome


def patched(
    item: ItemState, price: Decimal | None, attributes: Mapping[str, Any] | None, product: str | None, version: int
) -> ItemState:
    return msgspec.structs.replace(
        item,
        version=version,
        price=price if price is not None else item.price,
        attributes=_merged(item.attributes, attributes),
        product=product if product is not None else item.product,
    )


def apply_many(action: Many, item: ItemState, version: int) -> ItemState | Literal[False] | None:
    """What a PATCH_MANY or REMOVE_MANY makes of `item`: False when its filters leave it alone."""
    if not matches(action.filters, item.attributes):
        return False
    if isinstance(action, RemoveMany):
        return None
    return patched(item, action.price, action.attributes, None, version)


# -- filters ----------------------------------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)


def _equal(held: Any, wanted: Any) -> bool:
    held_number, wanted_number = _number(held), _number(wanted)
    if held_number is not None and wanted_number is not None:
        return held_number == wanted_number
    if isinstance(wanted, str) and held_number is not None:  # IN's comma-separated text against a number
        try:
            return held_number == Decimal(wanted.strip())
        except ArithmeticError:
            return False
    if isinstance(wanted, str) and isinstance(held, str):
        return held == wanted.strip() or held == wanted
    return bool(held == wanted)


def _choices(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return value.split(",")
    return [value]


def _match(condition: Filter, held: Any) -> bool:
    if held is None:
        return False
    if condition.op == "EQ":
        return _equal(held, condition.value)
    if condition.op == "IN":
        if isinstance(held, list):  # a list attribute matches when any of its values is one of the choices
            return any(_equal(one, choice) for one in held for choice in _choices(condition.value))
        return any(_equal(held, choice) for choice in _choices(condition.value))
    number, bound = _number(held), _number(condition.value)
    if number is None or bound is None:
        return False
    return {"LT": number < bound, "LE": number <= bound, "GT": number > bound, "GE": number >= bound}[condition.op]


def matches(filters: Sequence[Filter], attributes: Mapping[str, Any]) -> bool:
    """Filters are joined by AND; none matches every item."""
    return all(_match(condition, attributes.get(condition.attr)) for condition in filters)


def filter_issues(filters: Sequence[Filter], root: str) -> list[FieldIssue]:
    """GE, LE, GT and LT compare numbers only (Talon.One): another value is refused, not matched against nothing."""
    return [
        FieldIssue(f"{root}[{index}].value", "filter_value_not_numeric", "This operator compares numbers only.")
        for index, condition in enumerate(filters)
        if condition.op in NUMERIC_OPERATORS and _number(condition.value) is None
    ]


def state_size_issue(state: ItemState | None, path: str) -> FieldIssue | None:
    if state is None:
        return None
    if len(msgspec.json.encode(state)) > MAX_ITEM_BYTES:
        return FieldIssue(path, "catalog_item_too_large", f"An item holds at most {MAX_ITEM_BYTES} bytes of JSON.")
    if len(state.adjustments) > MAX_ADJUSTMENTS:
        return FieldIssue(path, "too_many_adjustments", f"An item holds at most {MAX_ADJUSTMENTS} price adjustments.")
    return None


def refuse(issues: list[FieldIssue]) -> ValidationError:
    return ValidationError("The catalog sync is invalid.", issues)
