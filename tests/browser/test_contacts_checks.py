"""Contacts and checks in chromium: the contact list with its search and paging, a
contact's page with its leads (a salesperson's own only); a Sync batch submitted through
the Sync API and run by the worker, listed with its progress and its results per
vehicle and resource; another account's contact or batch is 404; German."""

from __future__ import annotations

from uuid import UUID

import httpx
from playwright.sync_api import Browser, Page, expect

from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import ContactFields
from tests.browser.conftest import (
    Staff,
    Workspace,
    new_context,
    screenshot,
    serious_violations,
    sign_in,
    sign_in_german,
)
from tests.conftest import VIN, run_jobs


def add_contact(workspace: Workspace, account_id: str, **fields: str) -> int:
    with workspace.db.write() as conn:
        return contacts.create(conn, UUID(account_id), ContactFields(**fields)).id  # type: ignore[arg-type]


def test_contacts_are_listed_found_and_shown_with_their_leads(page: Page, workspace: Workspace) -> None:
    staff = workspace.user()
    other = workspace.user(email="olga@other.example", account="Beta Cars")
    ada = add_contact(
        workspace,
        staff.account_id,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone_number="+61 400 111 222",
        city="Sydney",
        street_address="1 George Street",
        zip_code="2000",
        type="customer",
        notes="Prefers calls after 5 pm.",
    )
    for n in range(30):  # more than a page
        add_contact(workspace, staff.account_id, last_name=f"Buyer {n:02d}", email=f"buyer{n}@example.com")
    elsewhere = add_contact(workspace, other.account_id, last_name="Not Alpha's", email="ada@example.com")
    workspace.lead(staff, party_id=ada, message="Is the Golf still there?")

    sign_in(page, staff)
    page.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("Buyer 29")  # newest first
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(6)
    expect(page.get_by_text("26 to 31")).to_be_visible()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    screenshot(page, "contacts")  # the second page: its last contacts and the pager

    page.get_by_label("Search by name, email or phone").fill("lovelace")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ada@example.com")
    expect(rows.first).to_contain_text("+61 400 111 222")
    assert serious_violations(page) == []
    # A name by its start (the first name's, the surname's, the full name's), not a part within it.
    expect(page.get_by_text("The start of a first name, surname or full name", exact=False)).to_be_visible()
    page.get_by_label("Search by name, email or phone").fill("ovelace")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No contact matches “ovelace”.", exact=False)).to_be_visible()
    page.get_by_label("Search by name, email or phone").fill("ada lov")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Lovelace")
    for found_by in ("ADA@example.com", "+61 400 111 222"):  # a whole email (any case) or phone
        page.get_by_label("Search by name, email or phone").fill(found_by)
        page.get_by_role("button", name="Search").click()
        expect(rows).to_have_count(1)
    page.get_by_label("Search by name, email or phone").fill("nobody at all")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No contact matches “nobody at all”.", exact=False)).to_be_visible()
    page.get_by_role("link", name="Show all contacts").click()
    expect(rows).to_have_count(25)

    page.goto(f"/contacts/{ada}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    expect(page.get_by_role("link", name="ada@example.com")).to_have_attribute(
        "href", "mailto:ada@example.com"
    )
    expect(page.get_by_text("1 George Street, 2000 Sydney")).to_be_visible()
    expect(page.get_by_text("Prefers calls after 5 pm.")).to_be_visible()
    lead_row = page.get_by_role("table").locator("tbody tr")
    expect(lead_row).to_have_count(1)
    expect(lead_row).to_contain_text("Enquiry")
    expect(lead_row).to_contain_text("New")
    expect(lead_row).to_contain_text("Is the Golf still there?")
    assert serious_violations(page) == []
    screenshot(page, "contact")

    # Another account's contact, a made-up one, and one that is not a number: not found.
    for path in (f"/contacts/{elsewhere}", "/contacts/12345", "/contacts/abc"):
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    response = page.goto("/contacts?offset=many")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("Page:")


