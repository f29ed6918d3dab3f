"""`forecourt inventory import` and `forecourt demo`, as an operator runs them; what they
store is read back through the Autengo API (GET /v3/vehicle) as a dealer's client would."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from forecourt.core.inventory import reference
from forecourt.db.engine import Database
from forecourt.kit.inventory_fields import FIELDS, Kind
from tests.conftest import Cli, Tenant, make_tenant

FOCUS = {"makeName": "Ford", "modelName": "Focus", "kilometers": 12000, "vehicleState": "inventory"}
GOLF = {"makeName": "Volkswagen", "modelName": "Golf", "kilometers": 54000, "colorId": 7}
CSV_COLUMNS = ["makeName", "modelName", "kilometers", "colorId", "firstRegistration", "vehicleState"]


@pytest.fixture
def dealer(db: Database) -> Tenant:
    return make_tenant(db, "Stock Motors")


# --- helpers ---------------------------------------------------------------------------


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def write_jsonl(path: Path, lines: Sequence[dict[str, Any] | str]) -> Path:
    """One line per entry: a record as JSON, or a string written as it is."""
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


def write_csv(path: Path, rows: Sequence[Sequence[Any]], columns: Sequence[str] = CSV_COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def import_file(cli: Cli, path: Path, tenant: Tenant, *options: str) -> dict[str, Any]:
    report: dict[str, Any] = cli.ok(
        "inventory", "import", str(path), "--account", str(tenant.account.id), *options
    )
    return report


def errors_of(report: dict[str, Any]) -> list[tuple[int, str]]:
    return sorted((e["row"], e["field"]) for e in report["errors"])


def vehicles(http: httpx.Client, api_key: str) -> list[dict[str, Any]]:
    """The whole stock of the key's account, page by page, as GET /v3/vehicle lists it."""
    found: list[dict[str, Any]] = []
    while True:
        response = http.get(
            "/v3/vehicle", params={"limit": 100, "offset": len(found)}, headers={"X-Api-Key": api_key}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["list"]
        if not page["list"] or len(found) >= page["total"]:
            return found


def vehicle(http: httpx.Client, tenant: Tenant, selling_id: str) -> dict[str, Any]:
    response = http.get(f"/v3/vehicle/{selling_id}", headers={"X-Api-Key": tenant.api_key})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["vehicle"]
    return found


def key(value: Any) -> Any:
    """The key of a translatable value as rendered ({"key", "text"})."""
    return value["key"] if isinstance(value, dict) else value


def summary(listed: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (v["makeName"], v["modelName"], v["kilometers"], key(v["colorId"]), v["firstRegistration"])
        for v in listed
    )


def stock_of(listed: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return sorted((v["makeName"], v["modelName"], v["kilometers"]) for v in listed)


# --- inventory import: the three formats -------------------------------------------------


def test_a_json_array_is_imported_and_bad_elements_are_reported(
    cli: Cli, http: httpx.Client, dealer: Tenant, tmp_path: Path
) -> None:
    records = [
        FOCUS,
        FOCUS | {"kilometers": "lots"},
        GOLF | {"firstRegistration": "2019-04-01"},
        GOLF | {"colour": "blue"},
        {"makeName": "Ford", "kilometers": 1000},
        GOLF | {"colorId": 99},
    ]
    report = import_file(cli, write_json(tmp_path / "stock.json", records), dealer)

    assert (report["created"], report["updated"]) == (2, 0)
    assert errors_of(report) == [(2, "kilometers"), (4, "colour"), (5, "modelName"), (6, "colorId")]
    assert all(e["message"] for e in report["errors"])
    assert summary(vehicles(http, dealer.api_key)) == [
        ("Ford", "Focus", 12000, None, None),
        ("Volkswagen", "Golf", 54000, 7, "2019-04-01"),
    ]


def test_a_jsonl_file_is_imported_and_bad_lines_are_reported_by_line_number(
    cli: Cli, http: httpx.Client, dealer: Tenant, tmp_path: Path
) -> None:
    lines: list[dict[str, Any] | str] = [
        FOCUS,  # 1
        GOLF | {"colorId": 99},  # 2
        "",  # 3: blank lines are skipped but still counted
        GOLF | {"firstRegistration": "2017-13-01"},  # 4
        '{"makeName": "Ford", ',  # 5: not JSON
        GOLF | {"firstRegistration": "2017-03-01"},  # 6
        {"modelName": "Golf"},  # 7
        FOCUS | {"colour": "red"},  # 8
    ]
    report = import_file(cli, write_jsonl(tmp_path / "stock.jsonl", lines), dealer, "--batch-size", "3")

    assert (report["created"], report["updated"]) == (2, 0)
    assert errors_of(report) == [
        (2, "colorId"),
        (4, "firstRegistration"),
        (5, "line"),
        (7, "makeName"),
        (8, "colour"),
    ]
    assert summary(vehicles(http, dealer.api_key)) == [
        ("Ford", "Focus", 12000, None, None),
        ("Volkswagen", "Golf", 54000, 7, "2017-03-01"),
    ]


def test_a_csv_file_is_imported_and_bad_rows_are_reported_by_row_number(
    cli: Cli, http: httpx.Client, dealer: Tenant, tmp_path: Path
) -> None:
    rows = [
        ["Ford", "Focus", "12000", "", "2018-06-01", "inventory"],  # row 2
        ["Ford", "Fiesta", "lots", "", "", ""],  # row 3
        ["Volkswagen", "Golf", "54000", "99", "", ""],  # row 4
        ["Volkswagen", "Golf", "54000", "7", "2017-13-01", ""],  # row 5
        ["Volkswagen", "", "9000", "7", "", ""],  # row 6
        ["Volkswagen", "Golf", "54000", "7", "2017-03-01", "sold"],  # row 7
    ]
    report = import_file(cli, write_csv(tmp_path / "stock.csv", rows), dealer, "--batch-size", "2")

    assert (report["created"], report["updated"]) == (2, 0)
    assert errors_of(report) == [
        (3, "kilometers"),
        (4, "colorId"),
        (5, "firstRegistration"),
        (6, "modelName"),
    ]
    stored = vehicles(http, dealer.api_key)
    assert summary(stored) == [
        ("Ford", "Focus", 12000, None, "2018-06-01"),
        ("Volkswagen", "Golf", 54000, 7, "2017-03-01"),
    ]
    assert sorted(key(v["vehicleState"]) for v in stored) == ["inventory", "sold"]


def test_a_csv_with_an_unknown_column_reports_every_row(cli: Cli, dealer: Tenant, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "stock.csv",
        [["Ford", "Focus", "blue"], ["Ford", "Kuga", "red"]],
        ["makeName", "modelName", "colour"],
    )
    report = import_file(cli, path, dealer)

    assert report["created"] == 0
    assert errors_of(report) == [(2, "colour"), (3, "colour")]


def test_an_excel_csv_with_a_bom_and_crlf_is_imported(
    cli: Cli, http: httpx.Client, dealer: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes("makeName,modelName,kilometers\r\nFord,Focus,12000\r\n".encode("utf-8-sig"))

    report = import_file(cli, path, dealer)

    assert (report["created"], report["errors"]) == (1, [])
    assert stock_of(vehicles(http, dealer.api_key)) == [("Ford", "Focus", 12000)]


def test_a_blank_line_in_a_csv_does_not_shift_the_row_numbers(
    cli: Cli, dealer: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "stock.csv"
    # row 1 header, row 2 a vehicle, row 3 blank, row 4 a bad vehicle
    path.write_text("makeName,modelName,kilometers\nFord,Focus,12000\n\nFord,Kuga,lots\n", encoding="utf-8")

    report = import_file(cli, path, dealer)

    assert report["created"] == 1
    assert errors_of(report) == [(4, "kilometers")]


# --- inventory import: what is kept, and importing again ----------------------------------


def test_keys_given_as_rendered_and_the_given_selling_id_and_created_are_kept(
    cli: Cli, http: httpx.Client, dealer: Tenant, tmp_path: Path
) -> None:
    records = [
        GOLF
        | {
            "sellingId": "IMP001",
            "created": "2021-05-04 10:11:12",
            "colorId": {"key": 5, "text": "Rot"},
            "vehicleState": {"key": "sold", "text": "Verkauft"},
        }
    ]
    report = import_file(cli, write_json(tmp_path / "stock.json", records), dealer)

    assert (report["created"], report["errors"]) == (1, [])
    found = vehicle(http, dealer, "IMP001")
    assert found["sellingId"] == "IMP001"
    assert found["created"] == "2021-05-04 10:11:12"
    assert found["colorId"] == {"key": 5, "text": "Rot"}
    assert found["vehicleState"] == {"key": "sold", "text": "Verkauft"}


def test_importing_the_same_file_again_updates_instead_of_duplicating(
    cli: Cli, http: httpx.Client, dealer: Tenant, tmp_path: Path
) -> None:
    path = write_json(
        tmp_path / "stock.json",
        [
            FOCUS | {"sellingId": "KEEP01", "colorId": 3},
            GOLF | {"sellingId": "KEEP02", "created": "2020-01-02 03:04:05"},
        ],
    )
    first = import_file(cli, path, dealer)
    created_before = vehicle(http, dealer, "KEEP01")["created"]

    again = import_file(cli, path, dealer)

    assert (first["created"], first["updated"]) == (2, 0)
    assert (again["created"], again["updated"], again["errors"]) == (0, 2, [])
    assert sorted(v["sellingId"] for v in vehicles(http, dealer.api_key)) == ["KEEP01", "KEEP02"]
    assert vehicle(http, dealer, "KEEP01")["created"] == created_before
    assert vehicle(http, dealer, "KEEP02")["created"] == "2020-01-02 03:04:05"


def test_an_import_replaces_a_known_vehicle_whole(
    cli: Cli, http: httpx.Client, dealer: Tenant, tmp_path: Path
) -> None:
    import_file(cli, write_json(tmp_path / "a.json", [FOCUS | {"sellingId": "CHG001", "colorId": 3}]), dealer)
    changed = {"sellingId": "CHG001", "makeName": "Ford", "modelName": "Kuga", "kilometers": 15000}

    report = import_file(cli, write_json(tmp_path / "b.json", [changed]), dealer)

    assert (report["created"], report["updated"]) == (0, 1)
    found = vehicle(http, dealer, "CHG001")
    assert (found["modelName"], found["kilometers"], found["colorId"]) == ("Kuga", 15000, None)


def test_the_list_answer_of_the_api_imports_into_another_account(
    cli: Cli, http: httpx.Client, db: Database, dealer: Tenant, tmp_path: Path
) -> None:
    cli.ok("demo", "--vehicles", "40", "--account", str(dealer.account.id), "--seed", "3")
    extra = GOLF | {"equipment": ["ABS", "ESP"], "manufacturerColorName": "Atlantic Blue", "price": 18990.5}
    import_file(cli, write_json(tmp_path / "extra.json", [extra]), dealer)
    response = http.get("/v3/vehicle", params={"limit": 100}, headers={"X-Api-Key": dealer.api_key})
    assert response.status_code == 200
    exported = response.json()
    assert exported["total"] == 41
    branch = make_tenant(db, "Branch Motors")

    report = import_file(cli, write_json(tmp_path / "export.json", exported), branch)

    assert (report["created"], report["updated"], report["errors"]) == (41, 0, [])

    def comparable(listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(
            ({k: v for k, v in x.items() if k != "updated"} for x in listed), key=lambda x: x["sellingId"]
        )

    assert comparable(vehicles(http, branch.api_key)) == comparable(exported["list"])


# --- inventory import: files and accounts it refuses ---------------------------------------


@pytest.mark.parametrize("account", [str(uuid.uuid4()), "not-a-uuid"], ids=["unknown id", "not an id"])
def test_an_unknown_account_stops_with_a_message(cli: Cli, tmp_path: Path, account: str) -> None:
    path = write_json(tmp_path / "stock.json", [FOCUS])

    result = cli.run("inventory", "import", str(path), "--account", account)

    assert result.exit_code != 0
    assert account in result.output


def test_a_json_file_that_holds_no_vehicles_stops_with_a_message(
    cli: Cli, http: httpx.Client, dealer: Tenant, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "stock.json", {"vehicles": [FOCUS]})

    result = cli.run("inventory", "import", str(path), "--account", str(dealer.account.id))

    assert result.exit_code != 0
    assert "array" in result.output
    assert vehicles(http, dealer.api_key) == []


# --- demo ----------------------------------------------------------------------------------


def test_demo_makes_an_account_with_a_working_key_and_the_stock_asked(cli: Cli, http: httpx.Client) -> None:
    made = cli.ok("demo", "--vehicles", "300")

    assert set(made) == {"account_id", "api_key", "vehicles"}
    assert made["vehicles"] == 300
    uuid.UUID(made["account_id"])
    listed = vehicles(http, made["api_key"])
    assert len(listed) == 300
    assert len({v["sellingId"] for v in listed}) == 300


def test_demo_fills_a_given_account(cli: Cli, http: httpx.Client, dealer: Tenant) -> None:
    made = cli.ok("demo", "--vehicles", "25", "--account", str(dealer.account.id))

    assert made == {"account_id": str(dealer.account.id), "vehicles": 25}
    assert len(vehicles(http, dealer.api_key)) == 25


def test_demo_with_the_same_seed_makes_the_same_stock(cli: Cli, http: httpx.Client) -> None:
    first = cli.ok("demo", "--vehicles", "60", "--seed", "7")
    second = cli.ok("demo", "--vehicles", "60", "--seed", "7")
    other = cli.ok("demo", "--vehicles", "60", "--seed", "8")

    assert first["account_id"] != second["account_id"]
    stock = stock_of(vehicles(http, first["api_key"]))
    assert len(stock) == 60
    assert stock_of(vehicles(http, second["api_key"])) == stock
    assert stock_of(vehicles(http, other["api_key"])) != stock


def test_the_demo_stock_reads_as_a_dealers_would(cli: Cli, http: httpx.Client) -> None:
    """Versions and VINs of the car's own make, every enumerated field varied, pollution
    badges named as the spec names them (4 is "Grün"), in the German the API defaults to."""
    made = cli.ok("demo", "--vehicles", "300", "--seed", "5")
    listed = vehicles(http, made["api_key"])

    for field in FIELDS:
        if field.kind in (Kind.ENUM, Kind.CHOICE):
            shown = {key(v[field.name]) for v in listed if v.get(field.name) is not None}
            assert len(shown) > 1, (field.name, shown)
    badges = {(v["pollutionBadge"]["key"], v["pollutionBadge"]["text"]) for v in listed}
    assert (4, "Grün") in badges
    assert badges <= {(1, "Keine"), (2, "Rot"), (3, "Gelb"), (4, "Grün")}
    makes = {m.make_name: m for m in reference.makes()}
    assert [v["vin"] for v in listed if v["vin"][:3] not in makes[v["makeName"]].wmis] == []
    gti = {v["makeName"] for v in listed if "GTI" in v["modelVersion"]}
    xdrive = {v["makeName"] for v in listed if "xDrive" in v["modelVersion"]}
    assert gti <= {"Volkswagen"} and xdrive <= {"BMW"}
