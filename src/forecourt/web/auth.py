"""Who is signed in, and the checks every page and form goes through: the session
cookie, the CSRF token, the role.

- The session cookie holds a random token; core/sessions keeps its digest and decides
  whether it is still live (idle timeout, sign-out, deactivated user). It is resolved
  once per request and kept on `request.state`.
- CSRF: every form and htmx write carries a token (a hidden field `csrf`, or the
  `X-CSRF-Token` header htmx sends from `hx-headers` on <body>). Signed in, it is derived
  from the session's token (a page cannot learn it without the HttpOnly cookie); before
  sign-in (the sign-in form, the language switch) it is a random value also set in a
  cookie of its own, and the two must match (double submit). A write without the right
  token is refused with 403 before its handler runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection, Request
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from forecourt.config import Settings
from forecourt.core.adapters import Adapters
from forecourt.core.sessions import service as sessions
from forecourt.core.sessions.schemas import Session
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database

SESSION_COOKIE = "forecourt_session"
CSRF_COOKIE = "forecourt_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNRESOLVED = object()


class SignInRequired(Exception):
    """No live session: the page answers with the sign-in page (htmx: a redirect to it)."""


def idle(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.session_idle_minutes)


def secure(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether cookies get `Secure`: always, never, or when this request came over TLS."""
    chosen: str = connection.app.state.settings.session_cookie_secure
    return chosen == "true" or (chosen == "auto" and connection.url.scheme == "https")


def cookie(
    connection: ASGIConnection[Any, Any, Any, Any], key: str, value: str, max_age: int | None = None
) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure(connection),
    )


def expired(connection: ASGIConnection[Any, Any, Any, Any], key: str) -> Cookie:
    return Cookie(
        key=key, value="", path="/", max_age=0, httponly=True, samesite="lax", secure=secure(connection)
    )


def session_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Session | None:
    """The request's live session, if any (resolved once per request)."""
    found = connection.state.get("session", _UNRESOLVED)
    if found is _UNRESOLVED:
        token = connection.cookies.get(SESSION_COOKIE, "")
        found = None
        if token:
            state = connection.app.state
            db: Database = state.db
            adapters: Adapters = state.adapters
            found = sessions.resume(db, token, adapters.clock.now(), idle(state.settings))
        connection.state.session = found
    return found if isinstance(found, Session) else None


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    """The signed-in user, or SignInRequired: what the pages' `current_user` dependency
    gives (`manager` too, for managers' pages; web/views.py)."""
    session = session_of(connection)
    if session is None:
        raise SignInRequired
    return session.user


def _session_csrf(token: str) -> str:
    return hashlib.sha256(f"csrf\n{token}".encode()).hexdigest()


def csrf_token(
    connection: ASGIConnection[Any, Any, Any, Any], session: Session | None
) -> tuple[str, Cookie | None]:
    """The token the page's forms carry, and the cookie to set when a visitor who is not
    signed in has none yet."""
    if session is not None:
        return _session_csrf(session.token), None
    held = connection.cookies.get(CSRF_COOKIE, "")
    if 32 <= len(held) <= 64:
        return held, None
    fresh = secrets.token_urlsafe(32)
    return fresh, cookie(connection, CSRF_COOKIE, fresh)


async def csrf_protect(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard on every workspace route: a write must carry the page's CSRF token. A route
    with `opt={"no_session_no_csrf": True}` (sign-out) skips the check when there is no
    live session: nothing to protect, and a page left open past the idle timeout must
    still sign out, not answer "form expired"."""
    if not isinstance(connection, Request) or connection.method in SAFE_METHODS:
        return
    if handler.opt.get("no_session_no_csrf") and await sync_to_thread(session_of, connection) is None:
        return
    sent = connection.headers.get(CSRF_HEADER)
    form = None
    if sent is None:
        form = await connection.form()
        sent = form.get(CSRF_FIELD)
    # The session's token, or the double-submitted one (a sign-in form opened before
    # another tab signed in still works).
    session = await sync_to_thread(session_of, connection)  # a database read
    expected = [connection.cookies.get(CSRF_COOKIE, "")]
    if session is not None:
        expected.append(_session_csrf(session.token))
    if not isinstance(sent, str) or not any(
        token and hmac.compare_digest(sent.encode(), token.encode()) for token in expected
    ):
        if form is not None:
            await form.close()  # a refused upload's spooled file goes now
        raise PermissionDeniedException("csrf")
