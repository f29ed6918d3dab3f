"""SQL for rate-limit counters: one row per key, its hits in the current fixed window."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db import bulk
from forecourt.db.models import rate_limits


def hit(conn: Connection, key: str, window_seconds: int, amount: int, now: datetime) -> tuple[int, datetime]:
    """Add `amount` to the key's window, starting a new window if the last one has passed;
    the hits and the window's end after this one. One statement, atomic on both backends,
    so processes sharing the database count into the same window."""
    insert = bulk.upsert(conn, rate_limits)
    passed = rate_limits.c.expires_at <= now
    statement = (
        insert.values(key=key, hits=amount, expires_at=now + timedelta(seconds=window_seconds))
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "hits": sa.case(
                    (passed, insert.excluded.hits), else_=rate_limits.c.hits + insert.excluded.hits
                ),
                "expires_at": sa.case((passed, insert.excluded.expires_at), else_=rate_limits.c.expires_at),
            },
        )
        .returning(rate_limits.c.hits, rate_limits.c.expires_at)
    )
    hits, expires_at = conn.execute(statement).one()
    return int(hits), expires_at


def current(conn: Connection, key: str, now: datetime) -> tuple[int, datetime] | None:
    """The key's hits and window end, if its window has not passed."""
    row = conn.execute(
        sa.select(rate_limits.c.hits, rate_limits.c.expires_at).where(
            rate_limits.c.key == key, rate_limits.c.expires_at > now
        )
    ).one_or_none()
    return None if row is None else (int(row.hits), row.expires_at)


def clear(conn: Connection, key: str) -> None:
    conn.execute(rate_limits.delete().where(rate_limits.c.key == key))


def prune(conn: Connection, now: datetime) -> int:
    """Forget windows that have passed (a key seen once, e.g. an address, leaves a row)."""
    return conn.execute(rate_limits.delete().where(rate_limits.c.expires_at <= now)).rowcount


def clear_all(conn: Connection) -> int:
    return conn.execute(rate_limits.delete()).rowcount
