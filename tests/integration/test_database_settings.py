"""Each process's PostgreSQL connections follow the settings (docs/deployment.md): the pool's
size, overflow and timeout, and prepared statements off for a PgBouncer that cannot keep
them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from forecourt.api.errors import RETRY_AFTER_SECONDS, UNAVAILABLE
from forecourt.config import Settings
from forecourt.db.engine import Database
from tests.conftest import Tenant, app_client_for, settings_for


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


def test_a_request_that_finds_every_connection_busy_is_answered_503_then_served(
    database_url: str, db: Database, tenant: Tenant
) -> None:
    """Past the pool's timeout the request is the database's fault, not the client's: 503
    with Retry-After in the dialect's envelope; with a connection free again, 200."""
    if db.is_sqlite:
        pytest.skip("the pool settings are PostgreSQL's")
    settings = settings_for(
        database_url, database_pool_size=1, database_max_overflow=0, database_pool_timeout_seconds=0
    )
    busy = Database.configured(settings)
    path = "/v2/recapture/customers"
    auth = {"params": {"region": "au"}, "headers": {"ApiKey": tenant.api_key}}
    try:
        with app_client_for(settings, busy) as client:
            with busy.engine.connect():  # the pool's only connection, held
                refused = client.get(path, **auth)  # type: ignore[arg-type]
            served = client.get(path, **auth)  # type: ignore[arg-type]
    finally:
        busy.dispose()
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert UNAVAILABLE in refused.json()["message"]  # Recapture's envelope
    assert served.status_code == 200, served.text
