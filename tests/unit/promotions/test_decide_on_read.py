"""A decision is kept only when its read held every budget counter it consulted; otherwise it names what to read,
and one more read always suffices."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from patron.promotions.budgets import CounterKey
from patron.promotions.decide import Snapshot, counters_to_read, decide_on_read
from patron.promotions.loading import merge
from patron.promotions.pricing import Line
from patron.promotions.ruleset import CompiledRuleset
from patron.promotions.store import compile_version

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)


def _limited(campaign_id: int, threshold: int, budget: int) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "name": f"Budgeted {campaign_id}",
        "limits": [{"action": "setDiscount", "limit": budget}],
        "rules": [
            {
                "title": f"Over {threshold}",
                "condition": f"session.total >= {threshold}",
                "effects": [{"type": "setDiscount", "name": f"off {campaign_id}", "value": 10}],
            }
        ],
    }


def _ruleset(*campaigns: dict[str, Any], cascading: bool = False) -> CompiledRuleset:
    settings = {"currency": "EUR", "timezone": "Europe/Rome", "cascadingDiscounts": cascading}
    ruleset = merge([("test", {"settings": settings, "campaigns": [copy.deepcopy(c) for c in campaigns]})])
    return compile_version(ruleset, 1)


def _snapshot(total: str, counters: dict[CounterKey, Decimal]) -> Snapshot:
    return Snapshot("s-1", lines=[Line(0, "sku", 1, Decimal(total))], counters=counters)


def _key(campaign_id: int) -> CounterKey:
    return CounterKey(campaign_id, "setDiscount", "", "", "overall")


def test_a_read_without_the_holding_campaigns_counters_is_not_decided_on() -> None:
    ruleset = _ruleset(_limited(1, 50, 100), _limited(2, 500, 100))
    decided = decide_on_read(ruleset, _snapshot("80", {}), NOW, frozenset())
    # Campaign 1 holds and consulted its counter, which the read lacked; campaign 2 is a candidate too (no index
    # key), so its counter is asked for as well: the second decision cannot lack one.
    assert decided.evaluation is None
    assert decided.missing == {_key(1), _key(2)}
    counters = {_key(1): Decimal(95), _key(2): Decimal(0)}
    again = decide_on_read(ruleset, _snapshot("80", counters), NOW, frozenset(counters))
    assert again.evaluation is not None and again.missing == frozenset()
    assert [effect.props.value for effect in again.evaluation.effects] == [Decimal(5)]  # 95 of 100 used
    assert again.evaluation.consulted == {_key(1)}  # only the holding campaign's: what the next read needs


def test_a_read_holding_the_consulted_counters_is_decided_on_even_without_the_others() -> None:
    ruleset = _ruleset(_limited(1, 50, 100), _limited(2, 500, 100))
    decided = decide_on_read(ruleset, _snapshot("80", {}), NOW, frozenset({_key(1)}))
    assert decided.evaluation is not None
    assert [effect.props.value for effect in decided.evaluation.effects] == [Decimal(10)]


@given(
    total=st.integers(0, 300),
    used=st.lists(st.integers(0, 30), min_size=4, max_size=4),
    known=st.sets(st.integers(1, 4)),
    cascading=st.booleans(),
)
def test_one_more_read_always_suffices_and_decides_as_a_full_read(
    total: int, used: list[int], known: set[int], cascading: bool
) -> None:
    # Thresholds and budgets close together, with cascading: a counter read late changes which campaigns hold.
    ruleset = _ruleset(*(_limited(n, 40 * n, 20 + n) for n in range(1, 5)), cascading=cascading)
    stored = {_key(n): Decimal(used[n - 1]) for n in range(1, 5)}
    first_read = frozenset(_key(n) for n in known)
    first = decide_on_read(ruleset, _snapshot(str(total), {k: stored[k] for k in first_read}), NOW, first_read)
    decided = first
    if first.evaluation is None:
        second_read = first_read | first.missing
        decided = decide_on_read(ruleset, _snapshot(str(total), {k: stored[k] for k in second_read}), NOW, second_read)
    assert decided.evaluation is not None
    everything = frozenset(counters_to_read(ruleset, _snapshot(str(total), {}), NOW)) | first_read
    full = decide_on_read(ruleset, _snapshot(str(total), {k: stored[k] for k in everything}), NOW, everything)
    assert full.evaluation is not None
    assert decided.evaluation.effects == full.evaluation.effects
    assert decided.evaluation.consumption == full.evaluation.consumption
