"""A DynamoDB meter we own: calls per operation and the capacity units AWS would charge for them.

Attach it to a boto3 DynamoDB client (`DynamoMeter().attach(client)`); it listens on botocore's event system and
never changes a request. Capacity is computed from item sizes by the rules AWS documents, because neither moto's
nor DynamoDB Local's `ConsumedCapacity` can be trusted:

* item size (CapacityUnitCalculations.html): the sum over attributes of the UTF-8 length of the name plus the
  size of the value. Strings: UTF-8 bytes. Numbers: 1 byte per two significant digits (leading and trailing zeros
  trimmed) + 1 byte, which AWS calls approximate. Binary: raw bytes. Boolean and null: 1 byte. List and map:
  3 bytes + for each element 1 byte + its size (a map element's size includes its name). Sets: the sum of their
  elements (AWS documents no overhead for sets).
* writes (read-write-operations.html): 1 unit per 1 KB, rounded up per item. PutItem and UpdateItem charge the
  larger of the item before and after; DeleteItem the deleted item; a failed condition still charges the size of
  the existing item (at least 1 unit). BatchWriteItem rounds each item separately.
* reads: 1 unit per 4 KB, rounded up per item (at least 1); eventually consistent reads cost half. Query and Scan
  add up the sizes of the items read, then round up once. Transactions cost double.

The meter only sees what crosses the wire, so where the size it needs is not there it says so in `basis`:
UpdateItem without `ReturnValues=ALL_NEW` is priced on the key and the values written (a lower bound); the
item's size before a write is taken from the last image of that key this meter saw, if any.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

READ_UNIT_BYTES = 4 * 1024
WRITE_UNIT_BYTES = 1024
CONDITION_FAILED = "ConditionalCheckFailedException"

AttributeValue = Mapping[str, Any]  # wire format: {"S": "x"}, {"N": "12.5"}, {"M": {...}}, ...
Item = Mapping[str, AttributeValue]

_CONTEXT_KEY = "patron_bench_meter_params"
# Binary values as base64 text, as on the wire (binary_size reads either); anything else JSON has no type for
# (a response's metadata: datetimes...) as text, which pricing never reads.
_PENDING = msgspec.json.Encoder(enc_hook=str)
_INSERT = re.compile(r'\s*INSERT\s+INTO\s+"([^"]+)"\s+VALUE\s*\{(.*)\}\s*$', re.IGNORECASE | re.DOTALL)
_VALUE_NAME = re.compile(r"'((?:[^']|'')*)'\s*:\s*\?")


# -- item sizes ----------------------------------------------------------------------------------------------


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number: one per two significant digits, plus one (zero counts no digits)."""
    try:
        digits = list(Decimal(text).as_tuple().digits)
    except InvalidOperation:
        raise ValueError(f"not a DynamoDB number: {text!r}") from None
    while digits and digits[-1] == 0:
        digits.pop()
    while digits and digits[0] == 0:
        digits.pop(0)
    return (len(digits) + 1) // 2 + 1


def binary_size(value: bytes | bytearray | str) -> int:
    """Raw bytes; a string is taken as the base64 text of the wire format."""
    if isinstance(value, str):
        return len(base64.b64decode(value))
    return len(value)


def value_size(value: AttributeValue) -> int:
    """Bytes of one attribute value (without its name)."""
    if len(value) != 1:
        raise ValueError(f"an attribute value has exactly one type: {sorted(value)}")
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode("utf-8"))
    if kind == "N":
        return number_size(str(data))
    if kind == "B":
        return binary_size(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(element).encode("utf-8")) for element in data)
    if kind == "NS":
        return sum(number_size(str(element)) for element in data)
    if kind == "BS":
        return sum(binary_size(element) for element in data)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(element) for name, element in data.items())
    raise ValueError(f"unknown attribute type {kind!r}")


