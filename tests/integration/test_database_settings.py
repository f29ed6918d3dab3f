"""Each process's PostgreSQL connections follow the settings (docs/deployment.md): the pool's
size and overflow, and prepared statements off for a PgBouncer that cannot keep them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from forecourt.config import Settings
from forecourt.db.engine import Database


def test_the_pool_and_prepared_statements_follow_the_settings(database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        database_pool_size=2,
        database_max_overflow=1,
        database_prepared_statements=False,
    )
    db = Database.configured(settings)
    try:
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
            threshold = getattr(conn.connection.driver_connection, "prepare_threshold", "sqlite")
        if db.is_sqlite:
            assert threshold == "sqlite"  # one file, one machine: the settings are PostgreSQL's
            return
        assert threshold is None
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow) == (2, 1)
    finally:
        db.dispose()


def test_prepared_statements_stay_on_by_default(database_url: str) -> None:
    db = Database.configured(Settings(database_url=database_url))
    try:
        with db.read() as conn:
            threshold = getattr(conn.connection.driver_connection, "prepare_threshold", None)
        assert db.is_sqlite or threshold == 5  # psycopg's default: prepare after five runs
    finally:
        db.dispose()
