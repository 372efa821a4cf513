"""Batch reads: keys DynamoDB leaves unprocessed are asked again until answered, 100 keys a call."""

from __future__ import annotations

from typing import Any

import pytest

from patron.dynamo import batch, codec


class ThrottlingClient:
    """Answers every key, but leaves the last of each call unprocessed `throttled` times in all."""

    def __init__(self, throttled: int = 0):
        self.calls: list[dict[str, Any]] = []
        self._throttled = throttled

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(RequestItems)
        responses: dict[str, list[Any]] = {}
        unprocessed: dict[str, Any] = {}
        for table, request in RequestItems.items():
            keys = list(request["Keys"])
            if self._throttled:
                self._throttled -= 1
                unprocessed[table] = {**request, "Keys": [keys.pop()]}
            responses[table] = [{**key, "table": {"S": table}} for key in keys]
        return {"Responses": responses, "UnprocessedKeys": unprocessed}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "backoff", lambda attempt: None)


def test_unprocessed_keys_are_asked_again_until_answered() -> None:
    client = ThrottlingClient(throttled=2)
    keys = [codec.to_item({"PK": "a", "SK": "1"}), codec.to_item({"PK": "b", "SK": "2"})]
    found = batch.read_batch(client, {"T": {"Keys": keys, "ConsistentRead": True}})  # type: ignore[arg-type]
    assert sorted((table, item["PK"]) for table, item in found) == [("T", "a"), ("T", "b")]
    assert [len(call["T"]["Keys"]) for call in client.calls] == [2, 1, 1]
    assert all(call["T"]["ConsistentRead"] for call in client.calls)


def test_a_read_kept_unprocessed_fails() -> None:
    client = ThrottlingClient(throttled=batch.ATTEMPTS)
    with pytest.raises(batch.UnprocessedItemsError):
        batch.read_batch(client, {"T": {"Keys": [codec.to_item({"PK": "a", "SK": "1"})]}})  # type: ignore[arg-type]
    assert len(client.calls) == batch.ATTEMPTS


def test_read_all_asks_100_keys_a_call_with_the_options_given() -> None:
    client = ThrottlingClient()
    keys = [{"PK": f"p{n}", "SK": "s"} for n in range(250)]
    found = batch.read_all(client, "T", keys, consistent=False, projection="PK")  # type: ignore[arg-type]
    assert [item["PK"] for item in found] == [key["PK"] for key in keys]
    assert [len(call["T"]["Keys"]) for call in client.calls] == [100, 100, 50]
    assert all(call["T"]["ConsistentRead"] is False for call in client.calls)
    assert all(call["T"]["ProjectionExpression"] == "PK" for call in client.calls)
