"""A profile's referral codes as the customer inventory answers them (`GET /v1/customer_profiles/{integrationId}/
inventory?referrals=true`, Talon.One's `InventoryReferral`): the codes the profile owns as advocate, each with the
friends it referred (`referredCustomers`).

The work is bounded: one Query of the advocate entries (100 a page) and one BatchGetItem of their referrals per page;
then a keys-only Query of a code's referred entries only for a code used at least once (a code nobody used has none),
at most `MAX_REFERRED` friends listed per code (a code's `usageCounter` says how many it referred in all).
"""

from __future__ import annotations

from patron.clock import iso
from patron.referrals.model import Referral
from patron.referrals.partition import DynamoReferralPartition
from patron.referrals.wire import InventoryReferral

MAX_REFERRED = 1000  # friends listed per code (keys-only Query pages: at most about 1 MB each)


def inventory_referral(referral: Referral, referred: list[str]) -> InventoryReferral:
    return InventoryReferral(
        id=referral.id,
        created=iso(referral.created),
        start_date=iso(referral.start_date) if referral.start_date else None,
        expiry_date=iso(referral.expiry_date) if referral.expiry_date else None,
        usage_limit=referral.usage_limit,
        campaign_id=referral.campaign_id,
        advocate_profile_integration_id=referral.advocate_integration_id,
        friend_profile_integration_id=None if referral.friend_erased else referral.friend_integration_id,
        attributes=dict(referral.attributes),
        code=referral.code,
        usage_counter=referral.usage_counter,
        batch_id=referral.batch_id,
        referred_customers=referred,
    )


class ReferralInventory:
    """A profile's codes as advocate, in code order, each with its referred customers."""

    def __init__(self, partition: DynamoReferralPartition, max_referred: int = MAX_REFERRED):
        self._partition = partition
        self._max_referred = max_referred

    def referrals(self, application_id: int, integration_id: str) -> list[InventoryReferral]:
        answered: list[InventoryReferral] = []
        for page in self._partition.advocate_codes(application_id, integration_id):
            for referral in page:
                referred = (
                    self._partition.referred(application_id, referral.code, self._max_referred)
                    if referral.usage_counter > 0
                    else []
                )
                answered.append(inventory_referral(referral, referred))
        return answered
