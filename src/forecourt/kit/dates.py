"""Dates in, timestamps out: the one place that knows the wire formats for time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from forecourt.kit.errors import InvalidInput


def utcnow() -> datetime:
    """Naive UTC, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_date(field: str, value: str | None) -> datetime | None:
    """`YYYY-MM-DD` or an ISO 8601 timestamp, to naive UTC; blank or None is no date."""
    if value is None:
        return None
    parsed = _parse(value)
    if parsed is None and value.strip():
        raise InvalidInput(
            field, f"{field} must be a date (YYYY-MM-DD) or an ISO 8601 timestamp, got {value!r}"
        )
    return parsed


@lru_cache(maxsize=8192)
def _parse(value: str) -> datetime | None:
    # Cached: a customer list repeats the same few thousand dates across its rows.
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time())
        parsed = datetime.fromisoformat(text) if text else None
        if parsed is not None and parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: an offset past year 1 or 9999
        return None
    return parsed


def format_timestamp(value: datetime | None) -> str | None:
    """`2022-06-01T00:00:00.000Z`: milliseconds and a Z, as the vendors write them."""
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds") + "Z"
