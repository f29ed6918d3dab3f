"""Dependencies every dialect uses: the database, the settings, the outside world's adapters."""

from __future__ import annotations

from litestar.datastructures import Headers, State
from litestar.di import NamedDependency

from forecourt.config import Settings
from forecourt.core.adapters import Adapters
from forecourt.db.engine import Database

# Explicitly named dependencies (Litestar 3 drops inferred ones).
DbDep = NamedDependency[Database]
SettingsDep = NamedDependency[Settings]
AdaptersDep = NamedDependency[Adapters]


def provide_db(state: State) -> Database:
    db: Database = state.db
    return db


def provide_adapters(state: State) -> Adapters:
    adapters: Adapters = state.adapters
    return adapters


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def bearer_token(headers: Headers) -> str | None:
    """The token of `Authorization: Bearer <token>`, if that is what was sent."""
    scheme, _, token = headers.get("Authorization", "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
