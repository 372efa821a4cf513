"""Coupon campaigns in the engine: `coupon.valid` is Talon.One's "coupon code is valid" condition; a rule requiring
it accepts the coupon when its campaign applies (one redemption and the discount it gave, consumed at close), and
every other presented code is rejected with Talon.One's reason."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from patron.promotions.budgets import coupon_discount_key, coupon_usage_key
from patron.promotions.decide import Snapshot, decide
from patron.promotions.evaluator import Evaluation
from patron.promotions.loading import DefinitionError, merge
from patron.promotions.presented import PresentedCoupon
from patron.promotions.pricing import Line
from patron.promotions.rules import CouponFacts
from patron.promotions.ruleset import CompiledRuleset
from patron.promotions.store import compile_version

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)
SETTINGS = {"currency": "EUR", "timezone": "Europe/Rome"}


def coupon_campaign(campaign_id: int, condition: str = "coupon.valid", **extra: Any) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "name": f"Coupon {campaign_id}",
        "features": ["coupons"],
        "rules": [
            {
                "title": "Coupon code is valid",
                "condition": condition,
                "effects": [{"type": "setDiscount", "name": f"10% {campaign_id}", "value": "session.total * 0.1"}],
            }
        ],
        **extra,
    }


def compiled(*campaigns: dict[str, Any], **settings: Any) -> CompiledRuleset:
    document = {"settings": SETTINGS, "campaigns": [copy.deepcopy(c) for c in campaigns], **settings}
    return compile_version(merge([("test", document)]), 3)


def valid(value: str, campaign_id: int, coupon_id: int = 1, **facts: Any) -> PresentedCoupon:
    return PresentedCoupon(value, CouponFacts(id=coupon_id, value=value, campaign_id=campaign_id, **facts))


def run(ruleset: CompiledRuleset, *presented: PresentedCoupon, total: str = "100") -> Evaluation:
    snapshot = Snapshot(
        "s-1",
        lines=[Line(0, "sku", 1, Decimal(total))],
        coupon_codes=[one.value for one in presented],
        coupons=presented,
    )
    return decide(ruleset, snapshot, NOW)


def kinds(evaluation: Evaluation) -> list[tuple[str, Any]]:
    return [(e.effect_type, getattr(e.props, "rejection_reason", None) or e.props.value) for e in evaluation.effects]


def test_a_valid_coupon_whose_rule_applies_is_accepted_and_consumed_once() -> None:
    evaluation = run(compiled(coupon_campaign(10)), valid("WELCOME10", 10, coupon_id=77))
    assert kinds(evaluation) == [("acceptCoupon", "WELCOME10"), ("setDiscount", Decimal("10.00"))]
    assert {effect.triggered_by_coupon for effect in evaluation.effects} == {77}
    assert evaluation.consumption == {coupon_usage_key(10, "WELCOME10"): 1}
    assert [campaign.id for campaign in evaluation.triggered] == [10]


def test_without_a_coupon_a_coupon_campaign_does_not_run() -> None:
    assert run(compiled(coupon_campaign(10))).effects == []


def test_a_coupon_refused_by_its_check_is_rejected_with_the_checks_reason() -> None:
    refused = PresentedCoupon("OLD", None, "CouponExpired", campaign_id=10)
    evaluation = run(compiled(coupon_campaign(10)), refused)
    assert kinds(evaluation) == [("rejectCoupon", "CouponExpired")]
    assert evaluation.effects[0].campaign_id == 10 and evaluation.consumption == {}


def test_a_rule_that_does_not_hold_rejects_the_coupon_by_condition() -> None:
    ruleset = compiled(coupon_campaign(10, "coupon.valid and session.total >= 200"))
    assert kinds(run(ruleset, valid("BIG", 10))) == [("rejectCoupon", "CouponRejectedByCondition")]


def test_a_gift_card_gives_at_most_its_remainder_and_consumes_it() -> None:
    evaluation = run(compiled(coupon_campaign(10)), valid("GIFT", 10, discount_remainder=Decimal("3.50")))
    discount = evaluation.effects[1]
    assert (discount.props.value, discount.props.desired_value) == (Decimal("3.50"), Decimal("10.00"))
    assert evaluation.consumption == {coupon_usage_key(10, "GIFT"): 1, coupon_discount_key(10, "GIFT"): Decimal("3.50")}


def test_a_disabled_campaigns_coupon_is_part_of_a_campaign_not_running() -> None:
    ruleset = compiled(coupon_campaign(10, state="disabled"))
    assert kinds(run(ruleset, valid("X", 10))) == [("rejectCoupon", "CouponPartOfNotRunningCampaign")]


def test_one_coupon_per_campaign_the_second_is_not_triggered() -> None:
    evaluation = run(compiled(coupon_campaign(10)), valid("A", 10, 1), valid("B", 10, 2))
    assert kinds(evaluation) == [
        ("acceptCoupon", "A"),
        ("setDiscount", Decimal("10.00")),
        ("rejectCoupon", "CouponPartOfNotTriggeredCampaign"),
    ]
    assert evaluation.consumption == {coupon_usage_key(10, "A"): 1}


def test_a_coupon_whose_exclusive_group_applied_another_campaign_is_not_triggered() -> None:
    first = {
        "id": 1,
        "name": "Always",
        "evaluationGroup": "deals",
        "rules": [{"title": "t", "condition": "true", "effects": [{"type": "setDiscount", "name": "5", "value": 5}]}],
    }
    second = coupon_campaign(10, evaluationGroup="deals", priority=1)
    ruleset = compiled(first, second, evaluationGroups=[{"name": "deals", "mode": "exclusive"}])
    assert kinds(run(ruleset, valid("X", 10))) == [
        ("setDiscount", Decimal(5)),
        ("rejectCoupon", "CouponPartOfNotTriggeredCampaign"),
    ]


def test_coupon_attributes_and_aggregates_are_each_campaigns_own() -> None:
    # The same aggregate text in two campaigns reads each campaign's coupon: it must not be shared per request.
    condition = "coupon.valid and sum(items, item.price, item.sku == coupon.attributes.sku) > 0"
    ruleset = compiled(coupon_campaign(10, condition), coupon_campaign(11, condition))
    evaluation = run(ruleset, valid("A", 10, 1, attributes={"sku": "sku"}), valid("B", 11, 2, attributes={"sku": "x"}))
    assert kinds(evaluation) == [
        ("acceptCoupon", "A"),
        ("setDiscount", Decimal("10.00")),
        ("rejectCoupon", "CouponRejectedByCondition"),
    ]


def test_coupon_names_need_the_coupons_feature() -> None:
    plain = {
        "id": 4,
        "name": "Plain",
        "rules": [
            {"title": "t", "condition": "coupon.valid", "effects": [{"type": "setDiscount", "name": "5", "value": 5}]}
        ],
    }
    with pytest.raises(DefinitionError) as raised:
        compiled(plain)
    assert [(issue.code, issue.path) for issue in raised.value.issues] == [
        ("coupons_feature_required", "campaigns[0].rules[0].condition")
    ]


def test_an_unknown_code_is_not_found() -> None:
    evaluation = run(compiled(coupon_campaign(10)), PresentedCoupon("NOPE", None, "CouponNotFound"))
    assert kinds(evaluation) == [("rejectCoupon", "CouponNotFound")]
    assert evaluation.effects[0].campaign_id == 0
