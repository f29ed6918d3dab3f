"""The workspace's routes: sign-in, sign-out, the language switch and the Today page.

Each view parses the form, calls core use cases and renders a template; every page is
answered `Cache-Control: no-store`, so after sign-out the browser's back button asks the
server again (and gets the sign-in page) instead of showing a page from its cache.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template

from forecourt import __version__
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.adapters import Adapters
from forecourt.core.leads import service as leads
from forecourt.core.ratelimits.service import Limiter
from forecourt.core.sessions import service as sessions
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database, database_unavailable
from forecourt.kit.errors import DomainError, InvalidInput, NotFound, TooManyRequests
from forecourt.web import auth, i18n

log = logging.getLogger(__name__)

DbDep = NamedDependency[Database]
SettingsDep = NamedDependency[Settings]
AdaptersDep = NamedDependency[Adapters]
LimiterDep = NamedDependency[Limiter]
UserDep = NamedDependency[User]
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]

LANGUAGE_COOKIE = "forecourt_language"
YEAR = 365 * 24 * 3600
NO_STORE = {"Cache-Control": "no-store"}
# Scripts, styles and images from Forecourt only; no frames; forms post to Forecourt.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def language_of(request: Request[Any, Any, Any]) -> str:
    return i18n.chosen(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("Accept-Language"))


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    resolve: bool = True,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A page with what the layout needs: the user, the language, the CSRF token.
    `resolve=False` (error pages) uses only what this request already knew of its session,
    so a page about a database outage does not ask the database again."""
    language = language_of(request)
    session = auth.session_of(request) if resolve else request.state.get("session")
    token, cookie = auth.csrf_token(request, session)
    return Template(
        template_name=template,
        context={
            "user": session.user if session else None,
            "language": language,
            "languages": i18n.NAMES,
            "translations": i18n.translations(language),
            "csrf": token,
            "csrf_field": auth.CSRF_FIELD,
            "path": request.url.path,
            "version": __version__,
            **context,
        },
        status_code=status,
        headers=NO_STORE | {"Content-Language": language, "Content-Security-Policy": CSP} | (headers or {}),
        cookies=[cookie] if cookie else [],
    )


def redirect(to: str, cookies: list[Cookie] | None = None) -> Redirect:
    return Redirect(to, status_code=303, headers=NO_STORE, cookies=cookies or [])


def provide_current_user(request: Request[Any, Any, Any]) -> User:
    return auth.current_user(request)


def provide_manager(request: Request[Any, Any, Any]) -> User:
    """A page for managers: to a salesperson it does not exist (404)."""
    user = auth.current_user(request)
    if user.role != "manager":
        raise NotFound("Not found")
    return user


@get("/", sync_to_thread=True)
def today(
    request: Request[Any, Any, Any], current_user: UserDep, db: DbDep, adapters: AdaptersDep
) -> Template:
    """Today: the signed-in user's start page (new leads since yesterday: the account's
    for a manager, their own for a salesperson)."""
    assignee = None if current_user.role == "manager" else current_user.id
    with db.read() as conn:
        account = accounts.require_account(conn, current_user.account_id)
        new_leads = leads.new_since_yesterday(conn, current_user.account_id, adapters.clock.now(), assignee)
    return page(request, "today.html", account=account, new_leads=new_leads)


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


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Every error of a workspace route, as a page in the person's language."""
    if isinstance(exc, auth.SignInRequired):
        stale = [auth.expired(request, auth.SESSION_COOKIE)] if auth.SESSION_COOKIE in request.cookies else []
        if request.headers.get("HX-Request"):  # htmx: the whole page goes to the sign-in
            return Response(
                None, status_code=204, headers=NO_STORE | {"HX-Redirect": "/login"}, cookies=stale
            )
        return redirect("/login", stale)
    headers: dict[str, str] = {}
    if database_unavailable(exc):
        status, kind = 503, "unavailable"
        headers["Retry-After"] = "5"
    elif isinstance(exc, TooManyRequests):
        status, kind = 429, "throttled"
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, PermissionDeniedException):
        status, kind = 403, "csrf" if exc.detail == "csrf" else "forbidden"
    elif isinstance(exc, NotFound | NotFoundException):
        status, kind = 404, "not_found"
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status, kind = exc.status_code, "bad_request"
    elif isinstance(exc, DomainError):
        status, kind = 400, "bad_request"
    else:
        log.exception("unhandled error in the workspace", exc_info=exc)
        status, kind = 500, "internal"
    return page(request, "error.html", status=status, resolve=False, headers=headers, kind=kind)


def router() -> Router:
    return Router(
        path="/",
        route_handlers=[today, login_form, login, logout, language],
        guards=[auth.csrf_protect],
        dependencies={
            "current_user": Provide(provide_current_user, sync_to_thread=True),
            "manager": Provide(provide_manager, sync_to_thread=True),
        },
        exception_handlers={Exception: error_page},
        include_in_schema=False,
    )
