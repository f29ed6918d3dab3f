"""The leads inbox and a lead's page, in chromium: a listing pushed over the ingest API
for a tracked customer shows up in an inbox already open, without a reload; the lead is
assigned, moved through its statuses, noted, and each step is on its timeline; lost needs
a reason; the filters and their errors; paging; a salesperson sees only their own leads
and another's (or another account's) lead is not found; German."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from playwright.sync_api import Browser, Locator, Page, expect

from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import Enquiry
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import API
from forecourt.kit.dates import utcnow
from tests.browser.conftest import (
    PASSWORD,
    Staff,
    Workspace,
    new_context,
    screenshot,
    serious_violations,
    sign_in,
    sign_in_german,
)
from tests.conftest import VIN, listing_record


def push_listings(workspace: Workspace, ingest_key: str, *records: dict[str, Any]) -> dict[str, Any]:
    """Listings sent as a marketplace feed does: POST /ingest/v1/listings."""
    response = httpx.post(
        f"{workspace.url}/ingest/v1/listings",
        headers={"Authorization": f"Bearer {ingest_key}"},
        json=list(records),
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def open_leads(workspace: Workspace, staff: Staff, *specs: dict[str, Any]) -> list[UUID]:
    """Leads made in the account (an enquiry unless told), assigned or not, `age` old."""
    made = []
    for spec in specs:
        at = utcnow() - spec.get("age", timedelta())
        lead_id = workspace.lead(staff, at, spec.get("origin", "enquiry"), message=spec.get("message"))
        if spec.get("to"):
            with workspace.db.write() as conn:
                leads.assign(
                    conn,
                    UUID(staff.account_id),
                    lead_id,
                    UUID(spec["to"]),
                    API,
                    at,
                    public_url="http://x.example",
                )
        made.append(lead_id)
    return made


def enquiry(workspace: Workspace, staff: Staff, name: str, email: str, title: str) -> UUID:
    """A CRM customer's enquiry (as the Kapture API takes one): a lead with its party."""
    with workspace.db.write() as conn:
        _, lead_id = contacts.add_update_customer(
            conn, UUID(staff.account_id), {"name": name, "email": email}, None, Enquiry(title=title)
        )
    assert lead_id is not None
    return lead_id


