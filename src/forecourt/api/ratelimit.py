"""Rate limits at the edge: each dialect's credential check runs through `guarded`, and
every answer carries the client's budget in headers (the IETF draft's by default, a
dialect's own where its vendor has them: Recapture)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy.engine import Connection

from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.schemas import Account
from forecourt.core.ratelimits.schemas import Budget, RateLimited
from forecourt.core.ratelimits.service import Limiter
from forecourt.db.engine import Database
from forecourt.kit.errors import Unauthenticated

T = TypeVar("T")
# (budget) -> the headers that show it
HeaderRenderer = Callable[[Budget], dict[str, str]]

_SCOPE_KEY = "forecourt.rate_limit"  # the Budget the answer's headers show


def provide_limiter(state: State) -> Limiter:
    limiter: Limiter = state.limiter
    return limiter


def _show(request: Request[Any, Any, Any], budget: Budget | None) -> None:
    if budget is not None:
        request.scope[_SCOPE_KEY] = budget  # type: ignore[literal-required]


def guarded(
    request: Request[Any, Any, Any],
    db: Database,
    limiter: Limiter,
    kind: str,
    prefix: str | None,
    authenticate: Callable[[Connection], T],
) -> T:
    """`authenticate(conn)` (which raises Unauthenticated on a bad credential) under the
    rate limits: the address's budget and the failed sign-in lockout first, then the
    credential's budget (`kind` and `prefix` name the credential presented). One
    transaction for it all when the counts are in the database."""
    address = request.client.host if request.client else "unknown"
    credential = f"{kind}:{prefix}" if prefix else None
    refused: Unauthenticated | None = None
    try:
        with limiter.batch() as shared:
            _show(request, limiter.admit(address, credential))
            try:
                with nullcontext(shared) if shared is not None else db.read() as conn:
                    signed_in = authenticate(conn)
            except Unauthenticated as exc:
                limiter.failed(address, credential)
                refused = exc  # raised once the failure is counted (committed)
            else:
                assert credential is not None  # a credential that signs in has its prefix
                _show(request, limiter.spend(credential))
    except RateLimited as exc:
        _show(request, exc.budget)
        raise
    if refused is not None:
        raise refused
    return signed_in


def guarded_api_key(
    request: Request[Any, Any, Any],
    db: Database,
    limiter: Limiter,
    key: str | None,
    also: Callable[[Connection, Account], None] | None = None,
) -> Account:
    """The account of an API key, under the rate limits (`guarded`); `also` checks more
    with it signed in (a failure there counts as a failed sign-in of the key)."""

    def authenticate(conn: Connection) -> Account:
        account = accounts.authenticate_api_key(conn, key)
        if also is not None:
            also(conn, account)
        return account

    return guarded(request, db, limiter, "api", accounts.api_key_prefix(key), authenticate)


def ietf_headers(budget: Budget) -> dict[str, str]:
    """draft-ietf-httpapi-ratelimit-headers-10/-11: the policy (quota per window) and
    what is left of it, with the seconds until the window passes."""
    name = f'"{budget.policy}"'
    return {
        "RateLimit-Policy": f"{name};q={budget.limit};w={budget.window}",
        "RateLimit": f"{name};r={budget.remaining};t={budget.reset}",
    }


def rate_limit_headers(
    dialects: Sequence[tuple[str, HeaderRenderer]],
) -> Callable[[Scope], list[tuple[bytes, bytes]]]:
    """The budget's headers for every answer that counted against one, errors included
    (added by the API's wrapper, api/access.py); the renderer is chosen by path prefix,
    like the error envelope."""

    def headers(scope: Scope) -> list[tuple[bytes, bytes]]:
        budget = scope.get(_SCOPE_KEY)
        if not isinstance(budget, Budget):
            return []
        path = scope["path"]
        render = next((r for prefix, r in dialects if path.startswith(prefix)), ietf_headers)
        return [(k.lower().encode(), v.encode()) for k, v in render(budget).items()]

    return headers
