"""Alembic, driven from code so `forecourt db ...` works from any directory."""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a literal % in a password.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


@cache
def _heads() -> frozenset[str]:
    """The revisions this code was written for, read from the migration files once (a
    readiness probe asks every few seconds)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def at_head(conn: Connection) -> bool:
    """Whether the database's schema is the one this code was written for."""
    return set(MigrationContext.configure(conn).get_current_heads()) == _heads()


def check(database_url: str) -> None:
    """Raise if the models and the migrated schema differ (alembic check). SQLite cannot
    reflect expression indexes (the customer name search's): there they go unchecked."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        command.check(alembic_config(database_url))
