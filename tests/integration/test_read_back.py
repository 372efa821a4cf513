"""Nothing stored may make an object unreadable: whatever a client sends, a write is refused (4xx, nothing
changed) or stored so that every read of the object answers it back."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Any JSON a client can send: every Unicode character a JSON string can carry (lone surrogates included),
# numbers past DynamoDB's range and precision, empty and dotted keys, nesting.
# hypothesis leaves surrogates out of text by default: half the texts here hold one odd character or another.
odd = st.sampled_from(["\ud800", "\udfff", "\x00", "\ufeff", "\u202e", "\ufffd", ".", "$", "#"])
plain = st.text(st.characters(exclude_categories=()), max_size=6)
texts = plain | st.tuples(plain, odd, plain).map("".join)
numbers = (
    st.integers(min_value=-(10**40), max_value=10**40)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)
attributes = st.dictionaries(texts, values, max_size=4)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def exact(body: bytes) -> Any:
    return json.loads(body, parse_float=Decimal)


def send(runtime, tenant, method: str, path: str, body: Any):
    return runtime.request(method, path, headers=tenant.headers, body=json.dumps(body, default=str))


@SETTINGS
@given(attributes)
def test_customer_attributes_are_refused_or_read_back(runtime, tenant, sent):
    customer = f"rb-{uuid.uuid4().hex[:10]}"
    written = send(runtime, tenant, "PUT", f"/v1/customers/{customer}", {"attributes": sent})
    assert written.status in (200, 201, 400), written.body
    reads = [f"/v1/customers/{customer}", f"/v1/customer_profiles/{customer}/inventory?profile=true"]
    for path in reads:
        read = runtime.request("GET", path, headers=tenant.headers)
        assert read.status == (404 if written.status == 400 else 200), (path, read.body)
    if written.status != 400:
        stored = exact(runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers).body)
        assert stored["attributes"] == exact(written.body)["attributes"]


@SETTINGS
@given(attributes, texts, texts)
def test_orders_are_refused_or_read_back(runtime, tenant, extra, status, label):
    customer, order = f"rb-{uuid.uuid4().hex[:10]}", f"rbo-{uuid.uuid4().hex[:10]}"
    body = {"customerId": customer, "createdAt": "2024-01-01", "amount": 5}
    assert send(runtime, tenant, "PUT", f"/v1/orders/{order}", body).status == 200
    rewritten = send(runtime, tenant, "PUT", f"/v1/orders/{order}", {**body, **extra})
    assert rewritten.status in (200, 400), rewritten.body
    changed = send(runtime, tenant, "PUT", f"/v1/orders/{order}/status", {"status": status, "statusLabel": label})
    assert changed.status in (200, 400), changed.body
    merged = send(runtime, tenant, "POST", "/v1/merge_order", {"order": {**body, "id": order, "status": label}})
    assert merged.status in (200, 400), merged.body
    for path in (f"/v1/orders/{order}", f"/v1/customers/{customer}/orders", f"/v1/customers/{customer}"):
        read = runtime.request("GET", path, headers=tenant.headers)
        assert read.status == 200, (path, read.body)
