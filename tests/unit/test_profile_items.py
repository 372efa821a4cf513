"""A profile written whole (an import's batches) is the item the per-request writes would leave."""

from decimal import Decimal

from patron.profiles.consents import Consent
from patron.profiles.identifiers import Identifiers
from patron.profiles.model import CustomerProfile
from patron.profiles.repository import profile_from_item, profile_to_item
from patron.profiles.stats import CustomerStats


def test_a_profile_survives_the_round_trip_through_its_item():
    profile = CustomerProfile(
        application_id=7,
        integration_id="cust#1 'quoted'",
        profile_id=123456789,
        created="2024-01-01T00:00:00.000Z",
        updated="2024-01-02T00:00:00.000Z",
        last_activity="2024-01-01T00:00:00.000Z",
        version=1,
        attributes={"tier": "gold", "visits": 3, "it's": {"nested": [1, 2]}},
        identifiers=Identifiers(email="a@example.com", device_ids=frozenset({"d1"})),
        stats=CustomerStats(2, Decimal("30.5"), "2023-01-01", "2024-01-01"),
        consents={"email": Consent(True, "2024-01-01T00:00:00.000Z", "import")},
    )
    assert profile_from_item(profile_to_item(profile)) == profile


def test_a_new_profile_item_carries_nothing_it_does_not_need():
    profile = CustomerProfile(7, "c1", 1, "t", "t", "t", 1)
    item = profile_to_item(profile)
    assert set(item) == {"PK", "SK", "profileId", "created", "updated", "lastActivity", "version"}
