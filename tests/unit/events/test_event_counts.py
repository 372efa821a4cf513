"""Counting past events: the day buckets a count item keeps (patron.events.counts), what the write builder does to
them, and `eventCount(type, days)` in conditions, compiled and interpreted alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.dynamo import codec
from patron.events import counts
from patron.promotions.rules import Compiler, Facts, Interpreter, RuleError, SessionFacts, TimeFacts, parse

START = date(2026, 1, 1)


def applied(item: dict[str, Any], write: Any) -> dict[str, Any]:
    """The UpdateItem a bump builds, applied as DynamoDB would: ADD the day, SET the expiry, REMOVE stale days."""
    request = write.request
    names = request["ExpressionAttributeNames"]
    values = codec.from_item(request["ExpressionAttributeValues"])
    after = dict(item)
    expression: str = request["UpdateExpression"]
    assert expression.startswith("ADD #day :one SET #expires = :expires")
    after[names["#day"]] = after.get(names["#day"], 0) + values[":one"]
    after[names["#expires"]] = values[":expires"]
    if " REMOVE " in expression:
        for placeholder in expression.split(" REMOVE ", 1)[1].split(", "):
            after.pop(names[placeholder], None)
    return after


# Events as (days after START the call happens, how many days before that the event happened); calls in time order.
events_strategy = st.lists(st.tuples(st.integers(0, 900), st.integers(0, 3)), min_size=1, max_size=60).map(
    lambda found: sorted(found)
)


@settings(max_examples=200, deadline=None)
@given(events_strategy, st.integers(1, counts.WINDOW_DAYS), st.integers(0, 400))
def test_a_window_counts_exactly_the_events_of_its_days_and_the_item_stays_bounded(
    events: list[tuple[int, int]], window: int, later: int
) -> None:
    item: dict[str, Any] = {}
    kept: list[date] = []
    for call_day, back in events:
        today = START + timedelta(days=call_day)
        day = today - timedelta(days=back)
        if not counts.countable(day, today):
            continue
        item = applied(item, counts.bump("t", 1, "p", "x", day, counts.days_of(item), today))
        kept.append(day)
        assert len(counts.days_of(item)) <= counts.WINDOW_DAYS + 1
    asked = START + timedelta(days=events[-1][0] + later)  # counted later than the last write, too
    first = asked - timedelta(days=window - 1)
    assert counts.within(counts.days_of(item), asked, window) == sum(1 for day in kept if first <= day <= asked)


def test_a_bump_removes_only_days_no_window_can_reach() -> None:
    today = date(2026, 12, 4)
    read = {today - timedelta(days=400): 2, today - timedelta(days=365): 1, today - timedelta(days=364): 5}
    after = applied(
        {counts.bucket_name(d): n for d, n in read.items()}, counts.bump("t", 1, "p", "x", today, read, today)
    )
    assert counts.days_of(after) == {today - timedelta(days=364): 5, today: 1}
    # The item goes when its newest day has left the longest window.
    assert after["expiresAt"] == int(datetime(2027, 12, 5, tzinfo=UTC).timestamp())


def test_a_backdated_event_past_the_longest_window_is_not_countable() -> None:
    today = date(2026, 12, 4)
    assert counts.countable(today - timedelta(days=counts.WINDOW_DAYS - 1), today)
    assert not counts.countable(today - timedelta(days=counts.WINDOW_DAYS), today)


def _facts(at: datetime, event_counts: dict[str, dict[date, int]] | None) -> Facts:
    return Facts(session=SessionFacts(integration_id="s"), time=TimeFacts(at), event_counts=event_counts)


def holds(text: str, on: Facts) -> bool:
    compiled = Compiler().condition(text)(on)
    assert compiled is Interpreter().condition(parse(text), on), text
    return compiled


AT = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
PAST = {"review": {date(2026, 12, 4): 1, date(2026, 12, 3): 2, date(2026, 11, 5): 4, date(2026, 11, 4): 8}}


@pytest.mark.parametrize(("days", "expected"), [(1, 1), (2, 3), (30, 7), (31, 15), (365, 15)])
def test_event_count_covers_whole_utc_days_ending_today(days: int, expected: int) -> None:
    assert holds(f'eventCount("review", {days}) == {expected}', _facts(AT, PAST))


def test_event_count_is_zero_for_a_type_never_seen_and_absent_without_a_customer() -> None:
    assert holds('eventCount("purchase", 30) == 0', _facts(AT, {"purchase": {}}))
    assert holds('eventCount("purchase", 30) == 0', _facts(AT, {}))
    assert holds('eventCount("review", 30) == null', _facts(AT, None))
    assert not holds('eventCount("review", 30) >= 0', _facts(AT, None))


def test_days_are_utc_whatever_the_applications_timezone() -> None:
    from zoneinfo import ZoneInfo

    # 00:30 in Rome on 5 December is still 4 December in UTC: today's bucket is the 4th.
    rome = Facts(
        session=SessionFacts(integration_id="s"),
        time=TimeFacts(AT, ZoneInfo("Europe/Rome")),
        event_counts=PAST,
    )
    assert holds('eventCount("review", 1) == 1', rome)


@pytest.mark.parametrize(
    "text",
    [
        'eventCount("review") > 1',
        "eventCount(review, 30) > 1",
        'eventCount("review", 0) > 1',
        'eventCount("review", 366) > 1',
        'eventCount("review", 1.5) > 1',
        'eventCount("", 7) > 1',
        'eventCount("review", session.total) > 1',
    ],
)
def test_event_count_takes_a_type_and_a_number_of_days_as_literals(text: str) -> None:
    with pytest.raises(RuleError) as refused:
        Compiler().condition(text)
    assert {issue.code for issue in refused.value.issues} <= {
        "invalid_arguments",
        "wrong_argument_count",
        "unknown_name",
    }


def test_compiled_ruleset_names_the_types_its_expressions_count() -> None:
    from patron.promotions.loading import merge
    from patron.promotions.ruleset import compile_ruleset

    ruleset = merge(
        [
            (
                "x.yaml",
                {
                    "campaigns": [
                        {
                            "id": 1,
                            "name": "c",
                            "rules": [
                                {
                                    "title": "r",
                                    "condition": 'eventCount("a", 7) > 1 or eventCount("b", 30) > 2',
                                    "effects": [{"type": "setDiscount", "name": "d", "value": 'eventCount("c", 2)'}],
                                }
                            ],
                        }
                    ]
                },
            )
        ]
    )
    assert compile_ruleset(ruleset, 1).event_counts_read == {"a", "b", "c"}
