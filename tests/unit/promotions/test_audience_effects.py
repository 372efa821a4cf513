"""`addToAudience` / `removeFromAudience` in the rule language and their settlement (patron.sessions.memberships):
publish-time refusals with each path, the evaluation's answer (anonymous: the effect fails), the audiences a ruleset
names (read with every session), and, for every sequence of effects and starting memberships, a settlement whose
changes make the last effect on each audience true and whose replay on the result changes nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.audiences.model import Audience, AudienceState
from patron.profiles.model import CustomerProfile
from patron.promotions.decide import Snapshot, decide
from patron.promotions.effects import AddToAudienceProps, Effect, RemoveFromAudienceProps
from patron.promotions.loading import DefinitionError, merge
from patron.promotions.pricing import Line
from patron.promotions.rules import ProfileFacts
from patron.promotions.ruleset import MAX_AUDIENCES, CompiledRuleset
from patron.promotions.store import compile_version
from patron.sessions import memberships
from patron.sessions.store import Read

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def campaign(*effects: dict[str, Any], state: str = "enabled") -> dict[str, Any]:
    rule = {"title": "Members", "condition": "true", "effects": list(effects)}
    return {"id": 7, "name": "Audience builder", "state": state, "rules": [rule]}


def compiled(*campaigns: dict[str, Any]) -> CompiledRuleset:
    document = {"settings": {"currency": "EUR"}, "campaigns": [copy.deepcopy(c) for c in campaigns]}
    return compile_version(merge([("test.yaml", document)]), 3)


def refused(*campaigns: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as raised:
        compiled(*campaigns)
    return [(issue.path, issue.code) for issue in raised.value.issues]


@pytest.mark.parametrize(
    ("effect", "path"),
    [
        ({"type": "addToAudience", "audienceId": 0}, "campaigns[0].rules[0].effects[0].audienceId"),
        ({"type": "addToAudience", "audienceId": 2**31}, "campaigns[0].rules[0].effects[0].audienceId"),
        ({"type": "removeFromAudience", "audienceId": "VIP"}, "campaigns[0].rules[0].effects[0].audienceId"),
        ({"type": "removeFromAudience", "audienceId": 1.5}, "campaigns[0].rules[0].effects[0].audienceId"),
        ({"type": "addToAudience"}, "campaigns[0].rules[0].effects[0]"),
        ({"type": "addToAudience", "audienceId": 1, "audience": "VIP"}, "campaigns[0].rules[0].effects[0]"),
    ],
)
def test_a_bad_audience_effect_is_refused_with_its_path(effect: dict[str, Any], path: str) -> None:
    assert refused(campaign(effect)) == [(path, "invalid_definition")]


def test_more_audiences_than_the_bound_are_refused_at_the_first_past_it() -> None:
    effects = [{"type": "addToAudience", "audienceId": n} for n in range(1, MAX_AUDIENCES + 2)]
    assert refused(campaign(*effects)) == [
        (f"campaigns[0].rules[0].effects[{MAX_AUDIENCES}].audienceId", "too_many_audiences")
    ]
    # The same audience named many times is one audience.
    same = [{"type": "removeFromAudience", "audienceId": 4}] * (MAX_AUDIENCES + 5)
    assert compiled(campaign(*same)).audiences == frozenset({4})


def test_the_audiences_named_are_those_of_campaigns_that_can_run() -> None:
    live = campaign({"type": "addToAudience", "audienceId": 3}, {"type": "removeFromAudience", "audienceId": 5})
    archived = {**campaign({"type": "addToAudience", "audienceId": 9}, state="archived"), "id": 8}
    assert compiled(live, archived).audiences == frozenset({3, 5})
    assert compiled(campaign({"type": "setDiscount", "name": "d", "value": 1})).audiences == frozenset()


def evaluate(ruleset: CompiledRuleset, profile: str | None) -> Any:
    snapshot = Snapshot(
        "s-1",
        lines=[Line(0, "sku", 1, Decimal(100))],
        state="open",
        profile=ProfileFacts(integration_id=profile) if profile is not None else None,
    )
    return decide(ruleset, snapshot, NOW)


def test_the_evaluation_answers_the_effect_for_a_customer_and_fails_it_for_an_anonymous_session() -> None:
    ruleset = compiled(campaign({"type": "addToAudience", "audienceId": 3}))
    [effect] = evaluate(ruleset, "ann").effects
    assert (effect.effect_type, effect.props) == ("addToAudience", AddToAudienceProps(3, "", "ann"))
    anonymous = evaluate(ruleset, None)
    assert anonymous.effects == []
    assert [(f.details, f.effect_index) for f in anonymous.failures] == [("EffectCouldNotBeApplied", 0)]


# -- settlement ------------------------------------------------------------------------------------------------

RULESET = compiled(campaign({"type": "addToAudience", "audienceId": 1}))
AUDIENCE_IDS = (1, 2, 3)


def read_of(audiences: dict[int, Audience]) -> Read:
    return Read(
        None, None, None, 3, {}, "ann", frozenset(), audiences=audiences, audiences_read=frozenset(AUDIENCE_IDS)
    )


def profile_of(joined: dict[int, int]) -> CustomerProfile:
    return CustomerProfile(
        application_id=1, integration_id="ann", profile_id=42, created="", updated="", last_activity="", version=1,
        audiences=joined,
    )  # fmt: skip


def effect_of(audience_id: int, join: bool) -> Effect:
    props_of = AddToAudienceProps if join else RemoveFromAudienceProps
    kind = "addToAudience" if join else "removeFromAudience"
    return Effect(7, 3, 0, "Members", kind, props_of(audience_id, "", "ann"))


audience_states = st.fixed_dictionaries(
    {
        one: st.one_of(
            st.none(),
            st.builds(
                lambda generation, deleted, one=one: Audience(
                    1, one, f"A{one}", "", generation, AudienceState.DELETED if deleted else AudienceState.LIVE
                ),
                st.integers(1, 3),
                st.booleans(),
            ),
        )
        for one in AUDIENCE_IDS
    }
)


@given(
    audience_states,
    st.dictionaries(st.sampled_from(AUDIENCE_IDS), st.integers(1, 3)),
    st.lists(st.tuples(st.sampled_from(AUDIENCE_IDS), st.booleans()), max_size=8),
)
def test_settling_makes_the_last_effect_true_and_a_replay_changes_nothing(
    states: dict[int, Audience | None], joined: dict[int, int], effects: list[tuple[int, bool]]
) -> None:
    audiences = {one: audience for one, audience in states.items() if audience is not None}
    read = read_of(audiences)
    answered = [effect_of(one, join) for one, join in effects]
    settled = memberships.settled("Profiles", 1, RULESET, answered, read, "ann", profile_of(joined), True)

    usable = [(one, join) for one, join in effects if one in audiences and audiences[one].state is AudienceState.LIVE]
    assert len(settled.effects) == len(usable) and len(settled.failures) == len(effects) - len(usable)
    assert all(e.props.audience_name == f"A{e.props.audience_id}" and e.props.profile_id == 42 for e in settled.effects)
    after = memberships.audiences_after(joined, settled.changes)
    last = dict(usable)
    for one, join in last.items():
        generation = audiences[one].generation
        assert (one in after and after[one] >= generation) if join else one not in after
    for one in set(AUDIENCE_IDS) - set(last):  # audiences no usable effect names are left as they were
        assert after.get(one) == joined.get(one)
    # Each change is one member item write (and a join one check of its audience); nothing else.
    joins = [one for one, generation in settled.changes.items() if generation is not None]
    assert len(settled.writes) == len(settled.changes) + len(joins)
    # The same effects settled again on the result (a replayed close or event): nothing to write.
    again = memberships.settled("Profiles", 1, RULESET, answered, read, "ann", profile_of(after), True)
    assert again.changes == {} and again.writes == []


def test_an_open_session_writes_nothing() -> None:
    read = read_of({1: Audience(1, 1, "VIP", "")})
    settled = memberships.settled("Profiles", 1, RULESET, [effect_of(1, True)], read, "ann", profile_of({}), False)
    assert [e.props.audience_name for e in settled.effects] == ["VIP"]
    assert settled.changes == {} and settled.writes == []
