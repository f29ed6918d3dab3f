"""What ids that are never reused cost per insert, each side measured in the same run.

    .venv/bin/python bench/ids.py                       # SQLite, a temporary file
    .venv/bin/python bench/ids.py --reset-schema \\
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Bulk inserts (`db/bulk.py`): `--rows` stock vehicles of a demo import and as many
vehicle checks, inserted in chunks of 10,000 into their table as migrated (SQLite:
AUTOINCREMENT, so a deleted newest row's id never comes back) and into a copy of it
without AUTOINCREMENT (what SQLite had before), alternately, `--rounds` times; the
median of each side. On PostgreSQL both sides are the same table form (a sequence):
the figure shows the noise.

Single inserts: `--contacts` CRM parties inserted one per transaction, with the id
issued by db/ids.py (a random draw recorded in issued_ids) and with the id counted in
the process (as a sequence would, no extra statement), alternately.

Listing ids: `--rows` ids for new listings from the table's sequence (`ids.counted`)
against the old `max(id) + 1`.

The machine is shared and noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from upload import backend_of, log, prepare_database, workspace

from forecourt.core.accounts import service as accounts
from forecourt.core.inventory import demo
from forecourt.core.inventory import service as inventory
from forecourt.db import bulk, ids
from forecourt.db.engine import Database
from forecourt.db.models import check_batches, inventory_vehicles, listings, parties, vehicle_checks
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_id

CHUNK = 10_000


def plain_copy(table: sa.Table) -> sa.Table:
    """The same table (columns, keys, indexes, constraints) without AUTOINCREMENT."""
    copy = table.to_metadata(table.metadata, name=f"{table.name}_plain")
    copy.dialect_options["sqlite"]["autoincrement"] = False
    for item in (*copy.indexes, *copy.constraints):
        if item.name:
            item.name = f"{item.name}_plain"
    return copy


def columns_of(db: Database, table: sa.Table, account_id: Any) -> dict[str, list[Any]]:
    """The stored rows of the table (ids left out), as columns."""
    names = [c.name for c in table.columns if c.name != "id"]
    with db.read() as conn:
        rows = conn.execute(sa.select(*(table.c[n] for n in names)).where(table.c.account_id == account_id))
        return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))


def timed_insert(db: Database, table: sa.Table, columns: dict[str, list[Any]]) -> float:
    with db.write() as conn:
        conn.execute(table.delete())
    count = len(next(iter(columns.values())))
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        with db.write() as conn:
            bulk.insert_columns(conn, table, {k: v[start : start + CHUNK] for k, v in columns.items()})
    return time.perf_counter() - started


def alternate(rounds: int, sides: dict[str, Callable[[], float]]) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, run in sides.items():
            samples[name].append(run())
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url")
    parser.add_argument("--reset-schema", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        db = Database(url)
        with db.write() as conn:
            account, _ = accounts.create_account(conn, "Bench Motors")
        log(f"{backend}: importing {args.rows:,} demo vehicles, storing {args.rows:,} checks")
        records = enumerate(demo.vehicles(args.rows, seed=1), start=1)
        while batch := list(itertools.islice(records, CHUNK)):
            with db.write() as conn:
                inventory.import_records(conn, account.id, batch)
        batch_id = new_id()
        with db.write() as conn:
            conn.execute(
                sa.insert(check_batches).values(
                    id=batch_id,
                    account_id=account.id,
                    vehicles=args.rows,
                    checks=args.rows,
                    created_at=utcnow(),
                )
            )
            bulk.insert_columns(
                conn,
                vehicle_checks,
                {
                    "account_id": bulk.Same(account.id),
                    "batch_id": bulk.Same(batch_id),
                    "resource_id": [n % 14 for n in range(args.rows)],
                    "vin": [f"VIN{n:014d}" for n in range(args.rows)],
                    "plate": [f"P{n % 999_999:06d}" for n in range(args.rows)],
                    "state": bulk.Same("done"),
                    "result": bulk.Same([]),
                    "created_at": bulk.Same(utcnow()),
                },
            )
        figures: dict[str, Any] = {"backend": backend, "rows": args.rows, "contacts": args.contacts}
        for table in (inventory_vehicles, vehicle_checks):
            columns = columns_of(db, table, account.id)
            copy = plain_copy(table)
            with db.write() as conn:
                copy.create(conn)
            log(f"bulk insert into {table.name}: as migrated vs without AUTOINCREMENT, {args.rounds} rounds")
            medians = alternate(
                args.rounds,
                {
                    "as migrated": lambda t=table, c=columns: timed_insert(db, t, c),
                    "without AUTOINCREMENT": lambda t=copy, c=columns: timed_insert(db, t, c),
                },
            )
            figures[table.name] = medians | {
                "ratio": medians["as migrated"] / medians["without AUTOINCREMENT"]
            }

        counter = itertools.count(10**12)

        def contacts(issue: Callable[[Any], int]) -> float:
            started = time.perf_counter()
            now = utcnow()
            for n in range(args.contacts):
                with db.write() as conn:
                    conn.execute(
                        sa.insert(parties).values(
                            id=issue(conn),
                            account_id=account.id,
                            name=f"Contact {n}",
                            details={},
                            created_at=now,
                            updated_at=now,
                        )
                    )
            return (time.perf_counter() - started) / args.contacts

        log(f"{args.contacts:,} single contact inserts: issued ids vs counted ids, {args.rounds} rounds")
        medians = alternate(
            args.rounds,
            {
                "issued (db/ids.py)": lambda: contacts(ids.issue_one),
                "counted": lambda: contacts(lambda _c: next(counter)),
            },
        )
        figures["contact insert"] = {k: v * 1e6 for k, v in medians.items()} | {
            "ratio": medians["issued (db/ids.py)"] / medians["counted"]
        }

        def listing_ids(take: Callable[[Any], list[int]]) -> float:
            started = time.perf_counter()
            with db.write() as conn:
                take(conn)
            return time.perf_counter() - started

        def old_way(conn: Any) -> list[int]:
            top = conn.scalar(sa.select(sa.func.max(listings.c.id))) or 0
            return list(range(top + 1, top + 1 + args.rows))

        medians = alternate(
            args.rounds,
            {
                "ids.counted": lambda: listing_ids(lambda c: ids.counted(c, listings, args.rows)),
                "max + 1": lambda: listing_ids(old_way),
            },
        )
        figures["listing ids"] = {k: v * 1e3 for k, v in medians.items()}
        db.dispose()
    if args.json:
        print(json.dumps(figures))
        return
    for name, values in figures.items():
        print(f"{name}: {values}")


if __name__ == "__main__":
    main()
