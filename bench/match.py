"""Listing matching benchmark: listings ingested per second end to end, against tracked
customers already on file, with a floor measured in the same run.

    .venv/bin/python bench/match.py                  # 1,000,000 customers, 100,000 listings, SQLite
    .venv/bin/python bench/match.py --customers 100000 --listings 10000
    .venv/bin/python bench/match.py --reset-schema \
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Setup (not timed): a fresh database; `--accounts` accounts sharing `--customers` tracked
customers (85% plate and state, 10% VIN only, 5% both), written with the app's bulk
insert; an ingest key. Then `forecourt serve` on a loopback port.

End to end (timed): the listings POSTed to /ingest/v1/listings as NDJSON batches of
`--batch`, one after the other, as a feed would send them; each answer comes after its
batch is stored and matched. `--match-share` of the listings are vehicles on file (half
by VIN, half by plate and state); the rest are other vehicles. The run checks that the
sightings made are exactly the expected ones.

The floor: the same key lookups done directly in the database as one indexed join of
the stored listings with tracked_customers (by VIN, and by plate and state), with the
raw driver. It only finds the pairs; the end to end also parses, validates, stores the
listings and records sightings and leads. The machine is shared and noisy: read the
ratio, not the absolute times. Targets (issue 17): at least 50,000 listings/s on
SQLite; on PostgreSQL at least 35,000 listings/s and at most 5x the lookup floor.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import sqlite3
import string
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).parent))
from upload import (
    HEALTH_WAIT,
    backend_of,
    backend_version,
    forecourt_env,
    free_port,
    log,
    pg_conninfo,
    post_body,
    prepare_database,
    source_revision,
    sqlite_path,
    workspace,
)

from forecourt.core.accounts import service as accounts
from forecourt.db import bulk
from forecourt.db.engine import SQLITE_PRAGMAS, Database
from forecourt.db.models import tracked_customers
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_ids

TARGETS = {"sqlite": 50_000, "postgresql": 35_000}  # listings/s
MAX_RATIO = {"postgresql": 5.0}  # end to end / lookup floor
STATES = ("VIC", "NSW", "QLD", "SA", "WA", "TAS", "NT", "ACT")
ALPHABET = string.ascii_uppercase + string.digits


def _base36(i: int, width: int) -> str:
    out = ""
    while i:
        i, digit = divmod(i, 36)
        out = ALPHABET[digit] + out
    return out.rjust(width, "A")


def customer_vin(i: int) -> str:
    return f"1HGCM8263{i:08d}"  # 17 characters, none of I, O, Q


def customer_keys(i: int) -> tuple[str | None, str | None, str | None]:
    """(rego, state, vin) of customer i: 85% plate and state, 10% VIN only, 5% both."""
    kind = i % 20
    plate, state = _base36(i, 6), STATES[i % len(STATES)]
    if kind < 17:
        return plate, state, None
    if kind < 19:
        return None, None, customer_vin(i)
    return plate, state, customer_vin(i)


def seed_customers(url: str, n: int, n_accounts: int) -> tuple[list[Any], str]:
    """Accounts, their customers (bulk, not timed) and an ingest key."""
    db = Database(url)
    try:
        with db.write() as conn:
            account_ids = [
                accounts.create_account(conn, f"Dealer {a}", "au")[0].id for a in range(n_accounts)
            ]
            key = accounts.issue_ingest_key(conn)
        step = 100_000
        for first in range(0, n, step):
            rows = range(first, min(n, first + step))
            keys = [customer_keys(i) for i in rows]
            now = utcnow()
            with db.write() as conn:
                bulk.insert_columns(
                    conn,
                    tracked_customers,
                    {
                        "id": new_ids(len(rows)),
                        "account_id": [account_ids[i % n_accounts] for i in rows],
                        "region": bulk.Same("au"),
                        "rego": [k[0] for k in keys],
                        "state": [k[1] for k in keys],
                        "vin": [k[2] for k in keys],
                        "external_id": [f"CUST-{i}" for i in rows],
                        "additional_fields": bulk.Same({}),
                        "created_at": bulk.Same(now),
                        "last_updated": bulk.Same(now),
                    },
                )
            log(f"  {min(n, first + step):,} customers")
        if db.engine.dialect.name == "postgresql":
            # Customers on file for a while have statistics (autovacuum); an upload of
            # the app refreshes them itself (customers.repository.refresh_statistics).
            with db.write() as conn:
                conn.exec_driver_sql("ANALYZE tracked_customers")
        return account_ids, key
    finally:
        db.dispose()


def make_listings(n: int, n_customers: int, match_share: float, seed: int) -> tuple[list[bytes], int]:
    """NDJSON lines, and how many of them are vehicles on file."""
    rng = random.Random(seed)
    lines, expected = [], 0
    encode = msgspec.json.encode
    for j in range(n):
        record: dict[str, Any] = {
            "source": "carsales",
            "source_id": f"CS-{j}",
            "region": "au",
            "url": f"https://www.carsales.com.au/cars/details/CS-{j}/",
            "title": "2019 Toyota Camry Ascent Sport",
            "price": rng.randrange(5_000, 80_000),
            "seller_type": rng.choice(("private", "dealer")),
            "listed_at": f"2026-11-0{rng.randrange(1, 10)}T09:30:00Z",
        }
        if rng.random() < match_share:
            expected += 1
            if rng.random() < 0.5:  # a customer with a VIN: ids 17..19 of every 20
                i = rng.randrange(n_customers // 20) * 20 + rng.choice((17, 18, 19))
                record["vin"] = customer_vin(i)
            else:  # a customer with a plate: ids 0..16 of every 20
                i = rng.randrange(n_customers // 20) * 20 + rng.randrange(17)
                record["plate"], record["state"] = customer_keys(i)[:2]
        else:  # another vehicle: a 7-character plate no customer has
            record["plate"], record["state"] = "Z" + _base36(j, 6), rng.choice(STATES)
        lines.append(encode(record))
    return lines, expected


def serving(processes: int, worker: bool) -> str:
    """What `forecourt serve` runs with these settings, in words."""
    count = processes or len(os.sched_getaffinity(0))
    if count == 1:
        return "1 API process" + (", its worker embedded (a thread)" if worker else ", no worker")
    return f"{count} API processes" + (", 1 worker process" if worker else ", no worker")


def cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by `pid` and each of its descendants."""
    found: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending += [int(child) for child in children.read().split()]
        except FileNotFoundError:
            continue  # ended meanwhile
        found[current] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return found


