"""The workspace's uploads over HTTP, in-process (tests/browser/test_uploads.py drives
them in chromium): a 100k-row file goes through the form although the app's body limit
is far smaller; forms without a file, with a mapping that cannot be used, or without the
CSRF token; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from forecourt.config import Settings
from forecourt.core.uploads import service as uploads
from forecourt.db.engine import Database
from tests.conftest import TEST_MAX_BODY_BYTES
from tests.e2e.test_workspace import client, csrf_of, make_user, sign_in

_DRAFT = re.compile(r"^/uploads/drafts/([0-9a-f-]{36})$")


@pytest.fixture
def web(db: Database, database_url: str) -> Iterator[TestClient[Litestar]]:
    make_user(db)
    with client(db, database_url) as c:
        assert sign_in(c).status_code == 303
        yield c


def _send(web: TestClient[Litestar], name: str, body: bytes) -> str:
    answer = web.post("/uploads", data={"csrf": csrf_of(web, "/uploads")}, files={"file": (name, body)})
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    assert _DRAFT.match(location)
    return location


def test_a_100k_row_csv_goes_through_the_form(web: TestClient[Litestar], db: Database) -> None:
    body = ("rego,state,external_id\n" + "".join(f"R{n:06d},VIC,E{n}\n" for n in range(100_000))).encode()
    assert len(body) > max(TEST_MAX_BODY_BYTES, Settings().max_body_bytes)  # the limit of other requests
    draft = _send(web, "everyone.csv", body)
    preview = web.get(draft)
    assert preview.status_code == 200 and "100,000 rows." in preview.text
    token = csrf_of(web, draft)
    answer = web.post(
        draft, data={"csrf": token, "column-0": "rego", "column-1": "state", "column-2": "external_id"}
    )
    assert answer.status_code == 303
    upload_id = answer.headers["location"].rsplit("/", 1)[1]
    page = web.get(f"/uploads/{upload_id}")
    assert page.status_code == 200 and "Processed 0 of 100,000 customers" in page.text
    with db.read() as conn:
        found = uploads.list_page(
            conn, make_user(db, email="x@dealer.example").account_id, "au", offset=0, limit=1
        )
    assert [u.id for u in found.uploads] == [UUID(upload_id)]
    assert found.uploads[0].total_uploaded_customers == 100_000


def test_forms_that_cannot_be_used_come_back_with_the_reason(web: TestClient[Litestar]) -> None:
    token = csrf_of(web, "/uploads")
    for sent in [
        {"data": {"csrf": token}},  # no file chosen (urlencoded)
        {"data": {"csrf": token}, "files": {"file": ("", b"")}},  # an empty file field
    ]:
        answer = web.post("/uploads", **sent)  # type: ignore[arg-type]
        assert answer.status_code == 400 and "Choose a file to upload." in answer.text

    draft = _send(web, "c.csv", b"rego,state\nABC123,VIC\n")
    for form, said in [
        ({"column-0": "rego", "column-1": "bogus"}, "&#39;bogus&#39; is not a customer field"),
        ({"column-0": "state", "column-1": "state"}, "state is chosen for two columns"),
        ({"column-0": "rego"}, "a choice for each of the 2 columns"),
        ({"column-0": "rego", "column-1": "state", "monitor_start_date": "soon"}, "monitor_start_date"),
    ]:
        answer = web.post(draft, data={"csrf": token, **form})
        assert answer.status_code == 400, answer.text
        assert "The upload could not start" in answer.text and said in answer.text
    assert web.get("/uploads/drafts/" + "0" * 36).status_code == 404
    assert web.get("/uploads/drafts/nonsense").status_code == 404
    for bad in ("0", "-1", "abc", "²", "9" * 5000, "1.5"):
        answer = web.get("/uploads", params={"page": bad})
        assert answer.status_code == 400 and "page must be a whole number from 1" in answer.text
    assert web.get("/uploads/" + "0" * 36 + "?page=x").status_code == 404  # no such upload first


def test_an_upload_form_without_its_csrf_token_is_refused(web: TestClient[Litestar]) -> None:
    answer = web.post("/uploads", files={"file": ("c.csv", b"rego,state\nABC123,VIC\n")})
    assert answer.status_code == 403 and "This form has expired" in answer.text
