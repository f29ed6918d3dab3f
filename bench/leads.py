"""Leads benchmark: one listing batch opens `--leads` leads at once; how long a worker takes
to route them all and send what they set off (assignment emails over SMTP, CRM
deliveries), against the time the batch itself took to ingest, in the same run.

    .venv/bin/python bench/leads.py                       # 10,000 leads, SQLite
    .venv/bin/python bench/leads.py --reset-schema \
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Setup (not timed): a fresh database; one account with `--sales` sales users and a
manager, `--leads` tracked customers (each with a VIN), a CRM target that takes ADF by
email (unless `--no-crm`); an SMTP server (aiosmtpd) on loopback in this process that
counts what it receives; then `forecourt worker` in its own process, polling every 50 ms.

Timed:
- ingest (the reference): one batch of `--leads` listings, each of a tracked vehicle,
  ingested in this process as the listing API does it (`listings.ingest`, one
  transaction): matching, sightings, the leads opened and their jobs queued.
- catch-up: from that commit until every lead has an assignee, and until no job is
  left due (every email sent, every delivery made); the emails counted at the server.

"Keeps up" means the catch-up takes no longer than the ingest: a feed that brings leads
as fast as Forecourt can take them never leaves a growing queue of unrouted leads. The
machine is shared and noisy: read the ratio, not the absolute times.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

sys.path.insert(0, str(Path(__file__).parent))
from upload import (
    backend_of,
    backend_version,
    forecourt_env,
    free_port,
    log,
    prepare_database,
    source_revision,
    workspace,
)

from forecourt.api.recapture.schemas import event_body
from forecourt.core.accounts import service as accounts
from forecourt.core.listings import service as listings
from forecourt.core.listings.schemas import ListingFields
from forecourt.core.users import service as users
from forecourt.db import bulk
from forecourt.db.engine import Database
from forecourt.db.models import jobs, leads, tracked_customers
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_ids

POLL = 0.05
CRM_INBOX = "leads@dms.bench.example"
DEADLINE = 1800.0  # a safety net against a worker that never catches up


class Counter:
    """An SMTP handler that counts the messages it is given, the CRM's apart from the
    staff's, and notes when the last of each arrived."""

    def __init__(self) -> None:
        self.received = {"staff": 0, "crm": 0}
        self.last = {"staff": 0.0, "crm": 0.0}  # time.perf_counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        with self.lock:
            for to in envelope.rcpt_tos:
                kind = "crm" if to == CRM_INBOX else "staff"
                self.received[kind] += 1
                self.last[kind] = time.perf_counter()
        return "250 OK"


@contextlib.contextmanager
def smtp_server(handler: Any = None) -> Iterator[tuple[Any, int]]:
    """An SMTP server on loopback in this process, with `handler` (default: a Counter)."""
    counter = Counter() if handler is None else handler
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield counter, port
    finally:
        controller.stop()


def vin(i: int) -> str:
    return f"5YJSA1E2{i:09d}"  # 17 characters, none of I, O, Q


def seed(db: Database, n_leads: int, n_sales: int) -> Any:
    """An account with its staff and its tracked customers."""
    with db.write() as conn:
        account, _ = accounts.create_account(conn, "Bench Motors", "au")
        for n in range(n_sales):
            new = users.check_new_user(account.id, f"sales{n}@bench.example", f"Sales {n}", "sales")
            users.create_user(conn, new, "a long enough password")
        manager = users.check_new_user(account.id, "manager@bench.example", "Manager", "manager")
        users.create_user(conn, manager, "a long enough password")
        now = utcnow()
        bulk.insert_columns(
            conn,
            tracked_customers,
            {
                "id": new_ids(n_leads),
                "account_id": bulk.Same(account.id),
                "region": bulk.Same("au"),
                "vin": [vin(i) for i in range(n_leads)],
                "external_id": [f"CUST-{i}" for i in range(n_leads)],
                "additional_fields": bulk.Same({"first_name": "Alex", "last_name": "Taylor"}),
                "created_at": bulk.Same(now),
                "last_updated": bulk.Same(now),
            },
        )
    return account