def cpu_by_role(before: dict[int, float], after: dict[int, float], worker: bool) -> dict[str, float]:
    """CPU seconds between two readings: the API processes, the worker process (started
    after them: the highest pid) and the supervisor. One process alone is the API (with
    its embedded worker's thread, if any)."""
    spent = {pid: seconds - before.get(pid, 0.0) for pid, seconds in after.items()}
    first, *children = sorted(spent)
    if not children:
        return {"api": spent[first], "worker": 0.0, "supervisor": 0.0}
    roles = {"api": 0.0, "worker": 0.0, "supervisor": spent[first]}
    for pid in children:
        roles["worker" if worker and pid == children[-1] else "api"] += spent[pid]
    return roles


def end_to_end(
    url: str, workdir: Path, key: str, lines: list[bytes], batch: int, processes: int, worker: bool
) -> dict[str, Any]:
    port = free_port()
    env = forecourt_env(
        {
            "FORECOURT_LOG_LEVEL": "warning",
            "FORECOURT_MAX_INGEST_BYTES": str(1 << 30),
            "FORECOURT_PROCESSES": str(processes),
            "FORECOURT_EMBEDDED_WORKER": "true" if worker else "false",
        }
    )
    log_path = workdir / "serve.log"
    with log_path.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "forecourt", "serve", "--port", str(port), "--database-url", url],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + HEALTH_WAIT
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"forecourt serve did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        bodies = [b"\n".join(lines[i : i + batch]) + b"\n" for i in range(0, len(lines), batch)]
        totals: dict[str, int] = {}
        headers = {"Authorization": f"Bearer {key}"}
        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        for body in bodies:  # the standard library's client: see upload.post_body
            status, answer = post_body(base, "/ingest/v1/listings", headers, body)
            if status != 200:
                raise SystemExit(f"ingest answered {status}: {answer[:500]!r}")
            for name, value in json.loads(answer).items():
                if isinstance(value, int):
                    totals[name] = totals.get(name, 0) + value
        elapsed = time.perf_counter() - started
        cpu = cpu_by_role(cpu_before, cpu_seconds(server.pid), worker)
        return {"seconds": elapsed, "requests": len(bodies), "server_cpu_s": cpu, **totals}
    finally:
        server.terminate()
        server.wait(timeout=60)


