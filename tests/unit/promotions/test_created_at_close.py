"""Effects whose writes the close makes: `createCoupon`, `reserveCoupon` and `createReferral`. The evaluation stays
pure: it answers the effects (codes left for the close to draw) and records what the close must write; an
anonymous session, a coupon not on scope or a reservation limit reached make the effect fail instead."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from patron.promotions.decide import Snapshot, decide
from patron.promotions.evaluator import CouponToCreate, CouponToReserve, Evaluation, ReferralToCreate
from patron.promotions.loading import DefinitionError, merge
from patron.promotions.presented import PresentedCoupon
from patron.promotions.pricing import Line
from patron.promotions.rules import CouponFacts, ProfileFacts
from patron.promotions.ruleset import CompiledRuleset
from patron.promotions.store import compile_version

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)
CREATE = {"type": "createCoupon", "prefix": "NEXT-", "validDays": 30}
RESERVE = {"type": "reserveCoupon"}
REFER = {"type": "createReferral", "prefix": "REF-", "usageLimit": 5, "validDays": 10, "attributes": {"tier": "gold"}}


def campaign(*effects: dict[str, Any], condition: str = "true", features: tuple[str, ...] = ("coupons",)) -> Any:
    return {
        "id": 10,
        "name": "Next purchase",
        "features": list(features),
        "rules": [{"title": "Closing", "condition": condition, "effects": list(effects)}],
    }


def compiled(*campaigns: dict[str, Any]) -> CompiledRuleset:
    document = {"settings": {"currency": "EUR"}, "campaigns": [copy.deepcopy(c) for c in campaigns]}
    return compile_version(merge([("test", document)]), 3)


def close(
    ruleset: CompiledRuleset, *presented: PresentedCoupon, profile: str | None = "ann", state: str = "closed"
) -> Evaluation:
    snapshot = Snapshot(
        "s-1",
        lines=[Line(0, "sku", 1, Decimal(100))],
        state=state,
        profile=ProfileFacts(integration_id=profile) if profile is not None else None,
        coupon_codes=[one.value for one in presented],
        coupons=presented,
    )
    return decide(ruleset, snapshot, NOW)


def presented(value: str = "WALLET-1", **facts: Any) -> PresentedCoupon:
    return PresentedCoupon(value, CouponFacts(id=77, value=value, campaign_id=10, **facts))


def answered(evaluation: Evaluation) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e.effect_type, {name: getattr(e.props, name) for name in e.props.__struct_fields__})
        for e in evaluation.effects
    ]


def failures(evaluation: Evaluation) -> list[tuple[str | None, int | None, str | None]]:
    return [(f.details, f.effect_index, f.coupon_value) for f in evaluation.failures]


# -- reserveCoupon ------------------------------------------------------------------------------------------------


def test_a_coupon_created_by_the_same_rule_is_reserved_with_its_creation() -> None:
    evaluation = close(compiled(campaign(CREATE, RESERVE)))
    assert answered(evaluation) == [
        ("couponCreated", {"value": "", "profile_id": "ann"}),
        ("reserveCoupon", {"coupon_value": "", "profile_integration_id": "ann", "is_new_reservation": True}),
    ]
    ((made,),) = [evaluation.coupons_to_create]
    assert made == CouponToCreate(10, "ann", "NEXT-", 1, None, 30, {}, rule_index=0, reserved=True)
    assert evaluation.coupons_to_reserve == [] and evaluation.failures == []


def test_a_second_reservation_of_the_created_coupon_is_not_new() -> None:
    evaluation = close(compiled(campaign(CREATE, RESERVE, RESERVE)))
    news = [e.props.is_new_reservation for e in evaluation.effects if e.effect_type == "reserveCoupon"]
    assert news == [True, False] and len(evaluation.coupons_to_create) == 1


def test_a_presented_coupon_that_triggers_the_rule_is_reserved_for_the_profile() -> None:
    evaluation = close(compiled(campaign(RESERVE, condition="coupon.valid")), presented(reservations_left=2))
    assert answered(evaluation) == [
        ("acceptCoupon", {"value": "WALLET-1"}),
        ("reserveCoupon", {"coupon_value": "WALLET-1", "profile_integration_id": "ann", "is_new_reservation": True}),
    ]
    assert evaluation.effects[1].triggered_by_coupon == 77
    assert evaluation.coupons_to_reserve == [CouponToReserve(10, "WALLET-1", "ann")]


def test_a_reservation_the_profile_holds_already_is_answered_not_new_and_not_written_again() -> None:
    evaluation = close(compiled(campaign(RESERVE, condition="coupon.valid")), presented(reserved=True))
    assert answered(evaluation)[1] == (
        "reserveCoupon",
        {"coupon_value": "WALLET-1", "profile_integration_id": "ann", "is_new_reservation": False},
    )
    assert evaluation.coupons_to_reserve == []


def test_a_coupon_without_reservations_left_fails_the_effect_and_reserves_nothing() -> None:
    evaluation = close(compiled(campaign(RESERVE, condition="coupon.valid")), presented(reservations_left=0))
    assert [e.effect_type for e in evaluation.effects] == ["acceptCoupon"]  # the coupon is still redeemed
    assert failures(evaluation) == [("CouponReservationLimitReached", 0, "WALLET-1")]
    assert evaluation.coupons_to_reserve == []
    # A profile holding its reservation already takes no place: no limit applies to it.
    held = close(compiled(campaign(RESERVE, condition="coupon.valid")), presented(reservations_left=0, reserved=True))
    assert held.failures == [] and held.effects[1].props.is_new_reservation is False


def test_without_a_coupon_on_scope_the_effect_fails() -> None:
    # A rule not triggered by a coupon (even with one presented), and a rule whose coupon creation failed.
    not_by_coupon = close(compiled(campaign(RESERVE)), presented())
    assert failures(not_by_coupon) == [("EffectCouldNotBeApplied", 0, None)]
    assert not_by_coupon.coupons_to_reserve == []
    failed_creation = close(compiled(campaign({**CREATE, "discountLimit": "profile.attributes.missing"}, RESERVE)))
    assert failures(failed_creation) == [("EffectCouldNotBeApplied", 0, None), ("EffectCouldNotBeApplied", 1, None)]
    assert failed_creation.effects == [] and failed_creation.coupons_to_create == []


def test_an_anonymous_session_reserves_nothing() -> None:
    evaluation = close(compiled(campaign(CREATE, RESERVE)), profile=None)
    assert failures(evaluation) == [("EffectCouldNotBeApplied", 0, None), ("EffectCouldNotBeApplied", 1, None)]
    assert evaluation.effects == [] and evaluation.coupons_to_create == []


def test_an_open_session_reserves_and_creates_nothing() -> None:
    ruleset = compiled(campaign(CREATE, RESERVE, REFER, features=("coupons", "referrals")))
    evaluation = close(ruleset, state="open")
    assert evaluation.effects == [] and evaluation.failures == []
    assert (evaluation.coupons_to_create, evaluation.referrals_to_create) == ([], [])


def test_a_created_coupon_is_reserved_only_by_its_own_rules_effect() -> None:
    two_rules = campaign(CREATE)
    two_rules["rules"].append({"title": "Reserve", "condition": "true", "effects": [RESERVE]})
    evaluation = close(compiled(two_rules))
    assert failures(evaluation) == [("EffectCouldNotBeApplied", 0, None)]
    assert evaluation.coupons_to_create[0].reserved is False


# -- createReferral -----------------------------------------------------------------------------------------------


def test_a_referral_code_is_recorded_for_the_close_with_the_profile_as_advocate() -> None:
    evaluation = close(compiled(campaign(REFER, features=("referrals",))))
    assert answered(evaluation) == [("referralCreated", {"value": ""})]
    assert evaluation.referrals_to_create == [ReferralToCreate(10, "ann", "REF-", 5, 10, {"tier": "gold"})]


def test_an_anonymous_session_creates_no_referral_code() -> None:
    evaluation = close(compiled(campaign(REFER, features=("referrals",))), profile=None)
    assert failures(evaluation) == [("EffectCouldNotBeApplied", 0, None)]
    assert evaluation.effects == [] and evaluation.referrals_to_create == []


# -- features -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effect", "features", "code"),
    [
        (RESERVE, ("referrals",), "coupons_feature_required"),
        (REFER, ("coupons",), "referrals_feature_required"),
        (CREATE, (), "coupons_feature_required"),
    ],
)
def test_each_effect_needs_its_feature(effect: dict[str, Any], features: tuple[str, ...], code: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        compiled(campaign(effect, features=features))
    ((issue,),) = [refused.value.issues]
    assert (issue.code, issue.path) == (code, "campaigns[0].rules[0].effects[0]")
