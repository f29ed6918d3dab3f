"""Vehicle-check read benchmark: p50/p95 latency of reading 500 vehicles' checks out of
1,000,000 stored ones through the Sync API, with the same SQL run directly as the floor.

    .venv/bin/python bench/checks.py                       # 1,000,000 checks, SQLite
    .venv/bin/python bench/checks.py --checks 100000
    .venv/bin/python bench/checks.py --reset-schema \
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Setup (not measured): a fresh database; one account whose `--checks` finished checks
are spread over vehicles checked by two resources (VIN decode and listing history),
some of them twice (an older and a newer batch: the read must pick the newer), and a
second account with `--others` checks of the same vehicles. Then `forecourt serve`.

Through the API: `POST /api/batch/scraping/query` with 500 vehicles drawn at random
from those stored (a different draw each run), `--runs` times after `--warmup`, over
one keep-alive connection: validation, the key check, the lookup, choosing the newest
check per resource, rendering. The floor: the statements the service ran for one
draw, executed with the raw driver. Target: p50 under 50 ms on SQLite.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from inventory import captured_sql, direct, facts, latency_arguments, timed
from upload import Server, backend_of, log, prepare_database, source_revision, workspace

from forecourt.core.accounts import service as accounts
from forecourt.core.checks import service as checks
from forecourt.core.checks.schemas import CheckedVehicle
from forecourt.db import bulk
from forecourt.db.engine import Database
from forecourt.db.models import check_batches, vehicle_checks
from forecourt.kit.ids import new_id

TARGET_P50_MS = 50.0
READ = 500
CHUNK = 50_000
ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
RESULT = [{"valid": True, "wmi": "WVW", "manufacturer": "Volkswagen", "modelYears": [2012]}]


def fleet(count: int, rng: random.Random) -> list[CheckedVehicle]:
    return [
        CheckedVehicle("".join(rng.choices(ALPHABET, k=17)), "".join(rng.choices(ALPHABET, k=7)))
        for _ in range(count)
    ]


def store(
    db: Database, account_id: Any, vehicles: list[CheckedVehicle], total: int, per_batch: int = CHUNK
) -> None:
    """`total` finished checks: two resources per vehicle, a tenth of them checked twice;
    `per_batch` checks a batch (the Sync API takes 500 vehicles a batch: 1,000 checks)."""
    rows = [(r, v) for v in vehicles for r in (1, 3)]
    rows += rows[: total - len(rows)]  # the repeats: an older batch, the same vehicles
    started = datetime(2026, 1, 1)
    for start in range(0, len(rows), per_batch):
        piece = rows[start : start + per_batch]
        batch_id, when = new_id(), started + timedelta(minutes=start // per_batch)
        with db.write() as conn:
            conn.execute(
                check_batches.insert().values(
                    id=batch_id,
                    account_id=account_id,
                    vehicles=len(piece) // 2,
                    checks=len(piece),
                    created_at=when,
                )
            )
            bulk.insert_columns(
                conn,
                vehicle_checks,
                {
                    "account_id": bulk.Same(account_id),
                    "batch_id": bulk.Same(batch_id),
                    "resource_id": [r for r, _ in piece],
                    "vin": [v.vin for _, v in piece],
                    "plate": [v.plate for _, v in piece],
                    "state": bulk.Same("done"),
                    "status_id": bulk.Same(100),
                    "result": bulk.Same(RESULT),
                    "created_at": bulk.Same(when),
                    "finished_at": bulk.Same(when + timedelta(seconds=5)),
                },
            )


def body(vehicles: list[CheckedVehicle]) -> bytes:
    return json.dumps({"vehicles": [{"vin": v.vin, "plate": v.plate} for v in vehicles]}).encode()


def main() -> None:
    args = latency_arguments(__doc__, "checks", 1_000_000).parse_args()
    rng = random.Random(args.seed)
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        revision = source_revision()
        db = Database(url)
        log(f"forecourt {revision}; storing {args.checks:,} checks (+{args.others:,} of another account)")
        started = time.perf_counter()
        with db.write() as conn:
            account, key = accounts.create_account(conn, "Fleet owner", "au")
            other, _ = accounts.create_account(conn, "Another fleet", "au")
        vehicles = fleet(args.checks * 9 // 20, rng)
        store(db, account.id, vehicles, args.checks)
        store(db, other.id, vehicles[: args.others // 2], args.others)
        if backend == "postgresql":  # what autovacuum does soon after a load this size
            with db.autocommit() as conn:
                conn.exec_driver_sql("ANALYZE vehicle_checks")
        setup_s = time.perf_counter() - started
        sample = rng.sample(vehicles, READ)
        floor_sql = captured_sql(db, lambda conn: checks.latest(conn, account.id, sample), "vehicle_checks")
        server = Server(url, workdir, chunk_rows=None, body_size=0)
        try:
            server.wait_healthy()
            log("measuring")
            headers = {"Authorization": f"Bearer {key.api_key}", "Content-Type": "application/json"}
            with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
                api, answer = timed(
                    client,
                    lambda c: c.post("/api/batch/scraping/query", content=body(rng.sample(vehicles, READ))),
                    args.runs,
                    args.warmup,
                )
            found = len(answer["vehicleData"])
            floor = direct(url, floor_sql, args.runs, args.warmup)
        finally:
            server.stop()
            db.dispose()
        result = facts(revision, url) | {
            "checks": args.checks,
            "others": args.others,
            "vehicles": len(vehicles),
            "setup_s": setup_s,
            "found": found,
            "api": api,
            "floor": floor,
            "ratio": api["p50_ms"] / floor["p50_ms"],
        }
        if args.json:
            print(json.dumps(result, indent=2))
            return
        verdict = "MET" if api["p50_ms"] < TARGET_P50_MS else "MISSED"
        print(f"\nForecourt vehicle-check read benchmark  {result['date']}  {result['cpus']} CPUs  {backend}")
        print(f"  database          {result['backend_version']}")
        print(f"  forecourt commit  {revision}")
        print(
            f"  stored checks     {args.checks:,} of {len(vehicles):,} vehicles"
            f" (+{args.others:,} of another account)"
        )
        print(f"  setup             {setup_s:8.1f} s (not measured below)")
        print(
            f"  read              {READ} vehicles per request, {args.runs} runs after {args.warmup} warm-up"
        )
        print(f"  vehicles found    {found} of {READ}")
        print(f"  API               p50 {api['p50_ms']:7.1f} ms   p95 {api['p95_ms']:7.1f} ms")
        print(f"  SQL (floor)       p50 {floor['p50_ms']:7.1f} ms   p95 {floor['p95_ms']:7.1f} ms")
        print(f"  ratio             {result['ratio']:7.1f}x")
        print(f"  target            p50 < {TARGET_P50_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
