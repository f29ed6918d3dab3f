"""Who is calling: a Basic credential (`forecourt keys create ACCOUNT_ID --kind basic`)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from sqlalchemy.engine import Connection

from forecourt.api.deps import AppState
from forecourt.api.ratelimit import guarded
from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.schemas import Account

AccountDep = NamedDependency[Account]


def provide_account(request: Request[Any, Any, Any], state: AppState) -> Account:
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    token = given if scheme.lower() == "basic" else None

    def authenticate(conn: Connection) -> Account:
        return accounts.authenticate_basic(conn, token)

    return guarded(request, state.db, state.limiter, "basic", accounts.basic_prefix(token), authenticate)
