"""Autengo vehicles over HTTP: the list with its filter language, one vehicle, i18n,
reference data, filter values, the write extensions, and tenant isolation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from forecourt.kit.inventory_fields import BY_NAME, Kind
from tests.conftest import Tenant

FIXTURES = Path(__file__).parents[1] / "fixtures"
SPEC_VEHICLE: dict[str, Any] = json.loads((FIXTURES / "autengo_vehicle.json").read_text())["vehicle"]
# The spec's example holds the word "array" where lists go: placeholders, not values.
PLACEHOLDERS = ("equipment", "damages", "documents", "ads")
QUERIES = json.loads((FIXTURES / "qs" / "queries.json").read_text())


def auth(tenant: Tenant, **headers: str) -> dict[str, str]:
    return {"X-Api-Key": tenant.api_key, **headers}


def add_vehicle(http: httpx.Client, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    response = http.post(
        "/v3/vehicle", headers=auth(tenant), json={"makeName": "Ford", "modelName": "Focus"} | fields
    )
    assert response.status_code == 201, response.text
    vehicle: dict[str, Any] = response.json()["vehicle"]
    return vehicle


def listed(http: httpx.Client, tenant: Tenant, query: str = "", **headers: str) -> dict[str, Any]:
    response = http.get(f"/v3/vehicle?{query}", headers=auth(tenant, **headers))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def selling_ids(page: dict[str, Any]) -> list[str]:
    return [v["sellingId"] for v in page["list"]]


def spec_stock(http: httpx.Client, tenant: Tenant) -> dict[str, str]:
    """Vehicles around the spec's example query; name -> sellingId."""
    ford = {"makeName": "Ford", "vehicleState": "inventory", "firstRegistration": "2017-05-19"}
    stock = {
        "match blue": ford | {"kilometers": 120000, "colorId": 3, "modelVersion": "Titanium X"},
        "match beige, older": ford | {"kilometers": 25000, "colorId": 5, "description": "TITANIUM trim"},
        "wrong colour": ford | {"kilometers": 120000, "colorId": 7, "modelVersion": "Titanium"},
        "too many km": ford | {"kilometers": 250001, "colorId": 3, "modelVersion": "Titanium"},
        "registered 2018": ford
        | {"firstRegistration": "2018-01-01", "colorId": 4, "modelVersion": "Titanium"},
        "sold": ford
        | {"vehicleState": "sold", "kilometers": 90000, "colorId": 4, "modelVersion": "Titanium"},
        "no search hit": ford | {"kilometers": 90000, "colorId": 4, "modelVersion": "ST-Line"},
        "an Audi": ford | {"makeName": "Audi", "modelName": "A4", "colorId": 3, "modelVersion": "Titanium"},
    }
    created = {}
    for minute, (name, fields) in enumerate(stock.items()):
        fields["created"] = f"2025-03-01 10:{minute:02d}:00"
        created[name] = add_vehicle(http, tenant, **fields)["sellingId"]
    return created


SPEC_QUERY = (
    "search=titanium&and[vehicleState]=inventory&and[makeName]=Ford"
    "&and[kilometers][]=>=|25000&and[kilometers][]=<=|250000"
    "&and[firstRegistration][]=>=|2017-01-01&and[firstRegistration][]=<|2018-01-01"
    "&or[colorId][]=3&or[colorId][]=4&or[colorId][]=5&order[field]=created&order[dir]=desc&offset=0&limit=25"
)


def test_the_spec_example_query_finds_exactly_the_matching_vehicles(
    http: httpx.Client, tenant: Tenant
) -> None:
    stock = spec_stock(http, tenant)

    page = listed(http, tenant, SPEC_QUERY)

    # Newest first: the beige one was added after the blue one.
    assert selling_ids(page) == [stock["match beige, older"], stock["match blue"]]
    assert (page["total"], page["offset"], page["limit"]) == (2, 0, 25)


