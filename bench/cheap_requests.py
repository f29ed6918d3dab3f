"""Cheap requests: requests/s and server CPU per request of Forecourt beside a bare ASGI
app running the very same SQL statements, under the same uvicorn settings, in one run.

    apt-get install wrk                      # the load generator (Debian's package)
    .venv/bin/python bench/cheap_requests.py           # SQLite, 5 s per measurement
    .venv/bin/python bench/cheap_requests.py --seconds 10 --connections 16
    .venv/bin/python bench/cheap_requests.py --in-process 3000   # also CPU per request in process

Setup (not measured): a fresh SQLite file; one account with an API key and a Basic
credential; through the app in process: `--customers` Recapture customers, an Autengo
vehicle and `--customers` Kapture customers created today. The statements each measured
request sends to the database are captured there (SQLAlchemy's before_cursor_execute).

Measured, each pair one after the other on the same file:
  - `forecourt serve --processes 1` (one API process, its embedded worker idle; rate
    limits on, counted in memory, with a budget too large to be reached);
  - the floor: a bare ASGI app (no framework) under uvicorn with Forecourt's own
    settings (`server_config`: its h11 protocol, timeouts, limits), which runs the
    captured statements with the raw sqlite3 driver in uvicorn's thread pool (one
    connection per thread, the app's pragmas, BEGIN/COMMIT as the app) and answers
    the rows as JSON.
Requests: `GET /v2/recapture/customers/{id}`, `GET /v3/vehicle/{id}` (Autengo),
`POST /ms/customer-search/customer-search/api/v1` (a Kapture pull of today, 100 per
page) and `/healthz` against `SELECT 1`.

The load: wrk (C, event loop, keep-alive) with `--connections` connections on 1 thread:
a Python client would spend as much CPU as the server on this 2-core machine and cap
what it measures. Server CPU per request: the process's utime+stime (/proc) over the
run divided by the requests answered. `--in-process N` adds, after, each app's own CPU
per request driven over raw ASGI in the bench's process (no server, no client): on a
shared machine this moves far less from run to run than requests/s. Target: Forecourt
at least 0.5x the floor's requests/s on each. The machine is shared and noisy: read the
ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from upload import Server, backend_of, free_port, log, prepare_database, source_revision, sqlite_path

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.db.engine import SQLITE_PRAGMAS, Database

TARGET_RATIO = 0.5
UNLIMITED = str(10**9)  # a rate limit budget no run reaches (the limiter still counts)
SERVER_ENV = {
    "FORECOURT_RATE_LIMIT_PER_MINUTE": UNLIMITED,
    "FORECOURT_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": UNLIMITED,
    "FORECOURT_WORKER_POLL_SECONDS": "1",
}


# --------------------------------------------------------------------------- setup


def app_settings(url: str) -> Settings:
    """Forecourt's settings here: no worker, rate limits out of reach."""
    return Settings.load(
        environ={},
        database_url=url,
        embedded_worker=False,
        rate_limit_per_minute=10**9,
        rate_limit_per_address_per_minute=10**9,
    )


