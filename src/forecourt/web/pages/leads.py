"""Leads: the inbox (filters, keyset paging, new leads shown as they arrive) and a lead's
page (the customer, the vehicle, the listing with its price history, the timeline, and
the actions: assign, move its status, reopen, add a note).

A salesperson sees only the leads assigned to them: the inbox is filtered to them, and
another's lead is not found (404), as is another account's."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from forecourt.core.customers import service as customers
from forecourt.core.leads import service as leads
from forecourt.core.leads import workflow
from forecourt.core.leads.schemas import OPEN, ORIGINS, STATUSES, Actor, LeadDetail, LeadQuery
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.kit.errors import Conflict, InvalidInput
from forecourt.web import charts, live, paging
from forecourt.web.views import (
    NO_STORE,
    AdaptersDep,
    DbDep,
    Form,
    SettingsDep,
    UserDep,
    formats,
    page,
    path_id,
    redirect,
)

PAGE_SIZE = 50
OLDER_THAN_MAX = 24 * 365 * 10  # hours: ten years


# --- What the inbox is asked: its filters, read from the query string ---


@dataclass(frozen=True)
class Filters:
    """The inbox's filters as given (echoed back into the form and the links)."""

    status: str = ""  # "", "open" or a status
    origin: str = ""
    assignee: str = ""  # "", "unassigned" or a user id (managers only)
    older_than: str = ""  # hours
    since: str = ""  # YYYY-MM-DD, in the account's time zone
    until: str = ""  # YYYY-MM-DD, inclusive
    unactioned: bool = False

    def params(self) -> dict[str, str]:
        given = {
            "status": self.status,
            "origin": self.origin,
            "assignee": self.assignee,
            "older_than": self.older_than,
            "since": self.since,
            "until": self.until,
            "unactioned": "1" if self.unactioned else "",
        }
        return {name: value for name, value in given.items() if value}

    def active(self) -> bool:
        return bool(self.params())


def _filters(params: Mapping[str, str]) -> Filters:
    return Filters(
        status=params.get("status", "").strip(),
        origin=params.get("origin", "").strip(),
        assignee=params.get("assignee", "").strip(),
        older_than=params.get("older_than", "").strip(),
        since=params.get("since", "").strip(),
        until=params.get("until", "").strip(),
        unactioned=params.get("unactioned", "") not in ("", "0"),
    )


def _day(field: str, value: str, zone: ZoneInfo, *, days: int = 0) -> datetime:
    """The start of a day (`days` after the one given) in the account's time zone, as
    naive UTC."""
    try:
        day = date.fromisoformat(value) + timedelta(days=days)
        return datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a date; or the last day there is
        raise InvalidInput(field, f"{field} must be a date (YYYY-MM-DD)") from None


def _query(
    filters: Filters, user: User, staff: Mapping[UUID, User], zone: ZoneInfo, now: datetime, **extra: Any
) -> LeadQuery:
    """The core's query for these filters (InvalidInput naming the field when one is
    unusable). A salesperson's are always their own leads."""
    status, origin = filters.status, filters.origin
    if status and status != "open" and status not in STATUSES:
        raise InvalidInput("status", "status is not one of the list")
    if origin and origin not in ORIGINS:
        raise InvalidInput("origin", "origin is not one of the list")
    statuses = OPEN if status == "open" else (status,) if status else ()
    assignee_id, unassigned = None, False
    if user.role != "manager":
        assignee_id = user.id
    elif filters.assignee == "unassigned":
        unassigned = True
    elif filters.assignee:
        try:
            assignee_id = UUID(filters.assignee)
        except ValueError:
            assignee_id = None
        if assignee_id not in staff:
            raise InvalidInput("assignee", "assignee is not a user of this account")
    until = None
    if filters.older_than:
        if (
            not re.fullmatch(r"[0-9]{1,6}", filters.older_than)
            or not 1 <= int(filters.older_than) <= OLDER_THAN_MAX
        ):
            raise InvalidInput("older_than", "older_than must be a whole number of hours")
        until = now - timedelta(hours=int(filters.older_than))
    since = _day("since", filters.since, zone) if filters.since else None
    if filters.until:
        day_after = _day("until", filters.until, zone, days=1)
        until = day_after if until is None else min(until, day_after)
    if since is not None and filters.until and until is not None and until <= since:
        raise InvalidInput("until", "until is before since")
    return LeadQuery(
        statuses=tuple(statuses),
        origins=(origin,) if origin else (),
        assignee_id=assignee_id,
        unassigned=unassigned,
        created_since=since,
        created_until=until,
        unactioned=True if filters.unactioned else None,
        limit=PAGE_SIZE,
        **extra,
    )


# --- The inbox ---


