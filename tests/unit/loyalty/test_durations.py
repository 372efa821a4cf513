"""Talon.One's point durations: units, calendar months, rounding to the start or end of a period, in the
program's timezone (across a DST change), and the errors that say what is accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from patron.loyalty.durations import parse

ROME = ZoneInfo("Europe/Rome")
# 2026-03-28 14:30 in Rome (UTC+1); Rome moves to UTC+2 on 2026-03-29.
EARNED = datetime(2026, 3, 28, 13, 30, tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ROME)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("30s", datetime(2026, 3, 28, 13, 30, 30, tzinfo=UTC)),
        ("40m", datetime(2026, 3, 28, 14, 10, tzinfo=UTC)),
        ("1h", datetime(2026, 3, 28, 14, 30, tzinfo=UTC)),
        ("1D", local("2026-03-29T14:30")),  # the same wall time the next day, across the DST change
        ("1D_D", local("2026-03-29T00:00")),
        ("1D_U", local("2026-03-30T00:00")),  # the end of the day: the next day's first instant
        ("1W", local("2026-04-04T14:30")),
        ("1W_U", local("2026-04-06T00:00")),  # weeks end on Sunday night
        ("1M", local("2026-04-28T14:30")),
        ("1M_U", local("2026-05-01T00:00")),
        ("1Y", local("2027-03-28T14:30")),
        ("1Y_U", local("2028-01-01T00:00")),
        ("365D", local("2027-03-28T14:30")),
    ],
)
def test_a_duration_after_an_instant(duration: str, expected: datetime) -> None:
    assert parse(duration).after(EARNED, ROME) == expected


def test_a_month_from_the_31st_ends_on_the_shorter_months_last_day() -> None:
    earned = local("2026-01-31T10:00")
    assert parse("1M").after(earned, ROME) == local("2026-02-28T10:00")
    assert parse("13M").after(earned, ROME) == local("2027-02-28T10:00")


@pytest.mark.parametrize("text", ["", "0D", "D", "1d", "1.5D", "-1D", "1h_D", "1W_D", "1h_U", "1D_X", "101Y", " 1D"])
def test_what_is_not_a_duration_is_refused_saying_what_is(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|rounds only|beyond"):
        parse(text)


def test_a_duration_reads_back_as_written() -> None:
    assert str(parse("12M_U")) == "12M_U"
