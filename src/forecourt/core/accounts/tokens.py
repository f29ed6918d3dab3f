"""Signed session tokens (JWT, HS256 only) for a user of an account.

The signing key is made on first use and kept in the database, so every API process
of a deployment accepts every other's tokens without any setup.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from uuid import UUID

import jwt
import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.accounts import repository
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import Unauthenticated

ALGORITHM = "HS256"
LIFETIME = timedelta(hours=24)
SCOPE = "AutengoApiV3"
_KEY_NAME = "session-tokens"


class Token(msgspec.Struct, frozen=True):
    token: str
    expires_in: int  # seconds


class Claims(msgspec.Struct, frozen=True):
    account_id: UUID
    dealer_id: int
    user_id: int


def _key(conn: Connection, *, create: bool) -> str | None:
    key = repository.signing_key(conn, _KEY_NAME)
    if key is None and create:
        key = repository.add_signing_key(conn, _KEY_NAME, secrets.token_urlsafe(48), utcnow())
    return key


def issue(conn: Connection, claims: Claims) -> Token:
    now = utcnow()
    payload = {
        "sub": str(claims.user_id),
        "dealer": claims.dealer_id,
        "acc": str(claims.account_id),
        "scope": SCOPE,
        "iat": now,
        "exp": now + LIFETIME,
    }
    key = _key(conn, create=True)
    assert key is not None
    return Token(jwt.encode(payload, key, algorithm=ALGORITHM), int(LIFETIME.total_seconds()))


def verify(conn: Connection, account_id: UUID, token: str) -> Claims:
    """The claims of a valid, unexpired token of this account; Unauthenticated otherwise
    (a forged, tampered, expired or `alg: none` token, or another account's)."""
    key = _key(conn, create=False)
    try:
        if key is None:
            raise jwt.InvalidTokenError("no token was ever issued")
        payload: dict[str, Any] = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub", "acc"]}
        )
        account, dealer, user = payload["acc"], payload["dealer"], payload["sub"]
        if not (isinstance(account, str) and isinstance(dealer, int | str) and isinstance(user, str)):
            raise TypeError("claims of the wrong type")
        claims = Claims(UUID(account), int(dealer), int(user))
    except (jwt.InvalidTokenError, KeyError, ValueError, TypeError):
        raise Unauthenticated("Invalid or expired token") from None
    if claims.account_id != account_id or payload.get("scope") != SCOPE:
        raise Unauthenticated("Invalid or expired token")
    return claims


def refresh(conn: Connection, account_id: UUID, token: str) -> Token:
    """A new token for the user of a valid one of this account."""
    return issue(conn, verify(conn, account_id, token))
