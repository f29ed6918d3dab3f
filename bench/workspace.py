"""Workspace benchmark: every page's server time with 1,000,000 tracked customers and
100,000 leads in the account, against a floor measured in the same run; then the leads
inbox's live update, timed in a real browser from each lead's commit to its row.

    .venv/bin/python bench/workspace.py                       # SQLite, a fresh file
    .venv/bin/python bench/workspace.py --customers 100000 --leads 10000 --rounds 20
    .venv/bin/python bench/workspace.py --reset-schema \\
        --database-url postgresql://postgres@127.0.0.1:5432/forecourt_bench
    .venv/bin/python bench/workspace.py --pages contact --live 0   # the contacts pages only

Setup (not timed), once for every page: a fresh database; one account (days in
Australia/Sydney) with a manager and `--sales` salespeople; `--customers` tracked
customers written with the app's bulk insert (85% plate and state, 10% VIN only, 5%
both; names on 85%, from a thousand surnames); `--leads` leads over the last year (60%
sightings, each with its listing and sighting; the rest opportunities and enquiries),
nearly all acted on but some of the last fortnight's, assigned among the salespeople
(2% not); a timeline entry each; uploads finished and in progress; `--vehicles` in
stock (bench/inventory.py's import), `--contacts` CRM contacts (bench/crm.py's) and
`--checks` vehicle checks (bench/checks.py's, in batches of 500 vehicles as the Sync API
takes them). PostgreSQL then gets VACUUM ANALYZE (as autovacuum would do). Then
`forecourt serve` (no embedded worker) on a loopback port; a manager and a salesperson
sign in through the form.

Timed: `--rounds` rounds, after `--warmup`; each round requests every page once, in turn,
so that the machine's load falls on all of them alike. Server time is the time to the
full response over loopback (one keep-alive connection per user). The floor: /healthz
(a request that asks the database one thing) and a static file, in the same rounds.
Target: p50 under 50 ms.

Live update (the issue: "the inbox's live update arrives within 2 s of the lead's
creation"): headless Chromium (/usr/bin/chromium, Playwright) signed in as the manager
opens /leads; a MutationObserver in the page notes Date.now() when each lead's row is
added. `--live` times, after a random pause of up to a second (the inbox polls every
second: the leads fall anywhere in its cycle), a lead is opened in a transaction of its
own (leads.service.open_one, as an enquiry through the Kapture API is) and the moment of
its commit noted; the row's arrival minus the commit is the latency (one clock: the same
machine). Target: every one within 2 s.

Exits non-zero only when a page fails (an unexpected status) or a lead never shows, never
for a slow one: read the figures.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from checks import fleet
from checks import store as store_checks
from crm import NAMES as CONTACT_NAMES
from crm import store as store_contacts
from inventory import import_stock
from match import customer_keys
from upload import (
    FIRST,
    LAST,
    Server,
    backend_version,
    database_arguments,
    fresh_database,
    log,
    source_revision,
)

from forecourt.core.accounts import service as accounts
from forecourt.core.checks import service as checks
from forecourt.core.contacts import service as contacts
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
# A thousand surnames: the common ones and made-up ones, so that a surname is as rare
# as in a real list (the common ones still find thousands of customers).
SYLLABLES = ("bar", "cal", "der", "fen", "gor", "hal", "kin", "lor", "mar", "nor")
SURNAMES = (*LAST, *(f"{a}{b}{c}".capitalize() for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES))
ORIGIN_SHARES = (("sighting", 0.6), ("opportunity", 0.25), ("enquiry", 0.15))
TARGET_MS = 50.0
LIVE_TARGET_MS = 2000.0
CHROMIUM = "/usr/bin/chromium"


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
    """What the pages are asked about: a customer with a sighting, its keys, a lead, an
    upload, a contact, a check batch."""

    account_id: UUID
    customer_id: UUID
    surname: str
    plate: str
    vin: str
    external_id: str
    lead_id: UUID
    upload_id: UUID
    contact_id: int
    batch_id: UUID
    manager: str = "manager@bench.example"
    sales: str = "sales0@bench.example"


def seed(args: argparse.Namespace, url: str, rng: random.Random) -> Seeded:
    db = Database(url)
    try:
        return _seed(db, args, rng)
    finally:
        db.dispose()


def _seed(db: Database, args: argparse.Namespace, rng: random.Random) -> Seeded:
    n_customers, n_leads = args.customers, args.leads
    now = utcnow()
    with db.write() as conn:
        account, _ = accounts.create_account(conn, "Bench Motors", "au")
        leads.configure(conn, account.id, now, time_zone="Australia/Sydney")
        manager = users.check_new_user(account.id, "manager@bench.example", "Manager", "manager")
        users.create_user(conn, manager, PASSWORD)
        staff = []
        for n in range(args.sales):
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
    # The other pages' data, with the other benchmarks' generators.
    import_stock(db, account.id, args.vehicles, args.seed)
    store_contacts(db, account.id, args.contacts, rng)
    # Batches as the Sync API takes them: 500 vehicles, two resources each.
    store_checks(db, account.id, fleet(args.checks // 2, rng), args.checks, per_batch=1000)
    log(f"  {args.vehicles:,} vehicles, {args.contacts:,} contacts, {args.checks:,} checks")
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does to freshly loaded tables: statistics, and the visibility map
        # (without it no scan is index-only).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    # The customer asked about: one with a plate, a name and a sighting; the VIN searched
    # for is another's (customer 17 has one).
    index = next(i for _, i in sighted if customer_keys(i)[0] and i in names)
    rego, vin = customer_keys(index)[0], customer_keys(17)[2]
    assert rego and vin
    customer_id = next(c for c, i in sighted if i == index)
    with db.read() as conn:
        [contact], _ = contacts.browse(conn, account.id, None, 0, 1)
        [batch], _ = checks.batches(conn, account.id, 0, 1)
    assert contact.id is not None
    return Seeded(
        account.id,
        customer_id,
        names[index],
        rego,
        vin,
        f"CUST-{index:07d}",
        lead_ids[0],
        upload_id,
        contact.id,
        batch.id,
    )


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


@dataclass(frozen=True)
class Target:
    who: str  # "manager" or "sales"
    name: str  # what the report calls it
    path: str
    status: int = 200  # the answer expected


def pages(s: Seeded, live_manager: str, live_sales: str) -> list[Target]:
    """Every page of the workspace, as a person would ask for it. `live_*`: the inbox's
    live poll as its page asks (nothing newer: 204)."""
    month = (utcnow() - timedelta(days=60)).date()
    return [
        Target("manager", "Today, manager", "/"),
        Target("sales", "Today, salesperson", "/"),
        Target("manager", "leads inbox, manager", "/leads"),
        Target("sales", "leads inbox, salesperson", "/leads"),
        Target("manager", "inbox: status won", "/leads?status=won"),
        Target("manager", "inbox: unassigned", "/leads?assignee=unassigned"),
        Target("manager", "inbox: not actioned, older than 24 h", "/leads?unactioned=1&older_than=24"),
        Target("manager", "inbox: sightings", "/leads?origin=sighting"),
        Target(
            "manager", "inbox: created in a month", f"/leads?since={month}&until={month + timedelta(days=29)}"
        ),
        Target("sales", "inbox: salesperson, status won", "/leads?status=won"),
        Target("manager", "live poll, nothing new (204)", live_manager, 204),
        Target("sales", "live poll, salesperson (204)", live_sales, 204),
        Target("manager", "a lead (a sighting)", f"/leads/{s.lead_id}"),
        Target("manager", "customers, newest first", "/customers"),
        Target("manager", "customers, page 40 (the last)", "/customers?page=40"),
        Target("manager", "customers: a surname", f"/customers?q={s.surname}"),
        Target("manager", "customers: a surname's start", f"/customers?q={s.surname[:3].lower()}"),
        Target("manager", "customers: a plate", f"/customers?q={s.plate}"),
        Target("manager", "customers: a VIN", f"/customers?q={s.vin}"),
        Target("manager", "customers: an external id", f"/customers?q={s.external_id}"),
        Target("manager", "customers: no result", "/customers?q=nobody+at+all"),
        Target("manager", "a customer (with its sighting)", f"/customers/{s.customer_id}"),
        Target("manager", "uploads", "/uploads"),
        Target("manager", "an upload", f"/uploads/{s.upload_id}"),
        Target("manager", "stock", "/stock"),
        Target(
            "manager",
            "stock: make, km, fuel, cheapest",
            "/stock?make=570&km_to=80000&fuel=diesel&sort=price-asc",
        ),
        Target("manager", "contacts", "/contacts"),
        Target("manager", "contacts: a common name (~10,000)", f"/contacts?q={CONTACT_NAMES[0].lower()}"),
        Target("manager", "contacts: a name's start (~110 have it)", f"/contacts?q={CONTACT_NAMES[0]}+12"),
        Target("manager", "contacts: a name nobody has", "/contacts?q=Nobody+at+all"),
        Target("manager", "a contact", f"/contacts/{s.contact_id}"),
        Target("manager", "checks", "/checks"),
        Target("manager", "a check batch", f"/checks/{s.batch_id}"),
        Target("manager", "settings", "/settings"),
        Target("manager", "settings: users", "/settings/users"),
        Target("manager", "settings: lead routing", "/settings/routing"),
        Target("manager", "settings: CRM targets", "/settings/crm"),
        Target("manager", "settings: webhooks", "/settings/webhooks"),
        Target("manager", "settings: API keys", "/settings/keys"),
    ]


FLOOR = [
    Target("manager", "floor: /healthz", "/healthz"),
    Target("manager", "floor: a static file", "/static/forecourt.css"),
]


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


def live_url(client: httpx.Client) -> str:
    """The live poll the inbox's page asks for (its filters, its newest lead, when opened)."""
    found = re.search(r'id="lead-poller" hx-get="([^"]+)"', client.get("/leads").text)
    if found is None:
        raise SystemExit("the leads inbox has no live poller")
    return html.unescape(found.group(1))


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Result:
    target: Target
    samples: list[float] = field(default_factory=list)  # seconds
    errors: list[str] = field(default_factory=list)

    def ms(self, q: float) -> float:
        return quantile(self.samples, q) * 1000


