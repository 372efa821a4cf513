"""A member's points and transactions through the official talon-one-sdk IntegrationApi: the answers of
get_loyalty_program_profile_points (each status) and get_loyalty_program_profile_transactions (with the dates
and paging the SDK sends) parse as the SDK's models; another application's key finds nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import talon_one
from talon_one.exceptions import BadRequestException, NotFoundException

from tests.contract.test_talon_one_sdk import base_url, integration_api
from tests.contract.test_talon_one_sdk_loyalty import close
from tests.integration.rulesets import publish
from tests.integration.test_loyalty_history import LATER_BEAUTY
from tests.integration.test_session_loyalty import EARN, PROGRAM, REDEEM

__all__ = ["base_url"]  # the module's server fixture, shared


def test_points_and_transactions_parse_as_talon_ones(runtime, base_url, tenant, other_tenant):
    program = {**PROGRAM, "subledgers": ["beauty"], "returnPolicy": "within_balance"}
    definitions = {"loyaltyPrograms": [program], "campaigns": [EARN, REDEEM, LATER_BEAUTY]}
    publish(runtime, tenant.application_id, definitions)
    api = integration_api(base_url, tenant.key)
    customer = f"sdk-{uuid.uuid4().hex[:8]}"
    close(api, customer, 1200)
    close(api, customer, 5)

    points = api.get_loyalty_program_profile_points(1, customer)
    assert isinstance(points, talon_one.GetLoyaltyProgramProfilePoints200Response) and not points.has_more
    [active] = points.data
    assert isinstance(active, talon_one.LedgerPointsEntryIntegrationAPI)
    assert (active.amount, active.subledger_id, active.program_id, active.name) == (
        700,
        "",
        1,
        "Points on every purchase",
    )
    assert active.transaction_uuid and active.customer_session_id and active.expiry_date != "unlimited"
    pending = api.get_loyalty_program_profile_points(1, customer, status="pending", subledger_id="beauty")
    assert [(p.amount, p.subledger_id) for p in pending.data] == [(5, "beauty")]
    assert api.get_loyalty_program_profile_points(1, customer, status="expired").data == []

    log = api.get_loyalty_program_profile_transactions(1, customer)
    assert isinstance(log, talon_one.GetLoyaltyProgramProfileTransactions200Response) and not log.has_more
    assert all(isinstance(entry, talon_one.LedgerTransactionLogEntryIntegrationAPI) for entry in log.data)
    assert [(e.type, e.amount) for e in log.data][:1] == [("subtraction", 500)]
    assert sorted((e.type, e.amount, e.subledger_id) for e in log.data[1:]) == [
        ("addition", 5, "beauty"),
        ("addition", 1200, ""),
    ]
    # The SDK sends dates as `2026-12-04T10:00:00.000000+0000`, and paging as it is named.
    hour_ago, soon = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=5)
    paged = api.get_loyalty_program_profile_transactions(
        1, customer, start_date=hour_ago, end_date=soon, page_size=2, loyalty_transaction_type="session"
    )
    assert paged.has_more and paged.data == log.data[:2]
    assert api.get_loyalty_program_profile_transactions(1, customer, end_date=hour_ago).data == []

    with pytest.raises(BadRequestException):
        api.get_loyalty_program_profile_points(1, customer, status="spent")
    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).get_loyalty_program_profile_points(1, customer)
    with pytest.raises(NotFoundException):
        integration_api(base_url, other_tenant.key).get_loyalty_program_profile_transactions(1, customer)
