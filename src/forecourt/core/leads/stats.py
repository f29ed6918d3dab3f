"""The numbers a manager asks for, over the leads created in a time range [since, until):

- speed-to-lead: seconds from a lead's creation to its first action (a person's first
  status change or note, `first_actioned_at`), its median and 90th percentile per user
  (the lead's current assignee) and per origin. Percentiles interpolate linearly between
  the two nearest ranks (PostgreSQL's percentile_cont, numpy's default): with the n
  durations sorted, the q-th is at rank (n - 1) * q. Leads not yet actioned are counted
  apart (`unactioned`), never as zero or as the time so far.
- leads by status (their status now), every status listed;
- won rate by origin: won / (won + lost) among those leads, None when none is closed.

Worked out in Python from one account-scoped query, the same on both databases."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.leads import repository
from forecourt.core.leads.schemas import ORIGINS, STATUSES, LeadStats, Speed, WonRate
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


def _speeds(pairs: Iterable[tuple[K, float | None]], groups: Iterable[K] = ()) -> dict[K, Speed]:
    """Speed per group: those named in `groups` always, others as they come."""
    durations: dict[K, list[float]] = {key: [] for key in groups}
    unactioned: dict[K, int] = defaultdict(int)
    for key, seconds in pairs:
        found = durations.setdefault(key, [])
        if seconds is None:
            unactioned[key] += 1
        else:
            found.append(seconds)
    return {key: _speed(found, unactioned[key]) for key, found in durations.items()}


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
    rows = repository.for_stats(conn, account_id, since, until)
    seconds = [(f - c).total_seconds() if f is not None else None for _, _, _, c, f in rows]
    by_user = _speeds((assignee, s) for (_, _, assignee, _, _), s in zip(rows, seconds, strict=True))
    by_origin = _speeds(((o, s) for (o, _, _, _, _), s in zip(rows, seconds, strict=True)), ORIGINS)
    by_status = dict.fromkeys(STATUSES, 0)
    closed: dict[str, dict[str, int]] = {origin: {"won": 0, "lost": 0} for origin in ORIGINS}
    for origin, status, _, _, _ in rows:
        by_status[status] = by_status.get(status, 0) + 1
        if status in ("won", "lost"):
            closed.setdefault(origin, {"won": 0, "lost": 0})[status] += 1
    won_rate = {origin: _won_rate(c["won"], c["lost"]) for origin, c in closed.items()}
    return LeadStats(
        since=since,
        until=until,
        leads=len(rows),
        speed_by_user=by_user,
        speed_by_origin=by_origin,
        by_status=by_status,
        won_rate_by_origin=won_rate,
    )
