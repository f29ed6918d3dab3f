"""CRM pull benchmark: p50/p95 latency of the Kapture pull of one busy day out of a
million customers, at the first page and deep into the day, with the same SQL run
directly as the floor.

    .venv/bin/python bench/crm.py                          # 1,000,000 parties, SQLite
    .venv/bin/python bench/crm.py --parties 100000
    .venv/bin/python bench/crm.py --reset-schema \
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Setup (not measured): a fresh database; one account with `--parties` CRM parties, a
tenth of them created on one day (2026-06-01) and the rest over the year before, and a
second account with `--others` parties of the same days. Then `forecourt serve`.

Through the API: `POST /ms/customer-search/customer-search/api/v1` for that day with
`limit` 100 at `offset` 0 and at 50,000, `--runs` times each after `--warmup`, with a
Basic credential: parsing, the key check, the page, the enquiry counts, rendering 100
customers in the vendor's shape. The floor: the statements the service ran, with the
raw driver. Target: p50 under 50 ms.
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
from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import PullQuery
from forecourt.db import bulk, ids
from forecourt.db.engine import Database
from forecourt.db.models import parties

TARGET_P50_MS = 50.0
DAY = datetime(2026, 6, 1)
CHUNK = 50_000
OFFSETS = (0, 50_000)
PULL = "/ms/customer-search/customer-search/api/v1"
NAMES = ("Sashank", "Rahul", "Priya", "Anita", "Vikram", "Meera", "Arjun", "Kavya", "Rohan", "Isha")


def store(db: Database, account_id: Any, count: int, rng: random.Random) -> None:
    """`count` parties: a tenth on DAY, the rest over the year before."""
    busy = count // 10
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        created = [
            DAY + timedelta(seconds=rng.randrange(86_400))
            if start + i < busy
            else DAY - timedelta(seconds=rng.randrange(1, 365 * 86_400))
            for i in range(size)
        ]
        names = [f"{rng.choice(NAMES)} {start + i}" for i in range(size)]
        with db.write() as conn:
            bulk.insert_columns(
                conn,
                parties,
                {
                    "id": ids.issue(conn, size),  # as the API numbers them (db/ids.py)
                    "account_id": bulk.Same(account_id),
                    "name": names,
                    "phone": [f"9{rng.randrange(10**9):09d}" for _ in range(size)],
                    "email": [f"{n.replace(' ', '.').lower()}@example.com" for n in names],
                    "is_organisation": [rng.random() < 0.3 for _ in range(size)],
                    "is_channel_partner": bulk.Same(False),
                    "details": bulk.Same({"city": "Bengaluru", "country": "India"}),
                    "created_at": created,
                    "updated_at": created,
                },
            )


def main() -> None:
    args = latency_arguments(__doc__, "parties", 1_000_000).parse_args()
    rng = random.Random(args.seed)
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        revision = source_revision()
        db = Database(url)
        log(f"forecourt {revision}; storing {args.parties:,} parties (+{args.others:,} of another account)")
        started = time.perf_counter()
        with db.write() as conn:
            account, _ = accounts.create_account(conn, "Contact centre", "au")
            other, _ = accounts.create_account(conn, "Another dealer", "au")
            basic = accounts.issue_credential(conn, account.id, "basic")
        store(db, account.id, args.parties, rng)
        store(db, other.id, args.others, rng)
        if backend == "postgresql":  # what autovacuum does soon after a load this size
            with db.autocommit() as conn:
                conn.exec_driver_sql("VACUUM ANALYZE parties")
        setup_s = time.perf_counter() - started
        figures = {}
        server = Server(url, workdir, chunk_rows=None, body_size=0)
        try:
            server.wait_healthy()
            for offset in OFFSETS:
                log(f"measuring offset {offset:,}")
                body = {
                    "cm_id": account.cm_id,
                    "createStartDate": "2026-06-01",
                    "createEndDate": "2026-06-01",
                }
                body |= {"limit": 100, "offset": offset}
                headers = {"Authorization": f"Basic {basic.basic_token}"}
                with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
                    api, answer = timed(
                        client, lambda c, b=body: c.post(PULL, json=b), args.runs, args.warmup
                    )
                found = len(answer["message"])
                query = PullQuery(DAY, DAY + timedelta(days=1), offset=offset, limit=100)
                sql = captured_sql(db, lambda conn, q=query: contacts.pull(conn, account.id, q), "parties")
                floor = direct(url, sql, args.runs, args.warmup)
                figures[offset] = {
                    "found": found,
                    "api": api,
                    "floor": floor,
                    "ratio": api["p50_ms"] / floor["p50_ms"],
                }
        finally:
            server.stop()
            db.dispose()
        result = facts(revision, url) | {
            "parties": args.parties,
            "on_the_day": args.parties // 10,
            "others": args.others,
            "setup_s": setup_s,
            "offsets": figures,
        }
        if args.json:
            print(json.dumps(result, indent=2))
            return
        print(f"\nForecourt CRM pull benchmark  {result['date']}  {result['cpus']} CPUs  {backend}")
        print(f"  database          {result['backend_version']}")
        print(f"  forecourt commit  {revision}")
        print(f"  parties           {args.parties:,}, {args.parties // 10:,} created on 2026-06-01")
        print(f"                    (+{args.others:,} of another account); setup {setup_s:.1f} s")
        print(f"  {args.runs} runs each after {args.warmup} warm-up; latency in ms\n")
        heads = ("found", "API p50", "API p95", "SQL p50", "ratio")
        print(f"  {'pull of the day':24}" + "".join(f"{h:>9}" for h in heads) + "  target")
        for offset, f in figures.items():
            verdict = "MET" if f["api"]["p50_ms"] < TARGET_P50_MS else "MISSED"
            print(
                f"  {f'limit 100, offset {offset:,}':24}{f['found']:9}{f['api']['p50_ms']:9.1f}"
                f"{f['api']['p95_ms']:9.1f}{f['floor']['p50_ms']:9.1f}{f['ratio']:8.1f}x  {verdict}"
            )


if __name__ == "__main__":
    main()
