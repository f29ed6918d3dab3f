"""Who is calling: a Basic credential (`forecourt keys create ACCOUNT_ID --kind basic`)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from forecourt.api.deps import DbDep
from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.schemas import Account

AccountDep = NamedDependency[Account]


def provide_account(request: Request[Any, Any, Any], db: DbDep) -> Account:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    with db.read() as conn:
        return accounts.authenticate_basic(conn, token if scheme.lower() == "basic" else None)
