"""bench/decide.py measures what it claims: its generated 1,000-campaign ruleset compiles, and the three engines it
times (compiled closures, the tree-walking interpreter, CEL where CEL can express a condition) decide a few carts
alike, rule by rule. No timing here: `make bench-decide` measures."""

from __future__ import annotations

from datetime import datetime

import pytest

from bench import decide as bench
from patron.promotions.decide import Snapshot, decide, facts_of
from patron.promotions.definitions import CampaignState, EvaluationMode, Ruleset
from patron.promotions.ruleset import compile_ruleset


@pytest.fixture(scope="module")
def definitions() -> Ruleset:
    return bench.ruleset()


@pytest.fixture(scope="module")
def carts() -> list[tuple[Snapshot, datetime]]:
    return bench.check_carts()


def test_the_generated_ruleset_is_the_same_every_run_and_compiles(definitions: Ruleset) -> None:
    assert bench.ruleset() == definitions
    assert len(definitions.campaigns) == 1000
    assert {group.mode for group in definitions.evaluation_groups} == set(EvaluationMode)
    assert any(campaign.limits for campaign in definitions.campaigns)
    assert any(campaign.state is CampaignState.DISABLED for campaign in definitions.campaigns)
    compiled = compile_ruleset(definitions, 1, bench.SCHEMA)
    assert len(compiled.campaigns) == 1000


def test_compiled_interpreter_and_cel_decide_the_carts_alike(
    definitions: Ruleset, carts: list[tuple[Snapshot, datetime]]
) -> None:
    found, compared = bench.disagreements(definitions, carts)
    assert found == []
    # Not vacuous: campaigns trigger, conditions are true and false, CEL answers most of them.
    assert compared["evaluations"] == 2 * 3 * len(carts)
    assert 0 < compared["true"] < compared["conditions"]
    assert compared["in CEL"] > compared["conditions"] // 2
    compiled = compile_ruleset(definitions, 1, bench.SCHEMA)
    cart, now = carts[0]
    assert decide(compiled, bench.with_counters(compiled, cart, now), now).triggered


def test_cel_refuses_only_what_it_cannot_say(definitions: Ruleset) -> None:
    _, cel_compiler = bench.arms(definitions)
    assert set(cel_compiler.refused.values()) == {"sum (CEL has no sum over a list)"}
    assert len(cel_compiler.translated) > 500


def test_the_index_finds_the_candidates_the_full_scan_finds(
    definitions: Ruleset, carts: list[tuple[Snapshot, datetime]]
) -> None:
    """The per-version index against `Requirements.admits` on every campaign (the scan a dry request's
    `evaluableCampaignIds` takes), on each cart."""
    compiled = compile_ruleset(definitions, 1, bench.SCHEMA)
    enabled = frozenset(campaign_id for campaign_id, indexed in compiled.campaigns.items() if indexed.enabled)
    for cart, now in carts:
        facts = facts_of(cart, compiled, now)
        indexed = [(group.id, [c.id for c in group.campaigns]) for group in compiled.candidates(facts)]
        scanned = [(group.id, [c.id for c in group.campaigns]) for group in compiled.candidates(facts, enabled)]
        assert indexed == scanned
        assert 0 < sum(len(ids) for _, ids in indexed) < len(enabled)
