"""A profile's holdings of coupons, read and handed over whole: what the customer lifecycle (merge, erasure,
anonymisation, export) and the inventory need (docs/data-model.md, "LedgersTable — coupons", "A person's
coupons").

- read: one Query of the profile's holdings partition (`APP#<application>#HOLDER#<integrationId>`, consistent,
  paged), then per page one BatchGetItem of the coupons it names, and of another profile's holdings of the same
  codes when a merge needs them (at most 100 keys a call);
- hand over: one TransactWriteItems per holding (`handover`), built from what was read and conditional on it: the
  holding goes from its profile, its redemption count lands on another profile's holding (a merge's survivor, an
  anonymisation's tombstone) or nowhere (an erasure), its reservation moves, is released (the coupon's
  reservationCounter - 1, the reservation entry deleted) or is kept once, and a personal code's recipient names
  the other profile or is removed from the coupon. A transaction that commits leaves nothing of the holding behind,
  one that fails writes nothing: a retried merge or erasure finds nothing left, or does it whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from typing import Any

import msgspec

from patron.coupons import items
from patron.coupons.model import Coupon, Holding
from patron.dynamo import codec, committer
from patron.dynamo.batch import MAX_KEYS, read_batch
from patron.errors import ConflictError

PAGE = 50  # holdings per page: their coupons and the other profile's holdings fill one BatchGetItem of 100 keys


class HoldingChangedError(ConflictError):
    """A holding, its coupon or the other profile's holding changed between the read and the hand-over."""

    def __init__(self) -> None:
        super().__init__("A coupon holding changed meanwhile; try again.", code="coupon_holding_changed")


class Handover(Enum):
    """What becomes of a holding leaving its profile."""

    ABSORB = "absorb"  # a merge: everything moves to the survivor (a reservation kept once)
    ANONYMISE = "anonymise"  # only the redemption count moves, to a tombstone id; nothing identifying
    FORGET = "forget"  # an erasure: nothing is kept of the holding (the coupon's own counters stay)


class Held(msgspec.Struct, frozen=True):
    """One holding as read: its code, its stored attributes (the hand-over's conditions compare them), its coupon
    (None: deleted since) and, for a merge, the survivor's holding of the same coupon."""

    code: str
    item: Mapping[str, Any]
    coupon: Coupon | None
    other: Mapping[str, Any] | None = None

    @property
    def holding(self) -> Holding:
        return items.holding_from_item(self.item)


