"""Kapture's generationDate, spelt out by hand for speed, is what Babel printed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from babel.dates import format_datetime

from forecourt.api.kapture.schemas import _generation_date


def test_the_generation_date_is_babels_english_pattern_at_every_hour_and_month() -> None:
    start = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)
    moments = [
        start + timedelta(days=d, hours=h, minutes=7 * h, seconds=13 * h)
        for d in range(0, 366, 9)
        for h in range(24)
    ]
    moments += [datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2026, 5, 2, 12, 0, 0)]
    for at in moments:
        assert _generation_date(at) == format_datetime(at, "MMM d, y h:mm:ss a", locale="en"), at
