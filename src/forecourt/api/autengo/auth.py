"""Session tokens: POST /v3/auth/token issues one, GET /v3/auth/refresh renews it."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from forecourt.api.autengo.deps import AccountDep, session_token
from forecourt.api.autengo.errors import ERRORS
from forecourt.api.deps import AppState
from forecourt.core.accounts import tokens
from forecourt.kit.errors import Unauthenticated

AlzuraId = Annotated[int, msgspec.Meta(ge=1, le=2**53)]


class TokenPost(msgspec.Struct, rename="camel"):
    dealer_alzura_id: AlzuraId
    user_alzura_id: AlzuraId


class Token(msgspec.Struct, frozen=True):
    token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 (a scheme name, not a secret)
    scope: str = tokens.SCOPE


def _out(token: tokens.Token) -> Token:
    return Token(token.token, token.expires_in)


class AuthController(Controller):
    path = "/auth"
    tags = ["Autengo auth"]

    @post("/token", status_code=200, sync_to_thread=True, **ERRORS.documented(401, 413))
    def issue_token(self, state: AppState, account: AccountDep, data: JSONBody[TokenPost]) -> Token:
        """A token for a user of the dealer, valid for 24 hours."""
        with state.db.write() as conn:
            claims = tokens.Claims(account.id, data.dealer_alzura_id, data.user_alzura_id)
            return _out(tokens.issue(conn, claims))

    @get("/refresh", sync_to_thread=True, **ERRORS.documented(401))
    def refresh_token(self, request: Request[Any, Any, Any], state: AppState, account: AccountDep) -> Token:
        """A fresh token for the user of the (still valid) token sent."""
        token = session_token(request.headers)
        if token is None:
            raise Unauthenticated("Send the token to refresh as 'X-Authorization: Bearer <token>'")
        with state.db.write() as conn:
            return _out(tokens.refresh(conn, account.id, token))
