"""SQL for rate-limit counters: one row per key, its hits in the current fixed window.

The statements run on every request, so each is built once per dialect with bound
parameters (building a Core statement costs more than SQLite takes to run it)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from forecourt.db.models import rate_limits

_NOW = sa.bindparam("now", type_=sa.DateTime)


@functools.cache
def _hit_statement(dialect: str) -> Any:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(rate_limits)
    passed = rate_limits.c.expires_at <= _NOW
    return (
        insert.values(
            key=sa.bindparam("key", type_=sa.String),
            hits=sa.bindparam("amount", type_=sa.Integer),
            expires_at=sa.bindparam("expires_at", type_=sa.DateTime),
        )
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


_CURRENT = sa.select(rate_limits.c.key, rate_limits.c.hits, rate_limits.c.expires_at).where(
    rate_limits.c.key.in_(sa.bindparam("keys", expanding=True)), rate_limits.c.expires_at > _NOW
)
_PRUNE = rate_limits.delete().where(rate_limits.c.expires_at <= _NOW)


def hit(conn: Connection, key: str, window_seconds: int, amount: int, now: datetime) -> tuple[int, datetime]:
    """Add `amount` to the key's window, starting a new window if the last one has passed;
    the hits and the window's end after this one. One statement, atomic on both backends,
    so processes sharing the database count into the same window."""
    statement = _hit_statement(conn.dialect.name)
    expires_at = now + timedelta(seconds=window_seconds)
    hits, ends = conn.execute(
        statement, {"key": key, "amount": amount, "expires_at": expires_at, "now": now}
    ).one()
    return int(hits), ends


def current(conn: Connection, keys: Sequence[str], now: datetime) -> dict[str, tuple[int, datetime]]:
    """The hits and window end of those keys whose window has not passed."""
    rows = conn.execute(_CURRENT, {"keys": list(keys), "now": now})
    return {row.key: (int(row.hits), row.expires_at) for row in rows}


def clear(conn: Connection, key: str) -> None:
    conn.execute(rate_limits.delete().where(rate_limits.c.key == key))


def prune(conn: Connection, now: datetime) -> int:
    """Forget windows that have passed (a key seen once, e.g. an address, leaves a row)."""
    return conn.execute(_PRUNE, {"now": now}).rowcount


def create_table(conn: Connection) -> None:
    """The counters' table in a database of their own (a SQLite file beside the
    application's); idempotent, so that processes starting together may all ask."""
    conn.execute(sa.schema.CreateTable(rate_limits, if_not_exists=True))
    for index in rate_limits.indexes:
        conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))


def clear_all(conn: Connection) -> int:
    return conn.execute(rate_limits.delete()).rowcount
