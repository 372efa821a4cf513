"""Property (hypothesis, against DynamoDB Local): whatever sequence of updates, closes, cancels and reopens several
sessions sharing a budget go through, every budget counter equals what the currently closed sessions consumed,
and no counter passes its limit."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.dynamo import codec
from tests.conftest import new_tenant
from tests.integration.rulesets import publish

DISCOUNT_BUDGET = 12  # setDiscount: 12 of discount in all
REDEMPTIONS = 2  # setDiscountEffect: 2 closed sessions in all
CAMPAIGN = {
    "id": 7,
    "name": "Budgeted five off",
    "limits": [
        {"action": "setDiscount", "limit": DISCOUNT_BUDGET},
        {"action": "setDiscountEffect", "limit": REDEMPTIONS},
    ],
    "rules": [
        {
            "title": "Five off any cart",
            "condition": "session.cartItemTotal > 0",
            "effects": [{"type": "setDiscount", "name": "5 off", "value": 5}],
        }
    ],
}

Step = tuple[str, int, int]  # (action, session index, units)
steps = st.lists(
    st.tuples(st.sampled_from(["update", "close", "cancel", "reopen"]), st.integers(0, 2), st.integers(1, 3)),
    min_size=1,
    max_size=12,
)


def _items(runtime: Any, table: str, prefix: str) -> list[dict[str, Any]]:
    client = runtime.dynamodb_client()
    found: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**arguments)  # a test's own look at its tables, never a request path
        found += [codec.from_item(item) for item in page["Items"] if str(item["PK"]["S"]).startswith(prefix)]
        if "LastEvaluatedKey" not in page:
            return found
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_counters_always_equal_what_the_closed_sessions_consumed(runtime, sequence: list[Step]) -> None:
    tenant = new_tenant(runtime)
    publish(runtime, tenant.application_id, {"settings": {"currency": "EUR"}, "campaigns": [CAMPAIGN]})
    ids = [f"prop-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for action, index, units in sequence:
        path = f"/v2/customer_sessions/{ids[index]}"
        if action == "reopen":
            answer = runtime.request("PUT", f"{path}/reopen", headers=tenant.headers)
        else:
            state = {"update": "open", "close": "closed", "cancel": "cancelled"}[action]
            session: dict[str, Any] = {"state": state}
            if action == "update":
                session["cartItems"] = [{"sku": "x", "price": 10, "quantity": units}]
            answer = runtime.request("PUT", path, headers=tenant.headers, body={"customerSession": session})
        assert answer.status in (200, 400, 404), answer.body  # 400: a transition Talon does not allow
        if answer.status == 400:
            assert answer.json()["errors"][0]["code"] in ("invalid_state_transition", "invalid_request")

        prefix = f"APP#{tenant.application_id}#"
        sessions = _items(runtime, runtime.table_names["OrdersTable"], prefix + "SESSION#")
        expected: dict[str, Decimal] = {}
        for item in sessions:
            if item["state"] in ("closed", "partially_returned"):
                for label, amount in (item.get("consumed") or {}).items():
                    expected[label] = expected.get(label, Decimal(0)) + Decimal(amount)
        counters = {
            str(item["SK"]): Decimal(item["used"])
            for item in _items(runtime, runtime.table_names["LedgersTable"], prefix + "BUDGET#")
        }
        assert {k: v for k, v in counters.items() if v} == {k: v for k, v in expected.items() if v}
        for label, used in counters.items():
            limit = DISCOUNT_BUDGET if "#setDiscount#" in label else REDEMPTIONS
            assert 0 <= used <= limit
