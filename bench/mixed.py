"""Mixed load (issue 17, point 5): p50/p99 of 20 clients' reads with no upload running,
then while a 1M-customer upload is being processed, with `forecourt serve --processes 1`
and with one API process per core.

    .venv/bin/python bench/mixed.py                                  # 1M upload, SQLite
    .venv/bin/python bench/mixed.py --upload-customers 100000 --seconds 10
    .venv/bin/python bench/mixed.py --reset-schema \
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Setup (not measured): a fresh database; one account with `--customers` tracked
customers (as bench/match.py seeds them), `--vehicles` vehicles in stock (as
bench/inventory.py imports them) and `--kapture` Kapture customers created today
through the API. wrk (apt-get install wrk) is the load: C, keep-alive, its own
latency histogram, so the client takes little of the 2 cores it shares with the
server. Three wrk processes run at once, `--clients` connections split between them:
  - Recapture `GET /v2/recapture/customers/{id}` of one of 100 customers at random;
  - Autengo `GET /v3/vehicle` with the spec's example query (inventory.QUERIES);
  - a Kapture pull, `POST /ms/customer-search/customer-search/api/v1`, today, 100 a page.
(wrk's timeout is raised to 60 s, so a slow answer is timed rather than dropped.)

For each `--processes` (default 1 and the number of cores; the server otherwise at its
defaults, rate limits out of reach): `forecourt serve`, a warm-up, `--seconds` idle,
then an upload of `--upload-customers` customers to an account of its own is POSTed
and `--seconds` more are measured from its POST (its staging and then its
processing; the run says if it finished before the window closed). Reported: p50 and
p99 per kind idle and during, and the ratio during/idle. Target: p99 during under 3x
idle. The machine is shared and noisy: read the ratios, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from inventory import QUERIES, import_stock
from latency import Upload, server_env
from match import seed_customers
from upload import (
    Server,
    backend_version,
    database_arguments,
    fresh_database,
    log,
    source_revision,
    upload_body,
)

from forecourt.core.accounts import service as accounts
from forecourt.db.engine import Database
from forecourt.db.models import tracked_customers

TARGET_RATIO = 3.0
KINDS = ("recapture customer", "autengo vehicles", "kapture pull")
DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def seed(url: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The reading account's data; the three requests as wrk scripts' parts."""
    (account_id,), _ = seed_customers(url, args.customers, 1)
    db = Database(url)
    try:
        with db.write() as conn:
            api_key = accounts.issue_credential(conn, account_id, "api").api_key or ""
            basic = accounts.issue_credential(conn, account_id, "basic").basic_token or ""
            cm_id = accounts.require_account(conn, account_id).cm_id
        log(f"importing {args.vehicles:,} vehicles")
        import_stock(db, account_id, args.vehicles, args.seed)
        with db.read() as conn:
            ids = conn.scalars(
                sa.select(tracked_customers.c.id)
                .where(tracked_customers.c.account_id == account_id)
                .limit(5000)
            ).all()
    finally:
        db.dispose()
    picked = random.Random(args.seed).sample(list(ids), min(100, len(ids)))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    kapture = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
    pull = {"cm_id": cm_id, "createStartDate": today, "createEndDate": today, "limit": 100}
    return {
        "recapture customer": {
            "paths": [f"/v2/recapture/customers/{i}?region=au" for i in picked],
            "headers": {"ApiKey": api_key},
        },
        "autengo vehicles": {
            "paths": ["/v3/vehicle?" + urllib.parse.quote(QUERIES["spec example"], safe="=&")],
            "headers": {"X-Api-Key": api_key},
        },
        "kapture pull": {
            "paths": ["/ms/customer-search/customer-search/api/v1"],
            "headers": kapture,
            "method": "POST",
            "body": json.dumps(pull),
        },
    }


def add_kapture_customers(base: str, headers: dict[str, str], count: int) -> None:
    """Kapture customers created today, through the API (their pull reads today's)."""
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for i in range(count):
            body = {
                "customer_info": {"customer_name": f"Kim {i}"},
                "contact_info": [{"phone": f"0400{i:06d}"}],
            }
            answer = client.post("/ms/customer/customer/api/v1/add-update", json=body)
            if answer.status_code != 200:
                raise SystemExit(f"Kapture add-update answered {answer.status_code}: {answer.text[:300]}")


