"""Dependencies every dialect uses: the database and the settings."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency

from forecourt.config import Settings
from forecourt.db.engine import Database

# Explicitly named dependencies (Litestar 3 drops inferred ones).
DbDep = NamedDependency[Database]
SettingsDep = NamedDependency[Settings]


def provide_db(state: State) -> Database:
    db: Database = state.db
    return db


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings
