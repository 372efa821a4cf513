"""Cached factories of the order functions: built on first use, once per process."""

from __future__ import annotations

from functools import cache

from patron.catalog.wiring import catalog_service
from patron.dynamo.client import dynamodb_client
from patron.orders.customers import ProfileCustomerResolver
from patron.orders.repository import DynamoOrderRepository
from patron.orders.service import OrderService
from patron.orders.statuses import DynamoStatusMappingRepository
from patron.profiles.wiring import profile_service
from patron.settings import OrdersSettings


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
