"""A `limits` storage in the application's database, so that every process of a
deployment counts into the same windows without another service (Redis) to run.

Time comes from the Clock (tests move it). The limiter's calls for one request run in
one transaction (`batch`), whose counts are remembered for the rest of it: the window
statistics asked right after an increment, and the lockout checks read together up
front (`prefetch`), cost no further round trip.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.engine import Connection

from forecourt.core.ratelimits import repository
from forecourt.db.engine import Database
from forecourt.kit.clock import Clock

PRUNE_EVERY = 1000  # hits per process between deletions of passed windows


@dataclass
class _Batch:
    conn: Connection
    known: dict[str, tuple[int, float]] = field(default_factory=dict)  # key -> (hits, window end)


_batch: ContextVar[_Batch | None] = ContextVar("ratelimit_batch", default=None)


def epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["forecourt+database"]

    def __init__(self, db: Database, clock: Clock, *, separate: bool = False) -> None:
        """`separate`: `db` holds only the counters (`counters_beside`), not the
        application's data, so a batch's connection cannot check credentials."""
        super().__init__()
        self.db = db
        self.clock = clock
        self.separate = separate
        self._hits = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    @contextmanager
    def batch(self) -> Iterator[Connection]:
        """The calls made inside share one transaction (one round trip each), which the
        caller may use too."""
        current = _batch.get()
        if current is not None:
            yield current.conn
            return
        with self.db.write() as conn:
            token = _batch.set(_Batch(conn))
            try:
                yield conn
            finally:
                _batch.reset(token)

    def prefetch(self, keys: Sequence[str]) -> None:
        """Read these keys' counts in one statement for the rest of the batch."""
        batch = _batch.get()
        if batch is not None:
            now = self.clock.now()
            found = repository.current(batch.conn, keys, now)
            for key in keys:
                hits, ends = found.get(key, (0, now))
                batch.known[key] = (hits, epoch(ends))

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        batch = _batch.get()
        if batch is not None:
            yield batch.conn
        else:
            with self.db.write() as conn:
                yield conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.clock.now()
        with self._connection() as conn:
            hits, ends = repository.hit(conn, key, expiry, amount, now)
            if next(self._hits) % PRUNE_EVERY == 0:
                repository.prune(conn, now)
        batch = _batch.get()
        if batch is not None:
            batch.known[key] = (hits, epoch(ends))
        return hits

    def _current(self, key: str) -> tuple[int, float]:
        batch = _batch.get()
        if batch is not None and key in batch.known:
            return batch.known[key]
        now = self.clock.now()
        with self._connection() as conn:
            hits, ends = repository.current(conn, [key], now).get(key, (0, now))
        return hits, epoch(ends)

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
        batch = _batch.get()
        if batch is not None:
            batch.known.pop(key, None)
        with self._connection() as conn:
            repository.clear(conn, key)


def counters_beside(sqlite_path: Path) -> Database:
    """A SQLite file beside the application's (`<file>-ratelimits`) holding only the
    counters, shared by the API processes of one machine. Its write lock is its own: a
    request's count never waits behind an upload's or a listing batch's write, as it would
    in the application's file. The counters are kept for minutes: nothing to back up."""
    db = Database(f"sqlite:///{sqlite_path.with_name(sqlite_path.name + '-ratelimits')}")
    with db.write() as conn:
        repository.create_table(conn)
    return db