def test_pages_and_order(http: httpx.Client, tenant: Tenant) -> None:
    stock = spec_stock(http, tenant)

    first = listed(http, tenant, "order[field]=kilometers&order[dir]=asc&limit=3")
    second = listed(http, tenant, "order[field]=kilometers&order[dir]=asc&limit=3&offset=3")
    default = listed(http, tenant)

    assert first["total"] == second["total"] == len(stock)
    kilometers = [v["kilometers"] for v in first["list"] + second["list"]]
    assert kilometers == sorted(kilometers)
    assert default["limit"] == 25
    assert selling_ids(default) == list(reversed(stock.values()))  # created desc


@pytest.mark.parametrize(
    "case", [c for c in QUERIES if c["params"].get("search") == "titanium"], ids=lambda c: c["variant"]
)
def test_the_spec_query_as_each_client_writes_it(
    http: httpx.Client, tenant: Tenant, case: dict[str, Any]
) -> None:
    stock = spec_stock(http, tenant)

    assert selling_ids(listed(http, tenant, case["query"])) == [
        stock["match beige, older"],
        stock["match blue"],
    ]


def test_a_vehicle_has_every_field_of_the_spec_translated_in_german_by_default(
    http: httpx.Client, tenant: Tenant
) -> None:
    sent = {k: v for k, v in SPEC_VEHICLE.items() if k not in (*PLACEHOLDERS, "updated")}
    add_vehicle(http, tenant, **sent)

    response = http.get(f"/v3/vehicle/{SPEC_VEHICLE['sellingId']}", headers=auth(tenant))

    assert response.status_code == 200
    vehicle = response.json()["vehicle"]
    assert set(SPEC_VEHICLE) <= set(vehicle)
    for name, value in sent.items():
        if BY_NAME[name].kind is Kind.ENUM:
            assert vehicle[name]["key"] == value["key"], name
            assert vehicle[name]["text"], name
        elif name in ("isNetPrice", "isPriceNegotiable"):
            assert vehicle[name] is False  # "NO" in the spec's example; booleans in its schema
        else:
            assert vehicle[name] == value, name
    assert vehicle["vehicleState"] == {"key": "inventory", "text": "Im Bestand"}
    assert vehicle["driveType"] == {"key": "rear", "text": "Heckantrieb"}
    assert vehicle["makeId"] == 260 and vehicle["equipment"] is None


@pytest.mark.parametrize(
    ("accept_language", "inventory", "blue"),
    [
        ("en", "In stock", "Blue"),
        ("en-GB,en;q=0.9", "In stock", "Blue"),
        ("de-DE", "Im Bestand", "Blau"),
        ("fr", "Im Bestand", "Blau"),
    ],
)
def test_accept_language_picks_the_texts(
    http: httpx.Client, tenant: Tenant, accept_language: str, inventory: str, blue: str
) -> None:
    selling_id = add_vehicle(http, tenant, vehicleState="inventory", colorId=7)["sellingId"]

    one = http.get(f"/v3/vehicle/{selling_id}", headers=auth(tenant, **{"Accept-Language": accept_language}))
    page = listed(http, tenant, "and[colorId]=7", **{"Accept-Language": accept_language})

    for vehicle in (one.json()["vehicle"], page["list"][0]):
        assert vehicle["vehicleState"] == {"key": "inventory", "text": inventory}
        assert vehicle["colorId"] == {"key": 7, "text": blue}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("and[colour]=3", "and[colour]"),
        ("and[kilometers]=>>|5", "and[kilometers]"),
        ("and[firstRegistration]=>=|2017-02-30", "and[firstRegistration]"),
        ("order[field]=created", "order"),
        ("limit=101", "limit"),
        ("a[b][c][d][e][f][g]=1", "query"),
    ],
)
def test_a_bad_query_is_a_400_naming_it(http: httpx.Client, tenant: Tenant, query: str, field: str) -> None:
    response = http.get(f"/v3/vehicle?{query}", headers=auth(tenant))

    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert response.json()["field"] == field


