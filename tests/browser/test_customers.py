"""Customers in chromium: the search box finds a customer by plate, VIN, external id and
name, never another dealer's; a customer's page shows its sightings with their listing
and lead; another dealer's customer is 404; the empty and no-result states; a bad page
number is a 400 page that names it."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page, expect

from forecourt.core.customers import service as customers
from forecourt.core.customers.schemas import Customer
from tests.browser.conftest import Staff, Workspace, row_cells, screenshot, serious_violations, sign_in
from tests.conftest import VIN, ingest_listings, listing_record


def search(page: Page, text: str) -> None:
    page.get_by_label("Plate, VIN, external id or name").fill(text)
    page.get_by_role("button", name="Search").click()


def test_the_search_finds_a_customer_by_each_key_and_its_page_shows_its_sightings(
    page: Page, workspace: Workspace
) -> None:
    mia = workspace.user()
    olga = workspace.user(email="olga@other.example", name="Olga Other", account="Beta Cars")
    olivia = workspace.customer(
        mia,
        rego="ABC123",
        state="VIC",
        vin=VIN,
        external_id="CUST-4821",
        sale_date="2025-06-15",
        additional_fields={"first_name": "Olivia", "last_name": "Smith", "customer_type": "vip"},
    )
    workspace.customer(
        mia,
        rego="JON001",
        state="NSW",
        external_id="CUST-7",
        additional_fields={"name": "Jack Jones"},
    )
    theirs = workspace.customer(
        olga,
        rego="ZZZ999",
        state="VIC",
        external_id="CUST-9",
        additional_fields={"last_name": "Smithers"},
    )
    # Olivia's car is advertised again: a sighting, and its lead.
    assert ingest_listings(workspace.db, listing_record("L1", vin=VIN, price=28500)).sightings == 1

    sign_in(page, mia)
    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
    expect(page.get_by_role("link", name="Customers")).to_have_attribute("aria-current", "page")
    table = page.get_by_test_id("customers")
    expect(table.locator("tbody tr")).to_have_count(2)  # newest first, none of Beta's
    expect(table.locator("tbody tr").nth(0)).to_contain_text("Jack Jones")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("Olivia Smith")
    assert row_cells(table, 1)[-1] == "1" and row_cells(table, 0)[-1] == "0"  # sightings
    assert serious_violations(page) == []

    for text in ("abc 123", VIN.lower(), "CUST-4821", "smi", "Olivia Smith"):
        search(page, text)
        expect(table.locator("tbody tr")).to_have_count(1)
        expect(table.get_by_role("link")).to_have_text("Olivia Smith")
    expect(page).to_have_url(f"{workspace.url}/customers?q=Olivia+Smith")
    screenshot(page, "customers")

    for text in ("CUST-9", "ZZZ999", "smithers"):  # Beta's customer is not Alpha's to find
        search(page, text)
        expect(page.get_by_test_id("no-results")).to_contain_text(f"No customer matches “{text}”")
    assert serious_violations(page) == []

    search(page, "Smith")
    table.get_by_role("link", name="Olivia Smith").click()
    expect(page).to_have_url(f"{workspace.url}/customers/{olivia.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Olivia Smith")
    fields = page.get_by_test_id("customer-fields")
    for shown in ("ABC123 VIC", VIN, "CUST-4821", "Jun 15, 2025", "customer_type", "vip"):
        expect(fields).to_contain_text(shown)
    sightings = page.get_by_test_id("sightings")
    expect(sightings.locator("tbody tr")).to_have_count(1)
    expect(sightings.get_by_role("link", name="2019 Toyota Camry Ascent Sport")).to_have_attribute(
        "href", "https://www.carsales.com.au/cars/details/L1/"
    )
    expect(sightings).to_contain_text("$28,500.00")
    lead_link = sightings.get_by_role("link", name="Open the lead")
    expect(lead_link).to_have_attribute("href", f"/leads/{lead_of(workspace, mia, olivia)}")
    assert serious_violations(page) == []
    screenshot(page, "customer")

    # Another dealer's customer, or no customer at all: not found.
    for path in (f"/customers/{theirs.id}", "/customers/not-an-id"):
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


def lead_of(workspace: Workspace, staff: Staff, sold: Customer) -> UUID:
    with workspace.db.read() as conn:
        return customers.find(conn, UUID(staff.account_id), "au", str(sold.id)).sightings[0].lead_id


def test_no_customers_yet_pages_and_a_bad_page_number(page: Page, workspace: Workspace) -> None:
    mia = workspace.user()
    sign_in(page, mia)
    page.goto("/customers")
    expect(page.get_by_test_id("no-customers")).to_contain_text("No customers yet.")
    assert serious_violations(page) == []
    for n in range(customers.SEARCH_PAGE + 1):
        workspace.customer(
            mia, rego=f"PG{n:04d}", state="VIC", additional_fields={"last_name": f"Page{n:02d}"}
        )
    page.goto("/customers?q=page")
    expect(page.get_by_test_id("customers").locator("tbody tr")).to_have_count(customers.SEARCH_PAGE)
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(f"{workspace.url}/customers?q=page&page=2")
    expect(page.get_by_test_id("customers").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    for bad in ("x", "0", "999"):
        response = page.goto(f"/customers?page={bad}")
        assert response is not None and response.status == 400
        expect(page.get_by_test_id("error-field")).to_have_text("Check this field: page")
    assert serious_violations(page) == []
