"""How the pages write times, dates, ages, numbers and money for a person: in their
language (Babel) and the account's time zone. Times are stored as naive UTC; every page
formats them through `Formats`, so the same thing reads the same on every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_timedelta
from babel.numbers import format_currency, format_decimal

from forecourt.kit.vehicles import CURRENCIES

UTC_ZONE = ZoneInfo("UTC")


def currency_of(region: str) -> str:
    return CURRENCIES.get(region, "AUD")


@dataclass(frozen=True)
class Formats:
    """What a page needs to write things for this person: their language, the account's
    time zone and, for ages, the time now."""

    language: str
    zone: ZoneInfo = UTC_ZONE
    now: datetime | None = None

    def when(self, at: datetime | None, style: str = "medium") -> str:
        """A stored (naive UTC) time in the account's time zone; "" for none."""
        if at is None:
            return ""
        return str(format_datetime(at.replace(tzinfo=UTC), style, tzinfo=self.zone, locale=self.language))

    def day(self, value: date | datetime | str | None) -> str:
        """A calendar day; an ISO date given as text is read, other text shown as it is."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return str(value)
        if isinstance(value, datetime):
            value = value.date()
        return str(format_date(value, "medium", locale=self.language))

    def skeleton(self, value: date, skeleton: str) -> str:
        """A day in a short form of the language's choosing ("MMMd": "Mar 4", "4. März")."""
        return str(format_skeleton(skeleton, value, locale=self.language))

    def age(self, at: datetime) -> str:
        """How long ago, short ("12 min"); a time stamped a moment ahead is "0 s" old."""
        assert self.now is not None, "ages need the time now"
        ago = max(self.now - at, timedelta())
        return str(format_timedelta(ago, format="short", threshold=1, locale=self.language))

    def since(self, at: datetime) -> str:
        """How long ago, in words ("3 hours")."""
        assert self.now is not None, "ages need the time now"
        return str(format_timedelta(self.now - at, locale=self.language))

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return ""
        return str(format_timedelta(timedelta(seconds=seconds), locale=self.language))

    def iso(self, at: datetime) -> str:
        return at.replace(tzinfo=UTC).isoformat()

    def number(self, value: int | float) -> str:
        return str(format_decimal(value, locale=self.language))

    def money(self, amount: float | None, region: str, *, cents: bool = False) -> str:
        """An amount in the region's currency as the language writes it; a whole amount
        without cents unless `cents` (a listing's exact price)."""
        if amount is None:
            return ""
        currency = currency_of(region)
        if cents or not float(amount).is_integer():
            return str(format_currency(amount, currency, locale=self.language))
        pattern = Locale.parse(self.language).currency_formats["standard"].pattern.split(";")[0]
        return str(
            format_currency(
                amount, currency, pattern.replace(".00", ""), locale=self.language, currency_digits=False
            )
        )
