"""Alembic environment: batch mode on SQLite so ALTERs become table rebuilds."""

from __future__ import annotations

from alembic import context

from forecourt.db.engine import create_engine
from forecourt.db.models import metadata

config = context.config


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `forecourt db upgrade`.")
run_migrations_online()
