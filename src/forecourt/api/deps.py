"""Dependencies every dialect uses: the database, the settings, the lookup provider."""

from __future__ import annotations

from litestar.datastructures import Headers, State
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


def bearer_token(headers: Headers) -> str | None:
    """The token of `Authorization: Bearer <token>`, if that is what was sent."""
    scheme, _, token = headers.get("Authorization", "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