def _staff(conn: Any, account_id: UUID) -> dict[UUID, User]:
    return {user.id: user for user in users.list_users(conn, account_id)}


def _inbox(
    request: Request[Any, Any, Any], user: User, db: DbDep, now: datetime, cursor: str
) -> tuple[Filters, dict[str, Any]]:
    """The page of leads the query string asks for, and what the templates show of it.
    `cursor` names the parameter that says where the page starts: `after` (the last
    lead of the page before) or `newer` (the newest lead the live inbox shows)."""
    filters = _filters(request.query_params)
    with db.read() as conn:
        staff = _staff(conn, user.account_id)
        zone_name = leads.settings(conn, user.account_id).time_zone
        zone = ZoneInfo(zone_name)
        context: dict[str, Any] = {
            "filters": filters,
            "staff": staff,
            "formats": formats(request, zone_name, now),
            "statuses": STATUSES,
            "origins": ORIGINS,
            "rows": [],
            "next_after": None,
            "newest": None,
            "error_field": None,
        }
        try:
            at = paging.cursor(request.query_params, cursor)
            position = {("after" if cursor == "after" else "newer_than"): at} if at else {}
            query = _query(filters, user, staff, zone, now, **position)
        except InvalidInput as exc:
            context["error_field"] = exc.field
            return filters, context
        found = leads.list_page(conn, user.account_id, query)
        shown = [lead.id for lead in found.leads]
        summaries = {s.id: s for s in leads.summaries(conn, user.account_id, shown)}
    context["rows"] = [(lead, summaries.get(lead.id)) for lead in found.leads]
    context["next_after"] = None if found.next_after is None else paging.cursor_of(*found.next_after)
    if found.leads:
        context["newest"] = paging.cursor_of(found.leads[0].created_at, found.leads[0].id)
    return filters, context


def _live_url(filters: Filters, newest: str | None, opened: datetime) -> str:
    newer = {"newer": newest} if newest else {}
    return live.poll_url("/leads/live", opened, filters.params() | newer)


@get("/leads", sync_to_thread=True)
def inbox(
    request: Request[Any, Any, Any], current_user: UserDep, db: DbDep, adapters: AdaptersDep
) -> Template:
    """The inbox, newest first, a page at a time (`after`: the last lead of the page
    before). The first page asks every second for leads newer than its newest (htmx).
    An unusable filter: the page again with the field marked (400)."""
    now = adapters.clock.now()
    filters, context = _inbox(request, current_user, db, now, "after")
    context["paged"] = bool(request.query_params.get("after"))
    context["live_url"] = _live_url(filters, context["newest"], now)
    context["filter_query"] = urlencode(filters.params())
    return page(request, "leads.html", status=400 if context["error_field"] else 200, **context)


@get("/leads/live", sync_to_thread=True)
def inbox_live(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
) -> Template | Response[None]:
    """The inbox's live part: leads that match its filters, newer than `newer` (the newest
    it shows; none: the inbox was empty), as rows to put on top, with the next poller and
    a polite announcement. Nothing new: 204, which htmx leaves alone. It stops under the
    polling rule of web/live.py."""
    now = adapters.clock.now()
    opened = live.opened(request.query_params)
    given = urlencode(_filters(request.query_params).params())
    reload_url = "/leads" + (f"?{given}" if given else "")  # the inbox as it was asked for
    if live.paused(opened, now, settings):
        return page(request, "leads_live.html", status=live.STOPPED, paused=True, reload_url=reload_url)
    filters, context = _inbox(request, current_user, db, now, "newer")
    if context["error_field"] is not None:
        raise InvalidInput(context["error_field"], "unusable filter")
    if not context["rows"]:
        return Response(None, status_code=204, headers=NO_STORE)
    context["live_url"] = _live_url(filters, context["newest"], opened)
    # More than a page arrived at once (a large listing batch): the inbox says so and
    # stops asking, rather than leave a gap between what it shows and what it adds.
    context["overflow"] = context["next_after"] is not None
    context["was_empty"] = not request.query_params.get("newer")  # its empty state goes
    return page(request, "leads_live.html", paused=False, reload_url=reload_url, **context)


# --- A lead ---


def _own(user: User) -> UUID | None:
    """Whose leads the user may see: a salesperson their own, a manager all (None)."""
    return None if user.role == "manager" else user.id


