"""Shared fixtures: every database test runs on SQLite and, when
FORECOURT_TEST_DATABASE_URL is set, again on PostgreSQL (skipped otherwise).

HTTP tests talk to the app in-process (`http`, `app_client`: Litestar's TestClient, no
socket). Real sockets are kept for what is about the network or processes: `running_server`
(uvicorn in a thread) and `loopback_server` (an outside HTTP service on loopback)."""

from __future__ import annotations

import functools
import gc
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from click.testing import CliRunner, Result
from litestar import Litestar
from litestar.testing import TestClient

from forecourt import bootstrap
from forecourt.api.recapture.schemas import event_body
from forecourt.cli.main import app
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.schemas import Account
from forecourt.core.customers import service as customers
from forecourt.core.customers.schemas import Batch, Customer, CustomerFields
from forecourt.core.leads import service as leads
from forecourt.core.listings import service as listings
from forecourt.core.listings.schemas import IngestReport, ListingFields
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db import migrate
from forecourt.db.engine import Database
from forecourt.db.models import leads as leads_table
from forecourt.db.models import metadata
from forecourt.kit.dates import utcnow
from forecourt.kit.vehicles import Region
from tests.smtp import Mailbox

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


# Children before parents, so that foreign keys never stand in the way of a DELETE.
_TABLES = tuple(reversed(metadata.sorted_tables))
# One round trip finds the tables that hold rows (a test writes to a few of the ~25).
_NON_EMPTY = sa.text(
    " UNION ALL ".join(
        f"SELECT {n} AS n WHERE EXISTS (SELECT 1 FROM {t.name})" for n, t in enumerate(_TABLES)
    )
)


@pytest.fixture
def db(session_db: Database) -> Database:
    """The session database, emptied before each test (only the tables that hold rows are
    touched: DELETE of a few small tables is cheaper than TRUNCATE on PostgreSQL)."""
    with session_db.write() as conn:
        for n in sorted(conn.scalars(_NON_EMPTY)):
            conn.execute(_TABLES[n].delete())
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


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """An HTTP service on loopback (a stand-in for something outside Forecourt) serving
    `handler` in a thread; shut down at once afterwards (polled every 10 ms, not 0.5 s)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def loopback_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


# The tests' webhook receivers listen on loopback, which a tenant may not point at unless
# the operator allows it (tests/e2e/test_webhook_destinations.py tests the refusals).
LOOPBACK = "127.0.0.0/8"


def settings_for(database_url: str, **overrides: Any) -> Settings:
    # Rate limits counted in the database on both backends, so that the `db` fixture
    # starts each test with full budgets (SQLite's default keeps them in the process).
    values: dict[str, Any] = {
        "max_body_bytes": TEST_MAX_BODY_BYTES,
        "webhook_allowed_networks": LOOPBACK,
        "rate_limit_storage": "database",
    }
    return Settings(database_url=database_url, **(values | overrides))


TEST_BASE_URL = "http://testserver.local"


@contextmanager
def in_process(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """An HTTP client calling `app` in-process (its startup and shutdown hooks run around
    it); relative URLs work. Redirects are not followed, as by a plain httpx.Client."""
    with TestClient(app, base_url=TEST_BASE_URL, timeout=10) as client:
        client.follow_redirects = False
        yield client


@functools.cache
def app_for(settings: Settings, db: Database) -> Litestar:
    """The composition root's app, made once per settings and database: making one takes
    tens of milliseconds, and these apps have no startup hooks and keep nothing between
    requests but the database, the settings and the adapters (HTTP clients; no test's
    app uses the `http` lookup, whose circuit breaker would carry state). An app object
    runs one lifespan at a time: serve it from one client at once."""
    return bootstrap.app(settings, db)


@contextmanager
def app_client_for(settings: Settings, db: Database) -> Iterator[TestClient[Litestar]]:
    """An in-process client of the app with these settings, over `db`."""
    with in_process(app_for(settings, db)) as client:
        yield client


@pytest.fixture(scope="session")
def app_client(session_db: Database, database_url: str) -> Iterator[TestClient[Litestar]]:
    """The app with the test settings over the session database (no embedded worker),
    in-process, for the whole session."""
    with app_client_for(settings_for(database_url), session_db) as client:
        yield client


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
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server's record of what it received (tests/smtp.py); whatever it holds
    back is let go when the test ends."""
    found = Mailbox()
    yield found
    found.release.set()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def run_jobs(db: Database, settings: Settings | None = None, clock: MovableClock | None = None) -> int:
    """Run due jobs in this process until none is left, as a worker would (at the
    clock's time, the real one by default); returns how many."""
    settings = settings or Settings(webhook_allowed_networks=LOOPBACK)
    worker = bootstrap.worker(settings, db, bootstrap.adapters(settings, db, clock))
    ran = 0
    while worker.run_once():
        ran += 1
    return ran


@pytest.fixture
def http(app_client: TestClient[Litestar], db: Database) -> Iterator[httpx.Client]:
    """An HTTP client of the test app; the database is empty at the start. The client is
    shared by the session: what a test changed on it (headers, cookies) is undone after."""
    headers = app_client.headers.copy()
    yield app_client
    app_client.headers = headers
    app_client.cookies.clear()


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


# A VIN whose check digit holds (a Nissan): the tests' tracked vehicle.
VIN = "1N4AL11D16N337720"


def save_customer(db: Database, account_id: UUID, region: Region = "au", **fields: Any) -> Customer:
    """A tracked customer of the account, put in-process as the Recapture API does."""
    with db.write() as conn:
        record = customers.validate(CustomerFields(**fields), region)
        return customers.put(conn, event_body, account_id, region, Batch([record]))


def make_user(
    db: Database,
    account_id: UUID,
    email: str = "sam@dealer.example",
    name: str = "Sam",
    role: str = "sales",
    password: str | None = None,
) -> User:
    """A staff user of the account (a salesperson unless told), made in-process."""
    with db.write() as conn:
        return users.create_user(conn, users.check_new_user(account_id, email, name, role), password).user


def open_lead(
    db: Database,
    account_id: UUID,
    at: datetime | None = None,
    origin: str = "enquiry",
    message: str | None = None,
    party_id: int | None = None,
    **values: Any,
) -> UUID:
    """A lead of the account opened `at` (now by default); `values` then set on its row
    as they are (assignee_id, status, first_actioned_at...: no events, no emails)."""
    with db.write() as conn:
        lead_id = leads.open_one(conn, account_id, origin, at or utcnow(), message=message, party_id=party_id)
        if values:
            conn.execute(sa.update(leads_table).where(leads_table.c.id == lead_id).values(**values))
    return lead_id


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
        created: dict[str, Any] = self.ok("accounts", "create", "--name", name, "--region", region)
        return created


@pytest.fixture
def cli(db: Database, database_url: str) -> Cli:
    """A CLI pointed at the test database, which `db` has just emptied."""
    return Cli(database_url)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The cyclic garbage collector took several seconds a run walking the same long-lived
    objects: what is imported and collected by now lives for the whole session, so it is
    frozen out of the collector's passes, and young objects are collected less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
