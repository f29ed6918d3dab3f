"""What delivering each new lead to the dealer's CRM (ADF) costs, against floors measured in
the same run.

    .venv/bin/python bench/adf.py                          # 10,000 leads, SQLite, a temporary file
    .venv/bin/python bench/adf.py --reset-schema \\
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Opening: `--leads` sighting leads opened in one transaction, as a listing batch does
(`leads.service.opened`), for an account with two CRM targets (one delivery row per lead
and target, one job per target) and, the floor, for an account with none.

Delivery: the `crm.deliver` job of the email target walking those leads (each lead's
ADF document made from one read per chunk, checked against the DTD, handed to the email
outbox), against the floor of the outbox alone: as many `notifications.queue` calls
with a ready-made body, in chunks of the same size.

The machine is shared and noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).parent))
from upload import backend_of, log, prepare_database, workspace

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.crm import service as crm
from forecourt.core.crm.tasks import CHUNK
from forecourt.core.leads import repository as lead_rows
from forecourt.core.leads import service as leads
from forecourt.core.notifications import service as notifications
from forecourt.db.bulk import Same
from forecourt.db.engine import Database
from forecourt.jobs.worker import HANDLERS
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_id


def open_leads(db: Database, account_id: UUID, count: int) -> float:
    """Seconds to open `count` leads of the account in one transaction."""
    ids = [new_id() for _ in range(count)]
    start = time.perf_counter()
    with db.write() as conn:
        now = utcnow()
        lead_rows.insert_columns(
            conn,
            {"id": ids, "account_id": Same(account_id), "origin": Same("sighting"), "created_at": Same(now)},
        )
        leads.opened(conn, [(lead_id, account_id) for lead_id in ids], now)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--reset-schema", action="store_true", help="DROP the PostgreSQL schema first")
    args = parser.parse_args()

    with workspace(keep=False) as tmp:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        db = Database(url)
        with db.write() as conn:
            served, _ = accounts.create_account(conn, "Alpha Motors", "au")
            plain, _ = accounts.create_account(conn, "No CRM", "au")
            crm.add_target(conn, served.id, "CRM inbox", "email", "crm@alpha.example")
            http_target = crm.add_target(conn, served.id, "CRM API", "http", "https://crm.alpha.example/adf")

        opening: dict[str, list[float]] = {"with targets": [], "floor: none": []}
        for _ in range(args.rounds):
            opening["floor: none"].append(open_leads(db, plain.id, args.leads))
            opening["with targets"].append(open_leads(db, served.id, args.leads))
        floor = statistics.median(opening["floor: none"])
        for name, seconds in opening.items():
            median = statistics.median(seconds)
            print(f"{backend} open {args.leads} leads, {name:13} {median:.2f} s  x{median / floor:.2f}")

        # The email target's jobs (one per round), run in this process. The HTTP target is
        # removed first (its jobs then find nothing): this measures the documents and the
        # outbox, not a network.
        settings = Settings(database_url=url)
        worker = bootstrap.worker(settings, db, bootstrap.adapters(settings, db))
        worker.handlers = {"crm.deliver": HANDLERS["crm.deliver"]}
        with db.write() as conn:
            crm.remove_target(conn, http_target.id)
        start = time.perf_counter()
        for _ in range(2 * args.rounds):  # the crm.deliver jobs, first in the queue (not the emails')
            assert worker.run_once()
        walked = (time.perf_counter() - start) / args.rounds

        body = "<adf/>" * 200
        start = time.perf_counter()
        for first in range(0, args.leads, CHUNK):
            with db.write() as conn:
                for n in range(first, min(first + CHUNK, args.leads)):
                    notifications.queue(
                        conn, plain.id, "crm@alpha.example", "ADF lead", body, "", key=f"bench:{n}"
                    )
        outbox = time.perf_counter() - start
        log(f"{args.leads} email deliveries per round, {args.rounds} rounds")
        print(f"{backend} deliver {args.leads} leads by email  {walked:.2f} s  x{walked / outbox:.2f}")
        print(f"{backend} floor: the outbox alone       {outbox:.2f} s")
        db.dispose()


if __name__ == "__main__":
    main()
