"""Loyalty programs in campaign files: read with the campaigns, every fault named by its path, and the points
effects checked against the programs they name."""

from __future__ import annotations

from typing import Any

import pytest

from patron.promotions.loading import DefinitionError, merge
from patron.promotions.ruleset import compile_ruleset

PROGRAM = {"id": 1, "name": "main", "defaultValidity": "365D", "subledgers": ["beauty"]}


def campaign(effect: dict[str, Any], features: tuple[str, ...] = ("loyalty",)) -> dict[str, Any]:
    return {"id": 5, "name": "Points", "features": list(features), "rules": [{"title": "r", "effects": [effect]}]}


def issues(document: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as raised:
        compile_ruleset(merge([("loyalty.yaml", document)]), 1)
    return [(issue.path, issue.code) for issue in raised.value.issues]


def test_a_program_is_read_with_the_campaigns_and_its_points_effects_compile() -> None:
    effect = {"type": "addLoyaltyPoints", "programId": 1, "value": "floor(session.total)", "subledger": "beauty"}
    compiled = compile_ruleset(merge([("f", {"loyaltyPrograms": [PROGRAM], "campaigns": [campaign(effect)]})]), 1)
    assert compiled.programs[1].default_validity == "365D"
    assert compiled.loyalty == frozenset({1})


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ({**PROGRAM, "defaultValidity": "365X"}, "defaultValidity"),
        ({**PROGRAM, "defaultPending": "later"}, "defaultPending"),
        ({**PROGRAM, "timezone": "Mars/Olympus"}, "timezone"),
        ({**PROGRAM, "tiers": [{"name": "Gold", "minPoints": 1000}, {"name": "Silver", "minPoints": 0}]}, "ascending"),
        ({**PROGRAM, "tiers": [{"name": "Gold", "minPoints": -1}]}, "minPoints"),
        ({**PROGRAM, "subledgers": ["a", "a"]}, "subledgers"),
    ],
)
def test_a_faulty_program_is_refused_saying_what_and_where(program: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        merge([("loyalty.yaml", {"loyaltyPrograms": [program]})])
    [issue] = raised.value.issues
    assert issue.path.startswith("loyaltyPrograms[0]") and message in issue.message


def test_two_programs_with_one_id_are_refused() -> None:
    with pytest.raises(DefinitionError) as raised:
        merge([("a.yaml", {"loyaltyPrograms": [PROGRAM]}), ("b.yaml", {"loyaltyPrograms": [PROGRAM]})])
    assert [issue.code for issue in raised.value.issues] == ["duplicate_program"]


@pytest.mark.parametrize(
    ("effect", "features", "code"),
    [
        ({"type": "addLoyaltyPoints", "programId": 1, "value": "1"}, (), "loyalty_feature_required"),
        ({"type": "addLoyaltyPoints", "programId": 2, "value": "1"}, ("loyalty",), "unknown_program"),
        (
            {"type": "deductLoyaltyPoints", "programId": 1, "value": "1", "subledger": "x"},
            ("loyalty",),
            "unknown_subledger",
        ),
        (
            {"type": "addLoyaltyPoints", "programId": 1, "value": "1", "validity": "soon"},
            ("loyalty",),
            "invalid_duration",
        ),
        ({"type": "addLoyaltyPoints", "programId": 1, "value": "session.nothing"}, ("loyalty",), "unknown_name"),
        (
            {"type": "addLoyaltyPoints", "programId": 1, "value": "1", "filter": 'item.sku == "A"'},
            ("loyalty",),
            "filter_needs_per_item",
        ),
        ({"type": "addLoyaltyPoints", "programId": 1, "value": "item.price"}, ("loyalty",), "unbound_name"),
        (
            {"type": "addLoyaltyPoints", "programId": 1, "value": "item.price", "perItem": True, "filter": "item.x"},
            ("loyalty",),
            "unknown_name",
        ),
        ({"type": "changeLoyaltyTierLevel", "programId": 1, "tier": "Platinum"}, ("loyalty",), "unknown_tier"),
    ],
)
def test_a_points_effect_is_checked_against_its_program(
    effect: dict[str, Any], features: tuple[str, ...], code: str
) -> None:
    found = issues({"loyaltyPrograms": [PROGRAM], "campaigns": [campaign(effect, features)]})
    assert [found_code for _, found_code in found] == [code]
    assert all(path.startswith("campaigns[0].rules[0].effects[0]") for path, _ in found)
