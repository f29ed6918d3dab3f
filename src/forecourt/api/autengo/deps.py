"""Who is calling (X-Api-Key, and a session token when one is sent) and in which language."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Headers
from litestar.di import NamedDependency
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIType, Parameter, Schema
from sqlalchemy.engine import Connection

from forecourt.api.deps import AppState
from forecourt.api.ratelimit import guarded_api_key
from forecourt.core.accounts import tokens
from forecourt.core.accounts.schemas import Account
from forecourt.core.inventory import i18n
from forecourt.kit.errors import Unauthenticated

AccountDep = NamedDependency[Account]

# Where a session token may come: the vendor documents both.
_TOKEN_HEADERS = (("X-Authorization", "bearer"), ("Authorization", "jwt"), ("Authorization", "bearer"))


def session_token(headers: Headers) -> str | None:
    """The token of `X-Authorization: Bearer …` or `Authorization: JWT …` (or Bearer)."""
    for name, scheme in _TOKEN_HEADERS:
        given, _, token = headers.get(name, "").strip().partition(" ")
        if given.lower() == scheme and token.strip():
            return token.strip()
    if headers.get("Authorization") or headers.get("X-Authorization"):
        raise Unauthenticated(
            "Send the token as 'X-Authorization: Bearer <token>' or 'Authorization: JWT <token>'"
        )
    return None


def provide_account(request: Request[Any, Any, Any], state: AppState) -> Account:
    """The account of the X-Api-Key; a session token sent with it must be valid and the
    same account's (a forged token counts as a failed sign-in of the key)."""
    token = session_token(request.headers)

    def verify_token(conn: Connection, account: Account) -> None:
        if token is not None:
            tokens.verify(conn, account.id, token)

    return guarded_api_key(request, state.db, state.limiter, request.headers.get("X-Api-Key"), verify_token)


# Named in each operation whose answer `language` labels.
ACCEPT_LANGUAGE = Parameter(
    name="Accept-Language",
    param_in=ParamType.HEADER,
    required=False,
    schema=Schema(type=OpenAPIType.STRING),
    description=f"The labels' language: {', '.join(i18n.LANGUAGES)} ({i18n.DEFAULT_LANGUAGE} otherwise)",
)


def language(request: Request[Any, Any, Any]) -> str:
    """The labels' language: read by the handlers, not injected (a second dependency
    beside `account` made Litestar resolve the pair in an anyio task group)."""
    return i18n.negotiate(request.headers.get("Accept-Language"))