def add_crm_target(url: str, account_id: Any) -> bool:
    """An ADF-by-email target, through the CLI, when this code has one."""
    command = [sys.executable, "-m", "forecourt", "--database-url", url, "crm", "add", str(account_id)]
    result = subprocess.run(
        [*command, "--name", "DMS inbox", "--email", CRM_INBOX],
        env=forecourt_env(),
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def batch(n: int) -> list[tuple[int, ListingFields]]:
    return [
        (
            i + 1,
            ListingFields(
                source="carsales",
                source_id=f"CS-{i}",
                region="au",
                url=f"https://www.carsales.com.au/cars/details/CS-{i}/",
                title="2021 Tesla Model 3",
                price=41_990,
                seller_type="private",
                vin=vin(i),
                listed_at="2026-11-30T09:30:00Z",
            ),
        )
        for i in range(n)
    ]


def counts(db: Database, account_id: Any) -> tuple[int, int, int]:
    """(leads, leads assigned, jobs due or running)."""
    with db.read() as conn:
        made, assigned = conn.execute(
            sa.select(sa.func.count(), sa.func.count(leads.c.assignee_id)).where(
                leads.c.account_id == account_id
            )
        ).one()
        due = conn.scalar(
            sa.select(sa.func.count())
            .select_from(jobs)
            .where(
                sa.or_(
                    sa.and_(jobs.c.state == "queued", jobs.c.run_after <= utcnow()),
                    jobs.c.state == "running",
                )
            )
        )
    return int(made), int(assigned), int(due or 0)


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    db = Database(url)
    try:
        log(f"seeding an account with {args.sales} sales users and {args.leads:,} tracked customers")
        account = seed(db, args.leads, args.sales)
        has_crm = args.crm and add_crm_target(url, account.id)
        records = batch(args.leads)
        with smtp_server() as (mailbox, port):
            env = forecourt_env(
                {
                    "FORECOURT_SMTP_URL": f"smtp://127.0.0.1:{port}",
                    "FORECOURT_MAIL_FROM": "leads@forecourt.bench.example",
                    "FORECOURT_WORKER_POLL_SECONDS": str(POLL),
                    "FORECOURT_LOG_LEVEL": "warning",
                }
            )
            worker = subprocess.Popen(
                [sys.executable, "-m", "forecourt", "--database-url", url, "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=None,  # its errors, if any, on this terminal
            )
            try:
                time.sleep(1.0)  # the worker's start-up (imports), not timed
                log(f"ingesting one batch of {args.leads:,} listings of tracked vehicles")
                started = time.perf_counter()
                with db.write() as conn:
                    report = listings.ingest(conn, event_body, records)
                committed = time.perf_counter()
                assigned_at = drained_at = None
                while drained_at is None:
                    if worker.poll() is not None:
                        raise SystemExit(f"forecourt worker exited with {worker.returncode}")
                    if time.perf_counter() - committed > DEADLINE:
                        raise SystemExit("the worker did not catch up within the deadline")
                    made, assigned, due = counts(db, account.id)
                    now = time.perf_counter()
                    if assigned_at is None and made and assigned == made:
                        assigned_at = now
                    if due == 0 and (assigned_at is not None or now - committed > args.give_up_after):
                        drained_at = now  # all done, or nothing is left to route the rest
                    time.sleep(POLL)
            finally:
                worker.terminate()
                worker.wait(timeout=60)
            emails = dict(mailbox.received)
            last = {kind: at - committed if at else None for kind, at in mailbox.last.items()}
        return {
            "leads": made,
            "sightings": report.sightings,
            "ingest": committed - started,
            "assigned": None if assigned_at is None else assigned_at - committed,
            "assigned_leads": assigned,
            "drained": drained_at - committed,
            "emails": emails,
            "last_email": last,
            "crm": has_crm,
        }
    finally:
        db.dispose()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--sales", type=int, default=10, help="sales users to route among")
    parser.add_argument(
        "--no-crm", dest="crm", action="store_false", help="no CRM target: routing and staff emails alone"
    )
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--reset-schema", action="store_true", help="DROP the PostgreSQL schema first")
    parser.add_argument(
        "--give-up-after", type=float, default=10.0, help="seconds with leads unassigned and no job due"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        result = run(args, url)
        report(args, result, f"{backend} {backend_version(url, backend)}")


def report(args: argparse.Namespace, result: dict[str, Any], database: str) -> None:
    leads_made = result["leads"]

    def pace(seconds: float) -> str:
        return f"{seconds:7.2f} s  {leads_made / seconds:,.0f} leads/s"

    assigned = result["assigned"]
    ratio = result["drained"] / result["ingest"]
    when = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(f"\nForecourt leads benchmark  {when}  {os.cpu_count()} CPUs  {database}")
    print(f"  forecourt commit         {source_revision()}")
    print(f"  leads in one batch       {leads_made:,} ({result['sightings']:,} sightings)")
    print(f"  sales users              {args.sales}")
    print(f"  CRM target (ADF email)   {'yes' if result['crm'] else 'none'}")
    print(f"  ingest (reference)       {pace(result['ingest'])}")
    if assigned is None:
        print(f"  all assigned after       never: {result['assigned_leads']:,} assigned, no job left to do")
    else:
        print(f"  all assigned after       {pace(assigned)}")
    print(f"  all jobs done after      {pace(result['drained'])}")
    for kind, what in (("staff", "assignment emails (staff)"), ("crm", "ADF emails (the CRM)")):
        after = result["last_email"][kind]
        when = f", the last {after:.2f} s after the batch" if after is not None else ""
        print(f"  {what:<24} {result['emails'][kind]:,}{when}")
    print(f"  ratio catch-up / ingest  {ratio:7.2f}x  ({'keeps up' if ratio <= 1 else 'falls behind'})")


if __name__ == "__main__":
    main()
