"""The workspace's leads pages with `--leads` leads in one account: server time per page,
against the cheapest page of the same app (the sign-in form) measured in the same run.

    .venv/bin/python bench/inbox.py                       # 100,000 leads, SQLite
    .venv/bin/python bench/inbox.py --reset-schema \\
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Setup (not timed): a fresh database; one account with a manager and 10 sales users;
`--leads` leads made over a year (origins, statuses and assignees at random, 10%
unassigned), inserted in bulk; statistics gathered (ANALYZE).

Timed: `--rounds` requests of each page, in-process (Litestar's TestClient: no socket),
signed in as the manager or a salesperson; p50 and p95 in milliseconds. Target: p50 under
50 ms for each. The machine is shared and noisy: read the ratio to the floor too.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from litestar.testing import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from upload import backend_of, log, prepare_database, workspace

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.sessions import service as sessions
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db import bulk
from forecourt.db.engine import Database
from forecourt.db.models import leads
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_ids

TARGET_MS = 50.0
PASSWORD = "bench-password-1"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--reset-schema", action="store_true", help="empty a PostgreSQL schema first")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args()


def fill(db: Database, count: int) -> tuple[User, User, list[tuple[str, str]]]:
    """The account, its staff and its leads; the pages to time, as (name, path)."""
    rng = random.Random(1)
    with db.write() as conn:
        account, _ = accounts.create_account(conn, "Bench Motors", "au")

        def user(email: str, role: str) -> User:
            return users.create_user(
                conn, users.check_new_user(account.id, email, email, role), PASSWORD
            ).user

        manager = user("mia@bench.example", "manager")
        sales = [user(f"sales{n}@bench.example", "sales") for n in range(10)]
    now = utcnow()
    ids = new_ids(count)
    created = [now - timedelta(seconds=rng.randint(0, 365 * 86400)) for _ in range(count)]
    statuses = rng.choices(["new", "contacted", "appointment", "won", "lost"], [20, 20, 10, 25, 25], k=count)
    with db.write() as conn:
        bulk.insert_columns(
            conn,
            leads,
            {
                "id": ids,
                "account_id": bulk.Same(account.id),
                "origin": rng.choices(["sighting", "opportunity", "enquiry"], k=count),
                "created_at": created,
                "status": statuses,
                "assignee_id": [rng.choice(sales).id if rng.random() < 0.9 else None for _ in range(count)],
                "first_actioned_at": [
                    at if s != "new" else None for at, s in zip(created, statuses, strict=True)
                ],
            },
        )
        conn.exec_driver_sql("ANALYZE")
    newest_at, newest_id = max(zip(created, ids, strict=True))
    pages = [
        ("inbox", "/leads"),
        ("inbox, status won", "/leads?status=won"),
        ("inbox, unassigned", "/leads?assignee=unassigned"),
        ("inbox, unactioned, older than 24 h", "/leads?unactioned=1&older_than=24"),
        ("inbox, created in a month", "/leads?since=2026-06-01&until=2026-06-30"),
        ("live poll, nothing new", f"/leads/live?newer={newest_at.isoformat()}_{newest_id}"),
        ("a lead", f"/leads/{ids[count // 2]}"),
    ]
    return manager, sales[0], pages


def timed(client: TestClient, path: str, rounds: int) -> list[float]:  # type: ignore[type-arg]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code not in (200, 204):
            raise SystemExit(f"{path}: {response.status_code}")
    return times


def main() -> None:
    args = arguments()
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        db = Database(url)
        log(f"{args.leads:,} leads on {backend}")
        manager, salesperson, pages = fill(db, args.leads)
        app = bootstrap.app(Settings(database_url=url, rate_limit_per_minute=0), db)
        with TestClient(app, base_url="http://bench.local") as client:
            floor = statistics.median(timed(client, "/login", args.rounds))
            print(f"floor (the sign-in form): p50 {floor:.1f} ms")
            print(f"{'who':8} {'page':38} {'p50 ms':>7} {'p95 ms':>7} {'ratio':>6}")
            for who, user in (("manager", manager), ("sales", salesperson)):
                with db.write() as conn:
                    token = sessions.start(conn, user, utcnow(), timedelta(hours=1)).token
                client.cookies.set("forecourt_session", token)
                for name, path in pages if who == "manager" else pages[:2]:
                    times = sorted(timed(client, path, args.rounds))
                    p50, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
                    mark = "" if p50 < TARGET_MS else "  over the target"
                    print(f"{who:8} {name:38} {p50:7.1f} {p95:7.1f} {p50 / floor:6.1f}{mark}")
        db.dispose()


if __name__ == "__main__":
    main()
