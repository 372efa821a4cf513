"""Builders of the customer lifecycle: every context holding personal data, listed once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.customers.deferred import Deferred
from patron.customers.erasure import CustomerEraser
from patron.customers.export import CustomerExporter
from patron.customers.merge import CustomerMerger
from patron.customers.port import PersonalData
from patron.idempotency.personal_data import StoredAnswersPersonalData
from patron.idempotency.service import IdempotencyStore
from patron.orders.personal_data import OrdersPersonalData
from patron.orders.wiring import customer_resolver, order_repository, order_service
from patron.outbox.personal_data import NotificationsPersonalData
from patron.outbox.repository import DynamoOutboxRepository
from patron.profiles.repository import DynamoProfileRepository
from patron.profiles.service import ProfileService
from patron.settings import Tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def personal_data(
    client: DynamoDBClient,
    tables: Tables,
    profiles: ProfileService,
    answers: IdempotencyStore,
    outbox: DynamoOutboxRepository,
) -> tuple[PersonalData, ...]:
    """Every context that holds data about a person, in the order a merge or an erasure visits them: orders
    first (an erasure that stops half-way leaves the profile, so a retry finds the person and finishes)."""
    orders = order_repository(client, tables)
    # Orders move or go here, never take new fields: no catalog.
    service = order_service(client, tables, customer_resolver(profiles), None, orders)
    profiles_table = tables.profiles
    ledgers = tables.ledgers  # read now: a missing table is a configuration error at the start, not at a merge
    loyalty_outbox = (tables.outbox, tables.outbox_ttl)
    return (
        OrdersPersonalData(orders, service),
        # Holdings, reservations, personal codes (the ruleset is read only by an export, for the coupons' states).
        Deferred("coupons", lambda: _coupons(client, tables, ledgers)),
        # Codes as advocate, codes made out to the person, what they were referred in (no ruleset read).
        Deferred("referrals", lambda: _referrals(client, ledgers)),
        # Loyalty ledgers and their entries, by the person's member index (no ruleset read).
        Deferred("loyalty", lambda: _loyalty(client, ledgers, loyalty_outbox)),
        # Audience memberships, read from the profile item: moved to the survivor, or removed.
        Deferred("audiences", lambda: _audiences(client, profiles_table)),
        # Tracked custom events and their day counts, in the person's events partition of the orders table.
        Deferred("events", lambda: _events(client, tables.orders)),
        StoredAnswersPersonalData(answers),
        NotificationsPersonalData(outbox),
    )


def _coupons(client: DynamoDBClient, tables: Tables, ledgers: str) -> PersonalData:
    from patron.coupons.holdings import DynamoHoldings
    from patron.coupons.inventory import LiveCampaigns
    from patron.coupons.personal_data import CouponsPersonalData

    return CouponsPersonalData(DynamoHoldings(client, ledgers), ledgers, LiveCampaigns(client, tables))


def _referrals(client: DynamoDBClient, ledgers: str) -> PersonalData:
    from patron.referrals.partition import DynamoReferralPartition
    from patron.referrals.personal_data import ReferralsPersonalData

    return ReferralsPersonalData(DynamoReferralPartition(client, ledgers), ledgers)


def _loyalty(client: DynamoDBClient, ledgers: str, outbox: tuple[str, int]) -> PersonalData:
    from patron.loyalty.personal_data import LoyaltyPersonalData

    return LoyaltyPersonalData(client, ledgers, outbox)


def _audiences(client: DynamoDBClient, profiles: str) -> PersonalData:
    from patron.audiences.personal_data import AudiencesPersonalData
    from patron.audiences.repository import DynamoAudienceRepository

    return AudiencesPersonalData(DynamoAudienceRepository(client, profiles), DynamoProfileRepository(client, profiles))


def _events(client: DynamoDBClient, orders: str) -> PersonalData:
    from patron.events.personal_data import EventsPersonalData
    from patron.events.repository import DynamoEventRepository

    return EventsPersonalData(DynamoEventRepository(client, orders))


def customer_eraser(profiles: ProfileService, holders: tuple[PersonalData, ...]) -> CustomerEraser:
    return CustomerEraser(profiles, holders)


def customer_merger(
    client: DynamoDBClient, tables: Tables, profiles: ProfileService, holders: tuple[PersonalData, ...]
) -> CustomerMerger:
    """For the functions whose writes may merge an anonymous profile into a customer."""
    return CustomerMerger(profiles, DynamoProfileRepository(client, tables.profiles), holders)


def customer_exporter(profiles: ProfileService, holders: tuple[PersonalData, ...]) -> CustomerExporter:
    return CustomerExporter(profiles, holders)
