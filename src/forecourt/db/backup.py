"""Backups of the embedded SQLite database, taken while it is in use.

PostgreSQL is backed up with its own tools (`pg_dump`, or the server's continuous
archiving): docs/operations.md."""

from __future__ import annotations

import os
import shlex
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from forecourt.db.engine import sqlite_file


class BackupError(Exception):
    """The backup cannot be made; the message says why, for the operator."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for any other database."""
    if make_url(database_url).get_backend_name() != "sqlite":
        return None
    file = sqlite_file(database_url)
    if file is None:
        raise BackupError("an in-memory database cannot be backed up")
    return file


def use_pg_dump(database_url: str, target: Path) -> str:
    """What to run on PostgreSQL instead: its own tool makes consistent dumps of a live
    database, at the server's version. The URL is shown without its password."""
    given = make_url(database_url)
    url = URL.create("postgresql", given.username, None, given.host, given.port, given.database, given.query)
    return (
        "on PostgreSQL, back up with pg_dump (restore with pg_restore: docs/operations.md):\n"
        f"  pg_dump --format=custom --file={shlex.quote(str(target))} {shlex.quote(url.render_as_string())}"
    )


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the SQLite database `source` into the new file `target` with SQLite's online
    backup API, and return its size in bytes. The copy is one consistent snapshot (a single
    step under one read transaction) taken while other processes go on writing: in WAL mode
    they are not blocked. It is written beside `target` and renamed into place, so `target`
    is either the whole backup or absent."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if target.exists():
        # Also keeps the live database from being overwritten by a slip of the argument.
        raise BackupError(f"{target} exists: remove it or name another file")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # Read-only: a backup never changes the database, nor creates one.
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer)
        finally:
            writer.close()
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:  # not a database, no room, no such folder, ...
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {exc}") from exc
    finally:
        reader.close()
    return target.stat().st_size
