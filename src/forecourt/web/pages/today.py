"""Today: the signed-in user's start page."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from litestar import Request, get
from litestar.response import Template

from forecourt.core.accounts import service as accounts
from forecourt.core.leads import service as leads
from forecourt.core.leads import stats
from forecourt.core.uploads import service as uploads
from forecourt.kit.vehicles import parse_region
from forecourt.web import charts, live
from forecourt.web.views import AdaptersDep, DbDep, SettingsDep, UserDep, formats, page

UNACTIONED_SHOWN = 10
LIVE_PATH = "/today/uploads"
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
        zone = leads.settings(conn, account_id).time_zone
        new_leads = leads.new_since_yesterday(conn, account_id, now, own)
        waiting_count, waiting = leads.waiting(conn, account_id, own, UNACTIONED_SHOWN)
        since, speed = stats.speed(conn, account_id, now, own)
        daily = stats.daily_by_origin(conn, account_id, now, own)
        running = uploads.in_progress(conn, account_id, parse_region(account.region))
    fmt = formats(request, zone, now)
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
        waiting=[(lead, fmt.when(lead.created_at, "short"), fmt.since(lead.created_at)) for lead in waiting],
        speed=speed,
        speed_since=fmt.day(since.replace(tzinfo=UTC).astimezone(fmt.zone)),
        median=fmt.duration(speed.median_seconds),
        p90=fmt.duration(speed.p90_seconds),
        chart=chart,
        colours=COLOURS,
        daily=daily,
        day_names=[fmt.skeleton(d, "MMMd") for d in daily.days],
        day_long=[fmt.skeleton(d, "yMMMEd") for d in daily.days],
        totals=totals,
        chart_total=fmt.number(sum(totals)),
        first_day=fmt.day(daily.days[0]),
        last_day=fmt.day(daily.days[-1]),
        running=[(upload, fmt.when(upload.created_at, "short")) for upload in running],
        live_url=live.poll_url(LIVE_PATH, now) if running else None,
        paused=False,
    )


@get(LIVE_PATH, sync_to_thread=True)
def uploads_live(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
) -> Template:
    """Today's uploads in progress again, for htmx to swap in while any is running (it
    stops asking once none is), under the polling rule of web/live.py."""
    now = adapters.clock.now()
    opened = live.opened(request.query_params)
    with db.read() as conn:
        account = accounts.require_account(conn, current_user.account_id)
        zone = leads.settings(conn, account.id).time_zone
        running = uploads.in_progress(conn, account.id, parse_region(account.region))
    fmt = formats(request, zone)
    paused = live.paused(opened, now, settings)
    return page(
        request,
        "_today_uploads.html",
        status=live.STOPPED if paused else 200,
        running=[(upload, fmt.when(upload.created_at, "short")) for upload in running],
        live_url=None if paused or not running else live.poll_url(LIVE_PATH, opened),
        paused=paused,
    )


ROUTES = [today, uploads_live]
