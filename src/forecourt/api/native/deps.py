"""Who is calling: the account's API key as `Authorization: Bearer <key>`, the same key
the Recapture (ApiKey), Autengo (X-Api-Key) and Sync (Bearer) dialects take."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from forecourt.api.deps import AppState, bearer_token
from forecourt.api.ratelimit import guarded_api_key
from forecourt.core.accounts.schemas import Account

AccountDep = NamedDependency[Account]


def provide_account(request: Request[Any, Any, Any], state: AppState) -> Account:
    return guarded_api_key(request, state.db, state.limiter, bearer_token(request.headers))
