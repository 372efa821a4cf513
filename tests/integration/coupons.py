"""Coupons in tests: a coupon campaign, and coupons written and read straight on the runtime's ledgers table, as the
coupons service stores them (tests of sessions need coupons without the management API)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from patron.coupons import items
from patron.coupons.model import Coupon
from patron.dynamo import codec
from tests.conftest import Tenant


def coupon_campaign(
    campaign_id: int = 10, condition: str = "coupon.valid", discount: str | int = "session.total * 0.1"
) -> dict[str, Any]:
    """A coupon campaign whose one rule gives `discount` (10% by default) when `condition` holds."""
    return {
        "id": campaign_id,
        "name": f"Coupon campaign {campaign_id}",
        "features": ["coupons"],
        "rules": [
            {
                "title": "Coupon code is valid",
                "condition": condition,
                "effects": [{"type": "setDiscount", "name": "Coupon discount", "value": discount}],
            }
        ],
    }


def add_coupon(runtime: Any, tenant: Tenant, value: str, campaign_id: int = 10, **fields: Any) -> Coupon:
    coupon = Coupon(
        value=value, campaign_id=campaign_id, id=int(uuid.uuid4().int % 10**12), created=datetime.now(UTC), **fields
    )
    item = items.coupon_item(tenant.application_id, coupon)
    runtime.dynamodb_client().put_item(TableName=runtime.table_names["LedgersTable"], Item=codec.to_item(item))
    return coupon


def stored(runtime: Any, tenant: Tenant, value: str) -> Coupon:
    answer = runtime.dynamodb_client().get_item(
        TableName=runtime.table_names["LedgersTable"],
        Key=codec.to_item(items.coupon_key(tenant.application_id, value)),
        ConsistentRead=True,
    )
    return items.coupon_from_item(codec.from_item(answer["Item"]))