def test_a_salesperson_sees_only_their_own_leads_of_a_contact(page: Page, workspace: Workspace) -> None:
    staff = workspace.user(role="sales", name="Sam Sales")
    ada = add_contact(workspace, staff.account_id, first_name="Ada", last_name="Lovelace")
    workspace.lead(staff, party_id=ada, message="Not Sam's")
    sign_in(page, staff)
    page.goto(f"/contacts/{ada}")
    expect(page.get_by_role("heading", name="Your leads of this contact")).to_be_visible()
    expect(page.get_by_text("None of this contact's leads is yours.")).to_be_visible()
    expect(page.locator("a[href^='/leads/']")).to_have_count(0)

    workspace.lead(staff, party_id=ada, message="Sam's", assignee_id=UUID(staff.user_id))
    page.reload()
    expect(page.locator("a[href^='/leads/']")).to_have_count(1)  # their own, and only it
    expect(page.get_by_text("None of this contact's leads is yours.")).to_have_count(0)


def submit_batch(workspace: Workspace, staff: Staff, vehicles: list[dict[str, str]]) -> str:
    """A batch sent through the Sync API with a new API key of the staff's account; its id."""
    key = workspace.api_key(staff)
    with httpx.Client(base_url=workspace.url, timeout=10) as client:
        response = client.post(
            "/api/batch/scraping/", headers={"Authorization": f"Bearer {key}"}, json={"vehicles": vehicles}
        )
    assert response.status_code == 202, response.text
    batch_id: str = response.json()["batchId"]
    return batch_id


def test_a_sync_batch_is_listed_with_its_progress_and_its_results(
    page: Page, browser: Browser, workspace: Workspace
) -> None:
    staff = workspace.user()
    other = workspace.user(email="olga@other.example", account="Beta Cars")
    sign_in(page, staff)
    page.get_by_role("link", name="Checks").click()
    expect(page.get_by_text("No checks yet.", exact=False)).to_be_visible()

    batch = submit_batch(workspace, staff, [{"vin": VIN}, {"vin": "NOTAVIN"}])
    elsewhere = submit_batch(workspace, other, [{"vin": VIN}])
    page.reload()
    row = page.get_by_role("table").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("In progress")
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "0")

    assert run_jobs(workspace.db, clock=workspace.clock) > 0
    page.reload()
    expect(row).not_to_contain_text("In progress")
    expect(page.get_by_role("progressbar", name="4 of 4 checks made")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "checks")

    row.get_by_role("link").click()
    expect(page).to_have_url(f"{workspace.url}/checks/{batch}")
    expect(page.get_by_role("heading", name="Finished")).to_be_visible()
    results = page.get_by_role("table").locator("tbody tr")
    expect(results).to_have_count(4)  # two vehicles, each by VIN decoding and listing history
    decoded = results.filter(has_text="VIN decoding").filter(has_text=VIN)
    expect(decoded).to_contain_text("Information about the vehicle was found")
    expect(decoded).to_contain_text("manufacturer: Nissan")
    expect(results.filter(has_text="NOTAVIN").filter(has_text="VIN decoding")).to_contain_text(
        "The vehicle does not exist"
    )
    assert serious_violations(page) == []
    screenshot(page, "check-batch")

    for path in (f"/checks/{elsewhere}", "/checks/not-a-batch"):
        response = page.goto(path)
        assert response is not None and response.status == 404

    german = new_context(browser, workspace, locale="de-DE")
    de = german.new_page()
    sign_in_german(de, staff)
    de.goto(f"/checks/{batch}")
    expect(de.get_by_role("heading", name="Abgeschlossen")).to_be_visible()
    expect(de.get_by_role("cell", name="VIN-Dekodierung").first).to_be_visible()
    expect(de.get_by_text("Informationen zum Fahrzeug gefunden").first).to_be_visible()
    assert serious_violations(de) == []
    german.close()
