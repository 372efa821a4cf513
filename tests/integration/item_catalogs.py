"""A tenant's cart item catalog in tests: created through the management API with a management key of its own."""

from __future__ import annotations

from typing import Any

from patron.applications.model import Scope
from tests.conftest import Tenant


def management_headers(runtime: Any, tenant: Tenant) -> dict[str, str]:
    key = runtime.applications().create_key(tenant.application_id, Scope.MANAGEMENT, "catalogs").secret
    return {"Authorization": f"ApiKey-v1 {key}"}


def create_catalog(runtime: Any, tenant: Tenant, name: str = "Products") -> int:
    created = runtime.request(
        "POST", "/v1/management/catalogs", headers=management_headers(runtime, tenant), body={"name": name}
    )
    assert created.status == 201, created.body
    return int(created.json()["id"])


def sync(runtime: Any, tenant: Tenant, catalog_id: int, *actions: dict[str, Any], **extra: Any) -> Any:
    body = {"actions": list(actions), **extra}
    return runtime.request("PUT", f"/v1/catalogs/{catalog_id}/sync", headers=tenant.headers, body=body)


def add(sku: str, price: Any = None, **payload: Any) -> dict[str, Any]:
    return {"type": "ADD", "payload": {"sku": sku, **({"price": price} if price is not None else {}), **payload}}
