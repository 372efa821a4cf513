"""The simulation, pure: sessions decided under the live and the candidate rulesets at their own last update, compared
per campaign (a campaign added, removed, its discount changed, its schedule), deterministic, exact."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from patron.promotions.loading import merge
from patron.promotions.management import RulesetInvalidError
from patron.promotions.ruleset import CompiledRuleset
from patron.promotions.simulation import MAX_EXAMPLES, compile_candidate, simulate
from patron.promotions.store import compile_version
from patron.sessions.keys import RECENT_SHARDS, recent_keys, recent_shard
from patron.sessions.model import CartItem, Session, SessionState
from patron.sessions.recent import RecordedSession
from patron.sessions.store import StoredSession

SETTINGS = {"currency": "EUR", "timezone": "Europe/Rome"}
TEN_PERCENT: dict[str, Any] = {
    "id": 1,
    "name": "Ten percent over 100",
    "rules": [
        {
            "title": "Cart of 100 or more",
            "condition": "session.cartItemTotal >= 100",
            "effects": [{"type": "setDiscount", "name": "10% off", "value": "session.total * 0.1"}],
        }
    ],
}
FIVE_OFF: dict[str, Any] = {
    "id": 2,
    "name": "Five off over 50",
    "rules": [
        {
            "title": "Cart of 50 or more",
            "condition": "session.cartItemTotal >= 50",
            "effects": [{"type": "setDiscount", "name": "5 off", "value": 5}],
        }
    ],
}


def compiled(*campaigns: dict[str, Any], version: int = 1) -> CompiledRuleset:
    ruleset = merge([("test", {"settings": SETTINGS, "campaigns": [copy.deepcopy(c) for c in campaigns]})])
    return compile_version(ruleset, version)


def recorded(
    integration_id: str,
    price: str,
    quantity: int = 1,
    state: SessionState = SessionState.CLOSED,
    updated: str = "2026-12-03T12:00:00.000Z",
) -> RecordedSession:
    session = Session(
        integration_id=integration_id,
        id=1,
        created=updated,
        updated=updated,
        state=state,
        cart_items=(CartItem("sku", quantity, Decimal(price)),),
        version=1,
    )
    return RecordedSession(StoredSession(session), None)


SESSIONS = [
    recorded("big", "120"),  # 10% = 12; 5 off
    recorded("middle", "60"),  # 5 off only
    recorded("small", "20"),  # nothing
    recorded("cancelled", "500", state=SessionState.CANCELLED),  # never evaluated
]


def by_id(simulation: Any) -> dict[int, Any]:
    return {campaign.id: campaign for campaign in simulation.campaigns}


def test_an_added_campaign_changes_the_sessions_it_triggers_on():
    simulation = simulate(compiled(TEN_PERCENT), compiled(TEN_PERCENT, FIVE_OFF, version=0), SESSIONS)
    assert (simulation.based_on, simulation.sessions, simulation.evaluated, simulation.skipped) == (1, 4, 3, 1)
    campaigns = by_id(simulation)
    kept, added = campaigns[1], campaigns[2]
    assert (kept.change, kept.triggered_before, kept.triggered_after, kept.sessions_changed) == ("unchanged", 1, 1, 0)
    assert kept.discount_before == kept.discount_after == Decimal("12")
    assert (added.change, added.name, added.triggered_before, added.triggered_after) == (
        "added",
        FIVE_OFF["name"],
        0,
        2,
    )
    assert (added.sessions_changed, added.changed_sessions) == (2, ("big", "middle"))
    assert (added.discount_before, added.discount_after, added.discount_difference) == (0, Decimal(10), Decimal(10))
    assert simulation.sessions_changed == 2
    assert (simulation.discount_before, simulation.discount_after) == (Decimal(12), Decimal(22))


def test_a_removed_campaign_gives_back_its_discounts():
    simulation = simulate(compiled(TEN_PERCENT, FIVE_OFF), compiled(TEN_PERCENT, version=0), SESSIONS)
    removed = by_id(simulation)[2]
    assert (removed.change, removed.triggered_before, removed.triggered_after) == ("removed", 2, 0)
    assert (removed.discount_before, removed.discount_after, removed.discount_difference) == (10, 0, -10)
    assert simulation.discount_difference == Decimal(-10)


def test_a_changed_discount_is_compared_exactly():
    twenty = copy.deepcopy(TEN_PERCENT)
    twenty["rules"][0]["effects"][0]["value"] = "session.total * 0.2"
    sessions = [recorded("a", "33.34", 3), recorded("b", "100.01"), recorded("c", "99.99")]
    simulation = simulate(compiled(TEN_PERCENT), compiled(twenty, version=0), sessions)
    [changed] = simulation.campaigns
    assert (changed.change, changed.triggered_before, changed.triggered_after) == ("changed", 2, 2)
    # 10% of 100.02 and of 100.01, each rounded to the cent (10.00 + 10.00); 20%: 20.00 + 20.00; 99.99 never.
    assert (changed.discount_before, changed.discount_after) == (Decimal("20.00"), Decimal("40.00"))
    assert isinstance(changed.discount_after, Decimal)
    assert (changed.sessions_changed, changed.changed_sessions) == (2, ("a", "b"))


def test_an_identical_ruleset_changes_nothing_and_runs_the_same_twice():
    first = simulate(compiled(TEN_PERCENT, FIVE_OFF), compiled(TEN_PERCENT, FIVE_OFF, version=0), SESSIONS)
    assert first.sessions_changed == 0 and all(c.sessions_changed == 0 for c in first.campaigns)
    assert [c.change for c in first.campaigns] == ["unchanged", "unchanged"]
    assert first.discount_before == first.discount_after == Decimal(22)
    assert simulate(compiled(TEN_PERCENT, FIVE_OFF), compiled(TEN_PERCENT, FIVE_OFF, version=0), SESSIONS) == first


def test_each_session_is_decided_at_its_own_last_update():
    later = {**FIVE_OFF, "startTime": "2026-12-03T12:00:00Z"}
    sessions = [
        recorded("before-start", "60", updated="2026-12-03T11:59:59.999Z"),
        recorded("after-start", "60", updated="2026-12-03T12:00:00.001Z"),
    ]
    simulation = simulate(None, compiled(later, version=0), sessions)
    [campaign] = simulation.campaigns
    assert simulation.based_on is None and campaign.change == "added"
    assert (campaign.triggered_after, campaign.changed_sessions) == (1, ("after-start",))
    assert (simulation.oldest, simulation.newest) == ("2026-12-03T11:59:59.999Z", "2026-12-03T12:00:00.001Z")


def test_a_changed_campaign_that_never_triggers_is_still_listed_and_quiet_ones_are_not():
    never = {**FIVE_OFF, "id": 3, "name": "Never", "state": "disabled"}
    simulation = simulate(compiled(TEN_PERCENT, never), compiled(TEN_PERCENT, {**never, "priority": 2}), SESSIONS)
    assert [(c.id, c.change, c.triggered_after) for c in simulation.campaigns] == [
        (1, "unchanged", 1),
        (3, "changed", 0),
    ]
    quiet = simulate(compiled(TEN_PERCENT, never), compiled(TEN_PERCENT, never), SESSIONS)
    assert [c.id for c in quiet.campaigns] == [1]


def test_changed_sessions_are_named_up_to_the_limit():
    sessions = [recorded(f"s{i:02d}", "60") for i in range(MAX_EXAMPLES + 5)]
    [added] = simulate(None, compiled(FIVE_OFF, version=0), sessions).campaigns
    assert added.sessions_changed == MAX_EXAMPLES + 5 and len(added.changed_sessions) == MAX_EXAMPLES


def test_a_candidate_that_does_not_compile_is_refused_with_every_fault():
    broken = copy.deepcopy(TEN_PERCENT)
    broken["rules"][0]["condition"] = "session.cartItemTotl >= 100"
    ruleset = merge([("test", {"settings": SETTINGS, "campaigns": [broken]})])
    with pytest.raises(RulesetInvalidError) as refused:
        compile_candidate(ruleset)
    assert [issue.code for issue in refused.value.issues] == ["unknown_name"]


def test_the_recent_index_keys_are_stable_bounded_and_spread():
    keys = recent_keys(7, "session-1", "2026-12-03T12:00:00.000Z")
    assert keys == recent_keys(7, "session-1", "2026-12-03T12:00:00.000Z")
    assert keys["GSI1PK"] == f"APP#7#RECENT#{recent_shard('session-1')}"
    assert keys["GSI1SK"].startswith("2026-12-03T12:00:00.000Z#") and len(keys["GSI1SK"]) == 24 + 1 + 16
    assert len(recent_keys(7, "é" * 512, "2026-12-03T12:00:00.000Z")["GSI1SK"].encode()) < 1024
    shards = {recent_shard(f"s-{n}") for n in range(200)}
    assert shards == set(range(RECENT_SHARDS))
