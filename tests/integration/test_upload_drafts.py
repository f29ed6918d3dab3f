"""The workspace's uploads in the core, on both backends: a file kept as a draft of its
account, confirmed with a column mapping into an upload, its errors naming the file's
rows; the account's uploads a page at a time."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import DraftNotFound, DraftOptions, EmptyUpload, UploadForbidden
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput
from tests.conftest import Tenant, run_jobs

# Blank line 3 counts as a row of the file, as a spreadsheet shows it.
CSV = b"Plate,state,vin,Customer\nABC123,VIC,,Ann\n\n,,,Bob\nXYZ789,NSW,SHORTVIN,Cat\n"


def _mapping(*targets: str) -> DraftOptions:
    return DraftOptions(targets=list(targets), name="March")


def test_a_draft_is_confirmed_with_its_mapping_and_errors_name_the_files_rows(
    db: Database, tenant: Tenant
) -> None:
    now = utcnow()
    account = tenant.account.id
    with db.write() as conn:
        draft = uploads.stage_draft(conn, account, "au", "../../etc/customers.csv", CSV, now)
    assert draft.file_name == "customers.csv"  # no folders from the browser's name
    assert draft.columns == ["Plate", "state", "vin", "Customer"]
    assert draft.suggested == ["additional_fields", "state", "vin", "additional_fields"]
    assert draft.row_count == 3
    assert draft.rows[0] == (2, ["ABC123", "VIC", "", "Ann"])
    assert [n for n, _ in draft.rows] == [2, 4, 5]

    with db.read() as conn:
        assert uploads.get_draft(conn, account, "au", str(draft.id), now).columns == draft.columns
    with db.write() as conn:
        upload = uploads.confirm_draft(
            conn, account, "au", str(draft.id), _mapping("rego", "state", "vin", "ignore"), 2, now
        )
    assert upload.name == "March" and upload.total_uploaded_customers == 3
    run_jobs(db)
    with db.read() as conn:
        done = uploads.get(conn, account, "au", str(upload.id))
        found = uploads.file_errors(conn, account, "au", str(upload.id), offset=0, limit=10)
        api = uploads.errors(conn, account, "au", str(upload.id), offset=0, limit=10)
        with pytest.raises(DraftNotFound):  # confirmed: the draft is gone
            uploads.get_draft(conn, account, "au", str(draft.id), now)
    assert (done.status, done.total_processed_customers, done.total_errors) == ("completed", 3, 2)
    assert [(e.row, e.field) for e in found.errors] == [(4, "rego"), (5, "vin")]
    assert [e.row for e in api.errors] == [2, 3]  # the API still counts customers


def test_a_mapping_must_name_a_field_once_and_the_rego_or_the_vin(db: Database, tenant: Tenant) -> None:
    now = utcnow()
    with db.write() as conn:
        draft = uploads.stage_draft(conn, tenant.account.id, "au", "c.csv", CSV, now)
    for targets, said in [
        (["rego", "state", "vin"], "a choice for each of the 4 columns"),
        (["rego", "state", "vin", "nonsense"], "'nonsense' is not a customer field"),
        (["rego", "state", "rego", "ignore"], "rego is chosen for two columns, Plate and vin"),
        (["ignore", "state", "ignore", "additional_fields"], "the rego or the VIN"),
    ]:
        with db.write() as conn, pytest.raises(InvalidInput, match=said) as refused:
            uploads.confirm_draft(conn, tenant.account.id, "au", str(draft.id), _mapping(*targets), 10, now)
        assert refused.value.field == "mapping"


def test_drafts_are_their_accounts_and_expire_after_a_day(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    now = utcnow()
    with db.write() as conn:
        draft = uploads.stage_draft(conn, tenant.account.id, "au", "c.csv", CSV, now)
    with db.read() as conn:
        for account, at in [
            (other_tenant.account.id, now),
            (tenant.account.id, now + timedelta(days=1)),
        ]:
            with pytest.raises(DraftNotFound):
                uploads.get_draft(conn, account, "au", str(draft.id), at)
        with pytest.raises(DraftNotFound):
            uploads.get_draft(conn, tenant.account.id, "au", "not-an-id", now)
    with db.write() as conn:  # a new draft clears the expired ones
        uploads.stage_draft(conn, tenant.account.id, "au", "d.csv", CSV, now + timedelta(days=2))
        with pytest.raises(DraftNotFound):
            uploads.get_draft(conn, tenant.account.id, "au", str(draft.id), now)


@pytest.mark.parametrize(
    ("name", "body", "said"),
    [
        ("c.txt", b"rego\nA", "expected a .csv, .xlsx or .json file"),
        ("c.csv", b"rego,state\n", "the file holds no customers"),
        ("c.xlsx", b"not a workbook", "not a readable XLSX file"),
        ("c.json", b'{"customers": 3}', "must hold a list of customers"),
        ("c.json", b"[1, 2]", "no columns found"),
        ("c.csv", b"\xff\xfe\x00bad", "c.csv:"),
    ],
)
def test_a_file_that_cannot_be_read_is_invalid_input(
    db: Database, tenant: Tenant, name: str, body: bytes, said: str
) -> None:
    with db.write() as conn, pytest.raises(InvalidInput, match=said) as refused:
        uploads.stage_draft(conn, tenant.account.id, "au", name, body, utcnow())
    assert refused.value.field == "file"
    assert isinstance(refused.value, InvalidInput | EmptyUpload)


def test_the_accounts_uploads_newest_first_a_page_at_a_time(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    now = utcnow()
    made = []
    for n in range(3):
        with db.write() as conn:
            draft = uploads.stage_draft(conn, tenant.account.id, "au", f"u{n}.csv", CSV, now)
            made.append(
                uploads.confirm_draft(
                    conn,
                    tenant.account.id,
                    "au",
                    str(draft.id),
                    DraftOptions(targets=["rego"] + ["ignore"] * 3),
                    10,
                    now,
                )
            )
    with db.read() as conn:
        first = uploads.list_page(conn, tenant.account.id, "au", offset=0, limit=2)
        second = uploads.list_page(conn, tenant.account.id, "au", offset=2, limit=2)
        theirs = uploads.list_page(conn, other_tenant.account.id, "au", offset=0, limit=2)
        with pytest.raises(UploadForbidden):
            uploads.file_errors(conn, other_tenant.account.id, "au", str(made[0].id), offset=0, limit=1)
    assert first.total == 3 and theirs.total == 0 and theirs.uploads == []
    assert [u.name for u in first.uploads + second.uploads] == ["u2.csv", "u1.csv", "u0.csv"]


def test_a_workbook_is_read_as_the_spreadsheet_shows_it(db: Database, tenant: Tenant) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["vin", "Sold", "Phone"])
    sheet.append(["1HGCM82633A004352", date(2024, 3, 1), 412345678])
    sheet["C2"].number_format = "0000000000"
    data = io.BytesIO()
    book.save(data)
    now = utcnow()
    with db.write() as conn:
        draft = uploads.stage_draft(conn, tenant.account.id, "au", "stock.xlsx", data.getvalue(), now)
        assert draft.rows == [(2, ["1HGCM82633A004352", "2024-03-01T00:00:00", "0412345678"])]
        upload = uploads.confirm_draft(
            conn,
            tenant.account.id,
            "au",
            str(draft.id),
            _mapping("vin", "sale_date", "additional_fields"),
            10,
            now,
        )
    run_jobs(db)
    with db.read() as conn:
        done = uploads.get(conn, tenant.account.id, "au", str(upload.id))
    assert (done.total_processed_customers, done.total_errors) == (1, 0)
