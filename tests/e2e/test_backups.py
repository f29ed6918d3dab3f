"""Backups restore to a database equal to the source in every table, row by row.

SQLite: `forecourt db backup FILE` (SQLite's online backup API), run as its own process
while the app takes writes; the copy is then served as it is. PostgreSQL: the command
prints the `pg_dump` to run; that dump, restored with `pg_restore` into a fresh database,
is compared table by table."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from forecourt.core.leads import routing
from forecourt.core.leads.emails import Links
from forecourt.core.notifications import service as notifications
from forecourt.db import migrate
from forecourt.db.engine import Database
from forecourt.db.models import metadata
from forecourt.kit.dates import utcnow
from tests.conftest import (
    Cli,
    Tenant,
    app_client_for,
    listing_record,
    make_tenant,
    run_jobs,
    settings_for,
)
from tests.e2e.test_workspace import csrf_of

FORECOURT_BIN = Path(sys.executable).with_name("forecourt")
BOUNDED_WAIT = 30.0  # seconds; a safety net against hangs, never an assertion about speed
VIN = "1N4AL11D16N337720"
Rows = dict[str, list[tuple[Any, ...]]]
ALEMBIC_VERSION = sa.Table(
    "alembic_version", sa.MetaData(), sa.Column("version_num", sa.String, primary_key=True)
)


def every_row(db: Database) -> Rows:
    """Every table of the schema (and Alembic's version), each row in primary-key order."""
    with db.read() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in [*metadata.sorted_tables, ALEMBIC_VERSION]
        }


def populate(db: Database, database_url: str, tmp_path: Path) -> None:
    """Rows in every table, made the way clients and the operator make them."""
    settings = settings_for(database_url, registration_lookup="file")
    registry = tmp_path / "registry.csv"
    registry.write_text(f"ABC123,VIC,{VIN}\n")
    cli = Cli(database_url)
    cli.ok("registry", "load", str(registry))
    ingest_key = cli.ok("ingest-keys", "create")["key"]
    alpha, beta = make_tenant(db, "Alpha Motors"), make_tenant(db, "Beta Cars", "nz")
    cli.ok("resources", "disable", str(beta.account.id), "listing-history")  # a paid one, say
    basic = cli.ok("keys", "create", str(alpha.account.id), "--kind", "basic")
    staff = ["--email", "jo@alpha.example", "--name", "Jo", "--role", "sales"]
    jo = cli.ok("users", "create", str(alpha.account.id), *staff)
    boss = ["--email", "boss@alpha.example", "--name", "Boss", "--role", "manager"]
    cli.ok("users", "create", str(alpha.account.id), *boss)
    cli.ok("leads", "settings", str(alpha.account.id), "--time-zone", "UTC")
    cli.ok("leads", "route", str(alpha.account.id), "--origin", "sighting", "--user", jo["id"])
    cli.ok("crm", "add", str(alpha.account.id), "--name", "CRM", "--email", "crm@alpha.example")
    recapture = {"ApiKey": alpha.api_key}
    autengo = {"X-Api-Key": alpha.api_key}

    def ok(response: httpx.Response) -> Any:
        assert response.status_code < 300, response.text
        return response.json()

    with app_client_for(settings, db) as client:
        # Jo signs in to the workspace: a session.
        signed_in = client.post(
            "/login", data={"csrf": csrf_of(client), "email": "jo@alpha.example", "password": jo["password"]}
        )
        assert signed_in.status_code == 303, signed_in.text
        # ... and uploads two files from it: one confirmed (an upload from a file), one
        # left at its preview (a draft).
        token = {"csrf": csrf_of(client, "/uploads")}
        drafts = [
            client.post("/uploads", data=token, files={"file": ("c.csv", b"rego,state\nDEF456,VIC\n")})
            for _ in range(2)
        ]
        assert [d.status_code for d in drafts] == [303, 303]
        confirmed = client.post(
            drafts[0].headers["location"], data=token | {"column-0": "rego", "column-1": "state"}
        )
        assert confirmed.status_code == 303, confirmed.text
        client.cookies.clear()
        au = {"region": "au"}
        ok(
            client.put(
                "/v2/recapture/customers",
                params=au,
                headers=recapture | {"Idempotency-Key": "k1"},
                json={"customer": {"vin": VIN, "first_name": "Jo", "email": "jo@example.org"}},
            )
        )
        ok(
            client.post(
                "/v2/recapture/upload",
                params=au,
                headers=recapture,
                json={
                    "enable_rego_lookups": True,
                    "customers": [{"rego": "ABC123", "state": "VIC"}, {"rego": "BAD", "state": "XX"}],
                },
            )
        )
        ok(
            client.post(
                "/v2/webhooks",
                params=au,
                headers=recapture,
                json={"name": "crm", "endpoint": "http://127.0.0.1:9/hook"},
            )
        )
        ok(
            client.post(
                "/ingest/v1/listings",
                headers={"Authorization": f"Bearer {ingest_key}"},
                json=[listing_record("L1", vin=VIN), listing_record("L2", plate="XYZ789", state="NSW")],
            )
        )
        ok(client.post("/v3/auth/token", headers=autengo, json={"dealerAlzuraId": 1, "userAlzuraId": 2}))
        selling_id = ok(
            client.post("/v3/vehicle", headers=autengo, json={"makeName": "Ford", "modelName": "Focus"})
        )["vehicle"]["sellingId"]
        ok(
            client.post(
                "/v3/opportunity",
                headers=autengo,
                json={
                    "sellingId": selling_id,
                    "requestText": "Still for sale?",
                    "customer": {"lastName": "Doe", "email": "doe@example.org"},
                },
            )
        )
        ok(
            client.post(
                "/ms/customer/customer/api/v1/add-update",
                headers={"Authorization": f"Basic {basic['basic_token']}"},
                json={"customer_info": {"customer_name": "Erika"}, "contact_info": [{"phone": "5551"}]},
            )
        )
        ok(
            client.post(
                "/api/batch/scraping/",
                headers={"Authorization": f"Bearer {alpha.api_key}"},
                json={"vehicles": [{"vin": VIN, "plate": "ABC123"}]},
            )
        )
        run_jobs(db, settings)  # the upload, the checks; the webhook's delivery fails and waits
        # One upload still queued: its staged rows and its job are in the backup too.
        ok(
            client.post(
                "/v2/recapture/upload", params=au, headers=recapture, json={"customers": [{"vin": VIN}]}
            )
        )

    # An email queued (email is off here; its job waits): no edge queues one yet.
    with db.write() as conn:
        notifications.queue(
            conn, alpha.account.id, "jo@alpha.example", "New lead", "A lead.", "<p>A lead.</p>", "lead:1"
        )

    # The day's lead digest (made by the sweep between 08:00 and noon, here at 09:00 UTC).
    with db.write() as conn:
        nine = datetime.combine(utcnow().date(), datetime.min.time()) + timedelta(hours=9)
        assert routing.digest(conn, alpha.account.id, nine, Links(""))

    empty = [name for name, rows in every_row(db).items() if not rows]
    assert empty == [], f"populate() left tables empty: {empty}"


