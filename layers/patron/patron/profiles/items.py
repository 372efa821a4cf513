"""Item builders of the profiles table, built with this context's keys: for its own plans (a write conditional on
the version read) and for other contexts' plans.

Orders keep each customer's statistics exact in the same transaction as the order (patron.dynamo.committer): the
orders context decides the figures, and asks this module for the write and the read of them. No other context
builds a profile key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from patron.dynamo import codec
from patron.dynamo.committer import Failure, Write, update
from patron.profiles.keys import (
    ATTRIBUTE_PREFIX,
    CLOSED_SESSIONS,
    FIRST_ORDER_AT,
    LAST_ORDER_AT,
    MEMBERSHIP_PREFIX,
    ORDERS_COUNT,
    PROFILE_SK,
    SALES_TOTAL,
    TOTAL_SALES,
    profile_pk,
)
from patron.profiles.model import VersionConflictError, new_profile_id
from patron.profiles.stats import CustomerStats

_STATS_NAMES = {"#v": "version", "#c": ORDERS_COUNT, "#s": SALES_TOTAL, "#f": FIRST_ORDER_AT, "#l": LAST_ORDER_AT}


def versioned_update(
    table: str,
    application_id: int,
    integration_id: str,
    expression: str,
    names: Mapping[str, str],
    values: Mapping[str, Any],
    expected_version: int,
    failed: Failure | None = VersionConflictError,
) -> Write:
    """An update of a profile, valid only if it is still at `expected_version` (0: it must not exist yet)."""
    if expected_version == 0:
        return update(
            table,
            _key(application_id, integration_id),
            expression,
            condition="attribute_not_exists(PK)",
            names=names,
            values=values,
            failed=failed,
        )
    return update(
        table,
        _key(application_id, integration_id),
        expression,
        condition="#version = :expected",
        names={**names, "#version": "version"},
        values={**values, ":expected": expected_version},
        failed=failed,
    )


def _key(application_id: int, integration_id: str) -> dict[str, str]:
    return {"PK": profile_pk(application_id, integration_id), "SK": PROFILE_SK}


def stats_read(table: str, application_id: int, customer_id: str) -> dict[str, Any]:
    """GetItem's parameters for a customer's version and statistics (consistent: a write is conditional on it)."""
    return {
        "TableName": table,
        "Key": codec.to_item(_key(application_id, customer_id)),
        "ConsistentRead": True,
        "ProjectionExpression": "#v, #c, #s, #f, #l",
        "ExpressionAttributeNames": _STATS_NAMES,
    }


def stats_from(result: Mapping[str, Any]) -> tuple[int, CustomerStats]:
    """(version, statistics) from the answer of `stats_read`; (0, none) for a customer without a profile."""
    if "Item" not in result:
        return 0, CustomerStats()
    item = codec.from_item(result["Item"])
    return int(item["version"]), CustomerStats.from_item(item)


def stats_write(
    table: str, application_id: int, customer_id: str, expected_version: int, stats: CustomerStats, now: str
) -> Write:
    """Sets a customer's statistics, if the profile is still at `expected_version` (0: absent). An order may
    arrive before its customer: the profile is then created with the statistics."""
    names = {
        "#pid": "profileId",
        "#created": "created",
        "#activity": "lastActivity",
        "#updated": "updated",
        "#version": "version",
        "#count": ORDERS_COUNT,
        "#sales": SALES_TOTAL,
        "#first": FIRST_ORDER_AT,
        "#last": LAST_ORDER_AT,
    }
    values: dict[str, Any] = {
        ":pid": new_profile_id(),
        ":now": now,
        ":next": expected_version + 1,
        ":count": stats.orders_count,
        ":sales": stats.sales_total,
    }
    sets = [
        "#pid = if_not_exists(#pid, :pid)",
        "#created = if_not_exists(#created, :now)",
        "#activity = if_not_exists(#activity, :now)",
        "#updated = :now",
        "#version = :next",
        "#count = :count",
        "#sales = :sales",
    ]
    removes = []
    for placeholder, value in (("#first", stats.first_order_at), ("#last", stats.last_order_at)):
        if value is None:
            removes.append(placeholder)
        else:
            values[f":{placeholder[1:]}"] = value
            sets.append(f"{placeholder} = :{placeholder[1:]}")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return versioned_update(table, application_id, customer_id, expression, names, values, expected_version)


def session_totals_write(
    table: str,
    application_id: int,
    integration_id: str,
    expected_version: int,
    closed_sessions: int,
    total_sales: Decimal,
    now: str,
    new_id: int | None = None,
    stats: CustomerStats | None = None,
    attributes: Mapping[str, Any] | None = None,
    memberships: Mapping[int, int | None] | None = None,
) -> Write:
    """A session's mark on its profile, if the profile is still at `expected_version` (0: absent, created here, as
    Talon.One creates the profile a session names): `closedSessions` and `totalSales` moved by the given amounts
    (a close adds, a cancel, return or reopen subtracts; zero for a session that only names the profile), and,
    when the session's order changed, the order statistics the orders context recomputed (absolute values, as
    `stats_write` sets them: one update, since a transaction may touch the profile once); `attributes` set by
    campaign rules (updateAttribute), in the same update; `memberships` too (addToAudience, removeFromAudience:
    audience id -> the generation joined, or None: left)."""
    names = {
        "#pid": "profileId",
        "#created": "created",
        "#activity": "lastActivity",
        "#updated": "updated",
        "#version": "version",
        "#closed": CLOSED_SESSIONS,
        "#sales": TOTAL_SALES,
    }
    values: dict[str, Any] = {
        ":pid": new_id if new_id is not None else new_profile_id(),
        ":now": now,
        ":next": expected_version + 1,
        ":zero": 0,
        ":closed": closed_sessions,
        ":sales": total_sales,
    }
    sets = [
        "#pid = if_not_exists(#pid, :pid)",
        "#created = if_not_exists(#created, :now)",
        "#activity = :now",
        "#updated = :now",
        "#version = :next",
        "#closed = if_not_exists(#closed, :zero) + :closed",
        "#sales = if_not_exists(#sales, :zero) + :sales",
    ]
    removes: list[str] = []
    if stats is not None:
        names.update({"#count": ORDERS_COUNT, "#orders": SALES_TOTAL, "#first": FIRST_ORDER_AT, "#last": LAST_ORDER_AT})
        values.update({":count": stats.orders_count, ":orders": stats.sales_total})
        sets += ["#count = :count", "#orders = :orders"]
        for placeholder, value in (("#first", stats.first_order_at), ("#last", stats.last_order_at)):
            if value is None:
                removes.append(placeholder)
            else:
                values[f":{placeholder[1:]}"] = value
                sets.append(f"{placeholder} = :{placeholder[1:]}")
    for index, (name, value) in enumerate((attributes or {}).items()):
        names[f"#a{index}"] = ATTRIBUTE_PREFIX + name
        values[f":a{index}"] = value
        sets.append(f"#a{index} = :a{index}")
    for index, (audience_id, generation) in enumerate(sorted((memberships or {}).items())):
        names[f"#m{index}"] = membership_name(audience_id)
        if generation is None:
            removes.append(f"#m{index}")
        else:
            values[f":m{index}"] = generation
            sets.append(f"#m{index} = :m{index}")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return versioned_update(table, application_id, integration_id, expression, names, values, expected_version)


def membership_name(audience_id: int) -> str:
    """The profile item's attribute recording one audience membership."""
    return f"{MEMBERSHIP_PREFIX}{audience_id}"


