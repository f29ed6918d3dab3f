"""Who is calling (the ApiKey header) and in which region."""

from __future__ import annotations

from typing import Annotated

from litestar import Request
from litestar.params import Parameter

from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.schemas import Account
from forecourt.core.vehicles import Region, parse_region
from forecourt.db.engine import Database


def provide_account(request: Request[object, object, object], db: Database) -> Account:
    with db.read() as conn:
        return accounts.authenticate_api_key(conn, request.headers.get("ApiKey"))


def provide_region(
    account: Account,
    region_query: Annotated[str | None, Parameter(query="region", description="au or nz")] = None,
) -> Region:
    # Depends on `account` so a request without a key gets 401 before any 400.
    del account
    return parse_region(region_query)