def _same_as_read(item: Mapping[str, Any], prefix: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A condition that the holding still holds what was read: its count and its reservation."""
    names = {f"#{prefix}used": "used", f"#{prefix}reservedAt": "reservedAt"}
    values: dict[str, Any] = {}
    parts = ["attribute_exists(PK)"]
    for attribute in ("used", "reservedAt"):
        if attribute in item:
            parts.append(f"#{prefix}{attribute} = :{prefix}{attribute}")
            values[f":{prefix}{attribute}"] = item[attribute]
        else:
            parts.append(f"attribute_not_exists(#{prefix}{attribute})")
    return " AND ".join(parts), names, values


def handover(
    table: str, application_id: int, holder_id: str, held: Held, how: Handover, to_id: str | None = None
) -> list[committer.Write]:
    """The writes that take `held` from `holder_id` (one transaction, at most five items). `to_id`: the survivor
    (ABSORB) or the tombstone (ANONYMISE), whose holding `held.other` was read (None: it holds nothing)."""
    if how is not Handover.FORGET and to_id is None:
        raise ValueError("a merge or an anonymisation names where the holding goes")
    fail = HoldingChangedError
    holding = held.holding
    code, coupon = held.code, held.coupon
    condition, names, values = _same_as_read(held.item, "")
    writes = [
        committer.delete(
            table,
            items.holding_key(application_id, holder_id, code),
            condition=condition,
            names=names,
            values=values,
            failed=fail,
        )
    ]
    other = items.holding_from_item(held.other)
    moves_reservation = how is Handover.ABSORB and holding.reserved and not other.reserved
    releases_reservation = holding.reserved and not moves_reservation
    is_recipient = coupon is not None and coupon.recipient_integration_id == holder_id
    moves_recipient = how is Handover.ABSORB and is_recipient

    if to_id is not None:
        sets: list[str] = []
        target_names: dict[str, str] = {}
        target_values: dict[str, Any] = {}
        conditions: list[str] = []
        if holding.used:
            sets.append("#used = if_not_exists(#used, :zero) + :used")
            target_names["#used"] = "used"
            target_values.update({":zero": 0, ":used": holding.used})
        if holding.reserved and how is Handover.ABSORB:
            target_names["#reservedAt"] = "reservedAt"
            if moves_reservation:  # the survivor had none: it takes this one
                sets.append("#reservedAt = :reservedAt")
                target_values[":reservedAt"] = held.item["reservedAt"]
                conditions.append("attribute_not_exists(#reservedAt)")
            else:  # both reserved: the survivor's is kept, so it must still be there
                conditions.append("attribute_exists(#reservedAt)")
        if moves_recipient:
            sets.append("#recipient = :true")
            target_names["#recipient"] = "recipient"
            target_values[":true"] = True
        target = items.holding_key(application_id, to_id, code)
        if sets:
            writes.append(
                committer.update(
                    table,
                    target,
                    "SET " + ", ".join(sets),
                    condition=" AND ".join(conditions) or None,
                    names=target_names,
                    values=target_values or None,
                    failed=fail,
                )
            )
        elif conditions:  # nothing to add, but the survivor's reservation it relies on must stand
            writes.append(committer.check(table, target, " AND ".join(conditions), names=target_names, failed=fail))

    if coupon is not None and (releases_reservation or is_recipient):
        actions: list[str] = []
        coupon_names: dict[str, str] = {}
        coupon_values: dict[str, Any] = {}
        conditions = ["attribute_exists(PK)"]
        if releases_reservation:
            actions.append("SET #counter = #counter - :one")
            coupon_names["#counter"] = "reservationCounter"
            coupon_values[":one"] = 1
            conditions.append("#counter >= :one")
        if is_recipient:
            coupon_names["#recipient"] = "recipientIntegrationId"
            coupon_values[":holder"] = holder_id
            conditions.append("#recipient = :holder")
            if moves_recipient:
                coupon_values[":to"] = to_id
                actions.append("SET #recipient = :to")
            else:
                actions.append("REMOVE #recipient")
        writes.append(
            committer.update(
                table,
                items.coupon_key(application_id, code),
                _joined(actions),
                condition=" AND ".join(conditions),
                names=coupon_names,
                values=coupon_values,
                failed=fail,
            )
        )

    if holding.reserved:
        writes.append(committer.delete(table, items.reservation_key(application_id, code, holder_id)))
        if moves_reservation and to_id is not None:
            entry = {**items.reservation_key(application_id, code, to_id), "reservedAt": held.item["reservedAt"]}
            writes.append(committer.put(table, entry))
    return writes


def _joined(actions: Sequence[str]) -> str:
    """`SET a, b` and `REMOVE c` clauses as one update expression (SET clauses joined by commas)."""
    sets = [action.removeprefix("SET ") for action in actions if not action.startswith("REMOVE ")]
    removes = [action.removeprefix("REMOVE ") for action in actions if action.startswith("REMOVE ")]
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    return " ".join(clauses)


class DynamoHoldings:
    """The reads and the hand-over transactions of a profile's holdings, in the ledgers table."""

    def __init__(self, client: Any, table: str):
        self._client = client
        self._table = table
        self._committer = committer.Committer(client)

    def any(self, application_id: int, integration_id: str) -> bool:
        """Whether the profile holds anything (one Query, Limit 1, keys only)."""
        answer = self._client.query(**self._query(application_id, integration_id, 1), ProjectionExpression="PK")
        return bool(answer.get("Items"))

    def pages(
        self, application_id: int, integration_id: str, other_id: str | None = None, extra: Sequence[Any] = ()
    ) -> Iterator[tuple[list[Held], list[dict[str, Any]]]]:
        """The profile's holdings, a page at a time, each with its coupon and `other_id`'s holding of it; and the
        items of `extra` (keys of other tables, as {table: key}) read in the first page's BatchGetItem."""
        request = self._query(application_id, integration_id, PAGE)
        extras = list(extra)
        while True:
            answer = self._client.query(**request)
            found = [codec.from_item(item) for item in answer.get("Items", [])]
            codes = [str(item["SK"])[len(items.HOLDING_PREFIX) :] for item in found]
            keys: list[tuple[str, dict[str, str]]] = [
                (self._table, items.coupon_key(application_id, code)) for code in codes
            ]
            if other_id is not None:
                keys += [(self._table, items.holding_key(application_id, other_id, code)) for code in codes]
            keys += extras
            extras = []
            read = self.batch_get(keys) if codes else {}  # no holdings: nothing the extra keys would serve
            coupons = {
                items.code_of(str(item["PK"])): items.coupon_from_item(item)
                for item in read.get(self._table, [])
                if item["SK"] == items.COUPON_SK
            }
            others = {
                str(item["SK"])[len(items.HOLDING_PREFIX) :]: item
                for item in read.get(self._table, [])
                if other_id is not None and item["PK"] == items.holder_pk(application_id, other_id)
            }
            held = [
                Held(code, item, coupons.get(code), others.get(code)) for code, item in zip(codes, found, strict=True)
            ]
            rest = [item for table, listed in read.items() if table != self._table for item in listed]
            yield held, rest
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def hand_over(self, plan: Sequence[committer.Write]) -> None:
        self._committer.commit(plan, conflict=HoldingChangedError)

    def batch_get(self, keys: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """Items by table (consistent reads, at most 100 keys a call, unprocessed keys retried)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(keys), MAX_KEYS):
            request: dict[str, Any] = {}
            for table, key in keys[start : start + MAX_KEYS]:
                request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(codec.to_item(key))
            for table, item in read_batch(self._client, request):
                found.setdefault(table, []).append(item)
        return found

    def _query(self, application_id: int, integration_id: str, limit: int) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": codec.to_item(
                {":pk": items.holder_pk(application_id, integration_id), ":prefix": items.HOLDING_PREFIX}
            ),
            "ConsistentRead": True,
            "Limit": limit,
        }
