"""The workspace's shared helpers: how things are written (web/format.py), where a list
page is (web/paging.py), and when a polled part stops (web/live.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from forecourt.config import Settings
from forecourt.kit.errors import InvalidInput
from forecourt.web import live, paging
from forecourt.web.format import Formats

NOW = datetime(2026, 3, 4, 12, 0)
SYDNEY = ZoneInfo("Australia/Sydney")


def test_times_are_written_in_the_account_zone_and_the_language() -> None:
    assert Formats("en", SYDNEY).when(NOW) == "Mar 4, 2026, 11:00:00\u202fPM"
    assert Formats("de", SYDNEY).when(NOW, "short") == "04.03.26, 23:00"
    assert Formats("en").when(None) == ""


def test_days_read_dates_datetimes_and_iso_text() -> None:
    en = Formats("en")
    assert en.day(date(2026, 3, 4)) == en.day(NOW) == en.day("2026-03-04") == "Mar 4, 2026"
    assert en.day("sometime") == "sometime"  # not a date: shown as it is
    assert en.day(None) == en.day("") == ""
    assert Formats("de").day(date(2026, 3, 4)) == "04.03.2026"


def test_ages_never_go_negative() -> None:
    en = Formats("en", now=NOW)
    assert en.age(NOW - timedelta(minutes=12)) == "12 min"
    assert en.age(NOW + timedelta(seconds=3)) == "0 sec"
    assert en.duration(90) == "2 minutes"
    assert en.duration(None) == ""


def test_money_whole_without_cents_unless_asked_in_the_regions_currency() -> None:
    en = Formats("en")
    assert en.money(28500, "au") == "A$28,500"
    assert en.money(28500, "au", cents=True) == "A$28,500.00"
    assert en.money(19.5, "nz") == "NZ$19.50"
    assert en.money(None, "au") == ""
    assert Formats("de").money(15000, "au") == "15.000\xa0AU$"


@pytest.mark.parametrize("raw", ["x", "0", "-1", "²", "1.5", "100001", "9" * 40])
def test_a_page_number_that_is_not_one_names_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        paging.page_number({"page": raw})
    assert refused.value.field == "page"


def test_page_numbers_and_offsets() -> None:
    assert paging.page_number({}) == paging.page_number({"page": ""}) == 1
    assert paging.page_number({"page": "7"}) == 7
    assert paging.offset({}, 100) == 0
    assert paging.offset({"offset": "100"}, 100) == 100
    for raw in ("101", "-1", "many"):
        with pytest.raises(InvalidInput) as refused:
            paging.offset({"offset": raw}, 100)
        assert refused.value.field == "offset"
    assert [paging.page_count(n, 25) for n in (0, 1, 25, 26)] == [1, 1, 1, 2]


def test_a_polled_part_stops_after_half_the_idle_timeout() -> None:
    settings = Settings(session_idle_minutes=60)
    url = live.poll_url("/leads/live", NOW, {"status": "open"})
    assert url == "/leads/live?status=open&opened=2026-03-04T12%3A00%3A00"
    opened = live.opened({"opened": NOW.isoformat()})
    assert not live.paused(opened, NOW + timedelta(minutes=29), settings)
    assert live.paused(opened, NOW + timedelta(minutes=30), settings)
    for raw in ("", "yesterday", "2026-03-04T12:00:00+00:00"):
        with pytest.raises(InvalidInput) as refused:
            live.opened({"opened": raw})
        assert refused.value.field == "opened"


def test_a_cursor_is_read_as_it_was_written() -> None:
    row = UUID(int=7)
    written = paging.cursor_of(NOW, row)
    assert paging.cursor({"after": written}, "after") == (NOW, row)
    assert paging.cursor({}, "after") is None
    for raw in ("x", f"{NOW.isoformat()}+00:00_{row}", f"{NOW.isoformat()}_nope"):
        with pytest.raises(InvalidInput) as refused:
            paging.cursor({"after": raw}, "after")
        assert refused.value.field == "after"
