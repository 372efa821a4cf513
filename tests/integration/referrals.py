"""Referral codes in tests: a referral campaign, and codes written and read straight on the runtime's ledgers table,
as the referrals service stores them (tests of sessions need codes without the creation API)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from patron.dynamo import codec
from patron.referrals import items
from patron.referrals.model import Referral
from tests.conftest import Tenant


def referral_campaign(
    condition: str = "referral.valid and referral.advocateIntegrationId != profile.integrationId",
) -> dict[str, Any]:
    """Campaign 20: a friend presenting a valid code (not their own, by default) gets 5 off."""
    return {
        "id": 20,
        "name": "Refer a friend",
        "features": ["referrals"],
        "rules": [
            {
                "title": "Referral code is valid",
                "condition": condition,
                "effects": [{"type": "setDiscount", "name": "Friend's 5 off", "value": 5}],
            }
        ],
    }


CAMPAIGN = referral_campaign()


def add_referral(runtime: Any, tenant: Tenant, code: str, advocate: str = "adam", **fields: Any) -> Referral:
    referral = Referral(code, 20, advocate, int(uuid.uuid4().int % 10**12), datetime.now(UTC), **fields)
    client, table = runtime.dynamodb_client(), runtime.table_names["LedgersTable"]
    for write in items.create(table, tenant.application_id, referral):
        client.put_item(TableName=table, Item=dict(write.request["Item"]))
    return referral


def stored(runtime: Any, tenant: Tenant, code: str) -> Referral:
    answer = runtime.dynamodb_client().get_item(
        TableName=runtime.table_names["LedgersTable"],
        Key=codec.to_item(items.referral_key(tenant.application_id, code)),
        ConsistentRead=True,
    )
    return items.referral_from_item(codec.from_item(answer["Item"]))
