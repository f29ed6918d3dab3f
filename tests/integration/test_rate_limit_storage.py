"""The rate-limit storage on both backends: increments from many connections at once
all count (the upsert is atomic), a passed window starts again, and pruning forgets
only passed windows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from forecourt.core.ratelimits import repository
from forecourt.core.ratelimits.storage import DatabaseStorage
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
