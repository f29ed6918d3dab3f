"""Alembic environment: batch mode on SQLite so ALTERs become table rebuilds."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from forecourt.db.engine import create_engine
from forecourt.db.models import metadata

config = context.config


def run_migrations_online() -> None:
    connectable: Connection | None = context.config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A table rebuilt in batch mode is dropped and replaced; with foreign keys on,
        # the drop would null or delete the rows that refer to it. Outside the
        # transaction (SQLite ignores the pragma inside one), as Alembic advises.
        _pragma(connection, "PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
            raise RuntimeError("a migration left rows whose references are broken")
    if sqlite:
        _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, pragma: str) -> None:
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    dbapi_connection.execute(pragma)


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `forecourt db upgrade`.")
run_migrations_online()
