"""Cached factories of the order functions: built on first use, once per process."""

from __future__ import annotations

from functools import cache

from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.orders.customers import ProfileCustomerResolver
from patron.orders.erasure import CustomerEraser
from patron.orders.merge import CustomerMerger
from patron.orders.repository import DynamoOrderRepository
from patron.orders.service import OrderService
from patron.orders.statuses import DynamoStatusMappingRepository
from patron.profiles.repository import DynamoProfileRepository
from patron.profiles.wiring import profile_service
from patron.settings import CustomerDataSettings, OrdersSettings


@cache
def orders_settings() -> OrdersSettings:
    return OrdersSettings.from_environ()


@cache
def customer_resolver() -> ProfileCustomerResolver:
    return ProfileCustomerResolver(profile_service())


@cache
def order_service() -> OrderService:
    settings = orders_settings()
    client = dynamodb_client()
    return OrderService(
        DynamoOrderRepository(client, settings.orders_table_name, settings.profiles_table_name),
        DynamoStatusMappingRepository(client, settings.config_table_name),
        customer_resolver(),
        catalog=catalog_service(),
    )


@cache
def customer_eraser() -> CustomerEraser:
    """For the functions that erase people (they need the orders, profiles and idempotency tables)."""
    # Imported here: the functions that never erase (orders) do not load the idempotency store at cold start.
    from patron.idempotency.wiring import idempotency_store
    from patron.outbox.wiring import outbox

    settings = CustomerDataSettings.from_environ()
    client = dynamodb_client()
    orders = DynamoOrderRepository(client, settings.orders_table_name, settings.profiles_table_name)
    service = OrderService(
        orders, DynamoStatusMappingRepository(client, settings.config_table_name), customer_resolver()
    )
    return CustomerEraser(
        profile_service(),
        orders,
        service,
        forget=idempotency_store().forget_subject,
        forget_outbox=outbox().forget_customer,
    )


@cache
def customer_merger() -> CustomerMerger:
    """For the functions whose writes may merge an anonymous profile into a customer."""
    settings = CustomerDataSettings.from_environ()
    client = dynamodb_client()
    orders = DynamoOrderRepository(client, settings.orders_table_name, settings.profiles_table_name)
    service = OrderService(
        orders, DynamoStatusMappingRepository(client, settings.config_table_name), customer_resolver()
    )
    profiles = DynamoProfileRepository(client, settings.profiles_table_name)
    from patron.idempotency.wiring import idempotency_store  # the functions that merge all take Idempotency-Key
    from patron.outbox.wiring import outbox

    refilers = (idempotency_store().refile_subject, outbox().refile_customer)
    return CustomerMerger(profile_service(), profiles, orders, service, refilers=refilers)