def script(request: dict[str, Any], path: Path) -> Path:
    """A wrk script sending `request` (a path at random of its list) and printing its figures."""
    lines = [f'wrk.method = "{request.get("method", "GET")}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in request["headers"].items()]
    if "body" in request:
        lines.append(f"wrk.body = {json.dumps(request['body'])}")
    lines.append("local paths = {" + ", ".join(json.dumps(p) for p in request["paths"]) + "}")
    lines.append("request = function() return wrk.format(nil, paths[math.random(#paths)]) end")
    path.write_text("\n".join(lines) + DONE)
    return path


def load(base: str, scripts: dict[str, Path], clients: int, seconds: float) -> dict[str, dict[str, float]]:
    """The three wrk processes at once, `clients` connections between them."""
    share = [clients // len(scripts) + (i < clients % len(scripts)) for i in range(len(scripts))]
    running = {
        kind: subprocess.Popen(
            ["wrk", "-t1", f"-c{c}", f"-d{seconds:g}s", "--timeout", "60s", "-s", str(lua), base],
            stdout=subprocess.PIPE,
            text=True,
        )
        for (kind, lua), c in zip(scripts.items(), share, strict=True)
    }
    out = {}
    for kind, proc in running.items():
        text, _ = proc.communicate()
        found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", text)
        if proc.returncode != 0 or found is None:
            raise SystemExit(f"wrk failed for {kind}:\n{text}")
        requests, non_2xx, socket_errors, p50, p99, peak = (int(g) for g in found.groups())
        out[kind] = {
            "requests": requests,
            "per_s": requests / seconds,
            "non_2xx": non_2xx,
            "socket_errors": socket_errors,
            "p50_ms": p50 / 1000,
            "p99_ms": p99 / 1000,
            "max_ms": peak / 1000,
        }
    return out


def measure(
    url: str, workdir: Path, processes: int, scripts: dict[str, Path], body: bytes, args: argparse.Namespace
) -> dict[str, Any]:
    db = Database(url)
    try:
        with db.write() as conn:
            _, key = accounts.create_account(conn, f"Uploader {processes}", "au")
    finally:
        db.dispose()
    env = server_env({"FORECOURT_PROCESSES": str(processes), **dict(e.split("=", 1) for e in args.env)})
    server = Server(url, workdir, None, len(body), env)
    try:
        server.wait_healthy()
        if args.kapture_headers:
            log(f"adding {args.kapture:,} Kapture customers through the API")
            add_kapture_customers(server.base, args.kapture_headers, args.kapture)
            args.kapture_headers = None
        load(server.base, scripts, args.clients, 2)  # warm-up: connections, caches
        log(f"--processes {processes}: idle, {args.seconds:g} s")
        idle = load(server.base, scripts, args.clients, args.seconds)
        upload = Upload(server.base, key.api_key or "", body)
        log(f"--processes {processes}: during an upload of {args.upload_customers:,}, {args.seconds:g} s")
        upload.start()
        during = load(server.base, scripts, args.clients, args.seconds)
        still_processing = not upload.done.is_set()
        upload.done.wait(3600)
        if upload.error:
            raise SystemExit(f"the upload failed: {upload.error}")
        server.check_alive()
    finally:
        server.stop()
    return {
        "idle": idle,
        "during": during,
        "upload": {"accepted_s": upload.accepted_s, "processed_s": upload.processed_s},
        "upload_still_processing_at_the_end": still_processing,
    }


def report(args: argparse.Namespace, database: str, runs: dict[int, Any], revision: str) -> None:
    print(f"\nForecourt mixed load  {time.strftime('%Y-%m-%dT%H:%M:%S')}  {os.cpu_count()} CPUs  {database}")
    print(f"  forecourt commit   {revision}; load average {os.getloadavg()[0]:.2f} at the end")
    print(
        f"  on file            {args.customers:,} tracked customers, {args.vehicles:,} vehicles, "
        f"{args.kapture:,} Kapture customers; {args.clients} clients (wrk), {args.seconds:g} s each"
    )
    for processes, run in runs.items():
        u = run["upload"]
        cut = "" if run["upload_still_processing_at_the_end"] else "  (it finished inside the window)"
        print(
            f"  --processes {processes}: upload of {args.upload_customers:,}: 202 after "
            f"{u['accepted_s']:.1f} s, processed after {u['processed_s']:.1f} s{cut}"
        )
        print(
            f"    {'reads':20} {'idle/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'during/s':>8} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'max ms':>7} {'p99 x':>6}"
        )
        for kind in KINDS:
            i, d = run["idle"][kind], run["during"][kind]
            ratio = d["p99_ms"] / i["p99_ms"]
            bad = sum(r["non_2xx"] + r["socket_errors"] for r in (i, d))
            verdict = "MET" if ratio < TARGET_RATIO else "MISSED"
            print(
                f"    {kind:20} {i['per_s']:>7.0f} {i['p50_ms']:>7.1f} {i['p99_ms']:>7.1f} "
                f"{d['per_s']:>8.0f} {d['p50_ms']:>7.1f} {d['p99_ms']:>7.1f} {d['max_ms']:>7.0f} "
                f"{ratio:>5.1f}x {verdict}" + (f"  {bad} errors!" if bad else "")
            )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--upload-customers", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000, help="tracked customers the reads find")
    parser.add_argument("--vehicles", type=int, default=20_000, help="vehicles in stock")
    parser.add_argument("--kapture", type=int, default=200, help="Kapture customers of today")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument(
        "--processes", default=f"1,{os.cpu_count()}", help="comma-separated forecourt serve --processes"
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="FORECOURT_X=VALUE", help="a server setting (repeated)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    database_arguments(parser)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with fresh_database(args) as (url, backend, workdir):
        revision = source_revision()
        log(f"seeding {args.customers:,} tracked customers")
        requests = seed(url, args)
        args.kapture_headers = requests["kapture pull"]["headers"]
        scripts = {kind: script(requests[kind], workdir / f"{n}.lua") for n, kind in enumerate(KINDS)}
        log(f"generating the upload of {args.upload_customers:,} customers")
        body = upload_body(args.upload_customers, args.seed)
        runs = {}
        for processes in (int(p) for p in args.processes.split(",")):
            runs[processes] = measure(url, workdir, processes, scripts, body, args)
        if args.json:
            print(json.dumps(runs, indent=2))
        else:
            report(args, f"{backend} {backend_version(url, backend)}", runs, revision)


if __name__ == "__main__":
    main()
