"""Today in chromium: a manager sees the dealership's figures, a salesperson their own:
the leads nobody has acted on (with their age, which grows as the clock moves), leads per
day by origin over 8 weeks (read from the chart's table), speed-to-lead, and the uploads
in progress; the empty page of a new account; German."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import Actor
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import UploadRequest
from forecourt.db.models import uploads as uploads_table
from tests.browser.conftest import (
    Staff,
    Workspace,
    new_context,
    row_cells,
    screenshot,
    serious_violations,
    sign_in,
    sign_in_german,
)


def acted_on(workspace: Workspace, staff: Staff, lead_id: UUID, by: Staff, at: datetime) -> None:
    with workspace.db.write() as conn:
        leads.add_note(
            conn, UUID(staff.account_id), lead_id, "Called back", Actor("user", UUID(by.user_id)), at
        )


def test_a_manager_sees_the_dealerships_figures_and_a_salesperson_their_own(
    browser: Browser, page: Page, workspace: Workspace
) -> None:
    mia = workspace.user()
    sam = workspace.colleague(mia)
    other = workspace.user(email="olga@other.example", name="Olga Other", account="Beta Cars")
    with workspace.db.write() as conn:  # days counted in Sydney
        leads.configure(conn, UUID(mia.account_id), workspace.clock.now(), time_zone="Australia/Sydney")
    now = workspace.clock.now()
    # Waiting: one of Sam's for 2 hours, one unassigned for 26 hours.
    sams_waiting = workspace.lead(mia, now - timedelta(hours=2), "sighting", assignee_id=UUID(sam.user_id))
    unassigned = workspace.lead(mia, now - timedelta(hours=26), "opportunity")
    # Acted on within 10 and 30 minutes (Sam's), 20 and 40 minutes (nobody's now): three days ago.
    for minutes, origin, assignee in (
        (10, "enquiry", sam),
        (30, "enquiry", sam),
        (20, "sighting", None),
        (40, "enquiry", None),
    ):
        created = now - timedelta(days=3)
        made = workspace.lead(mia, created, origin, assignee_id=UUID(assignee.user_id) if assignee else None)
        acted_on(workspace, mia, made, sam, created + timedelta(minutes=minutes))
    # Ten weeks ago: outside the chart; the other dealer's lead counts nowhere here.
    workspace.lead(
        mia,
        now - timedelta(weeks=10),
        "enquiry",
        status="won",
        first_actioned_at=now - timedelta(weeks=9),
    )
    workspace.lead(other, now - timedelta(hours=1), "sighting")
    with workspace.db.write() as conn:  # an upload half done, one queued, one finished
        rows = [msgspec.Raw(b'{"rego": "ABC%03d", "state": "VIC"}' % n) for n in range(4)]
        account_id = UUID(mia.account_id)
        busy = uploads.create(conn, account_id, "au", UploadRequest(customers=rows, name="June sales"), 10)
        queued = uploads.create(conn, account_id, "au", UploadRequest(customers=rows[:1]), 10)
        done = uploads.create(conn, account_id, "au", UploadRequest(customers=rows, name="May sales"), 10)
        table = uploads_table
        conn.execute(
            sa.update(table)
            .where(table.c.id == busy.id)
            .values(status="processing", total_processed_customers=2)
        )
        conn.execute(sa.update(table).where(table.c.id == done.id).values(status="completed"))

    sign_in(page, mia)
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    # New since the start of yesterday in Sydney: the 2-hour-old lead, and the 26-hour-old
    # one unless it is past 2 am there now.
    new = 1 + (now - timedelta(hours=26) >= leads.start_of_yesterday("Australia/Sydney", now))
    expect(page.get_by_test_id("new-leads")).to_have_text(str(new))
    expect(page.get_by_test_id("unactioned-count")).to_contain_text(
        "2 open leads of the dealership have not been acted on yet."
    )
    waiting = page.get_by_test_id("unactioned")
    assert row_cells(waiting, 0)[0] == "Opportunity not assigned" and row_cells(waiting, 0)[2] == "1 day"
    assert row_cells(waiting, 1)[0] == "Sighting" and row_cells(waiting, 1)[2] == "2 hours"
    expect(waiting.get_by_role("link", name="Opportunity")).to_have_attribute("href", f"/leads/{unassigned}")
    expect(waiting.get_by_role("link", name="Sighting")).to_have_attribute("href", f"/leads/{sams_waiting}")
    expect(page.get_by_test_id("speed-median")).to_have_text("25 minutes")
    expect(page.get_by_test_id("speed-p90")).to_have_text("37 minutes")
    expect(page.get_by_test_id("speed-period")).to_contain_text("over 4 leads of the dealership acted on")
    expect(page.get_by_test_id("speed-period")).to_contain_text("2 leads of that time are not acted on yet")
    # The chart's figures: 56 days, today last, oldest first; columns Sighting, Opportunity, Enquiry, Total.
    figures = page.get_by_test_id("per-day-figures")
    expect(figures.locator("tbody tr")).to_have_count(56)
    expect(page.locator(".chart svg rect")).to_have_count(4)  # four days with leads, one bar each

    def day_counts(days_ago: float) -> list[str]:
        return row_cells(figures, 55 - days_back(workspace, now - timedelta(days=days_ago)))[1:]

    assert day_counts(3) == ["1", "0", "3", "4"]
    assert day_counts(2 / 24) == ["1", "0", "0", "1"]
    assert day_counts(26 / 24) == ["0", "1", "0", "1"]
    expect(page.locator("figcaption")).to_contain_text("6 leads of the dealership from")
    running = page.get_by_test_id("uploads")
    expect(running.locator("tbody tr")).to_have_count(2)
    expect(running.get_by_role("link", name="June sales")).to_have_attribute("href", f"/uploads/{busy.id}")
    expect(running.locator("tbody tr").nth(0)).to_contain_text("Processing")
    expect(running.locator("tbody tr").nth(0)).to_contain_text("2 of 4")
    expect(running.locator("tbody tr").nth(1).get_by_role("link")).to_have_attribute(
        "href", f"/uploads/{queued.id}"
    )
    expect(running).not_to_contain_text("May sales")
    assert serious_violations(page) == []
    screenshot(page, "today")

    # The uploads' part follows their progress while the page stays open (htmx polls it).
    with workspace.db.write() as conn:
        conn.execute(sa.update(table).where(table.c.id == busy.id).values(total_processed_customers=3))
    expect(running.locator("tbody tr").nth(0)).to_contain_text("3 of 4", timeout=15_000)
    # Left alone for half the idle timeout, it stops asking (so the session can end).
    workspace.clock.advance(31 * 60)
    expect(page.get_by_test_id("uploads-paused")).to_be_visible(timeout=15_000)

    # Most of an hour later (the session still open), the lead of 2 hours has waited 3 (3:26).
    workspace.clock.advance(55 * 60)
    page.reload()
    expect(waiting.locator("tbody tr").nth(1).locator("td").nth(2)).to_have_text("3 hours")

    # Sam sees his own: one waiting, his speed (10 and 30 minutes), his leads in the chart.
    context = new_context(browser, workspace)
    sams = context.new_page()
    sign_in(sams, sam)
    expect(sams.get_by_test_id("unactioned-count")).to_contain_text(
        "1 of your open leads has not been acted on yet."
    )
    expect(sams.get_by_test_id("unactioned").locator("tbody tr")).to_have_count(1)
    expect(sams.get_by_test_id("speed-median")).to_have_text("20 minutes")
    expect(sams.get_by_test_id("speed-p90")).to_have_text("28 minutes")
    expect(sams.locator("figcaption")).to_contain_text("3 of your leads from")
    expect(sams.get_by_test_id("uploads").locator("tbody tr")).to_have_count(2)  # the account's
    assert serious_violations(sams) == []
    context.close()


def days_back(workspace: Workspace, at: datetime) -> int:
    """How many Sydney days before the (moved) clock's today `at` falls."""

    def local(value: datetime) -> date:
        return value.replace(tzinfo=UTC).astimezone(ZoneInfo("Australia/Sydney")).date()

    return (local(workspace.clock.now()) - local(at)).days


