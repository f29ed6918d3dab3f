"""The numbers a manager asks for, over the leads created in a time range [since, until):

- speed-to-lead: seconds from a lead's creation to its first action (a person's first
  status change or note, `first_actioned_at`), its median and 90th percentile per user
  (the lead's current assignee) and per origin. Percentiles interpolate linearly between
  the two nearest ranks (PostgreSQL's percentile_cont, numpy's default): with the n
  durations sorted, the q-th is at rank (n - 1) * q. Leads not yet actioned are counted
  apart (`unactioned`), never as zero or as the time so far.
- leads by status (their status now), every status listed;
- won rate by origin: won / (won + lost) among those leads, None when none is closed.

Counted by the database; the percentiles worked out in Python from the durations of the
leads actioned (SQLite has no percentile function), the same on both databases."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from forecourt.core.leads import repository
from forecourt.core.leads.schemas import CLOSED, ORIGINS, STATUSES, DailyCounts, LeadStats, Speed, WonRate
from forecourt.kit.errors import InvalidInput

DEFAULT_DAYS = 30
K = TypeVar("K")


def quantile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values, interpolated between the nearest ranks."""
    rank = (len(ordered) - 1) * q
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _speed(durations: list[float], unactioned: int) -> Speed:
    ordered = sorted(durations)
    if not ordered:
        return Speed(0, unactioned, None, None)
    return Speed(len(ordered), unactioned, round(quantile(ordered, 0.5), 3), round(quantile(ordered, 0.9), 3))


def _speeds(
    durations: Iterable[tuple[K, float]], unactioned: Iterable[tuple[K, int]], groups: Iterable[K]
) -> dict[K, Speed]:
    """Speed per group: every one of `groups`, from its durations and unactioned count."""
    found: dict[K, list[float]] = {key: [] for key in groups}
    for key, seconds in durations:
        found[key].append(seconds)
    left: dict[K, int] = defaultdict(int)
    for key, count in unactioned:
        left[key] += count
    return {key: _speed(values, left[key]) for key, values in found.items()}


def _won_rate(won: int, lost: int) -> WonRate:
    return WonRate(won, lost, won / (won + lost) if won + lost else None)


def lead_stats(
    conn: Connection, account_id: UUID, now: datetime, since: datetime | None, until: datetime | None
) -> LeadStats:
    """The figures for leads created from `since` (default: DEFAULT_DAYS before `until`)
    to `until` (default: now), `until` excluded."""
    until = until or now
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise InvalidInput("since", "since must be before until")
    counts = repository.stats_counts(conn, account_id, since, until)
    actioned = [
        (origin, user, (acted - created).total_seconds())
        for origin, user, created, acted in repository.stats_actioned(conn, account_id, since, until)
    ]
    waiting = [(origin, user, n) for origin, _, user, done, n in counts if not done]
    users = dict.fromkeys(sorted({user for _, _, user, _, _ in counts}, key=lambda u: (u is None, str(u))))
    by_status = dict.fromkeys(STATUSES, 0)
    closed = {origin: dict.fromkeys(CLOSED, 0) for origin in ORIGINS}
    for origin, status, _, _, n in counts:
        by_status[status] = by_status.get(status, 0) + n
        if status in CLOSED:
            closed.setdefault(origin, dict.fromkeys(CLOSED, 0))[status] += n
    return LeadStats(
        since=since,
        until=until,
        leads=sum(n for *_, n in counts),
        speed_by_user=_speeds(((u, s) for _, u, s in actioned), ((u, n) for _, u, n in waiting), users),
        speed_by_origin=_speeds(((o, s) for o, _, s in actioned), ((o, n) for o, _, n in waiting), ORIGINS),
        by_status=by_status,
        won_rate_by_origin={origin: _won_rate(c["won"], c["lost"]) for origin, c in closed.items()},
    )


# --- The workspace's Today page ---

CHART_WEEKS = 8


def speed(
    conn: Connection, account_id: UUID, now: datetime, assignee_id: UUID | None, days: int = DEFAULT_DAYS
) -> tuple[datetime, Speed]:
    """Speed-to-lead of the leads created in the last `days` days before `now` (those
    assigned to `assignee_id` when given), and the start of that period."""
    since = now - timedelta(days=days)
    durations = repository.actioned_seconds(conn, account_id, since, now, assignee_id)
    waiting = repository.count_unactioned_created(conn, account_id, since, now, assignee_id)
    # Rounded to the millisecond: SQLite's julianday arithmetic is off by microseconds.
    return since, _speed([round(seconds, 3) for seconds in durations], waiting)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of a local day, as naive UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None)


def daily_by_origin(
    conn: Connection, account_id: UUID, now: datetime, assignee_id: UUID | None, weeks: int = CHART_WEEKS
) -> DailyCounts:
    """Leads per day and origin over the last `weeks` weeks up to today, days in the
    account's time zone (those assigned to `assignee_id` when given). The range is split
    where the zone's offset from UTC changes (daylight saving time): within each part one
    GROUP BY on the shifted time; a day of 23 or 25 hours is a part of its own."""
    zone = ZoneInfo(repository.settings(conn, account_id).time_zone)
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    days = [today - timedelta(days=n) for n in range(weeks * 7 - 1, -1, -1)]
    starts = [_local_midnight(day, zone) for day in [*days, today + timedelta(days=1)]]
    counts = {origin: dict.fromkeys(days, 0) for origin in ORIGINS}
    parts: list[tuple[int, int, bool]] = []  # [first, end) of days, and whether they are 24 h
    for i, day in enumerate(days):
        regular = starts[i + 1] - starts[i] == timedelta(days=1)
        if parts and regular and parts[-1][2] and _offset(day, zone) == _offset(days[parts[-1][0]], zone):
            parts[-1] = (parts[-1][0], i + 1, True)
        else:
            parts.append((i, i + 1, regular))
    for first, end, regular in parts:
        offset = _offset(days[first], zone)
        found = repository.daily_counts(conn, account_id, starts[first], starts[end], offset, assignee_id)
        for day, origin, n in found:
            day = day if regular else days[first]  # a 23 or 25 hour day: all of it is that day
            if day in counts.setdefault(origin, dict.fromkeys(days, 0)):
                counts[origin][day] += n
    return DailyCounts(days=days, counts={origin: list(by_day.values()) for origin, by_day in counts.items()})


def _offset(day: date, zone: ZoneInfo) -> int:
    """The zone's offset from UTC at the start of the local day, in minutes."""
    offset = datetime.combine(day, time(), zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0