def seed_and_capture(url: str, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Seeds through the app in process; returns the requests to measure (method, path,
    headers, body) and, for each, the statements it sent to the database."""
    settings = app_settings(url)
    db = Database(url)
    with db.write() as conn:
        account, key = accounts.create_account(conn, "Cheap Motors", "au")
        basic = accounts.issue_credential(conn, account.id, "basic")
    from litestar.testing import TestClient

    api = {"ApiKey": key.api_key}
    today = datetime.now(UTC).date().isoformat()
    with TestClient(bootstrap.app(settings, db)) as client:
        for i in range(n):
            body = {"customer": {"rego": f"CR{i:04d}", "state": "VIC", "external_id": f"CUST-{i}"}}
            answer = client.put("/v2/recapture/customers", params={"region": "au"}, headers=api, json=body)
            assert answer.status_code in (200, 201), answer.text
        customer_id = answer.json()["customer"]["id"]
        answer = client.post(
            "/v3/vehicle", headers={"X-Api-Key": key.api_key}, json={"makeName": "Ford", "modelName": "Focus"}
        )
        assert answer.status_code == 201, answer.text
        selling_id = answer.json()["vehicle"]["sellingId"]
        kapture = {"Authorization": f"Basic {basic.basic_token}", "Content-Type": "application/json"}
        for i in range(n):
            body = {
                "customer_info": {"customer_name": f"Kim {i}"},
                "contact_info": [{"phone": f"0400{i:06d}"}],
            }
            answer = client.post("/ms/customer/customer/api/v1/add-update", headers=kapture, json=body)
            assert answer.status_code == 200, answer.text
        pull = {"cm_id": account.cm_id, "createStartDate": today, "createEndDate": today, "limit": 100}
        requests = [
            {"name": "healthz", "method": "GET", "path": "/healthz", "headers": {}, "body": None},
            {
                "name": "recapture customer GET",
                "method": "GET",
                "path": f"/v2/recapture/customers/{customer_id}?region=au",
                "headers": api,
                "body": None,
            },
            {
                "name": "autengo vehicle GET",
                "method": "GET",
                "path": f"/v3/vehicle/{selling_id}",
                "headers": {"X-Api-Key": key.api_key},
                "body": None,
            },
            {
                "name": "kapture pull",
                "method": "POST",
                "path": "/ms/customer-search/customer-search/api/v1",
                "headers": kapture,
                "body": json.dumps(pull),
            },
        ]
        captured = []
        for request in requests:
            statements: list[tuple[str, Any]] = []

            def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
                statements.append((statement, parameters))  # noqa: B023 (used at once)

            sa.event.listen(db.engine, "before_cursor_execute", capture)
            try:
                answer = client.request(
                    request["method"], request["path"], headers=request["headers"], content=request["body"]
                )
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", capture)
            assert answer.status_code == 200, (request["name"], answer.text)
            request["answer_bytes"] = len(answer.content)
            # BEGIN and COMMIT the floor issues itself (a commit is no cursor statement).
            captured.append(
                {
                    "path": request["path"].split("?")[0],
                    "statements": [s for s in statements if not s[0].startswith("BEGIN")],
                }
            )
    db.dispose()
    captured[0]["statements"] = [("SELECT 1", ())]
    return requests, captured


# --------------------------------------------------------------------------- the floor


def bare_app(url: str, routes: dict[str, list[tuple[str, Any]]]) -> Any:
    """An ASGI app answering each captured path with its statements' rows, run in
    uvicorn's thread pool (anyio's, as Litestar's sync handlers)."""
    import anyio.to_thread
    import msgspec

    local = threading.local()
    path = sqlite_path(url)

    def connection() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:
                conn.execute(pragma)
            local.conn = conn
        return conn

    def run(statements: list[tuple[str, Any]]) -> bytes:
        conn = connection()
        conn.execute("BEGIN DEFERRED")
        try:
            rows = [conn.execute(s, p).fetchall() for s, p in statements]
        finally:
            conn.execute("COMMIT")
        return msgspec.json.encode(rows, enc_hook=str)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        statements = routes.get(scope["path"])
        if scope["method"] == "POST":
            while (await receive()).get("more_body"):
                pass
        if statements is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        body = await anyio.to_thread.run_sync(run, statements)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_bare(url: str, routes_file: str, port: int) -> None:
    """The floor's process: the bare app under uvicorn with `forecourt serve`'s settings."""
    import uvicorn

    from forecourt.cli import processes

    routes = pickle.loads(Path(routes_file).read_bytes())
    settings = Settings.load(environ={}, database_url=url, port=port, log_level="warning")
    uvicorn.Server(processes.server_config(settings, bare_app(url, routes), 1)).run()


# --------------------------------------------------------------------------- the load


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(base: str, request: dict[str, Any], seconds: int, connections: int, workdir: Path) -> dict[str, Any]:
    script = workdir / "request.lua"
    lines = [f'wrk.method = "{request["method"]}"']
    for name, value in request["headers"].items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    if request["body"] is not None:
        lines.append(f"wrk.body = {json.dumps(request['body'])}")
    script.write_text("\n".join(lines) + "\n")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base + request["path"]]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": requests,
        "non_2xx": int(failed.group(1)) if failed else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def measure(
    pid: int, base: str, request: dict[str, Any], args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    wrk(base, request, 1, args.connections, workdir)  # warm-up: connections, caches
    cpu, started = cpu_seconds(pid), time.perf_counter()
    result = wrk(base, request, args.seconds, args.connections, workdir)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    return {
        **result,
        "per_s": result["requests"] / elapsed,
        "cpu_ms": cpu * 1000 / max(1, result["requests"]),
    }


def in_process_cpu_ms(app: Any, request: dict[str, Any], count: int, connections: int) -> float:
    """The app's own CPU per request (ms), driven over raw ASGI in this process (no
    server, no client, `connections` at a time): this process's CPU time, which a busy
    machine inflates much less than it does requests/s."""
    import asyncio

    path, _, query = request["path"].partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request["method"],
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in request["headers"].items()]
        + [(b"host", b"bench")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    body = (request["body"] or "").encode()

    async def one() -> None:
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(dict(scope), receive, send)
        assert statuses == [200], (request["name"], statuses)

    async def run(n: int) -> None:
        gate = asyncio.Semaphore(connections)

        async def gated() -> None:
            async with gate:
                await one()

        await asyncio.gather(*(gated() for _ in range(n)))

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run(min(count, 200)))  # warm-up
        started = time.process_time()
        loop.run_until_complete(run(count))
        return (time.process_time() - started) * 1000 / count
    finally:
        loop.close()


