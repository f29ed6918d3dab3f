"""Dependencies every dialect uses: the database, the settings, the lookup provider."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency

from forecourt.config import Settings
from forecourt.db.engine import Database
from forecourt.providers.registration import RegistrationLookup

# Explicitly named dependencies (Litestar 3 drops inferred ones).
DbDep = NamedDependency[Database]
SettingsDep = NamedDependency[Settings]
LookupDep = NamedDependency[RegistrationLookup]


def provide_db(state: State) -> Database:
    db: Database = state.db
    return db


def provide_lookup(state: State) -> RegistrationLookup:
    lookup: RegistrationLookup = state.lookup
    return lookup


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings
