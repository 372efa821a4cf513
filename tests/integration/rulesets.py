"""Publishing a ruleset in tests: through the same service as the management API and the CLI, on the runtime's
config table (tests of sessions need campaigns live without a management key of their own)."""

from __future__ import annotations

from typing import Any

from patron.promotions.loading import merge
from patron.promotions.management import Published
from patron.promotions.wiring import ruleset_service
from tests.conftest import Tenant, new_tenant

SETTINGS = {"currency": "EUR", "timezone": "Europe/Rome"}


def publish(runtime: Any, application_id: int, definitions: dict[str, Any], note: str = "") -> int:
    """Makes `definitions` (a campaign file's content) the application's live ruleset; returns its version."""
    return publish_ruleset(runtime, application_id, definitions, note).info.version


def publish_ruleset(runtime: Any, application_id: int, definitions: dict[str, Any], note: str = "") -> Published:
    service = ruleset_service(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    return service.publish(application_id, merge([("test", definitions)]), note=note, published_by="test")


def tenant_with(runtime: Any, *campaigns: dict[str, Any], **settings: Any) -> Tenant:
    """A new tenant whose live ruleset holds `campaigns`, with SETTINGS and `settings` (`caseSensitiveCodes=False`)."""
    tenant = new_tenant(runtime)
    publish(runtime, tenant.application_id, {"settings": {**SETTINGS, **settings}, "campaigns": list(campaigns)})
    return tenant
