"""Builder of the referral creation service (the Integration API's `POST /v1/referrals` and
`/v1/referrals_for_multiple_advocates`)."""

from __future__ import annotations

from typing import Any

from patron.clock import SystemClock
from patron.promotions.definitions import Ruleset
from patron.promotions.store import DynamoRulesetRepository, LiveRulesets
from patron.referrals.repository import DynamoReferralRepository
from patron.referrals.service import ReferralService


class LiveCampaigns:
    """The application's live ruleset: the pointer read at each call (consistent: a campaign just published takes
    referrals at once), the version compiled once per process (`LiveRulesets`, shared with the sessions)."""

    def __init__(self, pointers: DynamoRulesetRepository, rulesets: LiveRulesets):
        self._pointers = pointers
        self._rulesets = rulesets

    def live(self, application_id: int) -> Ruleset | None:
        pointer = self._pointers.live(application_id)
        if pointer is None:
            return None
        return self._rulesets.compiled(application_id, pointer.version).ruleset


def referral_service(client: Any, config_table: str, ledgers_table: str, rulesets: LiveRulesets) -> ReferralService:
    return ReferralService(
        DynamoReferralRepository(client, ledgers_table),
        LiveCampaigns(DynamoRulesetRepository(client, config_table), rulesets),
        SystemClock(),
    )
