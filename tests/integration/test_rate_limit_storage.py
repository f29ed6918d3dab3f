"""The rate-limit storage on both backends: increments from many connections at once
all count (the upsert is atomic), a passed window starts again, and pruning forgets
only passed windows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from forecourt.core.ratelimits import repository
from forecourt.core.ratelimits.schemas import RateLimited
from forecourt.core.ratelimits.service import Limiter
from forecourt.core.ratelimits.storage import DatabaseStorage, counters_beside
from forecourt.db.engine import Database
from forecourt.db.models import rate_limits
from tests.conftest import MovableClock


def test_concurrent_increments_all_count(db: Database, clock: MovableClock) -> None:
    storage = DatabaseStorage(db, clock)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: storage.incr("k", 60), range(200)))
    assert storage.get("k") == 200


def test_a_passed_window_starts_again_and_is_pruned(db: Database, clock: MovableClock) -> None:
    storage = DatabaseStorage(db, clock)
    assert [storage.incr("short", 10) for _ in range(3)] == [1, 2, 3]
    storage.incr("long", 100)
    clock.advance(10)
    assert storage.get("short") == 0
    assert storage.incr("short", 10) == 1  # a new window
    clock.advance(10)
    with db.write() as conn:
        assert repository.prune(conn, clock.now()) == 1
        assert set(conn.scalars(sa.select(rate_limits.c.key))) == {"long"}


def test_counters_beside_a_sqlite_file_are_shared_and_checked_apart(
    tmp_path: Path, clock: MovableClock
) -> None:
    """Several API processes on one SQLite file count in a file of their own beside it
    (made by whichever process comes first); the credential check does not share its
    transaction, which is not the application database's."""
    application = tmp_path / "forecourt.db"
    first, second = counters_beside(application), counters_beside(application)  # as two processes
    try:
        assert (tmp_path / "forecourt.db-ratelimits").exists()
        limiters = [
            Limiter(
                DatabaseStorage(db, clock, separate=True),
                clock,
                per_credential=3,
                per_address=0,
                failures=0,
                failure_window=0,
            )
            for db in (first, second)
        ]
        spent = [limiters[n % 2].spend("api:abc") for n in range(3)]
        assert [budget.remaining if budget else None for budget in spent] == [2, 1, 0]
        with pytest.raises(RateLimited):
            limiters[1].spend("api:abc")
        with limiters[0].batch() as shared:
            assert shared is None
    finally:
        first.dispose()
        second.dispose()
