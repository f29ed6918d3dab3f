"""The stock page in chromium: the filter form filled in the browser returns exactly the
vehicles that the same Autengo query (GET /v3/vehicle with the query string the page
shows, with a session token) returns; German labels; the empty state; a field that
cannot be used comes back named (400)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    Staff,
    Workspace,
    new_context,
    screenshot,
    serious_violations,
    sign_in,
    sign_in_german,
)


def _vehicle(
    make: str, model: str, km: int, price: int, fuel: str, state: str = "inventory", **more: Any
) -> dict[str, Any]:
    return {
        "makeName": make,
        "modelName": model,
        "kilometers": km,
        "price": price,
        "fuelType": fuel,
        "vehicleState": state,
        "firstRegistration": "2019-03-01",
    } | more


# Each vehicle misses the filter of the test below by one condition, but for the matches.
STOCK = [
    _vehicle("Volkswagen", "Golf", 42_000, 21_900, "diesel"),  # matches
    _vehicle("Volkswagen", "Passat", 61_500, 27_450, "diesel", state="incoming"),  # matches
    _vehicle("Volkswagen", "Golf", 80_000, 15_000, "diesel"),  # matches: both ends count
    _vehicle("Volkswagen", "Golf", 9_999, 24_000, "diesel"),  # too few km
    _vehicle("Volkswagen", "Tiguan", 95_000, 26_000, "diesel"),  # too many km
    _vehicle("Volkswagen", "Golf", 30_000, 14_999, "diesel"),  # too cheap
    _vehicle("Volkswagen", "Passat", 30_000, 40_001, "diesel"),  # too dear
    _vehicle("Volkswagen", "Golf", 30_000, 22_000, "gasoline"),  # petrol
    _vehicle("Toyota", "Corolla", 30_000, 22_000, "diesel"),  # another make
    _vehicle("Audi", "A4", 52_000, 33_000, "electricGasoline", state="sold"),
]


@contextmanager
def api_client(workspace: Workspace, staff: Staff) -> Iterator[httpx.Client]:
    """An Autengo client of the staff's account: a new API key and a session token."""
    headers = {"X-Api-Key": workspace.api_key(staff)}
    with httpx.Client(base_url=workspace.url, headers=headers, timeout=10) as client:
        token = client.post("/v3/auth/token", json={"dealerAlzuraId": 1, "userAlzuraId": 1})
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
        yield client


def add_stock(client: httpx.Client, vehicles: list[dict[str, Any]]) -> list[str]:
    """The vehicles added through the Autengo API; their sellingIds."""
    added = []
    for vehicle in vehicles:
        response = client.post("/v3/vehicle", json=vehicle)
        assert response.status_code == 201, response.text
        added.append(response.json()["vehicle"]["sellingId"])
    return added


def selling_ids(page: Page) -> list[str]:
    return page.get_by_role("table").locator("tbody tr td:first-child").all_inner_texts()


def test_the_filter_form_returns_what_the_same_autengo_query_returns(
    page: Page, workspace: Workspace
) -> None:
    staff = workspace.user()
    other = workspace.user(email="olga@other.example", account="Beta Cars")
    with api_client(workspace, staff) as client:
        add_stock(client, STOCK)
        sign_in(page, staff)
        _filter_and_compare(page, client)
    with api_client(workspace, other) as elsewhere:
        add_stock(elsewhere, STOCK[:3])  # not Alpha's: never shown to it
    page.reload()
    expect(page.get_by_role("heading", name="3 vehicles")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "stock")
    _state_and_models(page)


def _filter_and_compare(page: Page, client: httpx.Client) -> None:
    page.get_by_role("link", name="Stock").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stock")
    expect(page.get_by_role("heading", name="10 vehicles")).to_be_visible()
    expect(page.get_by_role("link", name="Stock")).to_have_attribute("aria-current", "page")

    page.get_by_label("Make").select_option(label="Volkswagen")
    page.get_by_label("Kilometres from").fill("10000")
    page.get_by_label("Kilometres to").fill("80000")
    page.get_by_label("Price from").fill("15000")
    page.get_by_label("Price to").fill("40000")
    page.get_by_label("Fuel").select_option(label="Diesel")
    page.get_by_label("Sort by").select_option(label="Price, lowest first")
    page.get_by_role("button", name="Show vehicles").click()

    expect(page.get_by_role("heading", name="3 vehicles")).to_be_visible()
    shown_query = page.get_by_test_id("api-query").inner_text().removeprefix("GET /v3/vehicle?")
    assert shown_query == (
        "and[makeId]=570&and[kilometers][]=>=|10000&and[kilometers][]=<=|80000"
        "&and[price][]=>=|15000&and[price][]=<=|40000&and[fuelType]=diesel"
        "&order[field]=price&order[dir]=asc&limit=25"
    )
    answer = client.get(f"/v3/vehicle?{shown_query}", headers={"Accept-Language": "en"})
    assert answer.status_code == 200, answer.text
    expected = [vehicle["sellingId"] for vehicle in answer.json()["list"]]
    assert len(expected) == 3 and answer.json()["total"] == 3
    assert selling_ids(page) == expected  # the same vehicles, in the same order

    # What a person reads: the labels in English, the price and kilometres formatted.
    first = page.get_by_role("row").nth(1)
    expect(first).to_contain_text("Volkswagen")
    expect(first).to_contain_text("A$15,000")
    expect(first).to_contain_text("80,000 km")
    expect(first).to_contain_text("3/2019")
    expect(page.get_by_role("cell", name="Incoming")).to_be_visible()
    # The form keeps what was chosen.
    expect(page.get_by_label("Kilometres to")).to_have_value("80000")
    expect(page.get_by_label("Fuel")).to_have_value("diesel")


