"""Uploads in chromium: a customer file chosen with the file input or dropped on the drop
zone, its preview with the column mapping, live progress to 100%, the errors with their
reasons and their CSV; cancelling a large upload; a file that cannot be read.

Who processes the uploads: `forecourt serve` runs an embedded worker, so the test of the
whole way through does too (`with_worker`: the app with its worker thread, as `serve`
builds it). The cancel test instead runs the upload's chunks itself, one at a time, with
the worker's own `run_chunk`: a free-running worker would race the click on Cancel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import msgspec
import pytest
from playwright.sync_api import FilePayload, Page, expect

from forecourt import bootstrap
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import UploadRequest
from forecourt.core.uploads.tasks import run_chunk
from forecourt.db.engine import Database
from tests.browser.conftest import Workspace, screenshot, serious_violations, serving, sign_in
from tests.conftest import Cli, MovableClock, run_jobs, settings_for

# Five customers; rows 3 (a VIN of 16 characters) and 5 (no rego, no VIN) are bad.
CUSTOMERS = (
    "Rego No,state,vin,external_id,First name\n"
    "ABC123,VIC,,C-1,Ann\n"
    "XYZ789,NSW,1HGCM8263A00400,C-2,Bob\n"
    "DEF456,QLD,,C-3,Cat\n"
    ",,,C-4,Dan\n"
    "GHI012,WA,,C-5,Eve\n"
)


@pytest.fixture
def with_worker(
    db: Database, database_url: str, cli: Cli, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """The workspace with its embedded worker (polling often), as `forecourt serve` runs it."""
    with serving(
        db, database_url, cli, clock, monkeypatch, embedded_worker=True, worker_poll_seconds=0.05
    ) as served:
        yield served


def _choose_file(page: Page, name: str, body: str | bytes, mime: str = "text/csv") -> None:
    data = body.encode() if isinstance(body, str) else body
    page.get_by_label("Customer file (CSV, XLSX or JSON)").set_input_files(
        files=[FilePayload(name=name, mimeType=mime, buffer=data)]
    )
    page.get_by_role("button", name="Upload and preview").click()


def test_a_csv_with_bad_rows_goes_through_to_its_errors_and_their_csv(
    page: Page, with_worker: Workspace, tmp_path: Path
) -> None:
    sign_in(page, with_worker.user())
    page.get_by_role("link", name="Uploads").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uploads")
    expect(page.get_by_text("No uploads yet.", exact=False)).to_be_visible()
    assert serious_violations(page) == []

    _choose_file(page, "customers.csv", CUSTOMERS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview of customers.csv")
    expect(page.get_by_text("5 rows.", exact=False)).to_be_visible()
    expect(page.get_by_role("row", name="3 XYZ789 NSW 1HGCM8263A00400 C-2 Bob")).to_be_visible()
    # The CLI's matching: known names are fields, the others additional fields.
    expect(page.get_by_label("Field for column vin")).to_have_value("vin")
    expect(page.get_by_label("Field for column First name")).to_have_value("additional_fields")
    rego = page.get_by_label("Field for column Rego No")
    expect(rego).to_have_value("additional_fields")
    rego.select_option("rego")
    page.get_by_label("Name of the upload").fill("March sales")
    assert serious_violations(page) == []
    screenshot(page, "upload-preview")

    page.get_by_role("button", name="Start the upload").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("March sales")
    expect(page.get_by_test_id("percent")).to_have_text("100%")  # the worker ran it; the page polled
    expect(page.get_by_test_id("status")).to_have_text("Completed")
    expect(page.get_by_label("Processed 5 of 5 customers")).to_have_attribute("value", "5")
    expect(page.get_by_role("button", name="Cancel the upload")).to_have_count(0)
    errors = page.get_by_role("table").get_by_role("row")
    expect(errors).to_have_count(3)  # the header and two rows, named as the spreadsheet does
    expect(errors.nth(1)).to_contain_text("3")
    expect(errors.nth(1)).to_contain_text("vin")
    expect(errors.nth(1)).to_contain_text("C-2")
    expect(errors.nth(2)).to_contain_text("5")
    expect(errors.nth(2)).to_contain_text("C-4")
    assert serious_violations(page) == []
    screenshot(page, "upload-progress")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download errors (CSV)").click()
    saved = tmp_path / "errors.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [(r["row"], r["external_id"]) for r in rows] == [("3", "C-2"), ("5", "C-4")]
    assert rows[0]["field"] == "vin" and rows[0]["reason"]
    assert rows[1]["reason"]

    page.get_by_role("link", name="All uploads").click()
    listed = page.get_by_role("row", name="March sales")
    expect(listed).to_contain_text("Completed")
    expect(listed).to_contain_text("5 of 5 (100%)")
    assert serious_violations(page) == []
    screenshot(page, "uploads")


def test_a_file_dropped_on_the_drop_zone_is_previewed(page: Page, workspace: Workspace) -> None:
    sign_in(page, workspace.user())
    page.goto("/uploads")
    # What the browser does when a file is dragged from the desktop and let go on the zone.
    transfer = page.evaluate_handle(
        """text => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "dropped.csv", {type: "text/csv"}));
            return transfer;
        }""",
        CUSTOMERS.replace("Rego No", "rego"),
    )
    page.get_by_test_id("drop-zone").dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview of dropped.csv")
    rego, vin = page.get_by_label("Field for column rego"), page.get_by_label("Field for column vin")
    expect(rego).to_have_value("rego")
    rego.select_option("ignore")  # no rego, no VIN: refused, the choices kept
    vin.select_option("ignore")
    page.get_by_role("button", name="Start the upload").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The upload could not start: mapping: choose the column that holds the rego or the VIN"
    )
    expect(rego).to_have_value("ignore")
    assert serious_violations(page) == []
    rego.select_option("rego")
    vin.select_option("vin")
    page.get_by_role("button", name="Start the upload").click()
    expect(page.get_by_test_id("status")).to_have_text("Queued")
    run_jobs(workspace.db, clock=workspace.clock)  # the worker's turn
    expect(page.get_by_test_id("percent")).to_have_text("100%")
    # Said to screen readers once the upload is finished.
    expect(page.get_by_role("status")).to_have_text("The upload is finished: Completed.")
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(3)


def test_a_large_upload_is_cancelled_midway(page: Page, workspace: Workspace) -> None:
    staff = workspace.user()
    sign_in(page, staff)
    page.goto("/uploads")
    lines = ["rego,state,external_id"] + [f"R{n:05d},VIC,E{n}" for n in range(20_000)]
    _choose_file(page, "everyone.csv", "\n".join(lines) + "\n")
    expect(page.get_by_text("20,000 rows.", exact=False)).to_be_visible()
    page.get_by_role("button", name="Start the upload").click()
    expect(page.get_by_test_id("status")).to_have_text("Queued")
    upload_id = UUID(page.url.rsplit("/", 1)[1])

    settings = settings_for("", upload_chunk_rows=10_000)
    adapters = bootstrap.adapters(settings, workspace.db, workspace.clock)
    assert not run_chunk(workspace.db, adapters, upload_id)  # the first of two chunks
    expect(page.get_by_test_id("percent")).to_have_text("50%")
    expect(page.get_by_test_id("status")).to_have_text("Processing")

    page.get_by_role("button", name="Cancel the upload").click()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")
    expect(page.get_by_label("Processed 10,000 of 20,000 customers")).to_be_visible()
    run_jobs(workspace.db, clock=workspace.clock)  # nothing is processed after a cancel
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("percent")).to_have_text("50%")
    expect(page.get_by_role("button", name="Cancel the upload")).to_have_count(0)
    assert serious_violations(page) == []


def test_a_file_that_cannot_be_read_is_refused_with_the_reason(page: Page, workspace: Workspace) -> None:
    sign_in(page, workspace.user())
    page.goto("/uploads")
    _choose_file(page, "notes.txt", "hello", mime="text/plain")
    expect(page.get_by_role("alert")).to_have_text(
        "This file could not be read: notes.txt: expected a .csv, .xlsx or .json file"
    )
    expect(page.get_by_label("Customer file (CSV, XLSX or JSON)")).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []

    _choose_file(page, "broken.xlsx", b"not a workbook", mime="application/octet-stream")
    expect(page.get_by_role("alert")).to_contain_text("This file could not be read: broken.xlsx")
    _choose_file(page, "broken.json", "[1, 2", mime="application/json")
    expect(page.get_by_role("alert")).to_contain_text("This file could not be read: broken.json")
    _choose_file(page, "empty.csv", "rego,state\n")
    expect(page.get_by_role("alert")).to_contain_text("the file holds no customers")


def test_another_accounts_upload_and_a_bad_page_number(page: Page, workspace: Workspace) -> None:
    sign_in(page, workspace.user())
    other = workspace.cli.create_account("Beta Cars")
    with workspace.db.write() as conn:
        theirs = uploads.create(
            conn,
            UUID(other["id"]),
            "au",
            UploadRequest(customers=[msgspec.Raw(b'{"vin":"1HGCM82633A004352"}')]),
            100,
        )
    for path in (f"/uploads/{theirs.id}", f"/uploads/{theirs.id}/errors.csv", "/uploads/not-an-id"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    refused = page.request.post(f"{workspace.url}/uploads/{theirs.id}/cancel", form={"csrf": _csrf(page)})
    assert refused.status == 404

    answer = page.goto("/uploads?page=abc")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("alert")).to_contain_text("page must be a whole number")


def _csrf(page: Page) -> str:
    page.goto("/uploads")
    return str(page.locator("input[name=csrf]").first.get_attribute("value"))
