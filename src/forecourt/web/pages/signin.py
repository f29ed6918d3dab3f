"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from forecourt.core.accounts import service as accounts
from forecourt.core.sessions import service as sessions
from forecourt.core.users import service as users
from forecourt.kit.errors import DomainError, InvalidInput, TooManyRequests
from forecourt.web import auth, i18n
from forecourt.web.views import (
    LANGUAGE_COOKIE,
    YEAR,
    AdaptersDep,
    DbDep,
    Form,
    LimiterDep,
    SettingsDep,
    page,
    redirect,
)


@get("/login", sync_to_thread=True)
def login_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    if auth.session_of(request) is not None:
        return redirect("/")
    return page(request, "login.html", email="", error=None, choices=[])


def _account_id(raw: str | None) -> UUID | None:
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise InvalidInput("account", "account is not an account id") from None


@post("/login", sync_to_thread=True)
def login(
    request: Request[Any, Any, Any],
    data: Form,
    db: DbDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    limiter: LimiterDep,
) -> Template | Redirect:
    """Sign in with an email and a password; when the same person has that password in
    several accounts, the form comes back asking which (core/users: sign_in)."""
    email = data.get("email", "")
    try:
        found = users.sign_in(
            db,
            limiter,
            email=email,
            password=data.get("password", ""),
            address=request.client.host if request.client else "unknown",
            account_id=_account_id(data.get("account")),
        )
    except TooManyRequests:
        raise
    except DomainError:  # refused: the one answer for every reason
        return page(request, "login.html", status=401, email=email, error="refused", choices=[])
    if len(found) > 1:
        with db.read() as conn:
            choices = [
                (user.account_id, accounts.require_account(conn, user.account_id).name) for user in found
            ]
        return page(request, "login.html", email=email, error=None, choices=choices)
    with db.write() as conn:
        session = sessions.start(conn, found[0], adapters.clock.now(), auth.idle(settings))
    return redirect("/", [auth.cookie(request, auth.SESSION_COOKIE, session.token)])


@post("/logout", sync_to_thread=True, opt={"no_session_no_csrf": True})
def logout(request: Request[Any, Any, Any], db: DbDep) -> Redirect:
    with db.write() as conn:
        sessions.end(conn, request.cookies.get(auth.SESSION_COOKIE, ""))
    return redirect("/login", [auth.expired(request, auth.SESSION_COOKIE)])


def _local(path: str | None) -> str:
    """Where to go back to: a path on this site, never another one (`//host`, `/\\host`)."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/"
    return path


@post("/language", sync_to_thread=True)
def language(request: Request[Any, Any, Any], data: Form) -> Redirect:
    """The language switch: remembered in a cookie for a year."""
    chosen = data.get("language", "")
    if chosen not in i18n.LANGUAGES:
        raise InvalidInput("language", f"language must be one of {', '.join(i18n.LANGUAGES)}")
    return redirect(_local(data.get("next")), [auth.cookie(request, LANGUAGE_COOKIE, chosen, max_age=YEAR)])


ROUTES = [login_form, login, logout, language]
