"""A dry call decides exactly as a real one and writes nothing: not the object, not the catalog, not its answer."""

from __future__ import annotations

import uuid
from typing import Any

from patron.dynamo import codec


def every_item(runtime) -> dict[str, list[str]]:
    """Each table's items, as stored: what "byte for byte" compares."""
    client = runtime.dynamodb_client()
    tables: dict[str, list[str]] = {}
    for logical_id, name in runtime.table_names.items():
        items = [
            repr(sorted(codec.from_item(item).items()))
            for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
            for item in page.get("Items", [])
        ]
        tables[logical_id] = sorted(items)
    return tables


def put(runtime, tenant, integration_id: str, body: Any, key: str, dry: bool):
    return runtime.request(
        "PUT",
        f"/v2/customer_profiles/{integration_id}",
        headers={**tenant.headers, "Idempotency-Key": key},
        body=body,
        query={"dry": "true"} if dry else None,
    )


def test_a_dry_profile_update_with_new_attributes_leaves_every_table_as_it_was(runtime, tenant):
    customer, key = f"dry-{uuid.uuid4().hex[:8]}", f"dry-{uuid.uuid4().hex}"
    known = put(runtime, tenant, customer, {"attributes": {"tier": "gold"}}, f"{key}-first", dry=False)
    assert known.status == 200
    new_name = f"n{uuid.uuid4().hex[:8]}"
    body = {"attributes": {new_name: 3, "tier": None}, "responseContent": ["customerProfile"]}
    before = every_item(runtime)
    dry = put(runtime, tenant, customer, body, key, dry=True)
    assert dry.status == 200, dry.body
    profile = dry.json()["customerProfile"]
    assert profile["attributes"] == {new_name: 3}  # the answer is what the update would make
    assert every_item(runtime) == before  # no profile change, no catalog entry, no stored answer
    # The same key without dry runs for real: nothing was stored under it.
    real = put(runtime, tenant, customer, body, key, dry=False)
    assert real.status == 200 and real.header("Idempotent-Replayed") is None
    assert real.json()["customerProfile"]["attributes"] == {new_name: 3}
    catalog = runtime.request("GET", "/v1/attributes/customer", headers=tenant.headers).json()
    assert new_name in str(catalog)


def test_a_dry_call_is_checked_like_a_real_one(runtime, tenant):
    customer = f"dry-{uuid.uuid4().hex[:8]}"
    name = f"n{uuid.uuid4().hex[:8]}"
    assert put(runtime, tenant, customer, {"attributes": {name: 1}}, uuid.uuid4().hex, dry=False).status == 200
    wrong = put(runtime, tenant, customer, {"attributes": {name: "text"}}, uuid.uuid4().hex, dry=True)
    assert wrong.status == 400 and wrong.json()["errors"][0]["code"] == "attribute_type_mismatch"
    fresh = put(runtime, tenant, f"dry-{uuid.uuid4().hex[:8]}", {"attributes": {}}, uuid.uuid4().hex, dry=True)
    assert fresh.status == 200
    absent = runtime.request("GET", f"/v1/customer_profiles/{customer}-none/inventory", headers=tenant.headers)
    assert absent.status == 404