def join_audiences(
    table: str, application_id: int, integration_id: str, joined: Mapping[int, int], now: str
) -> dict[str, Any]:
    """UpdateItem's parameters: the profile joins each audience of `joined` (audience id -> its generation),
    created if absent (Talon.One: adding a profile to an audience creates it). Neither the version nor `updated`
    moves for an existing profile: a membership is not a change of the profile's data, and it commutes with every
    versioned write (each is its own attribute), so a session's update racing with an audience import does not 409."""
    names = {"#pid": "profileId", "#created": "created", "#updated": "updated", "#activity": "lastActivity"}
    names["#version"] = "version"
    values: dict[str, Any] = {":pid": new_profile_id(), ":now": now, ":one": 1}
    sets = [
        "#pid = if_not_exists(#pid, :pid)",
        "#created = if_not_exists(#created, :now)",
        "#updated = if_not_exists(#updated, :now)",
        "#activity = if_not_exists(#activity, :now)",
        "#version = if_not_exists(#version, :one)",
    ]
    for index, (audience_id, generation) in enumerate(sorted(joined.items())):
        names[f"#m{index}"] = membership_name(audience_id)
        values[f":m{index}"] = generation
        sets.append(f"#m{index} = :m{index}")
    return {
        "TableName": table,
        "Key": codec.to_item(_key(application_id, integration_id)),
        "UpdateExpression": "SET " + ", ".join(sets),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": codec.to_item(values),
    }


def leave_audiences(
    table: str, application_id: int, integration_id: str, audience_ids: Sequence[int]
) -> dict[str, Any]:
    """UpdateItem's parameters: the profile leaves these audiences; a ConditionalCheckFailed means it does not exist
    (nothing to leave: an update without the condition would create an empty item)."""
    names = {"#pk": "PK", **{f"#m{index}": membership_name(one) for index, one in enumerate(sorted(audience_ids))}}
    return {
        "TableName": table,
        "Key": codec.to_item(_key(application_id, integration_id)),
        "UpdateExpression": "REMOVE " + ", ".join(name for name in names if name != "#pk"),
        "ConditionExpression": "attribute_exists(#pk)",
        "ExpressionAttributeNames": names,
    }


def leave_audience_before(
    table: str, application_id: int, integration_id: str, audience_id: int, generation: int | None
) -> dict[str, Any]:
    """UpdateItem's parameters: the profile leaves the audience if it joined before `generation` (None: whenever);
    a ConditionalCheckFailed means it is not a member, or joined again since the audience was emptied."""
    request: dict[str, Any] = {
        "TableName": table,
        "Key": codec.to_item(_key(application_id, integration_id)),
        "UpdateExpression": "REMOVE #m",
        "ConditionExpression": "attribute_exists(#m)",
        "ExpressionAttributeNames": {"#m": membership_name(audience_id)},
    }
    if generation is not None:
        request["ConditionExpression"] = "#m < :generation"
        request["ExpressionAttributeValues"] = codec.to_item({":generation": generation})
    return request
