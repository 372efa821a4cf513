"""Why each campaign did or did not apply to a session: the `campaignEligibility` of a dry session update.

Talon.One documents the response content but not its shape; Patron answers one entry per campaign of the ruleset
(or per campaign of `evaluableCampaignIds`), in evaluation order, with a status:

  applied            the campaign triggered and its effects are in the answer
  limitReached       a budget refused it (`ruleFailureReasons` holds the details)
  notChosen          a rule's condition holds on the session, but its evaluation group applied another campaign
                     (listOrder, exclusive, highest or lowest discount) or an earlier exclusive group stopped it
  conditionsNotMet   no rule's condition holds on the session
  notRunning         outside its start and end time
  disabled           disabled or archived (evaluated only when named in evaluableCampaignIds)

Conditions are asked of the session as sent (before any discount), so with cascading discounts a campaign that
reads discounted totals may be reported against the undiscounted ones.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from patron.promotions.decide import Snapshot, facts_of
from patron.promotions.evaluator import CAMPAIGN_LIMIT_REACHED, Evaluation
from patron.promotions.ruleset import CompiledRuleset


class Eligibility(msgspec.Struct, frozen=True):
    campaign_id: int
    campaign_name: str
    evaluation_group: str
    status: str

    @property
    def eligible(self) -> bool:
        return self.status in ("applied", "notChosen")


def eligibility(
    ruleset: CompiledRuleset,
    snapshot: Snapshot,
    now: datetime,
    evaluation: Evaluation,
    only: frozenset[int] | None = None,
) -> list[Eligibility]:
    facts = facts_of(snapshot, ruleset, now)
    applied = {campaign.id for campaign in evaluation.triggered}
    limited = {failure.campaign_id for failure in evaluation.failures if failure.details == CAMPAIGN_LIMIT_REACHED}
    answered: list[Eligibility] = []
    for group in ruleset.groups:
        for campaign in group.campaigns:
            if only is not None and campaign.id not in only:
                continue
            indexed = ruleset.campaigns[campaign.id]
            status = _status(campaign.id in applied, campaign.id in limited, indexed.enabled or only is not None)
            if status is None:
                if not campaign.running(now):
                    status = "notRunning"
                elif any(rule.condition(facts) for rule in campaign.rules):
                    status = "notChosen"
                else:
                    status = "conditionsNotMet"
            answered.append(Eligibility(campaign.id, campaign.name, group.name, status))
    return answered


def _status(applied: bool, limited: bool, evaluable: bool) -> str | None:
    if applied:
        return "applied"
    if not evaluable:
        return "disabled"
    if limited:
        return "limitReached"
    return None