def _state_and_models(page: Page) -> None:
    # The state filter and the model menu of the chosen make.
    page.get_by_label("State").select_option(label="Incoming")
    page.get_by_role("button", name="Show vehicles").click()
    expect(page.get_by_role("heading", name="1 vehicle", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Passat")).to_be_visible()
    models = page.get_by_label("Model").locator("option").all_inner_texts()
    assert models == ["Any model", "Golf", "Passat", "Tiguan"]

    page.get_by_role("link", name="Clear the filters").click()
    expect(page.get_by_role("heading", name="10 vehicles")).to_be_visible()

    # Before a make is chosen there is no model to choose; choosing one brings its models
    # in place (htmx), and a model narrows the list.
    expect(page.get_by_text("Choose a make first.")).to_be_visible()
    page.get_by_label("Make").select_option(label="Toyota")
    expect(page.get_by_label("Model").locator("option")).to_have_text(["Any model", "Corolla"])
    page.get_by_label("Model").select_option(label="Corolla")
    page.get_by_role("button", name="Show vehicles").click()
    expect(page.get_by_role("heading", name="1 vehicle", exact=True)).to_be_visible()
    expect(page.get_by_test_id("api-query")).to_have_text(
        "GET /v3/vehicle?and[makeId]=560&and[modelId]=4212&limit=25"
    )


def test_the_stock_in_german_with_its_labels(browser: Browser, workspace: Workspace) -> None:
    staff = workspace.user(role="sales", name="Sam Verkauf")
    with api_client(workspace, staff) as client:
        add_stock(client, STOCK)
    context = new_context(browser, workspace, locale="de-DE")
    page = context.new_page()
    sign_in_german(page, staff)
    page.get_by_role("link", name="Bestand").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bestand")
    page.get_by_label("Kraftstoff").select_option(label="Benzin")
    page.get_by_role("button", name="Fahrzeuge zeigen").click()
    expect(page.get_by_role("heading", name="1 Fahrzeug", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Benzin")).to_be_visible()
    expect(page.get_by_role("cell", name="Im Bestand")).to_be_visible()
    expect(page.get_by_role("row").nth(1)).to_contain_text("30.000 km")
    expect(page.get_by_text("Als API-Abfrage:")).to_be_visible()
    states = page.get_by_label("Status").locator("option").all_inner_texts()
    assert states == ["Jeder Status", "Im Zulauf", "Im Bestand", "Verkauft"]
    page.get_by_role("link", name="Filter zurücksetzen").click()
    expect(page.get_by_role("heading", name="10 Fahrzeuge")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "stock-de")
    context.close()


def test_an_empty_stock_and_a_field_that_cannot_be_used(page: Page, workspace: Workspace) -> None:
    sign_in(page, workspace.user())
    page.goto("/stock")
    expect(page.get_by_text("No vehicles in stock yet.", exact=False)).to_be_visible()
    assert serious_violations(page) == []

    page.get_by_label("Kilometres from").fill("abc")
    with page.expect_response("**/stock?**") as sent:
        page.get_by_role("button", name="Show vehicles").click()
    assert sent.value.status == 400
    expect(page.get_by_role("alert")).to_have_text(
        "Kilometres from: enter a whole number of 0 or more, such as 20000."
    )
    expect(page.get_by_label("Kilometres from")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Kilometres from")).to_have_value("abc")
    assert serious_violations(page) == []

    for query, field in (("fuel=steam", "Fuel"), ("sort=random", "Sort by"), ("price_to=-5", "Price to")):
        response = page.request.get(f"{workspace.url}/stock?{query}")
        assert response.status == 400
        assert f"{field}:" in response.text()
