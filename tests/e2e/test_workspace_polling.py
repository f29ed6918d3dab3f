"""The parts of the workspace that htmx polls follow one rule (web/live.py): an upload's
progress, like the leads' live inbox and Today's uploads, is answered 286 once half the
idle timeout has passed since its page was opened, and says so; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from forecourt.db.engine import Database
from tests.e2e.test_workspace import client, csrf_of, make_user, sign_in


@pytest.fixture
def web(db: Database, database_url: str) -> Iterator[TestClient[Litestar]]:
    make_user(db)
    with client(db, database_url, session_idle_minutes=60) as c:
        assert sign_in(c).status_code == 303
        yield c


def _running_upload(web: TestClient[Litestar]) -> str:
    token = csrf_of(web, "/uploads")
    sent = web.post("/uploads", data={"csrf": token}, files={"file": ("c.csv", b"rego,state\nABC123,VIC\n")})
    draft = sent.headers["location"]
    confirmed = web.post(draft, data={"csrf": token, "column-0": "rego", "column-1": "state"})
    assert confirmed.status_code == 303
    return str(confirmed.headers["location"])  # no worker runs here: it stays queued


def test_an_upload_left_open_stops_polling_after_half_the_idle_timeout(web: TestClient[Litestar]) -> None:
    upload = _running_upload(web)
    shown = web.get(upload)
    assert shown.status_code == 200 and f'hx-get="{upload}/progress?opened=' in shown.text
    now = datetime.now(UTC).replace(tzinfo=None)
    fresh = web.get(f"{upload}/progress", params={"opened": now.isoformat()})
    assert fresh.status_code == 200 and "hx-get=" in fresh.text
    old = web.get(f"{upload}/progress", params={"opened": (now - timedelta(minutes=31)).isoformat()})
    assert old.status_code == 286
    assert "hx-get=" not in old.text and "No longer updated while the page is left alone." in old.text
    for bad in ("", "yesterday", now.isoformat() + "+00:00"):
        refused = web.get(f"{upload}/progress", params={"opened": bad})
        assert refused.status_code == 400 and "Check this field: opened" in refused.text
