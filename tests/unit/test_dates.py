"""Wire formats for time: parse_date in, format_timestamp out (pure, no I/O)."""

from __future__ import annotations

from datetime import datetime

import pytest

from forecourt.kit.dates import format_timestamp, parse_date, utcnow
from forecourt.kit.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022-06-01", datetime(2022, 6, 1)),
        (" 2022-06-01 ", datetime(2022, 6, 1)),
        ("2024-02-29", datetime(2024, 2, 29)),
        ("2022-06-01T10:30:00", datetime(2022, 6, 1, 10, 30)),
        ("2022-06-01T10:30:00Z", datetime(2022, 6, 1, 10, 30)),
        ("2022-06-01T10:30:00.123Z", datetime(2022, 6, 1, 10, 30, 0, 123000)),
        ("2022-06-01T10:30:00+00:00", datetime(2022, 6, 1, 10, 30)),
        # Offsets are converted to UTC, crossing the day boundary when they must.
        ("2022-06-01T08:00:00+10:00", datetime(2022, 5, 31, 22, 0)),
        ("2022-06-01T00:00:00+12:00", datetime(2022, 5, 31, 12, 0)),
        ("2022-06-01T20:00:00-05:00", datetime(2022, 6, 2, 1, 0)),
        ("2022-06-01T10:30:00+05:30", datetime(2022, 6, 1, 5, 0)),
    ],
)
def test_parse_date_gives_naive_utc(raw: str, expected: datetime) -> None:
    parsed = parse_date("sale_date", raw)
    assert parsed == expected
    assert parsed.tzinfo is None


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_a_blank_date_is_no_date(raw: str | None) -> None:
    assert parse_date("sale_date", raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "yesterday",
        "2022-13-01",
        "2022-02-30",
        "2023-02-29",
        "01/06/2022",
        "2022/06/01",
        "2022-06-01T25:00:00Z",
        "2022-06-01T10:30:00+25:00",
    ],
)
def test_parse_date_rejects_bad_dates_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_date("customer.sale_date", raw)
    assert caught.value.field == "customer.sale_date"
    assert "customer.sale_date" in caught.value.message
    assert "YYYY-MM-DD" in caught.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2022, 6, 1), "2022-06-01T00:00:00.000Z"),
        (datetime(2022, 6, 1, 13, 5, 9), "2022-06-01T13:05:09.000Z"),
        (datetime(2022, 6, 1, 13, 5, 9, 123456), "2022-06-01T13:05:09.123Z"),
        (datetime(2022, 6, 1, 13, 5, 9, 999999), "2022-06-01T13:05:09.999Z"),  # truncated
        (datetime(2022, 6, 1, 13, 5, 9, 7000), "2022-06-01T13:05:09.007Z"),
    ],
)
def test_format_timestamp_has_milliseconds_and_z(value: datetime, expected: str) -> None:
    assert format_timestamp(value) == expected


def test_format_timestamp_pads_years_below_1000() -> None:
    # A typo such as 0202-06-01 parses, so it must be written back as a valid timestamp.
    assert format_timestamp(parse_date("d", "0202-06-01")) == "0202-06-01T00:00:00.000Z"


def test_format_timestamp_of_nothing_is_nothing() -> None:
    assert format_timestamp(None) is None


def test_round_trip_through_an_offset() -> None:
    assert format_timestamp(parse_date("d", "2022-06-01T10:00:00.250+10:00")) == ("2022-06-01T00:00:00.250Z")


def test_utcnow_is_naive() -> None:
    assert utcnow().tzinfo is None
