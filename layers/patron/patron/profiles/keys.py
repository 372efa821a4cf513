"""Keys of the profiles table (docs/data-model.md). Every partition key begins with the application id."""

from __future__ import annotations

PROFILE_SK = "PROFILE"
# The index of profiles by numeric id (`profileId`, on profile items only): template.yaml's ProfilesTable.
PROFILE_ID_INDEX = "ProfileIdIndex"
# Order statistics on the profile item, kept exact by the orders context's transactions.
ORDERS_COUNT, SALES_TOTAL, FIRST_ORDER_AT, LAST_ORDER_AT = "ordersCount", "salesTotal", "firstOrderAt", "lastOrderAt"
# What closed customer sessions add to the profile (Talon.One's closedSessions and totalSales).
CLOSED_SESSIONS, TOTAL_SALES = "closedSessions", "totalSales"
IDENTIFIER_SK = "IDENT"
# Custom attributes are stored as top-level item attributes under this prefix, so one UpdateItem can both
# create a profile and merge attributes into it (a nested map cannot be created and updated in one expression).
ATTRIBUTE_PREFIX = "a:"
# Audience memberships, one top-level attribute per audience (`m:<audience id>` = the audience's generation when the
# profile joined): on the profile item so that every read of the profile (a session's BatchGetItem) has them, and
# each one added or removed on its own, conditionally, without touching the profile's version (docs/audiences.md).
MEMBERSHIP_PREFIX = "m:"


def profile_pk(application_id: int, integration_id: str) -> str:
    return f"APP#{application_id}#PROFILE#{integration_id}"


def parse_profile_pk(pk: str) -> tuple[int, str]:
    """(application id, integration id) of a profile key; the integration id may itself contain '#'."""
    _, application_id, _, integration_id = pk.split("#", 3)
    return int(application_id), integration_id


def identifier_pk(application_id: int, kind: str, value: str) -> str:
    """The item that claims an identifier (an email, a phone, ...) for one profile of one application."""
    return f"APP#{application_id}#IDENT#{kind}#{value}"
