"""Workspace pages benchmark: each page's server time with 1,000,000 tracked customers and
100,000 leads in the account, against a floor measured in the same run.

    .venv/bin/python bench/workspace.py                       # SQLite, a fresh file
    .venv/bin/python bench/workspace.py --customers 100000 --leads 10000 --rounds 20
    .venv/bin/python bench/workspace.py --reset-schema \\
        --database-url postgresql://postgres@127.0.0.1:5432/forecourt_bench

Setup (not timed): a fresh database; one account (days in Australia/Sydney) with a
manager and `--sales` salespeople; `--customers` tracked customers written with the
app's bulk insert (85% plate and state, 10% VIN only, 5% both; names on 85%, from a
thousand surnames); `--leads` leads over the last year (60% sightings, each with its
listing and sighting; the rest opportunities and enquiries), nearly all acted on but
some of the last fortnight's, assigned among the salespeople; a timeline entry each;
uploads finished and in progress. PostgreSQL then gets VACUUM ANALYZE (as autovacuum
would do).
Then `forecourt serve` (no embedded worker) on a loopback port; a manager and a
salesperson sign in through the form.

Timed: `--rounds` rounds, after `--warmup`; each round requests every page once, in turn,
so that the machine's load falls on all of them alike. Server time is the time to the
full response over loopback (one keep-alive connection per user). The floor: /healthz
(a request that asks the database one thing) and a static file, in the same rounds.

PAGES below lists the pages; OTHER_PAGES the rest of the workspace (other people's work):
those answering 404 are skipped and named. Exits non-zero only when a page fails (an
unexpected status), never for a slow one: read the figures (target: p50 under 50 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import string
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from upload import (
    FIRST,
    HEALTH_WAIT,
    LAST,
    backend_of,
    backend_version,
    forecourt_env,
    free_port,
    log,
    prepare_database,
    source_revision,
    workspace,
)

from forecourt.core.accounts import service as accounts
from forecourt.core.leads import service as leads
from forecourt.core.listings import repository as listings
from forecourt.core.users import service as users
from forecourt.db import bulk
from forecourt.db.engine import Database
from forecourt.db.models import lead_events, sightings, tracked_customers, uploads
from forecourt.db.models import leads as leads_table
from forecourt.db.models import listings as listings_table
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_ids

PASSWORD = "bench password, long enough"
STATES = ("NSW", "VIC", "QLD", "WA", "SA", "TAS", "ACT", "NT")
ALPHABET = string.ascii_uppercase + string.digits
# A thousand surnames: the common ones and made-up ones, so that a surname is as rare
# as in a real list (the common ones still find thousands of customers).
SYLLABLES = ("bar", "cal", "der", "fen", "gor", "hal", "kin", "lor", "mar", "nor")
SURNAMES = (*LAST, *(f"{a}{b}{c}".capitalize() for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES))
ORIGIN_SHARES = (("sighting", 0.6), ("opportunity", 0.25), ("enquiry", 0.15))
TARGET_MS = 50.0


def _base36(i: int, width: int) -> str:
    out = ""
    while i:
        i, digit = divmod(i, 36)
        out = ALPHABET[digit] + out
    return out.rjust(width, "A")


def customer_keys(i: int) -> tuple[str | None, str | None, str | None]:
    """(rego, state, vin) of customer i: 85% plate and state, 10% VIN only, 5% both."""
    kind = i % 20
    plate, state, vin = _base36(i, 6), STATES[i % len(STATES)], f"1HGCM8263{i:08d}"
    if kind < 17:
        return plate, state, None
    if kind < 19:
        return None, None, vin
    return plate, state, vin


def customer_fields(i: int, rng: random.Random) -> dict[str, Any]:
    if rng.random() >= 0.85:
        return {}
    first, last = rng.choice(FIRST), rng.choice(SURNAMES)
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}{i}@example.com.au",
    }


@dataclass
class Seeded:
    """What the pages are asked about: a customer with a sighting, its keys, a lead."""

    customer_id: UUID
    surname: str
    plate: str
    vin: str
    external_id: str
    lead_id: UUID
    upload_id: UUID
    manager: str = "manager@bench.example"
    sales: str = "sales0@bench.example"


def seed(url: str, n_customers: int, n_leads: int, n_sales: int, rng: random.Random) -> Seeded:
    db = Database(url)
    try:
        return _seed(db, n_customers, n_leads, n_sales, rng)
    finally:
        db.dispose()


def _seed(db: Database, n_customers: int, n_leads: int, n_sales: int, rng: random.Random) -> Seeded:
    now = utcnow()
    with db.write() as conn:
        account, _ = accounts.create_account(conn, "Bench Motors", "au")
        leads.configure(conn, account.id, now, time_zone="Australia/Sydney")
        manager = users.check_new_user(account.id, "manager@bench.example", "Manager", "manager")
        users.create_user(conn, manager, PASSWORD)
        staff = []
        for n in range(n_sales):
            new = users.check_new_user(account.id, f"sales{n}@bench.example", f"Sales {n}", "sales")
            staff.append(users.create_user(conn, new, PASSWORD).user.id)
    sighted_every = max(1, n_customers // int(n_leads * ORIGIN_SHARES[0][1]))
    sighted: list[tuple[UUID, int]] = []  # (customer id, its index)
    names: dict[int, str] = {}
    step = 100_000
    for first in range(0, n_customers, step):
        rows = range(first, min(n_customers, first + step))
        ids = new_ids(len(rows))
        keys = [customer_keys(i) for i in rows]
        fields = [customer_fields(i, rng) for i in rows]
        with db.write() as conn:
            bulk.insert_columns(
                conn,
                tracked_customers,
                {
                    "id": ids,
                    "account_id": bulk.Same(account.id),
                    "region": bulk.Same("au"),
                    "rego": [k[0] for k in keys],
                    "state": [k[1] for k in keys],
                    "vin": [k[2] for k in keys],
                    "external_id": [f"CUST-{i:07d}" for i in rows],
                    "additional_fields": fields,
                    # Older customers first: the newest are the last written.
                    "created_at": [now - timedelta(days=3 * 365) + timedelta(minutes=i) for i in rows],
                    "last_updated": bulk.Same(now),
                },
            )
        for n, i in enumerate(rows):
            if i % sighted_every == 0:
                sighted.append((ids[n], i))
                if fields[n]:
                    names[i] = fields[n]["last_name"]
        log(f"  {rows[-1] + 1:,} customers")
    lead_ids = _seed_leads(db, account.id, n_leads, staff, sighted, rng, now)
    upload_id = _seed_uploads(db, account.id, now)
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does to freshly loaded tables: statistics, and the visibility map
        # (without it no scan is index-only).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("tracked_customers", "leads", "listings", "sightings", "lead_events", "uploads"):
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    # The customer asked about: one with a plate, a name and a sighting; the VIN searched
    # for is another's (customer 17 has one).
    index = next(i for _, i in sighted if customer_keys(i)[0] and i in names)
    rego, vin = customer_keys(index)[0], customer_keys(17)[2]
    assert rego and vin
    customer_id = next(c for c, i in sighted if i == index)
    return Seeded(customer_id, names[index], rego, vin, f"CUST-{index:07d}", lead_ids[0], upload_id)


def _seed_leads(
    db: Database,
    account_id: UUID,
    n: int,
    staff: list[UUID],
    sighted: list[tuple[UUID, int]],
    rng: random.Random,
    now: Any,
) -> list[UUID]:
    """n leads over the last year, the first of them the sightings' (one per sighted
    customer, each with its listing); the newest a fortnight's partly not acted on yet."""
    n_sighted = min(len(sighted), int(n * ORIGIN_SHARES[0][1]))
    ids = new_ids(n)
    origins = ["sighting"] * n_sighted + [
        "opportunity" if rng.random() < 0.25 / 0.4 else "enquiry" for _ in range(n - n_sighted)
    ]
    created = [now - timedelta(seconds=rng.uniform(0, 365 * 86400)) for _ in range(n)]
    actioned, status, assignee = [], [], []
    for at in created:
        waiting = now - at < timedelta(days=14) and rng.random() < 0.15
        actioned.append(None if waiting else at + timedelta(minutes=rng.lognormvariate(2.5, 1.0)))
        status.append("new" if waiting else rng.choice(("contacted", "appointment", "won", "lost", "lost")))
        assignee.append(None if rng.random() < 0.02 else rng.choice(staff))
    with db.write() as conn:
        listing_ids = listings.next_ids(conn, n_sighted)
        keys = [customer_keys(i) for _, i in sighted[:n_sighted]]
        listed = [created[j] - timedelta(hours=1) for j in range(n_sighted)]
        bulk.insert_columns(
            conn,
            listings_table,
            {
                "id": listing_ids,
                "source": bulk.Same("carsales"),
                "source_id": [f"CS-{j}" for j in range(n_sighted)],
                "region": bulk.Same("au"),
                "url": [f"https://www.carsales.com.au/cars/details/CS-{j}/" for j in range(n_sighted)],
                "title": bulk.Same("2019 Toyota Camry Ascent Sport"),
                "price": [rng.randrange(5_000, 80_000) for _ in range(n_sighted)],
                "seller_type": [rng.choice(("private", "dealer")) for _ in range(n_sighted)],
                "vin": [k[2] for k in keys],
                "plate": [k[0] for k in keys],
                "state": [k[1] for k in keys],
                "listed_at": listed,
                "price_history": bulk.Same([]),
                "first_seen_at": listed,
                "last_seen_at": bulk.Same(now),
            },
        )
        bulk.insert_columns(
            conn,
            leads_table,
            {
                "id": ids,
                "account_id": bulk.Same(account_id),
                "origin": origins,
                "tracked_customer_id": [c for c, _ in sighted[:n_sighted]] + [None] * (n - n_sighted),
                "listing_id": [*listing_ids, *([None] * (n - n_sighted))],
                "created_at": created,
                "status": status,
                "assignee_id": assignee,
                "assigned_at": [at if who else None for at, who in zip(created, assignee, strict=True)],
                "first_actioned_at": actioned,
                "closed_at": [
                    at if s in ("won", "lost") else None for at, s in zip(actioned, status, strict=True)
                ],
            },
        )
        bulk.insert_columns(
            conn,
            sightings,
            {
                "customer_id": [c for c, _ in sighted[:n_sighted]],
                "listing_id": listing_ids,
                "account_id": bulk.Same(account_id),
                "lead_id": ids[:n_sighted],
                "at": listed,
                "created_at": created[:n_sighted],
            },
        )
        bulk.insert_columns(
            conn,
            lead_events,
            {
                "lead_id": ids,
                "account_id": bulk.Same(account_id),
                "kind": bulk.Same("created"),
                "actor": bulk.Same("forecourt"),
                "user_id": bulk.Same(None),
                "details": bulk.Same({}),
                "at": created,
            },
        )
    log(f"  {n:,} leads ({n_sighted:,} sightings with their listings)")
    return ids


