"""Today: the signed-in user's start page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_skeleton, format_timedelta
from babel.numbers import format_decimal
from litestar import Request, get
from litestar.response import Template

from forecourt.core.accounts import service as accounts
from forecourt.core.leads import service as leads
from forecourt.core.leads import stats
from forecourt.core.uploads import service as uploads
from forecourt.kit.errors import InvalidInput
from forecourt.kit.vehicles import parse_region
from forecourt.web import auth, charts
from forecourt.web.views import AdaptersDep, DbDep, SettingsDep, UserDep, language_of, page

UNACTIONED_SHOWN = 10
# Bar colours by origin, each at least 3:1 against the white card (WCAG 1.4.11):
# #0b5cad 6.6:1, #b3541e 4.9:1, #2e7d32 5.1:1.
COLOURS = {"sighting": "#0b5cad", "opportunity": "#b3541e", "enquiry": "#2e7d32"}


@get("/", sync_to_thread=True)
def today(
    request: Request[Any, Any, Any], current_user: UserDep, db: DbDep, adapters: AdaptersDep
) -> Template:
    """Today: new leads since yesterday, the leads nobody has acted on yet, leads per day
    by origin over the last 8 weeks, speed-to-lead, and the uploads in progress. The whole
    account's for a manager, a salesperson's own leads (uploads are the account's)."""
    own = None if current_user.role == "manager" else current_user.id
    account_id = current_user.account_id
    now = adapters.clock.now()
    with db.read() as conn:
        account = accounts.require_account(conn, account_id)
        zone = ZoneInfo(leads.settings(conn, account_id).time_zone)
        new_leads = leads.new_since_yesterday(conn, account_id, now, own)
        waiting_count, waiting = leads.waiting(conn, account_id, own, UNACTIONED_SHOWN)
        since, speed = stats.speed(conn, account_id, now, own)
        daily = stats.daily_by_origin(conn, account_id, now, own)
        running = uploads.in_progress(conn, account_id, parse_region(account.region))
    language = language_of(request)
    when = _when(zone, language)

    def day(value: date, skeleton: str = "MMMd") -> str:
        return str(format_skeleton(skeleton, value, locale=language))

    def seconds(value: float | None) -> str:
        return "" if value is None else format_timedelta(timedelta(seconds=value), locale=language)

    weeks = range(0, len(daily.days), 7)
    # Room on the right for the last day's label, centred under the last bar.
    chart = charts.stacked_bars(daily.counts, labelled=[*weeks, len(daily.days) - 1], margin=(10, 24, 28, 40))
    totals = [sum(values[i] for values in daily.counts.values()) for i in range(len(daily.days))]
    return page(
        request,
        "today.html",
        account=account,
        new_leads=new_leads,
        waiting_count=waiting_count,
        waiting=[
            (lead, when(lead.created_at), format_timedelta(now - lead.created_at, locale=language))
            for lead in waiting
        ],
        speed=speed,
        speed_since=format_date(since.replace(tzinfo=UTC).astimezone(zone), "medium", locale=language),
        median=seconds(speed.median_seconds),
        p90=seconds(speed.p90_seconds),
        chart=chart,
        colours=COLOURS,
        daily=daily,
        day_names=[day(d) for d in daily.days],
        day_long=[day(d, "yMMMEd") for d in daily.days],
        totals=totals,
        chart_total=format_decimal(sum(totals), locale=language),
        first_day=format_date(daily.days[0], "medium", locale=language),
        last_day=format_date(daily.days[-1], "medium", locale=language),
        running=[(upload, when(upload.created_at)) for upload in running],
        live_url=_live_url(now) if running else None,
        paused=False,
    )


def _when(zone: ZoneInfo, language: str) -> Callable[[datetime], str]:
    def when(at: datetime) -> str:
        return format_datetime(at.replace(tzinfo=UTC), "short", tzinfo=zone, locale=language)

    return when


def _live_url(opened: datetime) -> str:
    return "/today/uploads?" + urlencode({"opened": opened.isoformat()})


@get("/today/uploads", sync_to_thread=True)
def uploads_live(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
) -> Template:
    """Today's uploads in progress again, for htmx to swap in while any is running (it
    stops asking once none is). Each poll is a request of the session, which restarts its
    idle time: after half the idle timeout since the page was `opened`, the answer is 286,
    on which htmx stops polling, and the part says so; a page left open does not keep a
    session alive."""
    now = adapters.clock.now()
    try:
        opened = datetime.fromisoformat(request.query_params.get("opened", ""))
    except ValueError:
        raise InvalidInput("opened", "opened must be a time") from None
    with db.read() as conn:
        account = accounts.require_account(conn, current_user.account_id)
        zone = ZoneInfo(leads.settings(conn, account.id).time_zone)
        running = uploads.in_progress(conn, account.id, parse_region(account.region))
    when = _when(zone, language_of(request))
    paused = now - opened.replace(tzinfo=None) >= auth.idle(settings) / 2
    return page(
        request,
        "_today_uploads.html",
        status=286 if paused else 200,
        running=[(upload, when(upload.created_at)) for upload in running],
        live_url=None if paused or not running else _live_url(opened),
        paused=paused,
    )


ROUTES = [today, uploads_live]