def item_size(item: Item) -> int:
    """Bytes of an item: each attribute's UTF-8 name plus its value."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool = False, transactional: bool = False) -> float:
    """Read units for one item (or one Query/Scan page) of `size` bytes; a missing item still costs the minimum."""
    blocks = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * blocks
    return float(blocks) if consistent else blocks / 2


def write_units(size: int, *, transactional: bool = False) -> int:
    blocks = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return 2 * blocks if transactional else blocks


# -- what the meter records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """The capacity one call consumed on one table, and how the figure was obtained."""

    table: str
    read_units: float = 0.0
    write_units: float = 0.0
    item_bytes: int | None = None
    basis: str = ""
    consistent: bool | None = None  # reads only: strongly consistent or not


@dataclass(frozen=True)
class Call:
    operation: str
    charges: tuple[Charge, ...]
    error: str | None = None

    @property
    def read_units(self) -> float:
        return sum(charge.read_units for charge in self.charges)

    @property
    def write_units(self) -> float:
        return sum(charge.write_units for charge in self.charges)

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(charge.table for charge in self.charges)


@dataclass
class OperationTotals:
    calls: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    errors: int = 0


def totals(calls: Iterable[Call]) -> dict[str, OperationTotals]:
    """Calls and units per operation name."""
    result: dict[str, OperationTotals] = {}
    for call in calls:
        entry = result.setdefault(call.operation, OperationTotals())
        entry.calls += 1
        entry.read_units += call.read_units
        entry.write_units += call.write_units
        entry.errors += call.error is not None
    return result


def _jsonable(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)


def _key_id(key: Item) -> str:
    return json.dumps(key, sort_keys=True, default=_jsonable)


# -- the meter -----------------------------------------------------------------------------------------------


class DynamoMeter:
    """Counts DynamoDB calls (and HTTP attempts, retries included) and prices them in capacity units."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        # Calls heard but not priced yet: pricing walks every item's attributes, and doing it on the caller's
        # thread would slow the very calls being measured (a tenth of the import worker's Python time). Their
        # request and response are kept as JSON bytes: kept as dicts, an import's millions of them made every
        # full collection of the garbage collector walk them, on the measured calls' time.
        self._pending: list[tuple[str, bytes, bytes, str | None, Any]] = []
        self._attempts: dict[str, int] = {}
        # The last size seen of each item, by (table, key): the "before" image of later writes.
        self._images: dict[tuple[str, str], int] = {}
        # Key attribute names per table, learnt from requests that carry a `Key`.
        self._key_names: dict[str, frozenset[str]] = {}

    # -- wiring ------------------------------------------------------------------------------------------

    def _handlers(self) -> list[tuple[str, Any, str]]:
        prefix = f"patron-bench-meter-{id(self)}"
        return [
            ("before-parameter-build.dynamodb.*", self._on_params, f"{prefix}-params"),
            ("before-send.dynamodb.*", self._on_send, f"{prefix}-send"),
            ("after-call.dynamodb.*", self._on_response, f"{prefix}-response"),
        ]

    def attach(self, client: Any) -> DynamoMeter:
        for event, handler, unique_id in self._handlers():
            client.meta.events.register(event, handler, unique_id=unique_id)
        return self

    def detach(self, client: Any) -> None:
        for event, _, unique_id in self._handlers():
            client.meta.events.unregister(event, unique_id=unique_id)

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            self._settle()
            return list(self._calls)

    @property
    def attempts(self) -> dict[str, int]:
        """HTTP requests sent per operation: more than `calls` when botocore retried."""
        with self._lock:
            return dict(self._attempts)

    def mark(self) -> int:
        with self._lock:
            return len(self._calls) + len(self._pending)

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            self._settle()
            return list(self._calls[mark:])

    def reset(self) -> None:
        with self._lock:
            self._settle()
            self._calls.clear()
            self._attempts.clear()

    # -- event handlers ----------------------------------------------------------------------------------

    def _on_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # `context` is this call's own dict, handed again to after-call: the request travels with it.
        context[_CONTEXT_KEY] = params

    def _on_send(self, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self._attempts[operation] = self._attempts.get(operation, 0) + 1

    def _on_response(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        params: dict[str, Any] | None = context.pop(_CONTEXT_KEY, None)
        if params is None:  # the call began before this meter was attached (a background consumer's): not ours
            return
        status = int(getattr(http_response, "status_code", 200) or 200)
        error = str(parsed.get("Error", {}).get("Code") or "error") if status >= 300 else None
        request, response = _PENDING.encode(params), _PENDING.encode(parsed)
        with self._lock:
            self._pending.append((str(model.name), request, response, error, self._tag()))

    def _tag(self) -> Any:
        """What a subclass wants to know of the calling context, taken when the call is heard."""
        return None

    def _tagged(self, call: Call, tag: Any) -> None:
        """Hands a priced call its tag (see `_tag`)."""

    def _settle(self) -> None:
        """Prices the calls heard so far, in the order they were heard (a write's price depends on the item's
        size before it). Callers hold the lock."""
        pending, self._pending = self._pending, []
        for operation, params, response, error, tag in pending:
            self._tagged(self._price(operation, msgspec.json.decode(params), msgspec.json.decode(response), error), tag)

    # -- pricing -----------------------------------------------------------------------------------------

    def record(self, operation: str, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None) -> Call:
        """Prices one call from its request parameters and parsed response (wire-format items)."""
        with self._lock:
            self._settle()
            call = self._price(operation, params, response, error)
            self._tagged(call, self._tag())
        return call

    def _price(self, operation: str, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None) -> Call:
        pricer = getattr(self, f"_price_{operation}", None)
        if pricer is not None:
            charges = tuple(pricer(params, response, error))
        else:
            charges = (Charge(str(params.get("TableName", "")), basis="no capacity metered for this operation"),)
        call = Call(operation=operation, charges=charges, error=error)
        self._calls.append(call)
        return call

    def _learn_key(self, table: str, key: Item) -> None:
        self._key_names[table] = frozenset(key)

    def learn_key_names(self, table: str, names: Iterable[str]) -> None:
        """Tells the meter a table's key attributes before any request carrying a `Key` does (a run of batch
        writes only), so it can follow each item's size."""
        self._key_names[table] = frozenset(names)

    def item_sizes(self) -> dict[tuple[str, str], int]:
        """The last size written of each item seen, by (table, key as JSON): what storing the same data with a
        single write per item would cost, item by item."""
        with self._lock:
            self._settle()
            return dict(self._images)

    def _key_in(self, table: str, item: Item) -> Item | None:
        names = self._key_names.get(table)
        if not names or not names <= item.keys():
            return None
        return {name: item[name] for name in names}

    def _seen(self, table: str, key: Item | None) -> int | None:
        return None if key is None else self._images.get((table, _key_id(key)))

    def _remember(self, table: str, key: Item | None, size: int | None) -> None:
        if key is None:
            return
        if size is None:
            self._images.pop((table, _key_id(key)), None)
        else:
            self._images[(table, _key_id(key))] = size

    def _failed_write(self, table: str, key: Item | None, response: Mapping[str, Any], error: str) -> Charge:
        if error != CONDITION_FAILED:
            return Charge(table, basis=f"{error}: not charged")
        if "Item" in response:
            existing: int | None = item_size(response["Item"])
            how = "existing item returned (ReturnValuesOnConditionCheckFailure)"
        else:
            existing = self._seen(table, key)
            how = "existing item from an earlier image" if existing is not None else "existing item unknown: minimum"
        return Charge(
            table,
            write_units=write_units(existing or 0),
            item_bytes=existing,
            basis=f"condition failed; {how}",
        )

    @staticmethod
    def _consistency(consistent: bool) -> str:
        return "strongly consistent" if consistent else "eventually consistent"

    def _price_GetItem(self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None) -> list[Charge]:
        table, key = str(params["TableName"]), params["Key"]
        self._learn_key(table, key)
        if error:
            return [Charge(table, basis=f"{error}: not charged")]
        consistent = bool(params.get("ConsistentRead"))
        item = response.get("Item")
        if item is None:
            size, how = 0, "no such item: minimum"
        elif "ProjectionExpression" in params or "AttributesToGet" in params:
            seen = self._seen(table, key)
            size = max(item_size(item), seen or 0)
            how = (
                "projected: whole item from an earlier image"
                if seen
                else "projected: lower bound (AWS charges whole item)"
            )
        else:
            size, how = item_size(item), "item returned"
            self._remember(table, key, size)
        units = read_units(size, consistent=consistent)
        basis = f"{how}; {self._consistency(consistent)}"
        return [Charge(table, read_units=units, item_bytes=size, basis=basis, consistent=consistent)]

    def _price_PutItem(self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None) -> list[Charge]:
        table, item = str(params["TableName"]), params["Item"]
        key = self._key_in(table, item)
        if error:
            return [self._failed_write(table, key, response, error)]
        new = item_size(item)
        if "Attributes" in response:
            before: int | None = item_size(response["Attributes"])
            how = "max(new item, old item returned)"
        else:
            before = self._seen(table, key)
            how = "max(new item, earlier image)" if before is not None else "new item (old item not seen)"
        self._remember(table, key, new)
        size = max(new, before or 0)
        return [Charge(table, write_units=write_units(size), item_bytes=size, basis=how)]

    def _written_lower_bound(self, params: Mapping[str, Any]) -> int:
        names = params.get("ExpressionAttributeNames") or {}
        values = params.get("ExpressionAttributeValues") or {}
        updates = params.get("AttributeUpdates") or {}
        return (
            item_size(params["Key"])
            + sum(len(str(name).encode("utf-8")) for name in names.values())
            + sum(value_size(value) for value in values.values())
            + sum(len(name.encode("utf-8")) + value_size(u["Value"]) for name, u in updates.items() if "Value" in u)
        )

    def _price_UpdateItem(
        self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None
    ) -> list[Charge]:
        table, key = str(params["TableName"]), params["Key"]
        self._learn_key(table, key)
        if error:
            return [self._failed_write(table, key, response, error)]
        returned = params.get("ReturnValues", "NONE")
        attributes = response.get("Attributes")
        before = self._seen(table, key)
        if returned == "ALL_NEW" and attributes is not None:
            after = item_size(attributes)
            self._remember(table, key, after)
            how = (
                "max(after: ALL_NEW, before: earlier image)"
                if before is not None
                else "after: ALL_NEW (before not seen)"
            )
        elif returned == "ALL_OLD" and attributes is not None:
            before = item_size(attributes)
            after = self._written_lower_bound(params)
            self._remember(table, key, None)
            how = "max(before: ALL_OLD, key + values written): lower bound"
        else:
            after = self._written_lower_bound(params)
            self._remember(table, key, None)
            how = f"ReturnValues={returned}: key + values written, lower bound"
        size = max(after, before or 0)
        return [Charge(table, write_units=write_units(size), item_bytes=size, basis=how)]

    def _price_DeleteItem(
        self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None
    ) -> list[Charge]:
        table, key = str(params["TableName"]), params["Key"]
        self._learn_key(table, key)
        if error:
            return [self._failed_write(table, key, response, error)]
        if "Attributes" in response:
            size: int | None = item_size(response["Attributes"])
            how = "deleted item returned (ALL_OLD)"
        else:
            size = self._seen(table, key)
            how = "deleted item from an earlier image" if size is not None else "deleted item unknown: minimum"
        self._remember(table, key, None)
        return [Charge(table, write_units=write_units(size or 0), item_bytes=size, basis=how)]

    def _price_BatchGetItem(
        self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None
    ) -> list[Charge]:
        charges = []
        for table, spec in (params.get("RequestItems") or {}).items():
            if error:
                charges.append(Charge(table, basis=f"{error}: not charged"))
                continue
            consistent = bool(spec.get("ConsistentRead"))
            returned = (response.get("Responses") or {}).get(table, [])
            # A projection does not lower the price: the whole item is read (its size known from an earlier image).
            sizes = [max(item_size(item), self._seen(table, self._key_in(table, item)) or 0) for item in returned]
            # Each key is read as a GetItem would be: one that is absent still costs the minimum.
            unprocessed = len(((response.get("UnprocessedKeys") or {}).get(table) or {}).get("Keys", []))
            absent = max(0, len(spec.get("Keys", [])) - unprocessed - len(sizes))
            charges.append(
                Charge(
                    table,
                    read_units=sum(read_units(size, consistent=consistent) for size in sizes)
                    + absent * read_units(0, consistent=consistent),
                    item_bytes=sum(sizes),
                    basis=f"{len(sizes)} items, each rounded up, {absent} absent; {self._consistency(consistent)}",
                    consistent=consistent,
                )
            )
        return charges

    def _price_BatchExecuteStatement(
        self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None
    ) -> list[Charge]:
        """PartiQL INSERTs (the only statements Patron batches): a write each, as PutItem; a refused one (its key
        exists) as a failed condition."""
        charges = []
        outcomes = response.get("Responses") or []
        for position, statement in enumerate(params.get("Statements") or []):
            match = _INSERT.match(str(statement.get("Statement", "")))
            if error or match is None:
                charges.append(Charge("", basis=f"{error or 'not an INSERT'}: not metered"))
                continue
            table = match.group(1)
            names = [name.replace("''", "'") for name in _VALUE_NAME.findall(match.group(2))]
            item = dict(zip(names, statement.get("Parameters") or [], strict=True))
            key = self._key_in(table, item)
            failure = (outcomes[position].get("Error") or {}).get("Code") if position < len(outcomes) else None
            if failure:
                charges.append(self._failed_write(table, key, {}, CONDITION_FAILED))
                continue
            size = item_size(item)
            self._remember(table, key, size)
            charges.append(Charge(table, write_units=write_units(size), item_bytes=size, basis="INSERT, as PutItem"))
        return charges

    def _price_BatchWriteItem(
        self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None
    ) -> list[Charge]:
        unprocessed = response.get("UnprocessedItems") or {}
        charges = []
        for table, requests in (params.get("RequestItems") or {}).items():
            if error:
                charges.append(Charge(table, basis=f"{error}: not charged"))
                continue
            skipped = {_key_id(request) for request in unprocessed.get(table, [])}
            units, total, unknown = 0, 0, 0
            for request in requests:
                if _key_id(request) in skipped:
                    continue
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    key = self._key_in(table, item)
                    size = max(item_size(item), self._seen(table, key) or 0)
                    self._remember(table, key, item_size(item))
                else:
                    key = request["DeleteRequest"]["Key"]
                    seen = self._seen(table, key)
                    unknown += seen is None
                    size = seen or 0
                    self._remember(table, key, None)
                units += write_units(size)
                total += size
            how = "each item rounded up" + (f"; {unknown} deletes of unknown size at the minimum" if unknown else "")
            charges.append(Charge(table, write_units=units, item_bytes=total, basis=how))
        return charges

    def _price_query_or_scan(
        self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None
    ) -> list[Charge]:
        table = str(params["TableName"])
        if error:
            return [Charge(table, basis=f"{error}: not charged")]
        consistent = bool(params.get("ConsistentRead"))
        items = response.get("Items") or []
        size = sum(item_size(item) for item in items)
        read = int(response.get("ScannedCount", len(items)) or 0)
        how = f"{len(items)} items summed, then rounded up"
        if read > len(items) or "ProjectionExpression" in params or params.get("Select") == "COUNT":
            how += "; filtered or projected: lower bound (AWS charges what it read)"
        if params.get("IndexName"):
            how += f"; index {params['IndexName']}"
        units = read_units(size, consistent=consistent)
        basis = f"{how}; {self._consistency(consistent)}"
        return [Charge(table, read_units=units, item_bytes=size, basis=basis, consistent=consistent)]

    _price_Query = _price_query_or_scan
    _price_Scan = _price_query_or_scan

    def _price_TransactGetItems(
        self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None
    ) -> list[Charge]:
        results = response.get("Responses") or []
        charges = []
        for index, action in enumerate(params.get("TransactItems") or []):
            get = action["Get"]
            table = str(get["TableName"])
            if error:
                charges.append(Charge(table, basis=f"{error}: not metered"))
                continue
            item = results[index].get("Item") if index < len(results) else None
            size = item_size(item) if item else 0
            units = read_units(size, transactional=True)
            charges.append(Charge(table, read_units=units, item_bytes=size, basis="transactional read: double"))
        return charges

    def _price_TransactWriteItems(
        self, params: Mapping[str, Any], response: Mapping[str, Any], error: str | None
    ) -> list[Charge]:
        charges = []
        for action in params.get("TransactItems") or []:
            ((kind, spec),) = action.items()
            table = str(spec["TableName"])
            if error:
                charges.append(Charge(table, basis=f"{error}: not metered"))
                continue
            if kind == "Put":
                key = self._key_in(table, spec["Item"])
                size = max(item_size(spec["Item"]), self._seen(table, key) or 0)
                self._remember(table, key, item_size(spec["Item"]))
                how = "transactional put: double"
            elif kind == "Update":
                self._learn_key(table, spec["Key"])
                size = max(self._written_lower_bound(spec), self._seen(table, spec["Key"]) or 0)
                self._remember(table, spec["Key"], None)
                how = "transactional update: double; key + values written or earlier image"
            else:  # Delete or ConditionCheck
                self._learn_key(table, spec["Key"])
                size = self._seen(table, spec["Key"]) or 0
                if kind == "Delete":
                    self._remember(table, spec["Key"], None)
                how = f"transactional {kind}: double; earlier image or minimum"
            units = write_units(size, transactional=True)
            charges.append(Charge(table, write_units=units, item_bytes=size, basis=how))
        return charges