def _seed_uploads(db: Database, account_id: UUID, now: Any) -> UUID:
    """Twenty finished uploads, two processing and one queued: the last one's id."""
    states = ["completed"] * 20 + ["processing", "processing", "queued"]
    ids = new_ids(len(states))
    with db.write() as conn:
        bulk.insert_columns(
            conn,
            uploads,
            {
                "id": ids,
                "account_id": bulk.Same(account_id),
                "region": bulk.Same("au"),
                "name": [f"List {n}" for n in range(len(states))],
                "enable_rego_lookups": bulk.Same(False),
                "status": states,
                "chunk_size": bulk.Same(1000),
                "total_uploaded_customers": bulk.Same(50_000),
                "total_processed_customers": [50_000 if s == "completed" else 0 for s in states],
                "total_errors": bulk.Same(12),
                "created_at": [now - timedelta(days=len(states) - n) for n in range(len(states))],
                "completed_at": [now if s == "completed" else None for s in states],
            },
        )
    return ids[-1]


# --------------------------------------------------------------------------- the pages


def pages(s: Seeded) -> list[tuple[str, str]]:
    """(who, path) of the pages measured: this part of the workspace."""
    return [
        ("manager", "/"),
        ("sales", "/"),
        ("manager", "/customers"),
        ("manager", "/customers?page=40"),
        ("manager", f"/customers?q={s.surname}"),
        ("manager", f"/customers?q={s.surname[:3].lower()}"),
        ("manager", f"/customers?q={s.plate}"),
        ("manager", f"/customers?q={s.vin}"),
        ("manager", f"/customers?q={s.external_id}"),
        ("manager", "/customers?q=nobody+at+all"),
        ("manager", f"/customers/{s.customer_id}"),
    ]