def measure(
    clients: dict[str, httpx.Client], targets: list[Target], rounds: int, warmup: int
) -> list[Result]:
    results = [Result(target) for target in targets]
    for n in range(warmup + rounds):
        for result in results:
            started = time.perf_counter()
            answer = clients[result.target.who].get(result.target.path)
            _ = answer.content
            elapsed = time.perf_counter() - started
            if answer.status_code != result.target.status:
                result.errors.append(f"{answer.status_code}")
            elif n >= warmup:
                result.samples.append(elapsed)
    return results


# Notes when each lead's row is added to the page (htmx puts the live rows on top).
OBSERVER = """() => {
    window.arrivals = {};
    new MutationObserver(records => {
        const now = Date.now();
        for (const record of records) for (const node of record.addedNodes) {
            if (node.nodeType !== Node.ELEMENT_NODE) continue;
            const rows = node.matches('tr[id^="lead-"]') ? [node] : node.querySelectorAll('tr[id^="lead-"]');
            for (const row of rows) if (!(row.id in window.arrivals)) window.arrivals[row.id] = now;
        }
    }).observe(document.body, {childList: true, subtree: true});
}"""


def live_latency(base: str, url: str, seeded: Seeded, count: int, rng: random.Random) -> list[float]:
    """Milliseconds from each new lead's commit to its row in an open inbox."""
    db = Database(url)
    latencies = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(base_url=base)
        page.goto("/login")
        page.get_by_label("Email").fill(seeded.manager)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        page.goto("/leads")
        page.evaluate(OBSERVER)
        try:
            for n in range(count):
                time.sleep(rng.uniform(0, 1))  # anywhere in the poll's cycle
                with db.write() as conn:
                    lead_id = leads.open_one(
                        conn, seeded.account_id, "enquiry", utcnow(), message=f"Live {n}"
                    )
                committed = time.time() * 1000
                page.wait_for_selector(f"#lead-{lead_id}", state="attached", timeout=30_000)
                arrived = page.evaluate(f"window.arrivals['lead-{lead_id}']")
                latencies.append(arrived - committed)
        finally:
            browser.close()
            db.dispose()
    return latencies