FLOOR_SQL = """
SELECT count(*) FROM (
  SELECT l.id, c.id FROM listings l JOIN tracked_customers c
    ON c.region = l.region AND c.vin = l.vin
  WHERE l.vin IS NOT NULL AND c.vin IS NOT NULL
  UNION
  SELECT l.id, c.id FROM listings l JOIN tracked_customers c
    ON c.region = l.region AND c.rego = l.plate AND c.state = l.state
  WHERE l.plate IS NOT NULL AND (c.vin IS NULL OR l.vin IS NULL OR c.vin = l.vin)
) AS pairs
"""


def floor(url: str, backend: str, repeat: int = 3) -> dict[str, Any]:
    """The best of `repeat` runs of the join (warm cache, as the end to end had)."""
    times, pairs = [], 0
    for _ in range(repeat):
        if backend == "sqlite":
            conn = sqlite3.connect(sqlite_path(url))
            started = time.perf_counter()
            pairs = conn.execute(FLOOR_SQL).fetchone()[0]
            times.append(time.perf_counter() - started)
            conn.close()
        else:
            import psycopg

            with psycopg.connect(pg_conninfo(url)) as conn:
                started = time.perf_counter()
                row = conn.execute(FLOOR_SQL).fetchone()
                times.append(time.perf_counter() - started)
                pairs = row[0] if row else 0
    return {"seconds": min(times), "pairs": pairs}


