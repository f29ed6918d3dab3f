"""Who is calling (the ApiKey header) and in which region."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter

from forecourt.api.deps import AppState
from forecourt.api.ratelimit import guarded_api_key
from forecourt.core.accounts.schemas import Account
from forecourt.kit.paging import MAX_PAGE
from forecourt.kit.vehicles import Region, parse_region

AccountDep = NamedDependency[Account]
RegionDep = NamedDependency[Region]
MAX_OFFSET = 2**31 - 1  # what every database's integer takes
# A page of a list: a larger limit is capped (as the vendor does), not refused.
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_OFFSET, description=f"At most {MAX_PAGE}; more is capped")]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key")]


def provide_account(request: Request[Any, Any, Any], state: AppState) -> Account:
    return guarded_api_key(request, state.db, state.limiter, request.headers.get("ApiKey"))


def provide_region(
    account: AccountDep,
    region_query: Annotated[str | None, QueryParameter(name="region", description="au or nz")] = None,
) -> Region:
    # Depends on `account` so a request without a key gets 401 before any 400.
    del account
    return parse_region(region_query)
