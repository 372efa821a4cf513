"""The committer: a plan is sent whole or refused before sending, and a failed condition names its builder."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from patron.dynamo import committer
from patron.errors import ConflictError, ServiceUnavailableError


class Taken(Exception):
    pass


class Spent(Exception):
    pass


class RecordingClient:
    """Records the calls; answers each with the error given, if any."""

    def __init__(self, error: dict[str, Any] | None = None):
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._error = error

    def _call(self, name: str, **params: Any) -> dict[str, Any]:
        self.calls.append((name, params))
        if self._error is not None:
            raise ClientError(self._error, name)  # type: ignore[arg-type]
        return {}

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self._call("TransactWriteItems", **params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._call("PutItem", **params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateItem", **params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self._call("DeleteItem", **params)


def cancelled(*codes: str) -> dict[str, Any]:
    return {
        "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
        "CancellationReasons": [{"Code": code} for code in codes],
    }


def plan() -> list[committer.Write]:
    return [
        committer.update("t", {"PK": "a", "SK": "s"}, "SET v = :v", values={":v": 2}),
        committer.put("t", {"PK": "b", "SK": "s"}, condition="attribute_not_exists(PK)", failed=Taken),
        committer.update("t", {"PK": "c", "SK": "s"}, "ADD n :m", condition="n >= :m", values={":m": 1}, failed=Spent),
        committer.check("t", {"PK": "d", "SK": "s"}, "attribute_exists(PK)"),
    ]


def test_a_plan_is_one_transaction_in_wire_format():
    client = RecordingClient()
    committer.Committer(client).commit(plan())
    [(name, params)] = client.calls
    assert name == "TransactWriteItems"
    items = params["TransactItems"]
    assert [next(iter(item)) for item in items] == ["Update", "Put", "Update", "ConditionCheck"]
    assert items[1]["Put"]["Item"] == {"PK": {"S": "b"}, "SK": {"S": "s"}}
    assert items[2]["Update"]["ExpressionAttributeValues"] == {":m": {"N": "1"}}


def test_a_single_write_is_its_own_conditional_call():
    client = RecordingClient()
    committer.Committer(client).commit([plan()[1]])
    assert [name for name, _ in client.calls] == ["PutItem"]
    failing = RecordingClient({"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}})
    with pytest.raises(Taken):
        committer.Committer(failing).commit([plan()[1]])


@pytest.mark.parametrize(
    ("codes", "raised"),
    [
        (("None", "ConditionalCheckFailed", "None", "None"), Taken),
        (("None", "None", "ConditionalCheckFailed", "None"), Spent),
        (("None", "ConditionalCheckFailed", "ConditionalCheckFailed", "None"), Taken),  # the first in plan order
        (("None", "None", "None", "ConditionalCheckFailed"), ConflictError),  # no failure named: a write conflict
        (("TransactionConflict", "None", "None", "None"), ConflictError),
    ],
)
def test_each_cancellation_reason_names_the_builder_that_added_the_item(codes, raised):
    with pytest.raises(raised):
        committer.Committer(RecordingClient(cancelled(*codes))).commit(plan())


def test_the_callers_conflict_and_size_errors_are_raised():
    with pytest.raises(Spent):
        committer.Committer(RecordingClient(cancelled("TransactionConflict"))).commit(plan(), conflict=Spent)
    with pytest.raises(Taken):
        committer.Committer(RecordingClient(cancelled("None", "ValidationError"))).commit(plan(), too_large=Taken)


def test_throttling_is_a_503_as_everywhere():
    throttled = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
    with pytest.raises(ServiceUnavailableError):
        committer.Committer(RecordingClient(throttled)).commit(plan())


def test_a_plan_dynamodb_would_refuse_is_refused_before_sending():
    client = RecordingClient()
    too_many = [committer.put("t", {"PK": str(n), "SK": "s"}) for n in range(committer.MAX_ITEMS + 1)]
    with pytest.raises(committer.PlanTooLargeError):
        committer.Committer(client).commit(too_many)
    too_big = [committer.put("t", {"PK": str(n), "SK": "s", "blob": "x" * 350_000}) for n in range(13)]
    with pytest.raises(committer.PlanTooLargeError) as caught:
        committer.Committer(client).commit(too_big)
    assert caught.value.status == 413
    assert client.calls == []
    committer.Committer(client).commit(too_many[: committer.MAX_ITEMS])  # the limit itself goes
    assert len(client.calls[0][1]["TransactItems"]) == committer.MAX_ITEMS


def test_an_empty_plan_sends_nothing():
    client = RecordingClient()
    committer.Committer(client).commit([])
    assert client.calls == []