def test_reference_makes_and_models(http: httpx.Client, tenant: Tenant) -> None:
    makes = http.get("/v3/vehicle/reference/make", headers=auth(tenant)).json()
    models = http.get("/v3/vehicle/reference/make/190/model", headers=auth(tenant)).json()
    unknown = http.get("/v3/vehicle/reference/make/1/model", headers=auth(tenant))

    assert {"makeId": 190, "makeName": "Audi"} in makes["list"]
    assert makes["total"] == len(makes["list"]) > 30
    assert {"modelId": 3813, "modelName": "A4"} in models["list"]
    assert unknown.status_code == 404


def test_filter_values_are_those_of_the_accounts_own_stock(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    add_vehicle(http, tenant, fuelType="diesel", isPluginHybrid=False)
    add_vehicle(
        http, tenant, makeName="Audi", modelName="A4", fuelType="electricGasoline", isPluginHybrid=True
    )
    add_vehicle(http, other_tenant, makeName="BMW", modelName="X3", fuelType="lpg")

    default = http.get("/v3/vehicle/filter/values", headers=auth(tenant))
    asked = http.get(
        "/v3/vehicle/filter/values?fields[]=fuelType&fields[]=isPluginHybrid&fields[]=modelId",
        headers=auth(tenant),
    )
    bad = http.get("/v3/vehicle/filter/values?fields[]=vin", headers=auth(tenant))

    assert default.json() == {"makeId": [190, 260]}
    assert asked.json() == {
        "fuelType": ["diesel", "electricGasoline"],
        "isPluginHybrid": [False, True],
        "modelId": [3813, 3900],
    }
    assert bad.status_code == 400 and bad.json()["field"] == "fields"


def test_write_extensions_create_change_and_delete(http: httpx.Client, tenant: Tenant) -> None:
    created = add_vehicle(http, tenant, kilometers=1000, colorId=3, description="demo")
    selling_id = created["sellingId"]

    changed = http.put(
        f"/v3/vehicle/{selling_id}", headers=auth(tenant), json={"kilometers": 1500, "description": None}
    )
    assert changed.status_code == 200
    vehicle = changed.json()["vehicle"]
    assert (vehicle["kilometers"], vehicle["description"], vehicle["colorId"]["key"]) == (1500, None, 3)
    assert vehicle["created"] == created["created"]

    deleted = http.delete(f"/v3/vehicle/{selling_id}", headers=auth(tenant))
    assert deleted.json() == {"status": "success", "statusText": "Vehicle deleted successfully"}
    assert http.get(f"/v3/vehicle/{selling_id}", headers=auth(tenant)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colorId": 99}, "colorId"),
        ({"kilometers": "lots"}, "kilometers"),
        ({"firstRegistration": "19.05.2017"}, "firstRegistration"),
        ({"colour": "blue"}, "colour"),
        ({"makeName": None, "makeId": 1}, "makeId"),
        ({"modelName": None}, "modelName"),
        ({"vin": "X" * 18}, "vin"),
    ],
)
def test_a_bad_vehicle_is_a_400_and_nothing_is_stored(
    http: httpx.Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = http.post(
        "/v3/vehicle", headers=auth(tenant), json={"makeName": "Ford", "modelName": "Focus"} | body
    )

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert listed(http, tenant)["total"] == 0


def test_another_accounts_vehicles_are_invisible(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = add_vehicle(http, other_tenant, description="titanium")["sellingId"]
    mine = add_vehicle(http, tenant, description="titanium")["sellingId"]

    assert selling_ids(listed(http, tenant, "search=titanium")) == [mine]
    for method in ("GET", "PUT", "DELETE"):
        response = http.request(method, f"/v3/vehicle/{theirs}", headers=auth(tenant), json={"kilometers": 1})
        assert response.status_code == 404, method
    assert (
        http.get(f"/v3/vehicle/{theirs}", headers=auth(other_tenant)).json()["vehicle"]["kilometers"] is None
    )


def test_every_vehicle_call_needs_the_api_key(http: httpx.Client) -> None:
    for path in (
        "/v3/vehicle",
        "/v3/vehicle/AIQWXW",
        "/v3/vehicle/reference/make",
        "/v3/vehicle/filter/values",
    ):
        response = http.get(path)
        assert response.status_code == 401, path
        assert response.json()["status"] == "error"