def _price_points(history: Sequence[Any]) -> list[tuple[datetime, int]]:
    points = []
    for entry in history:
        try:
            points.append(
                (datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00")), int(entry["price"]))
            )
        except (KeyError, TypeError, ValueError):
            continue  # a malformed entry is left out of the chart, not a failed page
    return sorted(points)


def _lead_page(
    request: Request[Any, Any, Any],
    user: User,
    db: DbDep,
    now: datetime,
    lead_id: UUID,
    *,
    status: int = 200,
    error: tuple[str, str] | None = None,
    form: Mapping[str, str] | None = None,
) -> Template:
    with db.read() as conn:
        found: LeadDetail = leads.detail(conn, user.account_id, lead_id, assignee_id=_own(user))
        staff = _staff(conn, user.account_id)
        lead_settings = leads.settings(conn, user.account_id)
    listing = found.about.listing
    chart = None
    prices: list[tuple[datetime, int]] = []
    if listing is not None:
        prices = _price_points(listing.price_history)
        if prices:
            until = (listing.delisted_at or now).replace(tzinfo=UTC).timestamp()
            chart = charts.step_line([(at.timestamp(), price) for at, price in prices], until=until)
    return page(
        request,
        "lead.html",
        status=status,
        found=found,
        lead=found.lead,
        about=found.about,
        customer_name=customers.name_of(found.about.customer) if found.about.customer else None,
        staff=staff,
        names={str(user_id): member.display_name for user_id, member in staff.items()},
        formats=formats(request, lead_settings.time_zone, now),
        chart=chart,
        prices=prices,
        next_statuses=workflow.NEXT[found.lead.status],
        lost_reasons=lead_settings.lost_reasons,
        error_field=error[0] if error else None,
        error_kind=error[1] if error else None,
        form=dict(form or {}),
        region=(listing.region if listing is not None else "au"),
    )


@get("/leads/{lead_id:str}", sync_to_thread=True)
def lead(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    lead_id: FromPath[str],
) -> Template:
    return _lead_page(request, current_user, db, adapters.clock.now(), path_id(lead_id))


# A change to a lead: (connection, account id, lead id, who, when) -> anything.
Change = Callable[[Any, UUID, UUID, Actor, datetime], object]


def _act(
    request: Request[Any, Any, Any],
    user: User,
    db: DbDep,
    adapters: AdaptersDep,
    lead_id: str,
    form: Mapping[str, str],
    change: Change,
) -> Template | Redirect:
    """Make a change to a lead the user may see, then back to its page (303); a change
    the core refuses shows the page again with the message at the field (400, or 409
    when the lead is not in a state for it)."""
    wanted = path_id(lead_id)
    now = adapters.clock.now()
    try:
        with db.write() as conn:
            leads.get_visible(conn, user.account_id, wanted, _own(user))
            change(conn, user.account_id, wanted, Actor("user", user.id), now)
    except (InvalidInput, Conflict) as exc:
        kind, status = ("conflict", 409) if isinstance(exc, Conflict) else ("invalid", 400)
        return _lead_page(request, user, db, now, wanted, status=status, error=(exc.field, kind), form=form)
    return redirect(f"/leads/{wanted}")


@post("/leads/{lead_id:str}/status", sync_to_thread=True)
def change_status(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    lead_id: FromPath[str],
    data: Form,
) -> Template | Redirect:
    status, reason = data.get("status", ""), data.get("reason", "").strip() or None

    def change(conn: Any, account_id: UUID, wanted: UUID, actor: Actor, at: datetime) -> object:
        return leads.change_status(conn, account_id, wanted, status, actor, at, reason)

    return _act(request, current_user, db, adapters, lead_id, data, change)


@post("/leads/{lead_id:str}/reopen", sync_to_thread=True)
def reopen(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    lead_id: FromPath[str],
    data: Form,
) -> Template | Redirect:
    return _act(request, current_user, db, adapters, lead_id, data, leads.reopen)


@post("/leads/{lead_id:str}/assign", sync_to_thread=True)
def assign(
    request: Request[Any, Any, Any],
    manager: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    lead_id: FromPath[str],
    data: Form,
) -> Template | Redirect:
    """A manager hands the lead to an active user of the account (who is emailed)."""
    raw = data.get("assignee", "")

    def change(conn: Any, account_id: UUID, wanted: UUID, actor: Actor, at: datetime) -> object:
        try:
            assignee = UUID(raw)
        except ValueError:
            raise InvalidInput("assignee", "choose a user") from None
        return leads.assign(conn, account_id, wanted, assignee, actor, at, public_url=settings.public_url)

    return _act(request, manager, db, adapters, lead_id, data, change)


@post("/leads/{lead_id:str}/notes", sync_to_thread=True)
def add_note(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    lead_id: FromPath[str],
    data: Form,
) -> Template | Redirect:
    text = data.get("text", "")

    def change(conn: Any, account_id: UUID, wanted: UUID, actor: Actor, at: datetime) -> object:
        return leads.add_note(conn, account_id, wanted, text, actor, at)

    return _act(request, current_user, db, adapters, lead_id, data, change)


ROUTES = [inbox, inbox_live, lead, change_status, reopen, assign, add_note]