def store_floor(url: str, workdir: Path) -> float:
    """SQLite: seconds for sqlite3 executemany of the stored listings into an empty copy of
    the table and its indexes, one transaction: the bare cost of storing them."""
    source = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)
    ddl = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'listings' AND sql IS NOT NULL"
        )
    ]
    rows = source.execute("SELECT * FROM listings").fetchall()
    source.close()
    scratch = sqlite3.connect(workdir / "store-floor.db", isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        scratch.execute(pragma)
    for sql in ddl:
        scratch.execute(sql)
    started = time.perf_counter()
    scratch.execute("BEGIN IMMEDIATE")
    scratch.executemany(f"INSERT INTO listings VALUES ({','.join('?' * len(rows[0]))})", rows)
    scratch.execute("COMMIT")
    seconds = time.perf_counter() - started
    scratch.close()
    return seconds


def profile_in_process(url: str, lines: list[bytes], batch: int, top: int) -> dict[str, Any]:
    """No server: each batch decoded and ingested as the API's handler does, in this
    process under cProfile, with the seconds of each SQL statement (cursor events; COPY
    goes to the driver directly and shows in the profile as `bulk._copy`)."""
    from sqlalchemy import event

    from forecourt.api.ingest.listings import _ingest
    from forecourt.core.webhooks.schemas import EventRenderer

    db = Database(url)
    statements: dict[str, list[float]] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        spent = time.perf_counter() - conn.info.pop("started")
        statements.setdefault(" ".join(statement.split())[:110], []).append(spent)

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    render: EventRenderer = lambda *_: b"{}"  # noqa: E731 (no webhook is configured)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    for i in range(0, len(lines), batch):
        body = b"\n".join(lines[i : i + batch]) + b"\n"
        profiler.enable()
        _ingest(db, render, body)
        profiler.disable()
    seconds = time.perf_counter() - started
    db.dispose()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    sql = sorted(((sum(t), len(t), s) for s, t in statements.items()), reverse=True)
    return {"seconds": seconds, "sql": sql[:top], "cprofile": out.getvalue()}


def print_profile(report: dict[str, Any], n: int) -> None:
    print(report["cprofile"])
    print(f"in process: {report['seconds']:.2f} s, {n / report['seconds']:,.0f} listings/s (under cProfile)")
    print("SQL statements (seconds, calls, statement):")
    for seconds, calls, statement in report["sql"]:
        print(f"  {seconds:7.3f} {calls:5d}  {statement}")


def pg_store_floor(url: str) -> float:
    """PostgreSQL: seconds for the raw driver's binary COPY (types set, as db.bulk does)
    of the stored listings into an empty copy of the table and its indexes, and the
    commit: the bare cost of storing them."""
    import psycopg

    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_store_floor")
        conn.execute("CREATE TABLE bench_store_floor (LIKE listings INCLUDING ALL)")
        types = [
            oid
            for (oid,) in conn.execute(
                "SELECT atttypid FROM pg_attribute WHERE attrelid = 'listings'::regclass"
                " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            )
        ]
        rows = conn.execute("SELECT * FROM listings").fetchall()
        try:
            started = time.perf_counter()
            statement = "COPY bench_store_floor FROM STDIN (FORMAT BINARY)"
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            return time.perf_counter() - started
        finally:
            conn.execute("DROP TABLE bench_store_floor")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--match-share", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=10_000, help="listings per request")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url")
    parser.add_argument("--reset-schema", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--processes", type=int, default=0, help="forecourt serve's API processes (default 0: one per core)"
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="serve without its worker (by default it runs one: it routes the leads sightings open)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="no server: ingest in this process under cProfile"
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        revision = source_revision()
        log(f"forecourt {revision}; {args.customers:,} customers in {args.accounts} accounts")
        _, key = seed_customers(url, args.customers, args.accounts)
        lines, expected = make_listings(args.listings, args.customers, args.match_share, args.seed)
        log(
            f"ingesting {args.listings:,} listings ({expected:,} of vehicles on file), "
            f"{args.batch:,} per request"
        )
        if args.profile:
            print_profile(profile_in_process(url, lines, args.batch, 40), args.listings)
            return
        worker = not args.no_worker
        log(f"forecourt serve: {serving(args.processes, worker)}")
        e2e = end_to_end(url, workdir, key, lines, args.batch, args.processes, worker)
        log("measuring the floor")
        base = floor(url, backend)
        stored = store_floor(url, workdir) if backend == "sqlite" else pg_store_floor(url)
        result = {
            "revision": revision,
            "date": datetime.now().isoformat(timespec="seconds"),
            "machine": platform.node(),
            "cpus": os.cpu_count(),
            "backend": backend,
            "backend_version": backend_version(url, backend),
            "customers": args.customers,
            "accounts": args.accounts,
            "listings": args.listings,
            "expected_sightings": expected,
            "end_to_end": e2e,
            "listings_per_s": args.listings / e2e["seconds"],
            "floor": base,
            "ratio": e2e["seconds"] / base["seconds"],
            "store_floor_s": stored,
            "serving": serving(args.processes, worker),
        }
        if args.json:
            print(json.dumps(result, indent=2))
            return
        per_s = result["listings_per_s"]
        ok = e2e.get("sightings") == expected == base["pairs"]
        target = TARGETS[backend]
        verdict = "MET" if per_s >= target else "MISSED"
        print(f"\nForecourt matching benchmark  {result['date']}  {result['cpus']} CPUs  {backend}")
        print(f"  database                 {result['backend_version']}")
        print(f"  forecourt serve          {result['serving']}")
        print(f"  forecourt commit         {revision}")
        print(f"  tracked customers        {args.customers:,} in {args.accounts} accounts")
        print(f"  listings                 {args.listings:,} in {e2e['requests']} requests of {args.batch:,}")
        print(f"  end to end               {e2e['seconds']:8.2f} s   {per_s:,.0f} listings/s")
        cpu = e2e["server_cpu_s"]
        print(
            f"  server CPU meanwhile     {cpu['api']:8.2f} s API processes, {cpu['worker']:.2f} s worker "
            f"process, {cpu['supervisor']:.2f} s supervisor"
        )
        print(f"  target                   >= {target:,} listings/s: {verdict}")
        print(
            f"  sightings made           {e2e.get('sightings', 0):,} (expected {expected:,}; the join finds ",
            end="",
        )
        print(f"{base['pairs']:,}) {'OK' if ok else 'MISMATCH'}")
        print(f"  floor (one indexed join) {base['seconds']:8.3f} s")
        print(f"  ratio end to end / floor {result['ratio']:8.1f}x", end="")
        if backend in MAX_RATIO:
            met = "MET" if result["ratio"] <= MAX_RATIO[backend] else "MISSED"
            print(f"   target <= {MAX_RATIO[backend]:.0f}x: {met}", end="")
        print()
        how = "inserting" if backend == "sqlite" else "COPYing (binary)"
        print(f"  storing floor            {stored:8.2f} s   the raw driver {how} the same listings")
        print("                                      (table and indexes as migrated), one transaction")
        print(f"  ratio end to end / storing floor {e2e['seconds'] / stored:.1f}x")


if __name__ == "__main__":
    main()
