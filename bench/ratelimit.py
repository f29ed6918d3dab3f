"""Rate-limit cost benchmark: what the limits add to one cheap authenticated request.

    .venv/bin/python bench/ratelimit.py                    # a fresh SQLite file
    .venv/bin/python bench/ratelimit.py --reset-schema \
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

The end-to-end benchmarks (crm, checks, inventory) spend 5 to 50 ms a request, so a
sub-millisecond cost drowns in this machine's noise there. This one serves
`GET /api/resources` (the key check and a constant answer) in-process from the same app
built three ways over one database: limits off (`FORECOURT_RATE_LIMIT_PER_MINUTE=0`,
`FORECOURT_AUTH_FAILURE_LIMIT=0`), counted in the database (the default) and in
`memory://`; in interleaved blocks, so the machine's load falls on all alike. Budgets
are set too high to be reached. Prints p50/p95 per variant and the ratios to "off".
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from upload import backend_of, log, prepare_database, source_revision, workspace

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database

HIGH = 10**9
VARIANTS: dict[str, dict[str, Any]] = {
    "off": {"rate_limit_per_minute": 0, "auth_failure_limit": 0},
    "database": {"rate_limit_per_minute": HIGH, "rate_limit_per_address_per_minute": HIGH},
    "memory": {
        "rate_limit_per_minute": HIGH,
        "rate_limit_per_address_per_minute": HIGH,
        "rate_limit_storage": "memory://",
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--blocks", type=int, default=40)
    parser.add_argument("--per-block", type=int, default=25)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--reset-schema", action="store_true", help="DROP the PostgreSQL schema first")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the test client logs every request

    with workspace(keep=False) as tmp:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        db = Database(url)
        with db.write() as conn:
            _, key = accounts.create_account(conn, "Bench")
        headers = {"Authorization": f"Bearer {key.api_key}"}
        apps = {
            name: bootstrap.app(Settings(database_url=url, **values), db) for name, values in VARIANTS.items()
        }
        samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
        clients = {name: TestClient(app) for name, app in apps.items()}
        try:
            for client in clients.values():
                client.__enter__()
                for _ in range(args.per_block):  # warm-up
                    client.get("/api/resources", headers=headers)
            log(f"{args.blocks} blocks of {args.per_block} requests per variant")
            for _ in range(args.blocks):
                for name, client in clients.items():
                    for _ in range(args.per_block):
                        start = time.perf_counter()
                        response = client.get("/api/resources", headers=headers)
                        samples[name].append(time.perf_counter() - start)
                        if response.status_code != 200:
                            raise SystemExit(f"{name}: {response.status_code} {response.text}")
        finally:
            for client in clients.values():
                client.__exit__(None, None, None)
            db.dispose()

    def p(values: list[float], q: float) -> float:
        return sorted(values)[int(len(values) * q)] * 1000

    off = statistics.median(samples["off"]) * 1000
    figures = {
        "revision": source_revision(),
        "backend": backend,
        "variants": {
            name: {"p50_ms": p(s, 0.5), "p95_ms": p(s, 0.95), "ratio_p50": p(s, 0.5) / off}
            for name, s in samples.items()
        },
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for name, f in figures["variants"].items():
        print(f"{backend} {name:8} p50 {f['p50_ms']:.3f} ms  p95 {f['p95_ms']:.3f} ms  x{f['ratio_p50']:.2f}")


if __name__ == "__main__":
    main()
