"""Cached factories of the customer lifecycle: every context holding personal data, listed once."""

from __future__ import annotations

from functools import cache

from patron.customers.erasure import CustomerEraser
from patron.customers.export import CustomerExporter
from patron.customers.merge import CustomerMerger
from patron.customers.port import PersonalData
from patron.dynamo.client import dynamodb_client
from patron.orders.personal_data import OrdersPersonalData
from patron.orders.repository import DynamoOrderRepository
from patron.orders.service import OrderService
from patron.orders.statuses import DynamoStatusMappingRepository
from patron.orders.wiring import customer_resolver
from patron.profiles.repository import DynamoProfileRepository
from patron.profiles.wiring import profile_service
from patron.settings import CustomerDataSettings


@cache
def personal_data() -> tuple[PersonalData, ...]:
    """Every context that holds data about a person, in the order a merge or an erasure visits them: orders
    first (an erasure that stops half-way leaves the profile, so a retry finds the person and finishes)."""
    # Imported here: functions that never merge or erase do not load the idempotency store at cold start.
    from patron.idempotency.personal_data import StoredAnswersPersonalData
    from patron.idempotency.wiring import idempotency_store
    from patron.outbox.personal_data import NotificationsPersonalData
    from patron.outbox.wiring import outbox

    settings = CustomerDataSettings.from_environ()
    client = dynamodb_client()
    orders = DynamoOrderRepository(client, settings.orders_table_name, settings.profiles_table_name)
    service = OrderService(
        orders, DynamoStatusMappingRepository(client, settings.config_table_name), customer_resolver()
    )
    return (
        OrdersPersonalData(orders, service),
        StoredAnswersPersonalData(idempotency_store()),
        NotificationsPersonalData(outbox()),
    )


@cache
def customer_eraser() -> CustomerEraser:
    return CustomerEraser(profile_service(), personal_data())


@cache
def customer_merger() -> CustomerMerger:
    """For the functions whose writes may merge an anonymous profile into a customer."""
    settings = CustomerDataSettings.from_environ()
    profiles = DynamoProfileRepository(dynamodb_client(), settings.profiles_table_name)
    return CustomerMerger(profile_service(), profiles, personal_data())


@cache
def customer_exporter() -> CustomerExporter:
    return CustomerExporter(profile_service(), personal_data())
