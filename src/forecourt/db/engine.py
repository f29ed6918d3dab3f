"""Engine and transaction boundaries for SQLite (embedded) and PostgreSQL (scale-out)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from forecourt.config import Settings

# WAL lets readers run beside the single writer; NORMAL is durable across process
# crashes (only an OS crash can lose the last commits); busy_timeout makes writers
# queue instead of failing with "database is locked".
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    # 64 MiB page cache (the default is 2 MiB): index upkeep on a million customers
    # otherwise turns into disk reads.
    "PRAGMA cache_size=-65536",
    # Checkpoint the WAL every ~64 MiB instead of every 4 MiB: bulk writes touch the same
    # index pages commit after commit, and each checkpoint writes them out again.
    "PRAGMA wal_autocheckpoint=16384",
    # Read pages straight from the OS's cache instead of copying each one in: halves
    # the cost of a search that looks up thousands of rows (address space, not memory).
    "PRAGMA mmap_size=4294967296",
)


SQLITE_READONLY = 8  # the primary result code; extended codes keep it in their low byte


def sqlite_writable(path: str) -> bool:
    """Whether this process may write a SQLite database: the file, its WAL and shared-memory
    files, and the folder they are made in. One access(2) each, so cheap enough for every
    readiness probe; it sees permissions, the immutable flag and read-only mounts."""
    files = [path, *(f"{path}{suffix}" for suffix in ("-wal", "-shm") if os.path.exists(f"{path}{suffix}"))]
    folder = os.path.dirname(os.path.abspath(path))
    return os.path.exists(path) and all(os.access(f, os.W_OK) for f in [*files, folder])


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def normalise_url(url: str) -> URL:
    """Accept the plain `postgresql://` form operators type and use psycopg 3 for it."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _json_dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def create_engine(url: str, **kwargs: Any) -> Engine:
    # msgspec for JSON columns: several times faster than the json module on bulk paths.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", msgspec.json.decode)
    # A database error's text never carries the values bound to it: they are customers'
    # names, emails, plates and secrets, and such errors are logged.
    kwargs.setdefault("hide_parameters", True)
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)

    file = sqlite_file(parsed)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, **kwargs)
    path = str(file) if file is not None else None

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # SQLite opens a file it may not write read-only, silently, and the connection stays
        # read-only after the file is writable again: remember it, to replace it then.
        record.info["read_only"] = path is not None and not sqlite_writable(path)
        # Let us issue BEGIN ourselves, so writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "checkout")
    def _reopen_when_writable(_dbapi: Any, record: ConnectionPoolEntry, _: PoolProxiedConnection) -> None:
        # The pool discards the connection and opens a fresh one (writable) in its place.
        if record.info.get("read_only") and path is not None and sqlite_writable(path):
            raise exc.DisconnectionError("the database file is writable again")

    @event.listens_for(engine, "handle_error")
    def _discard_read_only(context: ExceptionContext) -> None:
        # "attempt to write a readonly database" (SQLITE_READONLY and its extended codes) on
        # a connection not marked read-only (the file changed between opening and the check
        # above): treated as a lost connection, it is replaced with a fresh one.
        code = getattr(context.original_exception, "sqlite_errorcode", None)
        if code is not None and code & 0xFF == SQLITE_READONLY:
            context.is_disconnect = True

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # BEGIN IMMEDIATE for writes: a deferred transaction that later wants to write
        # can fail with SQLITE_BUSY without waiting; an immediate one queues on busy_timeout.
        options = conn.get_execution_options()
        if options.get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}")

    return engine


class Database:
    """The process's engine plus its two transaction boundaries."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = create_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"

    @classmethod
    def configured(cls, settings: Settings) -> Database:
        """The database of `settings`, on PostgreSQL with their pool and prepared statements."""
        if normalise_url(settings.database_url).get_backend_name() == "sqlite":
            return cls(settings.database_url)
        return cls(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout_seconds,
            # psycopg prepares a statement run five times on a connection; a PgBouncer in
            # transaction mode without prepared-statement support (before 1.21, or
            # max_prepared_statements = 0) would hand it to another server connection.
            connect_args={} if settings.database_prepared_statements else {"prepare_threshold": None},
        )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits on success and rolls back on any exception."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection outside any transaction, for maintenance such as VACUUM."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def writable(self, conn: Connection) -> bool:
        """Whether writes can be made now: on SQLite, whether the file (and its folder) may
        be written; on PostgreSQL, whether sessions are read-only (a standby, or
        `default_transaction_read_only`), asked on `conn`."""
        if self.is_sqlite:
            file = sqlite_file(self.engine.url)
            return file is None or sqlite_writable(str(file))
        return conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "off"

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def database_unavailable(error: BaseException) -> bool:
    """The database cannot be reached or used now (down, locked, read-only, full, not
    migrated, or every connection of the process's pool busy past its timeout): nobody's
    input is at fault, and no statement is wrong."""
    if isinstance(error, exc.OperationalError | exc.TimeoutError):
        return True
    return isinstance(error, exc.DBAPIError) and isinstance(
        error.orig, pg_errors.UndefinedTable | pg_errors.ReadOnlySqlTransaction
    )