def other_pages(s: Seeded) -> list[tuple[str, str]]:
    """The rest of the workspace: add a page here when it exists (404s are skipped)."""
    return [
        ("manager", "/leads"),
        ("sales", "/leads"),
        ("manager", f"/leads/{s.lead_id}"),
        ("manager", "/uploads"),
        ("manager", f"/uploads/{s.upload_id}"),
        ("manager", "/stock"),
        ("manager", "/contacts"),
        ("manager", "/checks"),
        ("manager", "/settings"),
    ]


FLOOR = [("manager", "/healthz"), ("manager", "/static/forecourt.css")]


def sign_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if token is None:
        raise SystemExit("the sign-in form has no CSRF token")
    answer = client.post("/login", data={"csrf": token.group(1), "email": email, "password": PASSWORD})
    if answer.status_code != 303 or answer.headers.get("location") != "/":
        raise SystemExit(f"signing in {email} failed: {answer.status_code}")
    return client


@dataclass
class Result:
    who: str
    path: str
    samples: list[float] = field(default_factory=list)  # seconds
    errors: list[str] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples)
        rank = (len(ordered) - 1) * q
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return (ordered[low] + (ordered[high] - ordered[low]) * (rank - low)) * 1000


def measure(
    clients: dict[str, httpx.Client], targets: list[tuple[str, str]], rounds: int, warmup: int
) -> list[Result]:
    results = [Result(who, path) for who, path in targets]
    for n in range(warmup + rounds):
        for result in results:
            started = time.perf_counter()
            answer = clients[result.who].get(result.path)
            _ = answer.content
            elapsed = time.perf_counter() - started
            if answer.status_code != 200:
                result.errors.append(f"{answer.status_code}")
            elif n >= warmup:
                result.samples.append(elapsed)
    return results


