"""What every dialect uses: the database, the settings, the outside world's adapters and
the rate limiter, all in the app's state."""

from __future__ import annotations

from litestar.datastructures import Headers, State
from litestar.di import NamedDependency

from forecourt.config import Settings
from forecourt.core.adapters import Adapters
from forecourt.core.ratelimits.service import Limiter
from forecourt.db.engine import Database

# Explicitly named dependencies (Litestar 3 drops inferred ones): the web workspace's.
DbDep = NamedDependency[Database]
SettingsDep = NamedDependency[Settings]
AdaptersDep = NamedDependency[Adapters]


class AppState(State):
    """The app's state as the API's handlers and providers take it (`state: AppState`):
    a parameter Litestar fills from the app without dependency injection. Each injected
    dependency cost a signature check and a call, and a batch of more than one an anyio
    task group: ~10% of a cheap request (docs/performance.md, point 6)."""

    db: Database
    settings: Settings
    adapters: Adapters
    limiter: Limiter


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
