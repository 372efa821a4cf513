"""Builders of the order service and of the resolver that finds an order's customer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.orders.customers import ProfileCustomerResolver
from patron.orders.repository import DynamoOrderRepository
from patron.orders.service import OrderService
from patron.orders.statuses import DynamoStatusMappingRepository
from patron.profiles.service import AttributeCatalog, ProfileService
from patron.settings import Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def customer_resolver(profiles: ProfileService) -> ProfileCustomerResolver:
    return ProfileCustomerResolver(profiles)


def order_repository(client: DynamoDBClient, tables: Tables) -> DynamoOrderRepository:
    """Orders, and the customers' statistics they keep in the profiles table."""
    return DynamoOrderRepository(client, tables.orders, tables.profiles)


def order_service(
    client: DynamoDBClient,
    tables: Tables,
    resolver: ProfileCustomerResolver,
    catalog: AttributeCatalog | None,
    orders: DynamoOrderRepository | None = None,
) -> OrderService:
    """`catalog` None: a service that never takes new order fields (erasure and merging move or delete orders)."""
    return OrderService(
        orders or order_repository(client, tables),
        DynamoStatusMappingRepository(client, tables.config),
        resolver,
        catalog=catalog,
    )