def run(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    log(f"seeding {args.customers:,} customers and {args.leads:,} leads")
    started = time.perf_counter()
    seeded = seed(url, args.customers, args.leads, args.sales, rng)
    log(f"seeded in {time.perf_counter() - started:.0f} s")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = forecourt_env({"FORECOURT_EMBEDDED_WORKER": "false", "FORECOURT_LOG_LEVEL": "warning"})
    log_path = workdir / "serve.log"
    with log_path.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "forecourt", "serve", "--port", str(port), "--database-url", url],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + HEALTH_WAIT
        while True:
            if server.poll() is not None:
                raise SystemExit(f"forecourt serve exited:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("forecourt serve never became healthy")
            time.sleep(0.05)
        clients = {"manager": sign_in(base, seeded.manager), "sales": sign_in(base, seeded.sales)}
        targets = pages(seeded)
        skipped = []
        for who, path in other_pages(seeded):
            status = clients[who].get(path).status_code
            if status == 404:
                skipped.append(path)
            else:
                targets.append((who, path))
        log(f"measuring {len(targets)} pages and the floor, {args.rounds} rounds")
        results = measure(clients, FLOOR + targets, args.rounds, args.warmup)
        for client in clients.values():
            client.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {"results": results, "skipped": skipped, "seeded": seeded}


def report(args: argparse.Namespace, outcome: dict[str, Any], database: str) -> bool:
    results: list[Result] = outcome["results"]
    floor = [r for r in results if (r.who, r.path) in FLOOR]
    floor_p50 = min(r.quantile(0.5) for r in floor if r.samples)
    when = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(f"\nForecourt workspace pages  {when}  {os.cpu_count()} CPUs  {database}")
    print(f"  forecourt commit   {source_revision()}")
    print(f"  account            {args.customers:,} tracked customers, {args.leads:,} leads")
    print(f"  rounds             {args.rounds} (after {args.warmup} warm-up)")
    print(f"  searched for       surname {outcome['seeded'].surname!r}, plate, VIN, external id\n")
    print(f"  {'who':<8} {'page':<52} {'p50 ms':>8} {'p90 ms':>8} {'p50-floor':>10}  vs {TARGET_MS:.0f} ms")
    ok = True
    for r in results:
        shown = r.path if len(r.path) <= 52 else r.path[:49] + "..."
        if r.errors:
            ok = False
            print(f"  {r.who:<8} {shown:<52} FAILED: {', '.join(sorted(set(r.errors)))}")
            continue
        p50, p90 = r.quantile(0.5), r.quantile(0.9)
        is_floor = (r.who, r.path) in FLOOR
        verdict = "floor" if is_floor else ("ok" if p50 < TARGET_MS else "MISSES")
        print(f"  {r.who:<8} {shown:<52} {p50:8.1f} {p90:8.1f} {p50 - floor_p50:10.1f}  {verdict}")
    if outcome["skipped"]:
        print(f"\n  not there yet (404): {', '.join(outcome['skipped'])}")
    return ok


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--sales", type=int, default=10, help="salespeople the leads are assigned among")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--reset-schema", action="store_true", help="DROP the PostgreSQL schema first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        outcome = run(args, url, workdir)
        ok = report(args, outcome, f"{backend} {backend_version(url, backend)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
