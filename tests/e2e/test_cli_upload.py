"""`forecourt upload`, `forecourt registry load` and `forecourt accounts usage`, in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import Workbook

from forecourt import bootstrap
from forecourt.cli import upload
from forecourt.cli.main import app
from forecourt.core.uploads.files import FIELDS
from forecourt.db.engine import Database
from forecourt.db.models import tracked_customers
from tests.conftest import Tenant, running_server, settings_for

ROWS = [
    ["rego", "state", "vin", "external_id", "sale_date", "colour"],
    ["ZEN407", "VIC", "", "CUST-1", "2022-06-15", "red"],
    ["", "", "", "CUST-2", "", "blue"],
    ["ABC123", "NSW", "1N4AL11D16N337720", "CUST-3", "2021-01-01", ""],
]


MISSING = "Missing required properties"


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text("\n".join(",".join(row) for row in ROWS) + "\n")
    return path


def _xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "customers.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in ROWS:
        sheet.append([cell or None for cell in row])
    book.save(path)
    return path


def _json(tmp_path: Path) -> Path:
    path = tmp_path / "customers.json"
    header, *rows = ROWS
    path.write_text(
        json.dumps({"customers": [{k: v for k, v in zip(header, row, strict=True) if v} for row in rows]})
    )
    return path


def _run(database_url: str, *args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(app, ["--database-url", database_url, *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _customers(db: Database) -> dict[str, Any]:
    with db.read() as conn:
        rows = conn.execute(sa.select(tracked_customers))
        return {r.external_id: r for r in rows}


@pytest.mark.parametrize("make_file", [_csv, _xlsx, _json])
def test_upload_a_file_to_the_local_database(
    db: Database, database_url: str, tenant: Tenant, tmp_path: Path, make_file: Any
) -> None:
    result = _run(
        database_url, "upload", str(make_file(tmp_path)), "--region", "au", "--api-key", tenant.api_key
    )

    upload = result["upload"]
    assert (upload["status"], upload["total_uploaded_customers"], upload["total_processed_customers"]) == (
        "completed",
        3,
        3,
    )
    # CUST-2 is on the file's third row (the header is row 1); the second customer of a JSON list.
    row = 2 if make_file is _json else 3
    assert result["errors"] == [
        {"row": row, "external_id": "CUST-2", "reason": "Missing required properties"}
    ]
    stored = _customers(db)
    assert set(stored) == {"CUST-1", "CUST-3"}
    assert stored["CUST-1"].additional_fields == {"colour": "red"}  # unknown columns go here
    assert stored["CUST-3"].vin == "1N4AL11D16N337720"
    assert stored["CUST-1"].sale_date.isoformat() == "2022-06-15T00:00:00"


def test_upload_with_a_bad_key_fails_cleanly(db: Database, database_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            database_url,
            "upload",
            str(_csv(tmp_path)),
            "--region",
            "au",
            "--api-key",
            "nope",
        ],
    )

    assert result.exit_code == 1
    assert "Invalid credentials" in result.output
    assert _customers(db) == {}


def test_upload_refuses_an_unknown_file_type(
    db: Database, database_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "customers.txt"
    path.write_text("rego\nABC123\n")

    result = CliRunner().invoke(
        app,
        ["--database-url", database_url, "upload", str(path), "--region", "au", "--api-key", tenant.api_key],
    )

    assert result.exit_code == 1
    assert ".csv, .xlsx or .json" in result.output


@pytest.fixture
def server_with_worker(db: Database, database_url: str) -> Iterator[str]:
    # A real server on loopback: the CLI's --server mode is an HTTP client over the network.
    settings = settings_for(database_url, worker_poll_seconds=0.05)
    with running_server(bootstrap.serving(settings, db)) as url:
        yield url


def test_upload_through_a_running_server(
    db: Database,
    database_url: str,
    tenant: Tenant,
    tmp_path: Path,
    server_with_worker: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(upload, "POLL_SECONDS", 0.02)  # the CLI polls the upload until it is done
    result = _run(
        database_url,
        "upload",
        str(_csv(tmp_path)),
        "--region",
        "au",
        "--api-key",
        tenant.api_key,
        "--server",
        server_with_worker,
        "--name",
        "June",
    )

    assert result["upload"]["name"] == "June"
    assert result["upload"]["status"] == "completed"
    assert [e["row"] for e in result["errors"]] == [3]  # the file's row, as in local mode
    assert set(_customers(db)) == {"CUST-1", "CUST-3"}


def test_registry_load_then_lookups_are_counted_in_usage(
    db: Database, database_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text("plate,state,vin,vehicle_title\nzen 407,vic,4T1BE46K28U742135,2008 Toyota Camry\n")

    loaded = _run(database_url, "registry", "load", str(registry))
    _run(
        database_url,
        "upload",
        str(_csv(tmp_path)),
        "--region",
        "au",
        "--api-key",
        tenant.api_key,
        "--enable-rego-lookups",
        env={"FORECOURT_REGISTRATION_LOOKUP": "file"},
    )
    usage = _run(database_url, "accounts", "usage", str(tenant.account.id))

    assert loaded == {"loaded": 1, "file": str(registry)}
    assert _customers(db)["CUST-1"].vin == "4T1BE46K28U742135"
    assert _customers(db)["CUST-1"].vehicle_title == "2008 Toyota Camry"
    assert [(u["provider"], u["lookups"], u["failures"]) for u in usage] == [("file", 1, 0)]
    assert usage[0]["name"] == "Alpha Motors"


def test_registry_load_rejects_a_bad_line_naming_it(db: Database, database_url: str, tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text("ABC123,VIC,1N4AL11D16N337720\nXYZ,VIC,NOTAVIN\n")

    result = CliRunner().invoke(app, ["--database-url", database_url, "registry", "load", str(registry)])

    assert result.exit_code == 1
    assert "line 2" in result.output


def test_an_excel_file_keeps_the_leading_zeros_its_number_formats_show(
    db: Database, database_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "customers.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["rego", "state", "external_id", "sale_date", "phone", "mobile", "postcode", "odometer"])
    sheet.append(["ZEN407", "VIC", 42, datetime(2022, 6, 15), 412345678, 412345678, 800, 120000])
    # Typed as numbers, shown as the dealer typed them by formats of zeros.
    for column, number_format in {"C": "000000", "E": "0000000000", "F": "0000 000 000", "G": "0000"}.items():
        sheet[f"{column}2"].number_format = number_format
    book.save(path)

    _run(database_url, "upload", str(path), "--region", "au", "--api-key", tenant.api_key)

    (stored,) = _customers(db).values()
    assert stored.external_id == "000042"
    assert stored.sale_date == datetime(2022, 6, 15)  # an Excel date cell
    assert stored.additional_fields == {
        "phone": "0412345678",
        "mobile": "0412 345 678",
        "postcode": "0800",
        "odometer": 120000,  # a number shown as a number stays one
    }


@pytest.mark.parametrize("make_file", [_csv, _xlsx])
def test_errors_name_the_row_a_spreadsheet_shows_blank_rows_included(
    db: Database, database_url: str, tenant: Tenant, tmp_path: Path, make_file: Any
) -> None:
    path = make_file(tmp_path)
    if path.suffix == ".csv":
        path.write_text(path.read_text().replace("\nABC123", "\n\n\nABC123").replace("NSW", "XX"))
    else:
        from openpyxl import load_workbook

        book = load_workbook(path)
        sheet = book.active
        assert sheet is not None
        sheet.insert_rows(4, 2)  # two empty rows before ABC123
        sheet["B6"].value = "XX"
        sheet["A9"].number_format = "0.00"  # a formatted but empty row at the end
        book.save(path)

    result = _run(database_url, "upload", str(path), "--region", "au", "--api-key", tenant.api_key)

    assert result["upload"]["total_uploaded_customers"] == 3  # blank rows are not customers
    assert [(e["row"], e["external_id"]) for e in result["errors"]] == [(3, "CUST-2"), (6, "CUST-3")]


def test_upload_help_and_the_docs_name_every_column_a_file_may_have() -> None:
    help_text = CliRunner().invoke(app, ["upload", "--help"]).output
    documented = (Path(__file__).parents[2] / "docs" / "uploads.md").read_text()
    for column in [*sorted(FIELDS), "additional_fields"]:
        assert column in help_text, column
        assert f"`{column}`" in documented, column
