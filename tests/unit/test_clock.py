"""Timestamps as the domain stores them: UTC, milliseconds, a Z, and text order = time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from patron.clock import iso, normalise_timestamp


def test_iso_is_utc_with_milliseconds_cut_not_rounded() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=timezone(timedelta(hours=2)))
    assert iso(moment) == "2026-01-02T01:04:05.999Z"
    assert iso(datetime(2026, 11, 22, 9, 4, 41, tzinfo=UTC)) == "2026-11-22T09:04:41.000Z"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2020-01-01T13:06:39Z", "2020-01-01T13:06:39.000Z"),
        ("2020-01-01T13:06:39.5+01:00", "2020-01-01T12:06:39.500Z"),
        ("2020-01-01", "2020-01-01T00:00:00.000Z"),
        ("1900-01-01T00:30:00+01:00", None),  # before 1900 in UTC
        ("2999-12-31T23:59:59.9999Z", "2999-12-31T23:59:59.999Z"),
        ("yesterday", None),
    ],
)
def test_business_dates_are_normalised_to_utc(raw: str, stored: str | None) -> None:
    assert normalise_timestamp(raw) == stored


def test_text_order_is_time_order() -> None:
    moments = [datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC)]
    assert sorted(iso(m) for m in reversed(moments)) == [iso(m) for m in moments]