# --- SQLite ------------------------------------------------------------------------------


class Writer:
    """Puts customers W00001, W00002, ... through the API, one request after another, until
    stopped; counts those answered 200."""

    def __init__(self, client: httpx.Client, tenant: Tenant) -> None:
        self.client, self.tenant = client, tenant
        self.committed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            response = self.client.put(
                "/v2/recapture/customers",
                params={"region": "au"},
                headers={"ApiKey": self.tenant.api_key},
                json={"customer": {"rego": f"W{self.committed + 1:05d}", "state": "VIC"}},
            )
            assert response.status_code == 200, response.text
            self.committed += 1

    def wait_for(self, committed: int) -> None:
        deadline = time.monotonic() + BOUNDED_WAIT
        while self.committed < committed:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                pytest.fail(f"the writer stopped at {self.committed}")
            time.sleep(0.005)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=BOUNDED_WAIT)


def written_by_writer(row: tuple[Any, ...]) -> int | None:
    """The writer's number of a tracked customer's row (its rego W00042), else None."""
    rego = row[metadata.tables["tracked_customers"].c.keys().index("rego")]
    return int(rego[1:]) if isinstance(rego, str) and rego.startswith("W") else None


def test_a_sqlite_backup_taken_while_the_app_writes_is_a_consistent_copy_that_serves(tmp_path: Path) -> None:
    source, copy = tmp_path / "forecourt.db", tmp_path / "backup" / "copy.db"
    url, copy_url = f"sqlite:///{source}", f"sqlite:///{copy}"
    migrate.upgrade(url)
    db = Database(url)
    populate(db, url, tmp_path)
    tenant = make_tenant(db, "Writer Motors")
    copy.parent.mkdir()

    # The command runs as its own process, as an operator runs it beside `forecourt serve`.
    # SQLite's default rate-limit counters, in the process: the writer changes only customers.
    with app_client_for(settings_for(url, rate_limit_storage="auto"), db) as client:
        writer = Writer(client, tenant)
        writer.wait_for(3)
        before = writer.committed
        made = subprocess.run(
            [str(FORECOURT_BIN), "--database-url", url, "db", "backup", str(copy)],
            env={k: v for k, v in os.environ.items() if not k.startswith("FORECOURT_")},
            capture_output=True,
            text=True,
            timeout=BOUNDED_WAIT,
            check=False,
        )
        after = writer.committed
        writer.wait_for(after + 3)  # and writes go on after it
        writer.finish()

    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f'{{"backup": "{copy}", "bytes": {copy.stat().st_size}}}'
    restored = Database(copy_url)
    want, got = every_row(db), every_row(restored)
    with restored.read() as conn:
        integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar()

    # A snapshot: the writer's customers up to one moment while the command ran, and every
    # other row of every table exactly as in the source.
    numbers = sorted(n for row in got["tracked_customers"] if (n := written_by_writer(row)) is not None)
    snapshot = len(numbers)
    assert numbers == list(range(1, snapshot + 1))
    assert before <= snapshot <= after + 1  # the request in flight may have committed
    later = {n for row in want["tracked_customers"] if (n := written_by_writer(row)) and n > snapshot}
    assert len(later) >= 3
    want["tracked_customers"] = [r for r in want["tracked_customers"] if written_by_writer(r) not in later]
    assert got == want
    assert integrity == "ok"

    # The copy is served as it is (`forecourt serve --database-url sqlite:///copy.db`).
    with app_client_for(settings_for(copy_url), restored) as client:
        ready = client.get("/readyz")
        listed = client.get(
            "/v2/recapture/customers",
            params={"region": "au", "limit": 100},
            headers={"ApiKey": tenant.api_key},
        )
    db.dispose()
    restored.dispose()
    assert ready.status_code == 200
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["customers"]) == min(snapshot, 100)


