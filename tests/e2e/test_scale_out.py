"""Scale-out on one PostgreSQL (docs/deployment.md): `forecourt serve --processes 2` with no
worker of its own, and worker-only processes totalling three (`forecourt worker
--concurrency 2` and a plain `forecourt worker`), as separate machines would run them.
Through them go three uploads (Recapture API, several chunks each), a listing feed posted
in concurrent batches (/ingest/v1/listings) that matches some of the uploaded customers,
and the webhook deliveries those matches make, to a receiver on loopback. Afterwards
nothing is lost or duplicated: every customer once, every sighting and its lead once,
every webhook event received once per subscription, and every job done in one attempt.

Real processes, nothing patched; waits are bounded polls (a safety net, never a timing
assertion). With FORECOURT_TEST_PGBOUNCER_URL set (a PgBouncer in transaction mode in front
of the test database), the API and worker processes connect through it, with prepared
statements off (docs/deployment.md); the test's own reads go straight to PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database
from forecourt.db.models import jobs, leads, listings, sightings, tracked_customers, webhook_deliveries
from forecourt.jobs import queue
from tests.conftest import LOOPBACK, Tenant, listing_record, loopback_server, loopback_url, make_tenant
from tests.e2e.test_serve_process import BOUNDED_WAIT, FORECOURT_BIN, ServeProcess, _env, serving

UPLOAD = "/v2/recapture/upload"
CHUNK_ROWS = 40  # each upload spans several chunks (transactions), so workers interleave
CUSTOMERS = 400  # per upload
LISTINGS = 300
BATCH = 25  # listings per feed request
SETTINGS = {
    "FORECOURT_UPLOAD_CHUNK_ROWS": str(CHUNK_ROWS),
    "FORECOURT_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK,
    "FORECOURT_EMBEDDED_WORKER": "false",  # the API machines run no jobs
}


PGBOUNCER_ENV = "FORECOURT_TEST_PGBOUNCER_URL"


@pytest.fixture
def postgresql(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL the processes use (the test database, or a PgBouncer in front of it) and
    their settings."""
    if database_url.startswith("sqlite"):
        pytest.skip(
            "scale-out is several machines over one PostgreSQL; on SQLite (one machine) "
            "tests/e2e/test_serve_processes.py runs several processes"
        )
    pooled = os.environ.get(PGBOUNCER_ENV)
    if pooled:
        return pooled, SETTINGS | {"FORECOURT_DATABASE_PREPARED_STATEMENTS": "false"}
    return database_url, SETTINGS


class Receiver:
    """A webhook endpoint on loopback recording what it is sent (thread-safe: the three
    workers deliver at once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, dict[str, Any]]] = []  # (path, webhook-id, body)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.received.append((self.path, self.headers["webhook-id"], body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.handler = Handler

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def worker(
    tmp_path: Path, database_url: str, settings: dict[str, str], name: str, *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A `forecourt worker` process (SIGTERM at the end must drain it and exit 0)."""
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(FORECOURT_BIN), "--database-url", database_url, "worker", *args],
            env=_env() | settings,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=BOUNDED_WAIT) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait_for(condition: Callable[[], bool], what: str, server: ServeProcess) -> None:
    deadline = time.monotonic() + BOUNDED_WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{server.log}")
        time.sleep(0.05)


def _customers(tag: str, shared: bool) -> list[dict[str, Any]]:
    """A customer list; with `shared`, vehicles `SHnnnn` on it are on the other shared list
    too (two dealers know the car)."""
    rows = []
    for n in range(CUSTOMERS):
        rego = f"SH{n:04d}" if shared and n % 10 == 0 else f"{tag}{n:04d}"
        rows.append({"rego": rego, "state": "VIC", "external_id": f"{tag}-{n}"})
    return rows


