"""Inventory list benchmark: p50/p95 latency of GET /v3/vehicle through the API, with
the same SQL executed directly in the same run as the floor.

    .venv/bin/python bench/inventory.py                    # 1,000,000 vehicles, SQLite
    .venv/bin/python bench/inventory.py --vehicles 100000
    .venv/bin/python bench/inventory.py --reset-schema \
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Setup (timed apart, not part of the figures): a fresh database; one dealer account with
`--vehicles` generated vehicles (forecourt.core.inventory.demo, imported through the
same service as `forecourt inventory import`) and a second account with `--others`, so
that every query also has to leave another tenant's stock out. Then `forecourt serve`.

Through the API: each query is sent `--runs` times (after `--warmup`) over one
keep-alive connection, as a dealer's website would: the qs-encoded query string, the
X-Api-Key check, parsing, the count and the page, translation to German, JSON.

The floor: the statements the service ran for that query (the count and the page),
captured from SQLAlchemy and executed with the raw driver, `--runs` times. The machine
is shared and noisy: read the ratio. Target: p50 under 50 ms on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

sys.path.insert(0, str(Path(__file__).parent))
from upload import (
    Server,
    backend_of,
    backend_version,
    log,
    pg_conninfo,
    prepare_database,
    source_revision,
    sqlite_path,
    workspace,
)

from forecourt.core.accounts import service as accounts
from forecourt.core.inventory import demo, filters
from forecourt.core.inventory import service as inventory
from forecourt.db.engine import SQLITE_PRAGMAS, Database

TARGET_P50_MS = 50.0
BATCH = 5000
# The spec's example, then three other shapes a dealer's website sends.
QUERIES = {
    "spec example": (
        "search=titanium&and[vehicleState]=inventory&and[makeName]=Ford"
        "&and[kilometers][]=>=|25000&and[kilometers][]=<=|250000"
        "&and[firstRegistration][]=>=|2017-01-01&and[firstRegistration][]=<|2018-01-01"
        "&or[colorId][]=3&or[colorId][]=4&or[colorId][]=5"
        "&order[field]=created&order[dir]=desc&offset=0&limit=25"
    ),
    "newest first, page 3": "offset=50&limit=25",
    "make and model by km": (
        "and[makeId]=190&and[modelId]=3813&order[field]=kilometers&order[dir]=asc&limit=25"
    ),
    "price band, fuels, cheapest": (
        "and[price][]=>=|10000&and[price][]=<=|15000&and[fuelType][]=diesel&and[fuelType][]=gasoline"
        "&and[vehicleState]=inventory&order[field]=price&order[dir]=asc&limit=25"
    ),
}


def latency_arguments(doc: str | None, what: str, default: int) -> argparse.ArgumentParser:
    """The options of a latency benchmark: how much is stored (`--{what}`, and
    `--others` of a second account), how often each request is timed, where."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(f"--{what}", type=int, default=default)
    parser.add_argument("--others", type=int, default=default // 20, help=f"{what} of a second account")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--reset-schema", action="store_true", help="DROP the PostgreSQL schema first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def fill(db: Database, count: int, seed: int) -> tuple[Any, str]:
    with db.write() as conn:
        account, key = accounts.create_account(conn, f"Dealer {seed}", "au")
    import_stock(db, account.id, count, seed)
    return account, key.api_key


def import_stock(db: Database, account_id: Any, count: int, seed: int) -> None:
    """`count` generated vehicles imported into the account's stock, as the CLI does."""
    records = enumerate(demo.vehicles(count, seed), start=1)
    done = 0
    while batch := list(islice(records, BATCH)):
        with db.write() as conn:
            inventory.import_records(conn, account_id, batch)
        done += len(batch)
        if done % 100_000 == 0:
            log(f"  {done:,} vehicles")


def captured_sql(db: Database, run: Callable[[Connection], Any], table: str) -> list[tuple[str, Any]]:
    """The statements (and parameters) on `table` that `run` sends to the database."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.read() as conn:
            run(conn)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    return [(s, p) for s, p in statements if table in s]


def search_sql(db: Database, account_id: Any, query: str) -> list[tuple[str, Any]]:
    """The statements the service runs for a list query."""
    from qs_codec import decode

    parsed = filters.parse(decode(query))
    return captured_sql(db, lambda conn: inventory.search(conn, account_id, parsed), "inventory_vehicles")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000,
    }


def timed(
    client: httpx.Client, send: Callable[[httpx.Client], httpx.Response], runs: int, warmup: int
) -> tuple[dict[str, float], Any]:
    """p50 and p95 of `runs` requests after `warmup`, and the last answer's JSON."""
    samples = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        response = send(client)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{response.request.url} answered {response.status_code}: {response.text[:300]}")
        if i >= warmup:
            samples.append(elapsed)
    return percentiles(samples), response.json()


def facts(revision: str, url: str) -> dict[str, Any]:
    """What a benchmark's figures were measured on."""
    backend = backend_of(url)
    return {
        "revision": revision,
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "backend": backend,
        "backend_version": backend_version(url, backend),
    }


def direct(url: str, statements: list[tuple[str, Any]], runs: int, warmup: int) -> dict[str, float]:
    if backend_of(url) == "sqlite":
        conn: Any = sqlite3.connect(sqlite_path(url))
        for pragma in SQLITE_PRAGMAS:  # as the app's connections have them
            conn.execute(pragma)
    else:
        import psycopg

        conn = psycopg.connect(pg_conninfo(url))
        conn.execute("SET plan_cache_mode = force_custom_plan")  # as the service does
    samples = []
    try:
        for i in range(warmup + runs):
            started = time.perf_counter()
            for statement, parameters in statements:
                conn.execute(statement, parameters).fetchall()
            if i >= warmup:
                samples.append(time.perf_counter() - started)
    finally:
        conn.close()
    return percentiles(samples)


def main() -> None:
    args = latency_arguments(__doc__, "vehicles", 1_000_000).parse_args()
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        revision = source_revision()
        db = Database(url)
        log(f"forecourt {revision}; loading {args.vehicles:,} vehicles (+{args.others:,} of another account)")
        started = time.perf_counter()
        account, key = fill(db, args.vehicles, args.seed)
        fill(db, args.others, args.seed + 1)
        with db.autocommit() as conn:  # as `forecourt inventory import` does at its end
            inventory.refresh_statistics(conn)
        setup_s = time.perf_counter() - started
        server = Server(url, workdir, chunk_rows=None, body_size=0)
        try:
            server.wait_healthy()
            figures = {}
            for name, query in QUERIES.items():
                log(f"measuring {name}")
                with httpx.Client(base_url=server.base, headers={"X-Api-Key": key}, timeout=60) as client:
                    api, answer = timed(
                        client, lambda c, q=query: c.get(f"/v3/vehicle?{q}"), args.runs, args.warmup
                    )
                total = answer["total"]
                floor = direct(url, search_sql(db, account.id, query), args.runs, args.warmup)
                figures[name] = {
                    "total": total,
                    "api": api,
                    "floor": floor,
                    "ratio": api["p50_ms"] / floor["p50_ms"],
                }
        finally:
            server.stop()
            db.dispose()
        result = facts(revision, url) | {
            "vehicles": args.vehicles,
            "others": args.others,
            "setup_s": setup_s,
            "runs": args.runs,
            "queries": figures,
        }
        if args.json:
            print(json.dumps(result, indent=2))
            return
        print(f"\nForecourt inventory benchmark  {result['date']}  {result['cpus']} CPUs  {backend}")
        print(f"  database            {result['backend_version']}")
        print(f"  forecourt commit    {revision}")
        print(f"  stock               {args.vehicles:,} vehicles (+{args.others:,} of another account)")
        print(f"  setup               {setup_s:8.1f} s  (import, not measured below)")
        print(f"  {args.runs} runs each after {args.warmup} warm-up; latency in ms\n")
        print(
            f"  {'query':30} {'found':>9} {'API p50':>9} {'API p95':>9} {'SQL p50':>9} {'ratio':>7}  target"
        )
        for name, f in figures.items():
            verdict = "MET" if f["api"]["p50_ms"] < TARGET_P50_MS else "MISSED"
            print(
                f"  {name:30} {f['total']:9,} {f['api']['p50_ms']:9.1f} {f['api']['p95_ms']:9.1f}"
                f" {f['floor']['p50_ms']:9.1f} {f['ratio']:6.1f}x  {verdict}"
            )


if __name__ == "__main__":
    main()
