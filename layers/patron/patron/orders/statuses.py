"""Each application's mapping of raw order statuses to states: which count as a sale, which as cancelled or
returned. Unmapped statuses, and orders sent without a status, take the default state (a sale, unless the
application says otherwise), as Rfmcube treats them all the same until the mapping is configured."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from patron.dynamo import codec
from patron.orders.model import OrderState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_MAPPED_STATUSES = 500
_CACHE_SECONDS = 30.0  # how late a mapping change may reach a warm function


class StatusMapping(msgspec.Struct, frozen=True):
    states: dict[str, OrderState] = msgspec.field(default_factory=dict)
    default_state: OrderState = OrderState.SALE
    updated: str | None = None

    def state_of(self, status: str | None) -> OrderState:
        if status is None:
            return self.default_state
        return self.states.get(status, self.default_state)


class StatusMappingRepository(Protocol):
    def get(self, application_id: int, fresh: bool = False) -> StatusMapping:
        """The mapping, from a short cache unless `fresh` (a recalculation must see the latest)."""
        ...

    def put(self, application_id: int, mapping: StatusMapping) -> None: ...


def _pk(application_id: int) -> str:
    return f"APP#{application_id}#ORDER_STATUSES"


class DynamoStatusMappingRepository:
    """One item per application in the config table, cached briefly: every order write needs it."""

    def __init__(self, client: DynamoDBClient, table_name: str, monotonic: Callable[[], float] = time.monotonic):
        self._client = client
        self._table = table_name
        self._monotonic = monotonic
        self._cache: dict[int, tuple[float, StatusMapping]] = {}

    def get(self, application_id: int, fresh: bool = False) -> StatusMapping:
        now = self._monotonic()
        cached = self._cache.get(application_id)
        if cached and cached[0] > now and not fresh:
            return cached[1]
        result = self._client.get_item(
            TableName=self._table, Key=codec.to_item({"PK": _pk(application_id), "SK": "MAPPING"})
        )
        mapping = _from_item(codec.from_item(result["Item"])) if "Item" in result else StatusMapping()
        self._cache[application_id] = (now + _CACHE_SECONDS, mapping)
        return mapping

    def put(self, application_id: int, mapping: StatusMapping) -> None:
        item = {
            "PK": _pk(application_id),
            "SK": "MAPPING",
            "states": {raw: state.value for raw, state in mapping.states.items()},
            "defaultState": mapping.default_state.value,
            "updated": mapping.updated,
        }
        self._client.put_item(TableName=self._table, Item=codec.to_item(item))
        self._cache.pop(application_id, None)


def _from_item(item: dict[str, Any]) -> StatusMapping:
    return StatusMapping(
        states={str(raw): OrderState(str(state)) for raw, state in (item.get("states") or {}).items()},
        default_state=OrderState(str(item.get("defaultState", OrderState.SALE.value))),
        updated=str(item["updated"]) if item.get("updated") else None,
    )
