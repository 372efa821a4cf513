"""Referral campaigns in the engine: `referral.valid` is Talon.One's "referral code is valid"; a rule requiring it
accepts the code when its campaign applies (one use consumed at close); otherwise `rejectReferral` with the reason."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from patron.promotions.budgets import referral_usage_key
from patron.promotions.decide import Snapshot, decide
from patron.promotions.evaluator import Evaluation
from patron.promotions.loading import DefinitionError, merge
from patron.promotions.presented import PresentedReferral
from patron.promotions.pricing import Line
from patron.promotions.rules import ReferralFacts
from patron.promotions.store import compile_version

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)


def ruleset(condition: str = "referral.valid", features: list[str] | None = None, **extra: Any) -> Any:
    campaign = {
        "id": 20,
        "name": "Refer a friend",
        "features": ["referrals"] if features is None else features,
        "rules": [
            {
                "title": "Referral code is valid",
                "condition": condition,
                "effects": [{"type": "setDiscount", "name": "5 off", "value": 5}],
            }
        ],
        **extra,
    }
    document = {"settings": {"currency": "EUR", "timezone": "Europe/Rome"}, "campaigns": [copy.deepcopy(campaign)]}
    return compile_version(merge([("test", document)]), 1)


def run(compiled: Any, presented: PresentedReferral | None) -> Evaluation:
    snapshot = Snapshot(
        "s-1",
        lines=[Line(0, "sku", 1, Decimal(40))],
        referral_code=presented.code if presented else None,
        referral=presented,
    )
    return decide(compiled, snapshot, NOW)


def valid(code: str = "ADAM-1", advocate: str = "adam") -> PresentedReferral:
    return PresentedReferral(code, ReferralFacts(id=1, code=code, campaign_id=20, advocate=advocate))


def kinds(evaluation: Evaluation) -> list[tuple[str, Any]]:
    return [(e.effect_type, getattr(e.props, "rejection_reason", None) or e.props.value) for e in evaluation.effects]


def test_a_valid_code_is_accepted_and_one_use_is_consumed() -> None:
    evaluation = run(ruleset(), valid())
    assert kinds(evaluation) == [("acceptReferral", "ADAM-1"), ("setDiscount", Decimal(5))]
    assert evaluation.consumption == {referral_usage_key(20, "ADAM-1"): 1}


def test_conditions_on_the_advocate_reject_by_condition() -> None:
    evaluation = run(ruleset('referral.valid and referral.advocateIntegrationId == "eve"'), valid())
    assert kinds(evaluation) == [("rejectReferral", "ReferralRejectedByCondition")]
    assert evaluation.consumption == {}


def test_a_refused_code_keeps_its_checks_reason_and_no_code_changes_nothing() -> None:
    refused = PresentedReferral("OLD", None, "ReferralExpired", campaign_id=20)
    assert kinds(run(ruleset(), refused)) == [("rejectReferral", "ReferralExpired")]
    assert run(ruleset(), None).effects == []


def test_a_disabled_campaigns_code_is_part_of_a_campaign_not_running() -> None:
    evaluation = run(ruleset(state="disabled"), valid())
    assert kinds(evaluation) == [("rejectReferral", "ReferralPartOfNotRunningCampaign")]


def test_referral_names_need_the_referrals_feature() -> None:
    with pytest.raises(DefinitionError) as raised:
        ruleset(features=[])
    assert [issue.code for issue in raised.value.issues] == ["referrals_feature_required"]