def test_a_sqlite_backup_never_overwrites_a_file_not_even_the_database_itself(tmp_path: Path) -> None:
    source = tmp_path / "forecourt.db"
    cli = Cli(f"sqlite:///{source}")
    cli.run("db", "upgrade")
    cli.create_account()

    result = cli.run("db", "backup", str(source))

    assert (result.exit_code, result.output) == (
        1,
        f"Error: {source} exists: remove it or name another file\n",
    )
    assert cli.ok("accounts", "list")[0]["name"] == "Alpha Motors"  # the database is intact


# --- PostgreSQL --------------------------------------------------------------------------


def _create_database(database_url: str, name: str, *, drop: bool = False) -> None:
    admin = sa.create_engine(
        make_url(database_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def test_a_pg_dump_restores_into_a_fresh_database_equal_in_every_table(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite's backup is tested above")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("PostgreSQL's client tools (pg_dump, pg_restore) are not installed")
    populate(db, database_url, tmp_path)
    dump = tmp_path / "forecourt.dump"
    with_password = make_url(database_url).set(password="s3cret").render_as_string(hide_password=False)

    advice = Cli(with_password).run("db", "backup", str(dump))
    pg_dump = next(line.strip() for line in advice.output.splitlines() if "pg_dump --format" in line)
    subprocess.run(shlex.split(pg_dump), check=True, timeout=BOUNDED_WAIT)

    restore_name = f"{make_url(database_url).database}_restore"
    restore_url = make_url(database_url).set(database=restore_name).render_as_string(hide_password=False)
    _create_database(database_url, restore_name)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restore_url}", str(dump)],
            check=True,
            timeout=BOUNDED_WAIT,
        )
        restored = Database(restore_url)
        with restored.engine.connect() as conn:
            ready = migrate.at_head(conn)
        got = every_row(restored)
        restored.dispose()
    finally:
        _create_database(database_url, restore_name, drop=True)

    assert advice.exit_code == 1 and "s3cret" not in advice.output
    assert got == every_row(db)
    assert ready  # the restored schema is the one this code needs: it can be served at once
