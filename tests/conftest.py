"""Shared fixtures: every database test runs on SQLite and, when
FORECOURT_TEST_DATABASE_URL is set, again on PostgreSQL (skipped otherwise)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from click.testing import CliRunner, Result
from litestar import Litestar

from forecourt import bootstrap
from forecourt.api.recapture.schemas import event_body
from forecourt.cli.main import app
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.schemas import Account
from forecourt.core.listings import service as listings
from forecourt.core.listings.schemas import IngestReport, ListingFields
from forecourt.db import migrate
from forecourt.db.engine import Database
from forecourt.db.models import metadata
from forecourt.kit.dates import utcnow

PG_ENV = "FORECOURT_TEST_DATABASE_URL"

# A `forecourt` command (its arguments after two file paths) with one more job kind,
# test.slow: it writes the first file when it starts and finishes once the second
# exists. For tests of draining on SIGTERM.
DRAIN_SCRIPT = """
import sys, time
from pathlib import Path
from forecourt.jobs.worker import task
from forecourt.cli.main import app

started, go = Path(sys.argv[1]), Path(sys.argv[2])

@task("test.slow")
def slow(ctx):
    started.write_text(str(ctx.job.id))
    deadline = time.monotonic() + 30
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not go.exists():
        raise RuntimeError("never told to go on")

app(sys.argv[3:])
"""
TEST_MAX_BODY_BYTES = 256 * 1024


def _reset_postgres(url: str) -> None:
    engine = Database(url).engine
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly migrated database per backend for the whole session."""
    if request.param == "postgresql":
        url = os.environ.get(PG_ENV)
        if not url:
            pytest.skip(f"{PG_ENV} is not set")
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'forecourt.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def session_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def db(session_db: Database) -> Database:
    """The session database, emptied before each test."""
    with session_db.write() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    return session_db


@dataclass(frozen=True)
class Tenant:
    account: Account
    api_key: str


def make_tenant(db: Database, name: str, region: str = "au") -> Tenant:
    with db.write() as conn:
        account, key = accounts.create_account(conn, name, region)
    return Tenant(account, key.api_key)


@pytest.fixture
def tenant(db: Database) -> Tenant:
    return make_tenant(db, "Alpha Motors")


@pytest.fixture
def other_tenant(db: Database) -> Tenant:
    return make_tenant(db, "Beta Cars")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(app: Litestar) -> Iterator[str]:
    """A real uvicorn server on loopback in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def settings_for(database_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, max_body_bytes=TEST_MAX_BODY_BYTES, **overrides)


@pytest.fixture(scope="session")
def server_url(session_db: Database, database_url: str) -> Iterator[str]:
    """The test server, serving the session database (no embedded worker)."""
    with running_server(bootstrap.app(settings_for(database_url), session_db)) as url:
        yield url


class MovableClock:
    """The real time, moved forward by the test (`sleep` moves it too), so backoff, leases
    and cool-downs pass without waiting, and what was stamped with the real time (a job
    enqueued by a request) is never in this clock's future."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def now(self) -> datetime:
        return utcnow() + self.ahead

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.ahead += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def run_jobs(db: Database, settings: Settings | None = None, clock: MovableClock | None = None) -> int:
    """Run due jobs in this process until none is left, as a worker would (at the
    clock's time, the real one by default); returns how many."""
    settings = settings or Settings()
    worker = bootstrap.worker(settings, db, bootstrap.adapters(settings, db, clock))
    ran = 0
    while worker.run_once():
        ran += 1
    return ran


@pytest.fixture
def http(server_url: str, db: Database) -> Iterator[httpx.Client]:
    """An HTTP client for the test server; the database is empty at the start."""
    with httpx.Client(base_url=server_url, timeout=10) as client:
        yield client


def put_customer(
    http: httpx.Client, tenant: Tenant, customer: dict[str, Any], region: str = "au"
) -> dict[str, Any]:
    """Create (or update) a customer through the Recapture API; returns it."""
    response = http.put(
        "/v2/recapture/customers",
        params={"region": region},
        headers={"ApiKey": tenant.api_key},
        json={"customer": customer},
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["customer"]
    return found


def listing_record(source_id: str = "L1", **fields: Any) -> dict[str, Any]:
    """A marketplace listing as a feed sends it: plausible values, `fields` over them."""
    return {
        "source": "carsales",
        "source_id": source_id,
        "region": "au",
        "url": f"https://www.carsales.com.au/cars/details/{source_id}/",
        "title": "2019 Toyota Camry Ascent Sport",
        "price": 28500,
        "seller_type": "private",
        "listed_at": "2022-08-15T14:23:01Z",
    } | fields


def ingest_listings(db: Database, *records: dict[str, Any]) -> IngestReport:
    """Ingest listing records as one batch, in-process."""
    with db.write() as conn:
        return listings.ingest(
            conn, event_body, [(n, ListingFields(**r)) for n, r in enumerate(records, start=1)]
        )


class Cli:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.runner = CliRunner()

    def run(self, *args: str) -> Result:
        return self.runner.invoke(app, ["--database-url", self.database_url, *args])

    def ok(self, *args: str) -> Any:
        """Run a command that must succeed and print exactly one JSON document."""
        result = self.run(*args)
        assert result.exit_code == 0, (result.output, result.exception)
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1, result.stdout
        return json.loads(lines[0])

    def create_account(self, name: str = "Alpha Motors", region: str = "au") -> dict[str, Any]:
        return self.ok("accounts", "create", "--name", name, "--region", region)  # type: ignore[no-any-return]


@pytest.fixture
def cli(db: Database, database_url: str) -> Cli:
    """A CLI pointed at the test database, which `db` has just emptied."""
    return Cli(database_url)
