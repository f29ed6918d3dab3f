"""Who is calling: the account's API key as `Authorization: Bearer <key>`."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from sqlalchemy.engine import Connection

from forecourt.api.deps import DbDep, bearer_token
from forecourt.api.ratelimit import LimiterDep, guarded
from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.schemas import Account

AccountDep = NamedDependency[Account]


def provide_account(request: Request[Any, Any, Any], db: DbDep, limiter: LimiterDep) -> Account:
    key = bearer_token(request.headers)

    def authenticate(conn: Connection) -> Account:
        return accounts.authenticate_api_key(conn, key)

    return guarded(request, db, limiter, "api", accounts.api_key_prefix(key), authenticate)