def test_a_sighting_arrives_in_the_open_inbox_and_is_worked_to_won(page: Page, workspace: Workspace) -> None:
    mia = workspace.user()
    sam = workspace.colleague(mia)
    ingest_key = workspace.cli.ok("ingest-keys", "create")["key"]
    names = {"first_name": "Ada", "last_name": "Lovelace"}
    workspace.customer(
        mia, rego="ABC123", state="NSW", vin=VIN, external_id="C-1001", additional_fields=names
    )

    sign_in(page, mia)
    page.get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")
    expect(page.get_by_text("No leads yet.")).to_be_visible()
    assert serious_violations(page) == []
    page.evaluate("window.notReloaded = true")

    # Two enquiries from the CRM arrive while the inbox is open, then a sighting.
    enquiry(workspace, mia, "Ann Lee", "ann@example.com", "Test drive on Saturday?")
    enquiry(workspace, mia, "Bo Park", "bo@example.com", "Trade-in value for my Golf")
    expect(page.locator("#lead-rows tr")).to_have_count(2)
    expect(page.get_by_role("status")).to_have_text("2 new leads arrived.")
    expect(page.get_by_text("No leads yet.")).to_have_count(0)
    expect(page.locator("#lead-rows tr").first).to_contain_text("Bo Park")
    # The ingest request itself matches the listing and opens the lead (routing, a job, is
    # left to a worker this server does not run): the open inbox shows it within seconds.
    assert push_listings(workspace, ingest_key, listing_record(vin=VIN))["sightings"] == 1
    row = page.get_by_role("row").filter(has_text="2019 Toyota Camry Ascent Sport")
    expect(row).to_be_visible()
    expect(row).to_contain_text("ABC123 NSW")
    expect(row).to_contain_text("Sighting")
    expect(row).to_contain_text("New")
    expect(row).to_contain_text("Unassigned")
    expect(page.get_by_role("status")).to_have_text("1 new lead arrived.")
    expect(page.locator("#lead-rows tr").first).to_contain_text("ABC123 NSW")
    assert page.evaluate("window.notReloaded") is True
    # A second lead, of another listing: on top, once.
    push_listings(
        workspace,
        ingest_key,
        listing_record("L1", vin=VIN, price=27900),
        listing_record("L2", plate="XYZ789", state="VIC"),
    )
    push_listings(workspace, ingest_key, listing_record("L1", vin=VIN, price=26900))  # two price drops
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#lead-rows tr")).to_have_count(3)  # L2's vehicle is no customer's
    assert serious_violations(page) == []
    screenshot(page, "leads")

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2019 Toyota Camry Ascent Sport")
    expect(page.get_by_test_id("lead-status")).to_have_text("New")
    expect(page.get_by_text("ABC123 (NSW)")).to_be_visible()
    expect(page.get_by_text(VIN)).to_be_visible()
    expect(page.get_by_text("C-1001")).to_be_visible()
    customer = page.get_by_role("link", name="Ada Lovelace")  # to the customer's own page
    expect(customer).to_have_attribute("href", re.compile(r"^/customers/[0-9a-f-]{36}$"))
    link = page.get_by_role("link", name="2019 Toyota Camry Ascent Sport")
    expect(link).to_have_attribute("href", "https://www.carsales.com.au/cars/details/L1/")
    expect(link).to_have_attribute("target", "_blank")
    expect(page.get_by_role("img", name="Price history")).to_be_visible()
    expect(page.get_by_text("3 prices recorded: from A$28,500 to A$26,900.")).to_be_visible()
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_role("listitem")).to_have_count(1)
    expect(timeline).to_contain_text("Lead created.")

    page.get_by_label("Assign to").select_option(label="Sam Sales")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_test_id("lead-assignee")).to_have_text("Sam Sales")
    expect(timeline).to_contain_text("Mia Manager Assigned to Sam Sales.")

    page.get_by_label("New status").select_option(label="Contacted")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("lead-status")).to_have_text("Contacted")
    expect(timeline).to_contain_text("Status changed from New to Contacted.")

    # Lost without a reason: refused, the message at the field; nothing changed.
    page.get_by_label("New status").select_option(label="Lost")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("alert")).to_have_text("Choose why the lead was lost.")
    expect(page.get_by_label("Reason (when lost)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("lead-status")).to_have_text("Contacted")
    assert serious_violations(page) == []

    page.get_by_label("Note").fill("Called: comes in on Saturday with the trade-in.")
    page.get_by_role("button", name="Add note").click()
    expect(timeline).to_contain_text("Note: Called: comes in on Saturday with the trade-in.")

    page.get_by_label("New status").select_option(label="Won")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("lead-status")).to_have_text("Won")
    expect(timeline).to_contain_text("Status changed from Contacted to Won.")
    expect(timeline.get_by_role("listitem")).to_have_count(5)
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "lead")

    page.get_by_role("button", name="Reopen").click()
    expect(page.get_by_test_id("lead-status")).to_have_text("Contacted")
    expect(timeline).to_contain_text("Reopened: Contacted again.")
    page.get_by_label("New status").select_option(label="Lost")
    page.get_by_label("Reason (when lost)").select_option("price")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("lead-status")).to_have_text("Lost")
    expect(timeline).to_contain_text("Reason: price.")
    del sam