def in_process(
    url: str, requests: list[dict[str, Any]], captured: list[dict[str, Any]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Each request's CPU in process: Forecourt's app (as `serve` builds it, the access
    log not written) beside the bare app."""
    settings = app_settings(url)
    db = Database(url)
    ours, bare = bootstrap.app(settings, db), bare_app(url, {c["path"]: c["statements"] for c in captured})
    rows = []
    try:
        for request in requests:
            if args.only and args.only not in request["name"]:
                continue
            log(f"in process: {request['name']}")
            count = max(50, args.in_process // (20 if request["name"] == "kapture pull" else 1))
            forecourt = in_process_cpu_ms(ours, request, count, args.connections)
            floor = in_process_cpu_ms(bare, request, count, args.connections)
            rows.append({"name": request["name"], "forecourt_cpu_ms": forecourt, "floor_cpu_ms": floor})
    finally:
        db.dispose()
    return rows


@contextmanager
def bare_server(url: str, routes_file: Path, workdir: Path) -> Iterator[tuple[int, str]]:
    port = free_port()
    with (workdir / "bare.log").open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve-bare",
                str(routes_file),
                "--port",
                str(port),
                "--database-url",
                url,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise SystemExit((workdir / "bare.log").read_text()) from None
                time.sleep(0.05)
        yield proc.pid, base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200, help="Recapture and Kapture customers each")
    parser.add_argument("--seconds", type=int, default=5, help="per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", help="measure only the requests whose name contains this")
    parser.add_argument(
        "--in-process",
        type=int,
        default=0,
        metavar="N",
        help="also N requests of each (N/20 pulls) driven in process over raw ASGI: CPU per request",
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-bare", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if args.serve_bare:
        serve_bare(args.database_url, args.serve_bare, args.port)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="forecourt-bench-"))
    try:
        url = f"sqlite:///{workdir / 'bench.db'}"
        prepare_database(url, backend_of(url), False)
        revision = source_revision()
        log(f"forecourt {revision}; seeding {args.customers} customers of each dialect")
        requests, captured = seed_and_capture(url, args.customers)
        routes_file = workdir / "routes.pickle"
        routes_file.write_bytes(pickle.dumps({c["path"]: c["statements"] for c in captured}))
        server = Server(url, workdir, None, 0, {**SERVER_ENV, "FORECOURT_PROCESSES": "1"})
        rows = []
        try:
            server.wait_healthy()
            with bare_server(url, routes_file, workdir) as (bare_pid, bare_base):
                for request, floor_sql in zip(requests, captured, strict=True):
                    if args.only and args.only not in request["name"]:
                        continue
                    log(f"measuring {request['name']}")
                    ours = measure(server.proc.pid, server.base, request, args, workdir)
                    bare = measure(bare_pid, bare_base, request, args, workdir)
                    rows.append(
                        {
                            "name": request["name"],
                            "statements": len(floor_sql["statements"]),
                            "forecourt": ours,
                            "floor": bare,
                            "ratio": ours["per_s"] / bare["per_s"],
                        }
                    )
        finally:
            server.stop()
        in_process_rows = in_process(url, requests, captured, args) if args.in_process else []
        result = {
            "revision": revision,
            "date": datetime.now().isoformat(timespec="seconds"),
            "machine": platform.node(),
            "cpus": os.cpu_count(),
            "connections": args.connections,
            "seconds": args.seconds,
            "rows": rows,
            "in_process": in_process_rows,
        }
        if args.json:
            print(json.dumps(result, indent=2))
            return
        print(f"\nForecourt cheap requests  {result['date']}  {result['cpus']} CPUs  sqlite  {revision}")
        print(
            f"  wrk -t1 -c{args.connections} -d{args.seconds}s; "
            "forecourt serve --processes 1; floor: bare ASGI app"
        )
        print(
            f"  {'request':26} {'SQL':>3} {'forecourt/s':>11} {'cpu ms':>7} "
            f"{'floor/s':>9} {'cpu ms':>7} {'ratio':>6}"
        )
        for row in rows:
            ours, bare = row["forecourt"], row["floor"]
            bad = ours["non_2xx"] + bare["non_2xx"]
            verdict = "MET" if row["ratio"] >= TARGET_RATIO else "MISSED"
            print(
                f"  {row['name']:26} {row['statements']:>3} {ours['per_s']:>11,.0f} {ours['cpu_ms']:>7.2f} "
                f"{bare['per_s']:>9,.0f} {bare['cpu_ms']:>7.2f} {row['ratio']:>5.2f}x "
                f"{verdict if row['name'] != 'healthz' else ''}" + (f"  {bad} non-2xx!" if bad else "")
            )
        if in_process_rows:
            print(f"  in process, raw ASGI, {args.connections} at a time: CPU ms per request")
            print(f"  {'request':26} {'forecourt':>9} {'floor':>9} {'ratio':>6}")
            for row in in_process_rows:
                ours_ms, floor_ms = row["forecourt_cpu_ms"], row["floor_cpu_ms"]
                print(f"  {row['name']:26} {ours_ms:>9.3f} {floor_ms:>9.3f} {floor_ms / ours_ms:>5.2f}x")
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
