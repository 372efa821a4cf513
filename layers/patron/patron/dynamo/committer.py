"""One committer for every write of several items: contexts build the items, the committer sends them together.

A context describes each item it wants written with a builder here (`put`, `update`, `delete`, `check`), in
DynamoDB's wire format, and says what its condition failing means to the caller (`failed`: a version moved is a
409, a counter ran out is "exhausted", an id already taken is a replay...). `Committer.commit` sends a plan as
one TransactWriteItems (a single write as its own conditional call: half the capacity of a one-item
transaction), refuses a plan DynamoDB would refuse (over 100 items or 4 MB) before sending it, and maps each
CancellationReason back to the builder that added the item, so the caller learns which condition failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from patron.dynamo import codec
from patron.dynamo.errors import error_code, is_item_too_large, translate
from patron.errors import ConflictError, PatronError

MAX_ITEMS = 100  # TransactWriteItems' limit
MAX_BYTES = 4 * 1024 * 1024  # its limit on the items' total size; the requests' size is an upper bound of it
_SIZER = msgspec.json.Encoder()  # the requests are wire JSON already (strings, lists, maps; binary as base64)

Failure = Callable[[], Exception]


class PlanTooLargeError(PatronError):
    """A change too large for one transaction: refused whole, before anything is sent."""

    def __init__(self) -> None:
        super().__init__(message="The change is too large to be written at once.", code="change_too_large", status=413)


def _conflict() -> Exception:
    return ConflictError("The object changed meanwhile; read it again and retry.", code="write_conflict")


class Write(msgspec.Struct, frozen=True):
    """One item of a plan: `action` is TransactWriteItems' member name, `request` its body in wire format."""

    action: str  # Put | Update | Delete | ConditionCheck
    request: Mapping[str, Any]
    failed: Failure | None = None  # what this item's condition failing means; None: a write conflict (409)


def _expression(
    condition: str | None, names: Mapping[str, str] | None, values: Mapping[str, Any] | None
) -> dict[str, Any]:
    request: dict[str, Any] = {}
    if condition is not None:
        request["ConditionExpression"] = condition
    if names:
        request["ExpressionAttributeNames"] = dict(names)
    if values:
        request["ExpressionAttributeValues"] = codec.to_item(dict(values))
    return request


def put(
    table: str,
    item: Mapping[str, Any],
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    failed: Failure | None = None,
) -> Write:
    """`item` and `values` in Python values (codec.to_item writes them)."""
    request = {"TableName": table, "Item": codec.to_item(dict(item)), **_expression(condition, names, values)}
    return Write("Put", request, failed)


def put_on_version(
    table: str, item: Mapping[str, Any], read_version: int, changed: Failure, exists: Failure | None = None
) -> Write:
    """`item` (its `version` the next) only if nobody changed it since it was read at `read_version`: 0, it did not
    exist (else `exists`, default `changed`); otherwise its stored `version` is still the one read (else
    `changed`)."""
    if read_version == 0:
        return put(table, item, condition="attribute_not_exists(PK)", failed=exists or changed)
    return put(
        table, item, condition="#version = :read", names={"#version": "version"}, values={":read": read_version},
        failed=changed,
    )  # fmt: skip


def update(
    table: str,
    key: Mapping[str, Any],
    expression: str,
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    failed: Failure | None = None,
) -> Write:
    request = {
        "TableName": table,
        "Key": codec.to_item(dict(key)),
        "UpdateExpression": expression,
        **_expression(condition, names, values),
    }
    return Write("Update", request, failed)


def delete(
    table: str,
    key: Mapping[str, Any],
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    failed: Failure | None = None,
) -> Write:
    request = {"TableName": table, "Key": codec.to_item(dict(key)), **_expression(condition, names, values)}
    return Write("Delete", request, failed)


def check(
    table: str,
    key: Mapping[str, Any],
    condition: str,
    *,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    failed: Failure | None = None,
) -> Write:
    """A condition on an item the plan does not write (a budget still open, a parent still there)."""
    request = {"TableName": table, "Key": codec.to_item(dict(key)), **_expression(condition, names, values)}
    return Write("ConditionCheck", request, failed)


_SINGLE_CALLS = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}


class Committer:
    def __init__(self, client: Any):
        self._client = client

    def commit(
        self,
        plan: Sequence[Write],
        *,
        too_large: Failure | None = None,
        conflict: Failure = _conflict,
    ) -> None:
        """Writes every item of `plan` or none. A failed condition raises the `failed` of the first item (in plan
        order) whose condition failed; a parallel transaction on the same items raises `conflict()`; an item that
        would pass 400 KB raises `too_large()` when given. Other failures are translated as everywhere
        (throttling: 503)."""
        if not plan:
            return
        if len(plan) > MAX_ITEMS or len(_SIZER.encode([write.request for write in plan])) > MAX_BYTES:
            raise PlanTooLargeError()
        try:
            if len(plan) == 1 and plan[0].action in _SINGLE_CALLS:
                getattr(self._client, _SINGLE_CALLS[plan[0].action])(**plan[0].request)
            else:
                self._client.transact_write_items(TransactItems=[{w.action: dict(w.request)} for w in plan])
        except ClientError as exc:
            raise self._failure(exc, plan, too_large, conflict) from exc

    @staticmethod
    def _failure(exc: ClientError, plan: Sequence[Write], too_large: Failure | None, conflict: Failure) -> Exception:
        code = error_code(exc)
        if too_large is not None and is_item_too_large(exc):
            return too_large()
        if code == "ConditionalCheckFailedException":  # the single call's own condition
            return (plan[0].failed or conflict)()
        if code != "TransactionCanceledException":
            return translate(exc)
        reasons = [str(reason.get("Code", "None")) for reason in exc.response.get("CancellationReasons") or []]
        for write, reason in zip(plan, reasons, strict=False):
            if reason == "ConditionalCheckFailed":
                return (write.failed or conflict)()
        if "TransactionConflict" in reasons:
            return conflict()
        if too_large is not None and "ValidationError" in reasons:
            return too_large()
        return translate(exc)