def test_the_filters_paging_and_a_bad_filter_value(page: Page, workspace: Workspace) -> None:
    mia = workspace.user()
    sam = workspace.colleague(mia)
    open_leads(workspace, mia, *[{"age": timedelta(hours=30, minutes=n)} for n in range(52)])
    open_leads(
        workspace,
        mia,
        {"origin": "opportunity", "message": "Trade-in?", "to": sam.user_id, "age": timedelta(minutes=12)},
        {"origin": "enquiry", "message": "Still for sale?", "age": timedelta(minutes=3)},
    )
    sign_in(page, mia)
    page.goto("/leads")
    rows = page.locator("#lead-rows tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("3 min")
    expect(rows.nth(1)).to_contain_text("12 min")
    expect(rows.nth(1)).to_contain_text("Sam Sales")
    assert serious_violations(page) == []

    page.get_by_role("link", name="Older leads").click()
    expect(rows).to_have_count(4)
    expect(page.get_by_role("link", name="Older leads")).to_have_count(0)
    page.get_by_role("link", name="Newest leads").click()
    expect(rows).to_have_count(50)

    page.get_by_label("Origin").select_option(label="Opportunity")
    page.get_by_role("button", name="Show leads").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Opportunity")
    page.get_by_label("Origin").select_option(label="Any origin")
    page.get_by_label("Assignee").select_option(label="Unassigned")
    page.get_by_label("Older than (hours)").fill("1")
    page.get_by_role("button", name="Show leads").click()
    expect(page.get_by_role("link", name="Older leads")).to_be_visible()  # 52, two pages
    expect(rows).to_have_count(50)
    page.get_by_label("Older than (hours)").fill("")
    page.get_by_label("Assignee").select_option(label="Sam Sales")
    page.get_by_role("button", name="Show leads").click()
    expect(rows).to_have_count(1)
    page.get_by_label("Assignee").select_option(label="Anyone")
    page.get_by_label("Not yet actioned").check()
    page.get_by_label("Status").select_option(label="Won")
    page.get_by_role("button", name="Show leads").click()
    expect(page.get_by_text("No leads match these filters.")).to_be_visible()

    page.get_by_label("Status").select_option(label="Any status")
    page.get_by_label("Older than (hours)").fill("soon")
    page.get_by_role("button", name="Show leads").click()
    expect(page.get_by_role("alert")).to_have_text(
        "“Older than” must be a whole number of hours, at least 1."
    )
    expect(page.get_by_label("Older than (hours)")).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []
    for query in (
        "status=sold",
        "origin=x",
        "assignee=nobody",
        "older_than=%C2%B2",  # a superscript two: a digit to Python, not a number of hours
        "since=2026-13-01",
        "until=9999-12-31",  # the day after it is past the calendar's end
        "since=2026-12-02&until=2026-12-01",
        "after=nonsense",
        "after=2026-12-01T10:00:00%2B05:00_00000000-0000-0000-0000-000000000000",
    ):
        answer = page.request.get(f"{workspace.url}/leads?{query}")
        assert answer.status == 400, query
        assert 'role="alert"' in answer.text()
    assert page.request.get(f"{workspace.url}/leads?status=%00").status == 400  # refused before the page


def test_a_salesperson_sees_only_their_own_leads(browser: Browser, workspace: Workspace) -> None:
    mia = workspace.user()
    sam = workspace.colleague(mia, name="Sam Verkauf")
    kim = workspace.colleague(mia, "kim@dealer.example", "Kim Sales")
    other = workspace.user(email="olga@other.example", name="Olga", account="Beta Cars")
    [own] = open_leads(
        workspace, mia, {"message": "Ist der Wagen noch da?", "to": sam.user_id, "age": timedelta(minutes=40)}
    )
    jonas = enquiry(workspace, mia, "Jonas Becker", "jonas@example.com", "Probefahrt am Samstag?")
    with workspace.db.write() as conn:
        leads.assign(
            conn, UUID(mia.account_id), jonas, UUID(sam.user_id), API, utcnow(), public_url="http://x.example"
        )
    [kims] = open_leads(workspace, mia, {"to": kim.user_id})
    [elsewhere] = open_leads(workspace, other, {})
    context = new_context(browser, workspace, locale="de-DE")
    page = context.new_page()
    sign_in_german(page, sam)
    page.goto("/leads")
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")
    rows = page.locator("#lead-rows tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_label("Zuständig")).to_have_count(0)  # no assignee filter for sales
    expect(page.locator(f"#lead-{kims}")).to_have_count(0)
    assert serious_violations(page) == []
    screenshot(page, "leads-de")

    page.goto(f"/leads/{own}")
    expect(page.get_by_test_id("lead-status")).to_have_text("Neu")
    expect(page.get_by_label("Zuweisen an")).to_have_count(0)  # managers assign
    assert serious_violations(page) == []
    for lead_id in (kims, elsewhere, "not-an-id"):
        answer = page.request.get(f"{workspace.url}/leads/{lead_id}")
        assert answer.status == 404
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    for path in (f"/leads/{kims}/notes", f"/leads/{elsewhere}/notes"):
        answer = page.request.post(
            f"{workspace.url}{path}", form={"csrf": csrf, "text": "x"}, max_redirects=0
        )
        assert answer.status == 404
    answer = page.request.post(
        f"{workspace.url}/leads/{own}/assign", form={"csrf": csrf, "assignee": sam.user_id}, max_redirects=0
    )
    assert answer.status == 404  # assigning is a manager's
    page.get_by_label("Notiz").fill("Rückruf morgen")
    page.get_by_role("button", name="Notiz hinzufügen").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Rückruf morgen")
    context.close()


def test_the_live_inbox_works_under_the_pages_content_security_policy(
    browser: Browser, workspace: Workspace
) -> None:
    """The other tests let axe in by bypassing the policy; this one keeps it, as a real
    browser does, and nothing may be refused."""
    mia = workspace.user()
    context = browser.new_context(base_url=workspace.url, locale="en-GB")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    sign_in(page, mia)
    page.goto("/leads")
    expect(page.get_by_text("No leads yet.")).to_be_visible()
    enquiry(workspace, mia, "Ann Lee", "ann@example.com", "Test drive on Saturday?")
    expect(page.locator("#lead-rows tr")).to_have_count(1)
    expect(page.get_by_role("status")).to_have_text("1 new lead arrived.")
    enquiry(workspace, mia, "Bo Park", "bo@example.com", "Trade-in value")
    expect(page.locator("#lead-rows tr")).to_have_count(2)  # the poller went on with its new cursor
    expect(page.locator("#lead-rows tr").first).to_contain_text("Bo Park")
    # More than a page at once (a big listing batch): the inbox says so and stops asking.
    open_leads(workspace, mia, *[{} for _ in range(51)])
    expect(page.get_by_role("status")).to_have_text("More new leads arrived than fit here. Show the newest.")
    expect(page.locator("#lead-rows tr")).to_have_count(2)
    page.get_by_role("link", name="More new leads arrived than fit here. Show the newest.").click()
    expect(page.locator("#lead-rows tr")).to_have_count(50)
    assert problems == []
    context.close()


def test_an_inbox_left_alone_stops_asking_so_its_session_can_end(page: Page, workspace: Workspace) -> None:
    """Each poll is a request of the session: after half the idle timeout (30 minutes)
    since the inbox was loaded it stops asking, and says so."""
    mia = workspace.user()
    sign_in(page, mia)
    page.goto("/leads?origin=enquiry")
    enquiry(workspace, mia, "Ann Lee", "ann@example.com", "Test drive?")
    expect(page.locator("#lead-rows tr")).to_have_count(1)
    workspace.clock.advance(31 * 60)
    expect(page.get_by_role("status")).to_contain_text("New leads are no longer added to this page")
    enquiry(workspace, mia, "Bo Park", "bo@example.com", "Trade-in?")
    page.get_by_role("link", name="Show the newest leads").click()
    expect(page).to_have_url(f"{workspace.url}/leads?origin=enquiry")
    expect(page.locator("#lead-rows tr")).to_have_count(2)
    assert serious_violations(page) == []


def tab_to(page: Page, target: Locator, most: int = 40) -> None:
    """Press Tab until `target` has the focus, as a person without a mouse does; fails if
    it is not reached in `most` presses (not in the tab order)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} is not reached with Tab")


def test_a_lead_is_found_and_worked_with_the_keyboard_alone(page: Page, workspace: Workspace) -> None:
    mia = workspace.user()
    lead = workspace.lead(mia, message="Trade-in")
    page.goto("/login")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(mia.email)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")  # submits the form
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")

    tab_to(page, page.get_by_role("link", name="Leads", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")
    tab_to(page, page.locator(f"a[href='/leads/{lead}']"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("lead-status")).to_have_text("New")

    tab_to(page, page.get_by_label("New status"))
    page.keyboard.type("Appointment")  # a select's type-ahead (Contacted comes first)
    tab_to(page, page.get_by_role("button", name="Change status"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("lead-status")).to_have_text("Appointment")
    tab_to(page, page.get_by_label("Note"))
    page.keyboard.type("Called, will visit Saturday.")
    tab_to(page, page.get_by_role("button", name="Add note"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("timeline")).to_contain_text("Called, will visit Saturday.")