def test_a_new_account_sees_what_each_part_will_show(page: Page, workspace: Workspace) -> None:
    sign_in(page, workspace.user())
    expect(page.get_by_test_id("new-leads")).to_have_text("0")
    expect(page.get_by_test_id("unactioned-count")).to_contain_text("Every open lead has been acted on.")
    expect(page.get_by_test_id("speed-period")).to_contain_text("No lead created since")
    expect(page.locator(".chart svg rect")).to_have_count(0)
    expect(page.locator("figcaption")).to_contain_text("0 leads of the dealership from")
    expect(page.get_by_test_id("uploads-empty")).to_be_visible()
    assert serious_violations(page) == []
    response = page.goto("/today/uploads?opened=yesterday")  # the live part, asked wrongly
    assert response is not None and response.status == 400
    expect(page.get_by_test_id("error-field")).to_have_text("Check this field: opened")


def test_today_in_german_for_a_salesperson(browser: Browser, workspace: Workspace) -> None:
    mia = workspace.user()
    sam = workspace.colleague(mia, name="Sam Verkauf")
    now = workspace.clock.now()
    workspace.lead(mia, now - timedelta(hours=3), "sighting", assignee_id=UUID(sam.user_id))
    made = workspace.lead(mia, now - timedelta(days=2), "enquiry", assignee_id=UUID(sam.user_id))
    acted_on(workspace, mia, made, sam, now - timedelta(days=2) + timedelta(minutes=12))
    context = new_context(browser, workspace, locale="de-DE")
    page = context.new_page()
    sign_in_german(page, sam)
    expect(page.get_by_test_id("unactioned-count")).to_contain_text(
        "1 Ihrer offenen Leads wurde noch nicht bearbeitet."
    )
    expect(page.get_by_test_id("unactioned")).to_contain_text("3 Stunden")
    expect(page.get_by_test_id("speed-median")).to_have_text("12 Minuten")
    expect(page.get_by_text("Uploads in Bearbeitung")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "today-de")
    context.close()
