"""What every workspace page shares: `page()` renders a template with what the layout
needs, the dependencies pages take (`current_user`, `manager`, `db`, ...), and
`error_page`, which renders every error as a page, and `path_id`. The pages themselves
are in `web/pages/`, one module each; what they share beside this is in `web/format.py`
(times, numbers, money), `web/paging.py` (where a list is), `web/live.py` (polling) and
`templates/_macros.html` (pagers, form fields, POST buttons).

Every page is answered `Cache-Control: no-store`, so after sign-out the browser's back
button asks the server again (and gets the sign-in page) instead of showing a page from
its cache.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template

from forecourt import __version__
from forecourt.config import Settings
from forecourt.core.adapters import Adapters
from forecourt.core.ratelimits.service import Limiter
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database, database_unavailable
from forecourt.kit.errors import DomainError, InvalidInput, NotFound, TooManyRequests
from forecourt.kit.ids import parse_id
from forecourt.web import auth, i18n
from forecourt.web.format import Formats

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


def formats(request: Request[Any, Any, Any], time_zone: str = "UTC", now: datetime | None = None) -> Formats:
    """How this person reads times, numbers and money: their language, the account's
    time zone (web/format.py)."""
    return Formats(language_of(request), ZoneInfo(time_zone), now)


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


def path_id(raw: str) -> UUID:
    """An id from the path: one that is not a UUID names nothing here (404), as a missing
    one or another account's."""
    return parse_id(raw, NotFound, "id")


def provide_current_user(request: Request[Any, Any, Any]) -> User:
    return auth.current_user(request)


def provide_manager(request: Request[Any, Any, Any]) -> User:
    """A page for managers: to a salesperson it does not exist (404)."""
    user = auth.current_user(request)
    if user.role != "manager":
        raise NotFound("Not found")
    return user


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
    # A bad value names its field (`?page=x`: "page"), so the person knows what to change.
    field = exc.field if isinstance(exc, InvalidInput) else None
    return page(request, "error.html", status=status, resolve=False, headers=headers, kind=kind, field=field)