def run(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    log(f"seeding {args.customers:,} customers and {args.leads:,} leads")
    started = time.perf_counter()
    seeded = seed(args, url, rng)
    log(f"seeded in {time.perf_counter() - started:.0f} s")
    server = Server(url, workdir, None, 0, {"FORECOURT_EMBEDDED_WORKER": "false"})
    try:
        server.wait_healthy()
        clients = {
            "manager": sign_in(server.base, seeded.manager),
            "sales": sign_in(server.base, seeded.sales),
        }
        targets = pages(seeded, live_url(clients["manager"]), live_url(clients["sales"]))
        targets = [t for t in targets if args.pages in t.name]
        log(f"measuring {len(targets)} pages and the floor, {args.rounds} rounds")
        results = measure(clients, FLOOR + targets, args.rounds, args.warmup)
        for client in clients.values():
            client.close()
        log(f"the live inbox: {args.live} leads")
        live = live_latency(server.base, url, seeded, args.live, rng) if args.live else []
    finally:
        server.stop()
    return {"results": results, "seeded": seeded, "live": live}


def report(args: argparse.Namespace, outcome: dict[str, Any], database: str) -> bool:
    results: list[Result] = outcome["results"]
    floor_p50 = min(r.ms(0.5) for r in results if r.target in FLOOR and r.samples)
    when = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(f"\nForecourt workspace  {when}  {os.cpu_count()} CPUs  {database}")
    print(f"  forecourt commit   {source_revision()}")
    print(f"  account            {args.customers:,} tracked customers, {args.leads:,} leads")
    print(
        f"                     {args.vehicles:,} vehicles, {args.contacts:,} contacts, {args.checks:,} checks"
    )
    print(f"  rounds             {args.rounds} (after {args.warmup} warm-up)")
    print(f"  searched for       surname {outcome['seeded'].surname!r}, plate, VIN, external id\n")
    print(f"  {'who':<8} {'page':<40} {'p50 ms':>8} {'p90 ms':>8} {'p50-floor':>10}  vs {TARGET_MS:.0f} ms")
    ok = True
    for r in results:
        if r.errors:
            ok = False
            print(f"  {r.target.who:<8} {r.target.name:<40} FAILED: {', '.join(sorted(set(r.errors)))}")
            continue
        p50, p90, who, name = r.ms(0.5), r.ms(0.9), r.target.who, r.target.name
        verdict = "floor" if r.target in FLOOR else ("ok" if p50 < TARGET_MS else "MISSES")
        print(f"  {who:<8} {name:<40} {p50:8.1f} {p90:8.1f} {p50 - floor_p50:10.1f}  {verdict}")
    live: list[float] = outcome["live"]
    if live:
        worst = max(live)
        verdict = "yes" if worst < LIVE_TARGET_MS else "NO"
        p50, p90 = quantile(live, 0.5), quantile(live, 0.9)
        print(f"\n  live inbox: {len(live)} leads, from the commit to the row in the open page:")
        figures = f"p50 {p50:.0f} ms, p90 {p90:.0f} ms, max {worst:.0f} ms"
        print(f"    {figures}; every one under {LIVE_TARGET_MS:.0f} ms: {verdict}")
    return ok


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--sales", type=int, default=10, help="salespeople the leads are assigned among")
    parser.add_argument("--vehicles", type=int, default=5_000, help="vehicles in stock")
    parser.add_argument("--contacts", type=int, default=100_000, help="CRM contacts")
    parser.add_argument("--checks", type=int, default=100_000, help="vehicle checks (two per vehicle)")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--live", type=int, default=20, help="leads timed into the open inbox (0: none)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pages", default="", help="only the pages whose name contains this (e.g. contact)")
    database_arguments(parser)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    with fresh_database(args) as (url, backend, workdir):
        outcome = run(args, url, workdir)
        ok = report(args, outcome, f"{backend} {backend_version(url, backend)}")
        ok = ok and len(outcome["live"]) == args.live
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
