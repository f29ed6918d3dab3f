"""A `limits` storage in the application's database, so that every process of a
deployment counts into the same windows without another service (Redis) to run.

Time comes from the Clock (tests move it). A request's limiter calls run in one
transaction (`batch`), and the hits an increment returns answer the window statistics
asked right after it, so a request costs one statement per limit it counts against.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.engine import Connection

from forecourt.core.ratelimits import repository
from forecourt.db.engine import Database
from forecourt.kit.clock import Clock

PRUNE_EVERY = 1000  # hits per process between deletions of passed windows

_bound: ContextVar[Connection | None] = ContextVar("ratelimit_connection", default=None)
# (key, hits, window end) of the last increment in this context
_last: ContextVar[tuple[str, int, float] | None] = ContextVar("ratelimit_last", default=None)


def epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["forecourt+database"]

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__()
        self.db = db
        self.clock = clock
        self._hits = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The calls made inside share one transaction (one round trip each)."""
        if _bound.get() is not None:
            yield
            return
        with self.db.write() as conn:
            token, last = _bound.set(conn), _last.set(None)
            try:
                yield
            finally:
                _bound.reset(token)
                _last.reset(last)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        bound = _bound.get()
        if bound is not None:
            yield bound
        else:
            with self.db.write() as conn:
                yield conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.clock.now()
        with self._connection() as conn:
            hits, expires_at = repository.hit(conn, key, expiry, amount, now)
            if next(self._hits) % PRUNE_EVERY == 0:
                repository.prune(conn, now)
        if _bound.get() is not None:  # remembered for the rest of this batch only
            _last.set((key, hits, epoch(expires_at)))
        return hits

    def _current(self, key: str) -> tuple[int, float]:
        last = _last.get()
        if last is not None and last[0] == key:
            return last[1], last[2]
        now = self.clock.now()
        with self._connection() as conn:
            found = repository.current(conn, key, now)
        return (found[0], epoch(found[1])) if found else (0, epoch(now))

    def get(self, key: str) -> int:
        return self._current(key)[0]

    def get_expiry(self, key: str) -> float:
        return self._current(key)[1]

    def check(self) -> bool:
        return self.db.ping()

    def reset(self) -> int | None:
        with self._connection() as conn:
            return repository.clear_all(conn)

    def clear(self, key: str) -> None:
        if _bound.get() is not None:
            _last.set(None)
        with self._connection() as conn:
            repository.clear(conn, key)