def _listing(n: int) -> dict[str, Any]:
    """A listing; every third names a car that may be on a list (a shared one, or one of
    list A's or B's): which ones are is worked out from the lists."""
    if n % 3:
        plate = f"ZZ{n:04d}"  # on no list
    elif n % 2 == 0:
        plate = f"SH{n % CUSTOMERS:04d}"
    else:
        plate = f"{'A' if n % 4 == 1 else 'B'}{n * 7 % CUSTOMERS:04d}"
    return listing_record(f"L{n}", plate=plate, state="VIC")


def test_two_api_processes_and_three_workers_lose_and_repeat_nothing(
    tmp_path: Path, postgresql: tuple[str, dict[str, str]], db: Database
) -> None:
    database_url, settings = postgresql
    alpha, beta = make_tenant(db, "Alpha Motors"), make_tenant(db, "Beta Cars")
    with db.write() as conn:
        ingest_key = accounts.issue_ingest_key(conn)
    receiver = Receiver()
    # Alpha uploads two lists, Beta one; Alpha's list A and Beta's share some vehicles.
    lists = {
        "A": (alpha, _customers("A", shared=True)),
        "B": (alpha, _customers("B", shared=False)),
        "C": (beta, _customers("C", shared=True)),
    }

    with ExitStack() as stack:
        hooks = stack.enter_context(loopback_server(receiver.handler))
        server = stack.enter_context(
            serving(tmp_path, database_url=database_url, env=settings | {"FORECOURT_PROCESSES": "2"})
        )
        stack.enter_context(worker(tmp_path, database_url, settings, "workers", "--concurrency", "2"))
        stack.enter_context(worker(tmp_path, database_url, settings, "worker"))
        server.wait_healthy()
        client = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=30))

        def auth(tenant: Tenant) -> dict[str, Any]:
            return {"params": {"region": "au"}, "headers": {"ApiKey": tenant.api_key}}

        # Alpha has two webhooks (two subscriptions to each event), Beta one.
        subscriptions = {}
        for tenant, name in ((alpha, "crm"), (alpha, "dms"), (beta, "crm")):
            body = {
                "name": name,
                "format": "json",
                "endpoint": f"{loopback_url(hooks)}/{tenant.account.id}/{name}",
            }
            created = client.post("/v2/webhooks", json=body, **auth(tenant))
            assert created.status_code == 200, created.text
            subscriptions[f"/{tenant.account.id}/{name}"] = tenant

        # Three uploads at once, one job each: three workers may run them side by side.
        upload_ids = {}
        for tag, (tenant, rows) in lists.items():
            posted = client.post(UPLOAD, json={"customers": rows, "name": tag}, **auth(tenant))
            assert posted.status_code == 202, posted.text
            upload_ids[tag] = posted.json()["upload"]["id"]

        def uploads_done() -> bool:
            return all(
                client.get(f"{UPLOAD}/{upload_ids[tag]}", **auth(tenant)).json()["upload"]["status"]
                == "completed"
                for tag, (tenant, _) in lists.items()
            )

        _wait_for(uploads_done, "the uploads to complete", server)

        # The feed, in concurrent batches over both API processes (a connection each).
        records = [_listing(n) for n in range(LISTINGS)]

        def post(batch: list[dict[str, Any]]) -> dict[str, Any]:
            response = httpx.post(
                f"{server.base_url}/ingest/v1/listings",
                json=batch,
                headers={"Authorization": f"Bearer {ingest_key}", "Connection": "close"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            report: dict[str, Any] = response.json()
            return report

        with ThreadPoolExecutor(4) as pool:
            reports = list(pool.map(post, [records[i : i + BATCH] for i in range(0, LISTINGS, BATCH)]))
        assert sum(r["created"] for r in reports) == LISTINGS
        assert sum(r["rejected"] for r in reports) == 0

        # Which sightings the feed must make: (account, customer's external id, listing).
        expected: set[tuple[str, str, str]] = set()
        for record in records:
            for tenant, rows in lists.values():
                expected |= {
                    (str(tenant.account.id), row["external_id"], record["source_id"])
                    for row in rows
                    if row["rego"] == record["plate"]
                }
        assert {account for account, *_ in expected} == {str(alpha.account.id), str(beta.account.id)}
        assert sum(r["sightings"] for r in reports) == len(expected)
        # Each sighting is an event to every webhook of its account.
        events_expected = sum(
            1
            for tenant in subscriptions.values()
            for account, *_ in expected
            if account == str(tenant.account.id)
        )

        def settled() -> bool:
            with db.read() as conn:
                busy = conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(jobs)
                    .where(jobs.c.state.in_([queue.QUEUED, queue.RUNNING]), jobs.c.kind != "leads.sweep")
                )
            return receiver.count() >= events_expected and busy == 0

        _wait_for(settled, f"{events_expected} webhook deliveries and every job done", server)
        assert server.terminate() == 0, server.log
    # (Leaving the ExitStack drained both workers with SIGTERM; each exited 0.)

    with db.read() as conn:
        # Every customer once (no vehicle is on two lists of one account).
        stored = conn.execute(
            sa.select(
                tracked_customers.c.account_id,
                tracked_customers.c.rego,
                tracked_customers.c.state,
                tracked_customers.c.external_id,
            )
        ).all()
        made = conn.execute(
            sa.select(
                sightings.c.account_id,
                tracked_customers.c.external_id,
                sightings.c.listing_id,
                sightings.c.lead_id,
            ).join(tracked_customers, tracked_customers.c.id == sightings.c.customer_id)
        ).all()
        listing_ids = {
            row.id: row.source_id for row in conn.execute(sa.select(listings.c.id, listings.c.source_id))
        }
        lead_rows = conn.execute(sa.select(leads.c.id, leads.c.tracked_customer_id, leads.c.listing_id)).all()
        delivery_rows = conn.execute(
            sa.select(webhook_deliveries.c.id, webhook_deliveries.c.status, webhook_deliveries.c.attempts)
        ).all()
        job_rows = conn.execute(sa.select(jobs.c.kind, jobs.c.state, jobs.c.attempts)).all()

    assert sorted((str(r.account_id), r.rego, r.state, r.external_id) for r in stored) == sorted(
        (str(tenant.account.id), row["rego"], row["state"], row["external_id"])
        for tenant, rows in lists.values()
        for row in rows
    )

    # Every sighting once, each with a lead of its own, and every lead from one sighting.
    assert sorted((str(a), ext, listing_ids[lid]) for a, ext, lid, _ in made) == sorted(expected)
    assert len({lead for *_, lead in made}) == len(made) == len(lead_rows)
    assert {lead for *_, lead in made} == {row.id for row in lead_rows}

    # Every event once per subscription: each delivery id received once, for the right
    # webhook, and the events of each webhook are its account's sightings, each once.
    received = receiver.received
    assert len(received) == events_expected
    assert len({webhook_id for _, webhook_id, _ in received}) == len(received)
    assert all(body["id"] == webhook_id for _, webhook_id, body in received)
    assert all(body["type"] == "recapture_new" for *_, body in received)
    for path, tenant in subscriptions.items():
        account = str(tenant.account.id)
        leads_heard = sorted(body["lead_id"] for p, _, body in received if p == path)
        assert leads_heard == sorted(str(lead) for a, _, _, lead in made if str(a) == account)
    assert sorted(str(row.id) for row in delivery_rows) == sorted(w for _, w, _ in received)
    assert {(row.status, row.attempts) for row in delivery_rows} == {("delivered", 1)}

    # No job left unfinished or run twice; only the routing sweep's next run waits (it
    # queues itself a minute ahead).
    kinds = {kind for kind, _, _ in job_rows}
    assert {"uploads.process", "webhooks.deliver", "leads.route"} <= kinds
    for kind, state, attempts in job_rows:
        if kind == "leads.sweep":
            assert (state, attempts) == (queue.QUEUED, 0)
        else:
            assert (kind, state, attempts) == (kind, queue.DONE, 1)
