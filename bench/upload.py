"""Customer-list upload benchmark: end to end through `forecourt serve`, against a floor
measured in the same run.

    .venv/bin/python bench/upload.py                      # 100,000 customers, fresh SQLite
    .venv/bin/python bench/upload.py --n 1000000
    .venv/bin/python bench/upload.py --database-url postgresql://postgres@127.0.0.1/forecourt_bench
    .venv/bin/python bench/upload.py --pipeline-rows 0    # the same, without the upload pipeline
    .venv/bin/python bench/upload.py --processes 1        # one process, its worker embedded
    .venv/bin/python bench/upload.py --profile phases     # worker side only, in-process

End to end: a fresh database, an account made with `forecourt accounts create`, and
`forecourt serve` on a free loopback port, as the app configures it by default (one API
process per core and, with several, a worker process beside them; the upload pipeline's
child under the worker) unless --processes / --pipeline-rows say otherwise: the report's
"server" line says what ran. N generated customers go up as one POST
/v2/recapture/upload; we time the 202, then poll the upload until
total_processed_customers == total_uploaded_customers. Memory: the RSS and PSS of the server's
whole process tree, summed, sampled from /proc every 20 ms, and each process's own peak.

The floor: the raw driver inserting the very rows the server stored (read back, so
already in the stored representation) into an empty copy of tracked_customers with the
same columns, constraints and indexes, copied from the migrated schema, in ONE
transaction. SQLite: sqlite3 executemany, same pragmas as the app. PostgreSQL: COPY
(the floor) and, for reference, psycopg executemany. The machine is shared and noisy:
read the ratio, not the absolute times.

Databases. SQLite: by default a new file in a temporary directory; a --database-url
file that already exists is refused. PostgreSQL: the URL must name a database whose
public schema has no tables (create one: `createdb forecourt_bench`); otherwise the
script refuses, unless --reset-schema is given, which DROPS SCHEMA public CASCADE and
recreates it. The floor uses a scratch schema `bench_floor_<random>` dropped at the end.

--profile runs no server: it stages the upload in-process, then runs the job's unit of
work in a loop (forecourt.core.uploads.tasks.run_chunk: prepare_chunk, look_up,
apply_chunk; on earlier code, service.process_next_chunk in a write transaction) with
per-phase wall-clock timers (`phases`) or under cProfile (`cprofile`). It leaves out
what only the server does (HTTP, the job's heartbeat), so its rate is a little higher.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import http.client
import io
import json
import os
import platform
import pstats
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
from sqlalchemy.engine import make_url

from forecourt.config import Settings
from forecourt.db.engine import SQLITE_PRAGMAS

REGION = "au"
TABLE = "tracked_customers"
TARGET_RATIO = 2.0
TARGET_PER_SECOND = 1_000_000 / 60  # 1M processed in under 60 s
HEALTH_WAIT = 60.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- customers

STATES = ("NSW", "VIC", "QLD", "WA", "SA", "TAS", "ACT", "NT")
STATE_WEIGHTS = (32, 26, 20, 10, 7, 2, 2, 1)
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O or Q
WMIS = ("JTD", "JTN", "MR0", "WVW", "WBA", "KMH", "JN1", "6FP", "6G1", "LRW", "WDD", "SAL", "JMZ", "KNA")
YEAR_CODES = "BCDEFGHJKLMNPRS"  # 2011..2025
VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VEHICLES = (
    ("Toyota", "Corolla"),
    ("Toyota", "HiLux"),
    ("Toyota", "RAV4"),
    ("Mazda", "CX-5"),
    ("Mazda", "3"),
    ("Ford", "Ranger"),
    ("Hyundai", "i30"),
    ("Kia", "Sportage"),
    ("Mitsubishi", "Triton"),
    ("Volkswagen", "Golf"),
    ("Nissan", "X-Trail"),
    ("Subaru", "Outback"),
)
FIRST = ("Olivia", "Jack", "Charlotte", "Noah", "Mia", "William", "Amelia", "Oliver", "Isla", "Thomas")
LAST = ("Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Johnson", "Martin", "Lee")
SOURCES = ("dealer_crm", "walk_in", "website", "carsales", "referral")
TYPES = ("retail", "vip", "fleet", "trade")
PLATE_SPACE = 26**3 * 1000  # three letters and three digits
PLATE_STEP = 7_654_321  # coprime with PLATE_SPACE: i -> plate is one-to-one


def _plate(i: int, rng: random.Random) -> str:
    """A unique plate per i in one of three common layouts; a few typed sloppily."""
    k = (i * PLATE_STEP + 4_099) % PLATE_SPACE
    letters = "".join(chr(65 + (k // 1000 // 26**p) % 26) for p in range(3))
    digits = f"{k % 1000:03d}"
    layout = i % 3
    plate = (letters + digits, digits + letters, letters[:2] + digits[:2] + letters[2] + digits[2])[layout]
    if rng.random() < 0.05:  # normalised by the service: upper case, separators dropped
        plate = f"{plate[:3]} {plate[3:]}".lower()
    return plate


def _vin(i: int, rng: random.Random) -> str:
    """A valid, unique 17-character VIN with a correct check digit."""
    plant = VIN_CHARS[(i // 1_000_000) % len(VIN_CHARS)]
    body = (
        rng.choice(WMIS)
        + "".join(rng.choice(VIN_CHARS) for _ in range(5))
        + "0"
        + rng.choice(YEAR_CODES)
        + plant
        + f"{i % 1_000_000:06d}"
    )
    check = sum(VIN_VALUES[c] * w for c, w in zip(body, VIN_WEIGHTS, strict=True)) % 11
    return body[:8] + ("X" if check == 10 else str(check)) + body[9:]


def _day(rng: random.Random, first: date, days: int) -> date:
    return first + timedelta(days=rng.randrange(days))


def customer(i: int, rng: random.Random) -> dict[str, Any]:
    """85% plate and state, 10% VIN only, 5% both; external ids, sale dates (some as
    timestamps with an offset), monitoring windows on 20%, CRM fields on 85%."""
    kind = rng.random()
    c: dict[str, Any] = {}
    if kind < 0.90:
        c["rego"] = _plate(i, rng)
        c["state"] = rng.choices(STATES, STATE_WEIGHTS)[0]
    if kind >= 0.85:
        c["vin"] = _vin(i, rng)
    if rng.random() < 0.95:
        c["external_id"] = f"CUST-{100_000 + i:08d}"
    sold = _day(rng, date(2019, 1, 1), 7 * 365)
    if rng.random() < 0.90:
        if rng.random() < 0.15:
            c["sale_date"] = f"{sold.isoformat()}T{rng.randrange(8, 18):02d}:{rng.randrange(60):02d}:00+10:00"
        else:
            c["sale_date"] = sold.isoformat()
    if rng.random() < 0.20:
        c["monitor_start_date"] = sold.isoformat()
        c["monitor_end_date"] = (sold + timedelta(days=365 * rng.randint(1, 3))).isoformat()
    if rng.random() < 0.85:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        make, model = rng.choice(VEHICLES)
        c["additional_fields"] = {
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{last.lower()}{i}@example.com.au",
            "phone": f"04{rng.randrange(10**8):08d}",
            "make": make,
            "model": model,
            "market_source": rng.choice(SOURCES),
            "customer_type": rng.choice(TYPES),
        }
    return c


def upload_body(n: int, seed: int) -> bytes:
    """The whole request body, encoded a customer at a time (never N dicts at once)."""
    if n > PLATE_SPACE:
        raise SystemExit(f"--n must be at most {PLATE_SPACE}")
    rng = random.Random(seed)
    encode = msgspec.json.encode
    parts = [encode(customer(i, rng)) for i in range(n)]
    head = encode({"name": f"Bench {n} customers", "enable_rego_lookups": False})
    return head[:-1] + b',"customers":[' + b",".join(parts) + b"]}"


# --------------------------------------------------------------------------- databases


def backend_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SystemExit(f"unsupported database {url!r}: SQLite or PostgreSQL")
    return backend


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def pg_conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def prepare_database(url: str, backend: str, reset_schema: bool) -> None:
    """Refuse anything that is not empty (unless told to reset a PostgreSQL schema), then migrate."""
    if backend == "sqlite":
        path = sqlite_path(url)
        if not path.name or path.name == ":memory:":
            raise SystemExit("a SQLite --database-url must name a file")
        if path.exists():
            raise SystemExit(f"refusing to use {path}: it exists; give a new file (or none: a temp dir)")
    else:
        import psycopg

        with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                )
            ]
            if tables and not reset_schema:
                raise SystemExit(
                    f"refusing: schema public of this database has {len(tables)} tables "
                    f"({', '.join(sorted(tables)[:5])}...). Use an empty database "
                    "(createdb forecourt_bench) or pass --reset-schema to DROP it."
                )
            if tables:
                log("--reset-schema: DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
    forecourt_cli(url, "db", "upgrade", parse=False)


def forecourt_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without FORECOURT_* settings that could leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORECOURT_")}
    env.update(extra or {})
    return env


def forecourt_cli(url: str, *args: str, parse: bool = True) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "forecourt", "--database-url", url, *args],
        env=forecourt_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"forecourt {' '.join(args)} failed:\n{result.stderr}")
    return json.loads(result.stdout) if parse else None


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    """The kB figures of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, RssFile...)."""
    figures = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                figures[key] = int(value.split()[0])
    return figures


def descendants(pid: int) -> dict[int, int]:
    """The process and all its descendants, each with its depth below it (from each
    process's parent in /proc/*/stat)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{entry}/stat") as stat:
                parents[int(stat.read().rsplit(")", 1)[1].split()[1])].append(int(entry))
    found, todo = {pid: 0}, [pid]
    while todo:
        parent = todo.pop()
        for child in parents.get(parent, []):
            found[child] = found[parent] + 1
            todo.append(child)
    return found


def process_name(pid: int, depth: int) -> str:
    """What a server's process is, from its place in the tree and its command line."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        text = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        if "resource_tracker" in text:
            return "multiprocessing's resource tracker"
    return ("forecourt serve", "API process or worker", "upload pipeline's child")[min(depth, 2)]


def proportional(pid: int) -> int:
    """The process's PSS (kB): its share of the pages it shares with others (the API and
    worker processes share the interpreter's and libraries' pages: summing their RSS
    counts those once per process)."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def tree_rss(pid: int) -> int:
    """The VmRSS of the process and its descendants, summed (kB)."""
    total = 0
    for each in descendants(pid):
        with contextlib.suppress(OSError):
            total += proc_status(each).get("VmRSS", 0)
    return total


class MemorySampler(threading.Thread):
    """The RSS and PSS of the server's whole process tree (with several processes,
    `forecourt serve` is a supervisor with API processes, worker processes and their
    helpers), summed and sampled every 20 ms, per phase (staging: until the 202; processing: after
    it), with its parts (anonymous, file-backed: the mmapped body). The tree is re-read
    every half second; each process's own peak (VmHWM) is kept while it lives."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.phase = "staging"
        self.peak: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.process_peak: dict[int, int] = {}  # pid -> its VmHWM, kB
        self.names: dict[int, str] = {}
        self.done = threading.Event()

    def run(self) -> None:
        pids: dict[int, int] = {self.pid: 0}
        refreshed = 0.0
        while not self.done.wait(0.02):
            if time.monotonic() - refreshed > 0.5:
                pids, refreshed = descendants(self.pid), time.monotonic()
            total: dict[str, int] = defaultdict(int)
            for pid in pids:
                with contextlib.suppress(OSError):
                    figures = {**proc_status(pid), "Pss": proportional(pid)}
                    for key, value in figures.items():
                        total[key] += value
                    self.process_peak[pid] = max(self.process_peak.get(pid, 0), figures.get("VmHWM", 0))
                    if pid not in self.names:
                        self.names[pid] = process_name(pid, pids[pid])
            peak = self.peak[self.phase]
            for key, value in total.items():
                peak[key] = max(peak[key], value)

    def mb(self, phase: str, key: str) -> float:
        return self.peak[phase][key] / 1024

    def processes(self) -> list[tuple[int, str, float]]:
        """Each process seen: its id, what it is and its peak RSS (MB)."""
        return [(pid, self.names.get(pid, "?"), kb / 1024) for pid, kb in sorted(self.process_peak.items())]


class Server:
    """`forecourt serve` on a free loopback port, its output in workdir/serve.log; with the
    embedded worker unless `extra_env` says otherwise (its FORECOURT_* settings go last)."""

    def __init__(
        self,
        url: str,
        workdir: Path,
        chunk_rows: int | None,
        body_size: int,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        env = {
            "FORECOURT_EMBEDDED_WORKER": "true",
            "FORECOURT_WORKER_POLL_SECONDS": "0.05",
            "FORECOURT_LOG_LEVEL": "warning",
            "FORECOURT_MAX_UPLOAD_BYTES": str(max(Settings().max_upload_bytes, body_size + 1024)),
        }
        if chunk_rows:
            env["FORECOURT_UPLOAD_CHUNK_ROWS"] = str(chunk_rows)
        env.update(extra_env or {})
        command = [sys.executable, "-m", "forecourt", "serve", "--port", str(self.port)]
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [*command, "--database-url", url],
                env=forecourt_env(env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise SystemExit(f"forecourt serve exited with {self.proc.returncode}:\n{self.log_tail()}")

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_WAIT
        while True:
            self.check_alive()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise SystemExit(f"forecourt serve never became healthy:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def post_body(base: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """POST with the standard library's client: it hands the whole body to the socket in
    one call, where httpx feeds it through h11 in Python (seconds for 280 MB, which would
    be the client's time, not the server's)."""
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
    try:
        conn.request("POST", path, body=body, headers={**headers, "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def serve_env(args: argparse.Namespace) -> dict[str, str]:
    """The settings of the server's layout the options give (else the app's defaults)."""
    env = {}
    if args.processes is not None:
        env["FORECOURT_PROCESSES"] = str(args.processes)
    if args.pipeline_rows is not None:
        env["FORECOURT_UPLOAD_PIPELINE_ROWS"] = str(args.pipeline_rows)
    return env


def layout(args: argparse.Namespace) -> str:
    """What `forecourt serve` runs here, in words (the report says it: it moves the figures)."""
    settings = Settings()
    cores = len(os.sched_getaffinity(0))
    api = args.processes or settings.processes or cores
    where = (
        "1 process, its worker embedded (a thread)"
        if api == 1
        else f"{api} API processes + {settings.worker_concurrency} worker process(es) under a supervisor"
    )
    default_rows = getattr(settings, "upload_pipeline_rows", None)  # None: code before the pipeline
    rows = args.pipeline_rows if args.pipeline_rows is not None else default_rows
    if rows is None:
        pipeline = "none in this code"
    elif rows <= 0 or cores < 2:
        pipeline = "off"
    else:
        pipeline = f"on for uploads of >= {rows:,} rows (a child validates the next chunk)"
    return f"{where}; upload pipeline {pipeline}; {cores} usable cores"


def end_to_end(args: argparse.Namespace, url: str, workdir: Path, body: bytes) -> dict[str, Any]:
    account = forecourt_cli(url, "accounts", "create", "--name", "Bench Motors", "--region", REGION)
    headers = {"ApiKey": account["api_key"]}
    server = Server(url, workdir, args.chunk_rows, len(body), serve_env(args))
    sampler = MemorySampler(server.proc.pid)
    try:
        server.wait_healthy()
        baseline = tree_rss(server.proc.pid)
        sampler.start()
        endpoint = f"{server.base}/v2/recapture/upload"
        with httpx.Client(timeout=args.timeout) as client:
            log(f"POST {len(body) / 1e6:.1f} MB")
            started_wall, started = time.time(), time.perf_counter()
            status, answer = post_body(server.base, f"/v2/recapture/upload?region={REGION}", headers, body)
            accepted = time.perf_counter() - started
            sampler.phase = "processing"
            if status != 202:
                raise SystemExit(f"upload answered {status}: {answer[:2000]!r}")
            upload_id = json.loads(answer)["upload"]["id"]
            log(f"202 after {accepted:.2f} s; polling")
            deadline = time.monotonic() + args.timeout
            polls = 0
            while True:
                upload = client.get(f"{endpoint}/{upload_id}", params={"region": REGION}, headers=headers)
                upload.raise_for_status()
                state = upload.json()["upload"]
                polls += 1
                if state["total_processed_customers"] == state["total_uploaded_customers"]:
                    seen = time.perf_counter() - started
                    break
                server.check_alive()
                if time.monotonic() > deadline:
                    raise SystemExit(f"not processed after {args.timeout} s: {state}")
                time.sleep(args.poll_seconds)
        sampler.done.set()
        sampler.join()
        final = tree_rss(server.proc.pid)
    finally:
        sampler.done.set()
        server.stop()
    server_side = (
        datetime.fromisoformat(state["completed_at"].rstrip("Z"))
        - datetime.fromisoformat(state["created_at"].rstrip("Z"))
    ).total_seconds()
    # "Processed" ends at the server's own completed_at, not when a poll happened to see
    # it, so the polling interval does not add to the figure (same machine, same clock).
    completed_wall = datetime.fromisoformat(state["completed_at"].replace("Z", "+00:00")).timestamp()
    processed = completed_wall - started_wall
    log(f"processed after {processed:.2f} s (seen by a poll after {seen:.2f} s)")
    return {
        "upload_id": upload_id,
        "account_id": account["id"],
        "accepted_s": accepted,
        "processed_s": processed,
        "seen_s": seen,
        "after_202_s": processed - accepted,
        "server_side_s": server_side,
        "polls": polls,
        "status": state["status"],
        "total_uploaded": state["total_uploaded_customers"],
        "total_processed": state["total_processed_customers"],
        "total_errors": state["total_errors"],
        "rss_baseline_mb": baseline / 1024,
        "rss_peak_mb": max(sampler.mb("staging", "VmRSS"), sampler.mb("processing", "VmRSS")),
        "pss_peak_mb": max(sampler.mb("staging", "Pss"), sampler.mb("processing", "Pss")),
        "rss_own_peaks_mb": sum(mb for _, _, mb in sampler.processes()),
        "processes": [{"pid": pid, "what": what, "peak_rss_mb": mb} for pid, what, mb in sampler.processes()],
        **{
            f"rss_{phase}_{key}_mb": sampler.mb(phase, name)
            for phase in ("staging", "processing")
            for key, name in (("peak", "VmRSS"), ("anon", "RssAnon"), ("file", "RssFile"))
        },
        "rss_after_mb": final / 1024,
    }


# --------------------------------------------------------------------------- the floor


def sqlite_floor(url: str, workdir: Path) -> dict[str, Any]:
    """sqlite3 executemany of the stored rows into an empty copy of the table, one transaction."""
    source = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)
    ddl = source.execute(
        "SELECT type, tbl_name, sql FROM sqlite_master WHERE tbl_name IN ('accounts', ?) AND sql IS NOT NULL "
        "ORDER BY type = 'index', tbl_name != 'accounts'",
        (TABLE,),
    ).fetchall()
    accounts = source.execute("SELECT * FROM accounts").fetchall()
    rows = source.execute(f"SELECT * FROM {TABLE}").fetchall()
    source.close()
    scratch_path = workdir / "floor.db"
    scratch_path.unlink(missing_ok=True)
    scratch = sqlite3.connect(scratch_path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:  # the app's own connection settings
        scratch.execute(pragma)
    for _, _, sql in ddl:
        scratch.execute(sql)
    scratch.executemany(f"INSERT INTO accounts VALUES ({','.join('?' * len(accounts[0]))})", accounts)
    insert = f"INSERT INTO {TABLE} VALUES ({','.join('?' * len(rows[0]))})"
    indexes = sum(1 for kind, table, _ in ddl if kind == "index" and table == TABLE)
    started = time.perf_counter()
    scratch.execute("BEGIN IMMEDIATE")
    scratch.executemany(insert, rows)
    scratch.execute("COMMIT")
    seconds = time.perf_counter() - started
    count = scratch.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    scratch.close()
    return {
        "method": f"sqlite3 executemany, one transaction (table + PK + {indexes} indexes, FK on)",
        "rows": count,
        "floor_s": seconds,
    }


def pg_floor(url: str) -> dict[str, Any]:
    """COPY (the floor) and executemany (for reference) into an empty copy of the table."""
    import psycopg

    schema = f"bench_floor_{uuid.uuid4().hex[:8]}"
    target = f'"{schema}".{TABLE}'
    with psycopg.connect(pg_conninfo(url)) as conn:
        try:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f"CREATE TABLE {target} (LIKE public.{TABLE} INCLUDING ALL)")
            foreign = conn.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                (f"public.{TABLE}",),
            ).fetchall()
            for name, definition in foreign:  # LIKE does not copy foreign keys
                conn.execute(f'ALTER TABLE {target} ADD CONSTRAINT "{name}" {definition}')
            indexes = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND tablename = %s", (schema, TABLE)
            ).fetchone()
            conn.commit()
            with conn.cursor() as cur:
                data = bytearray()
                with cur.copy(f"COPY public.{TABLE} TO STDOUT") as copy:
                    for block in copy:
                        data += block
                types = dict(
                    cur.execute(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                        (TABLE,),
                    ).fetchall()
                )
                columns = list(types)
                select = ", ".join(f"{c}::text" if types[c] == "jsonb" else c for c in columns)
                rows = cur.execute(f"SELECT {select} FROM public.{TABLE}").fetchall()
            conn.commit()

            view = memoryview(data)
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
                for offset in range(0, len(view), 1 << 20):
                    copy.write(view[offset : offset + (1 << 20)])
            conn.commit()
            copy_s = time.perf_counter() - started
            count = conn.execute(f"SELECT count(*) FROM {target}").fetchone()
            conn.execute(f"TRUNCATE {target}")
            conn.commit()

            values = ", ".join("%s::jsonb" if types[c] == "jsonb" else "%s" for c in columns)
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({values})", rows)
            conn.commit()
            executemany_s = time.perf_counter() - started
        finally:
            conn.rollback()
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.commit()
    return {
        "method": f"psycopg COPY FROM STDIN, one transaction (table + {indexes[0] if indexes else '?'}"
        " indexes incl. PK, FK on)",
        "rows": count[0] if count else 0,
        "floor_s": copy_s,
        "executemany_s": executemany_s,
    }


def stored_rows(url: str, backend: str) -> int:
    if backend == "sqlite":
        with contextlib.closing(sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])
    import psycopg

    with psycopg.connect(pg_conninfo(url)) as conn:
        row = conn.execute(f"SELECT count(*) FROM public.{TABLE}").fetchone()
        return int(row[0]) if row else 0


# --------------------------------------------------------------------------- profiling


class PhaseTimer:
    """Wall-clock totals of wrapped functions (module attributes, swapped back afterwards)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.order: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, label: str, when: Callable[..., bool] | None = None) -> None:
        original = getattr(owner, attribute)
        self.order.append(label)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if when is not None and not when(*args, **kwargs):
                return original(*args, **kwargs)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[label] += time.perf_counter() - started
                self.calls[label] += 1

        self.replace(owner, attribute, timed)

    def replace(self, owner: Any, attribute: str, value: Any) -> None:
        original = getattr(owner, attribute)
        setattr(owner, attribute, value)
        self._undo.append(lambda: setattr(owner, attribute, original))

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()


class TimedDecoder:
    def __init__(self, decoder: Any, timer: PhaseTimer, label: str) -> None:
        self.decoder, self.timer, self.label = decoder, timer, label
        timer.order.append(label)

    def decode(self, data: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.decoder.decode(data)
        finally:
            self.timer.totals[self.label] += time.perf_counter() - started
            self.timer.calls[self.label] += 1


def instrument(timer: PhaseTimer) -> set[str]:
    """Wrap the steps of a chunk (those the code at hand has); returns the top-level labels."""
    from sqlalchemy.engine import Connection

    from forecourt.core.customers import repository as customer_sql
    from forecourt.core.customers import service as customers
    from forecourt.core.uploads import repository as upload_sql
    from forecourt.core.uploads import service as uploads
    from forecourt.db import bulk

    top = {
        "next_chunk (pipelined: read, hand over the next)",
        "prepare_chunk (read transaction)",
        "look_up (registration lookups)",
        "apply_chunk (write transaction)",
        "process_next_chunk (write transaction)",
    }
    steps: list[tuple[Any, str, str]] = [
        (uploads, "prepare_chunk", "prepare_chunk (read transaction)"),
        (uploads, "process_next_chunk", "process_next_chunk (write transaction)"),
        (upload_sql, "get_by_id", "  read upload"),
        (upload_sql, "chunk_body", "  read chunk body"),
        (uploads, "_raw_list", "  split chunk into raw rows"),
        (uploads, "_validate_rows", "  _validate_rows (decode + validate)"),
        (uploads, "look_up", "look_up (registration lookups)"),
        (uploads, "apply_chunk", "apply_chunk (write transaction)"),
        (upload_sql, "lock", "  lock upload (SELECT ... FOR UPDATE)"),
        (customers, "save_many", "  save_many (all)"),
        (customers, "_merge_batch", "    _merge_batch"),
        (customers, "_resolve", "    _resolve (all)"),
        (customer_sql, "candidates", "      candidates (SELECT by vin/rego IN ...)"),
        (customer_sql, "insert_columns", "    insert_columns (all)"),
        (bulk, "_convert", "      bind processors (_convert)"),
        (Connection, "exec_driver_sql", f"      driver executemany INSERT {TABLE}"),
        (customer_sql, "update_many", "    update_many"),
        (upload_sql, "insert_errors", "  insert_errors"),
        (upload_sql, "delete_chunks", "  delete processed chunk"),
        (upload_sql, "advance", "  advance counters"),
    ]
    with contextlib.suppress(ImportError):
        from forecourt.core.uploads import pipeline

        steps[1:1] = [
            (
                pipeline.Pipeline,
                "next_chunk",
                "next_chunk (pipelined: read, hand over the next)",
            ),
            (pipeline.Pipeline, "_result", "  wait for the child's chunk, decode it"),
            (uploads, "validate_chunk", "  validate_chunk in this process"),
        ]
    for owner, attribute, label in steps:
        if not hasattr(owner, attribute):
            continue
        if attribute == "_raw_list":
            timer.replace(owner, attribute, TimedDecoder(owner._raw_list, timer, label))
        elif attribute == "exec_driver_sql":
            timer.wrap(owner, attribute, label, when=_inserts_customers)
        else:
            timer.wrap(owner, attribute, label)
    return top


def _inserts_customers(_conn: Any, statement: str, *args: Any, **kwargs: Any) -> bool:
    return statement.startswith(f"INSERT INTO {TABLE}")


def chunk_step(
    db: Any, upload_id: uuid.UUID, settings: Settings, pipeline_rows: int | None, stack: contextlib.ExitStack
) -> tuple[str, Callable[[], bool]]:
    """The job's unit of work: tasks.run_chunk (prepare, look up, apply) where the code has
    it, with the adapters of the composition root (or, on earlier code, the lookup
    provider), else one service.process_next_chunk per write transaction (earlier code).
    With `pipeline_rows`, through the upload pipeline (its child started first; `stack`
    closes it)."""
    from forecourt.core.uploads import service, tasks

    try:
        from forecourt import bootstrap
    except ImportError:
        from forecourt.providers.registration import from_settings

        lookup = from_settings(settings, db)
    else:
        adapters = bootstrap.adapters(settings, db)
        if pipeline_rows:
            ahead = stack.enter_context(upload_pipeline().opened(db, upload_id, pipeline_rows))
            if ahead is None:
                raise SystemExit("--pipeline-rows: the pipeline is not used here (one core, or too few rows)")
            deadline = time.monotonic() + HEALTH_WAIT
            while not ahead.ready() and time.monotonic() < deadline:
                time.sleep(0.01)
            return "tasks.run_chunk, pipelined", lambda: bool(
                tasks.run_chunk(db, adapters, upload_id, None, ahead)
            )
        return "tasks.run_chunk", lambda: bool(tasks.run_chunk(db, adapters, upload_id))
    if hasattr(tasks, "run_chunk"):
        return "tasks.run_chunk", lambda: bool(tasks.run_chunk(db, upload_id, lookup))

    def step() -> bool:
        with db.write() as conn:
            return bool(service.process_next_chunk(conn, upload_id, lookup))

    return "service.process_next_chunk", step


def upload_pipeline() -> Any:
    try:
        from forecourt.core.uploads import pipeline
    except ImportError:
        raise SystemExit("--pipeline-rows: this code has no upload pipeline") from None
    return pipeline


def profile_worker(args: argparse.Namespace, url: str, body: bytes) -> dict[str, Any]:
    """Stage the upload in-process, then process it chunk by chunk as the job does."""
    from forecourt.core.accounts import service as accounts
    from forecourt.core.uploads import service as uploads
    from forecourt.core.uploads.schemas import UploadRequest
    from forecourt.db.engine import Database

    settings = Settings.load({}, database_url=url, upload_chunk_rows=args.chunk_rows)
    db = Database(url)
    with db.write() as conn:
        account, _ = accounts.create_account(conn, "Bench Motors", REGION)
    started = time.perf_counter()
    request = msgspec.json.decode(body, type=UploadRequest)
    with db.write() as conn:
        upload = uploads.create(conn, account.id, REGION, request, settings.upload_chunk_rows)
    del request
    staging = time.perf_counter() - started
    log(f"staged in {staging:.2f} s; processing ({args.profile})")
    stack = contextlib.ExitStack()
    name, step = chunk_step(db, upload.id, settings, args.pipeline_rows, stack)
    timer = PhaseTimer()
    profiler = cProfile.Profile()
    top = instrument(timer) if args.profile == "phases" else set()
    chunks = 0
    started = time.perf_counter()
    try:
        while True:
            if args.profile == "cprofile":
                profiler.enable()
            done = step()
            if args.profile == "cprofile":
                profiler.disable()
            chunks += 1
            if done:
                break
    finally:
        timer.restore()
        stack.close()
    total = time.perf_counter() - started
    db.dispose()
    report: dict[str, Any] = {
        "step": name,
        "staging_s": staging,
        "processing_s": total,
        "chunks": chunks,
        "chunk_rows": settings.upload_chunk_rows,
    }
    if args.profile == "phases":
        phases = {label: (timer.totals[label], timer.calls[label]) for label in timer.order}
        inside = sum(seconds for label, (seconds, _) in phases.items() if label in top)
        phases["(begin, commit, rest of the loop)"] = (total - inside, chunks)
        report["phases"] = {k: {"seconds": s, "calls": c} for k, (s, c) in phases.items()}
    else:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        report["cprofile"] = out.getvalue()
    return report


def print_profile(n: int, backend: str, report: dict[str, Any]) -> None:
    print(
        f"\nWorker-side profile: forecourt {report['revision']}, N={n:,}, {backend}, "
        f"chunk rows {report['chunk_rows']}"
    )
    print(f"  staging (decode envelope + uploads.create): {report['staging_s']:8.2f} s")
    print(
        f"  processing ({report['chunks']} x {report['step']}): "
        f"{report['processing_s']:8.2f} s = {n / report['processing_s']:,.0f} customers/s"
    )
    if "phases" in report:
        total = report["processing_s"]
        print(f"  {'phase':58} {'seconds':>8} {'share':>6} {'calls':>7}")
        for label, figure in report["phases"].items():
            share = figure["seconds"] / total * 100
            print(f"  {label:58} {figure['seconds']:8.2f} {share:5.1f}% {figure['calls']:7}")
    else:
        print(report["cprofile"])


# --------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def print_report(r: dict[str, Any]) -> None:
    e, f = r["end_to_end"], r["floor"]
    n = r["n"]
    print(
        f"\nForecourt upload benchmark  {r['date']}  {r['cpus']} CPUs  {r['backend']} {r['backend_version']}"
    )
    print(f"  forecourt commit           {r['revision']}")
    print(f"  server                     {r['layout']}")
    print(f"  customers (N)              {n:,}  (chunk rows {r['chunk_rows']}, seed {r['seed']})")
    print(f"  body                       {r['body_mb']:.1f} MB ({r['body_bytes'] / n:.0f} bytes/customer)")
    print(f"  accepted (POST -> 202)     {e['accepted_s']:8.2f} s")
    print(f"  fully processed            {e['processed_s']:8.2f} s   POST -> the server's completed_at")
    print(f"    seen by the client       {e['seen_s']:8.2f} s   (by polling the upload)")
    print(f"    after the 202            {e['after_202_s']:8.2f} s")
    print(f"    server created->completed{e['server_side_s']:8.2f} s   (upload timestamps)")
    print(
        f"  throughput                 {n / e['processed_s']:,.0f} customers/s end to end; "
        f"{n / e['after_202_s']:,.0f}/s after the 202"
    )
    print(f"  server memory, all procs   peak PSS {e['pss_peak_mb']:.0f} MB (shared pages counted once)")
    print(
        f"  server RSS, all processes  peak {e['rss_peak_mb']:.0f} MB (sampled sum; the sum of each "
        f"process's own peak: {e['rss_own_peaks_mb']:.0f} MB); "
        f"baseline {e['rss_baseline_mb']:.0f} MB, at the end {e['rss_after_mb']:.0f} MB"
    )
    for process in e["processes"]:
        print(f"    pid {process['pid']:>7}  peak {process['peak_rss_mb']:5.0f} MB  {process['what']}")
    for phase in ("staging", "processing"):
        print(
            f"    sampled, {phase:10}     RSS {e[f'rss_{phase}_peak_mb']:4.0f} MB (peaks of its parts: "
            f"anon {e[f'rss_{phase}_anon_mb']:4.0f} MB, file-backed {e[f'rss_{phase}_file_mb']:4.0f} MB)"
        )
    print(
        f"  outcome                    status {e['status']}, processed {e['total_processed']:,}, "
        f"errors {e['total_errors']}, stored rows {r['stored_rows']:,}"
    )
    print(f"  floor                      {f['floor_s']:8.2f} s   {f['method']}, {f['rows']:,} rows")
    if "executemany_s" in f:
        print(f"    psycopg executemany      {f['executemany_s']:8.2f} s   (reference)")
    print(
        f"  ratio end to end / floor   {r['ratio']:8.2f}x  target <= {TARGET_RATIO:g}x: "
        f"{verdict(r['ratio'] <= TARGET_RATIO)}"
    )
    print(f"  ratio after 202 / floor    {r['ratio_after_202']:8.2f}x")
    per_second = n / e["processed_s"]
    scope = "" if n >= 1_000_000 else "  (indicative only below N=1,000,000)"
    print(
        f"  1M in < 60 s (>= {TARGET_PER_SECOND:,.0f}/s)   {verdict(per_second >= TARGET_PER_SECOND)} "
        f"at {per_second:,.0f}/s{scope}"
    )


# --------------------------------------------------------------------------- main


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="customers in the upload (default 100000)")
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file in a temp dir. A SQLite file must not exist; a PostgreSQL "
        "database's public schema must have no tables (see --reset-schema)",
    )
    parser.add_argument("--chunk-rows", type=int, help="FORECOURT_UPLOAD_CHUNK_ROWS (default: the app's)")
    parser.add_argument(
        "--reset-schema",
        action="store_true",
        help="PostgreSQL only: DROP SCHEMA public CASCADE and recreate it first (destroys its data)",
    )
    parser.add_argument(
        "--processes", type=int, help="FORECOURT_PROCESSES of the server (default: the app's, one per core)"
    )
    parser.add_argument(
        "--pipeline-rows",
        type=int,
        help="FORECOURT_UPLOAD_PIPELINE_ROWS of the server (default: the app's; 0: no pipeline)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--poll-seconds", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after this many seconds")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, server log)")
    parser.add_argument(
        "--profile",
        choices=("phases", "cprofile"),
        help="no server: stage in-process and profile the worker's process_next_chunk loop",
    )
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be positive")
    return args


def backend_version(url: str, backend: str) -> str:
    if backend == "sqlite":
        return f"(SQLite {sqlite3.sqlite_version})"
    import psycopg

    with psycopg.connect(pg_conninfo(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"(PostgreSQL {row[0] if row else '?'})"


def source_revision() -> str:
    """The forecourt commit being measured (+dirty if src/ has changes): the code moves."""
    import forecourt

    root = Path(forecourt.__file__).resolve().parents[2]
    try:
        git = ["git", "-C", str(root)]
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        status = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if status.stdout.strip() else "")


@contextlib.contextmanager
def workspace(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="forecourt-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def database_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a benchmark over a database of its own (see `fresh_database`)."""
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--reset-schema", action="store_true", help="DROP the PostgreSQL schema first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")


@contextlib.contextmanager
def fresh_database(args: argparse.Namespace) -> Iterator[tuple[str, str, Path]]:
    """A temporary directory and an empty, migrated database in it (or at --database-url):
    (url, backend, directory)."""
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        yield url, backend, workdir


def main() -> None:
    args = arguments()
    with workspace(args.keep) as workdir:
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        backend = backend_of(url)
        prepare_database(url, backend, args.reset_schema)
        revision = source_revision()
        log(f"forecourt {revision}; generating {args.n:,} customers")
        body = upload_body(args.n, args.seed)
        if args.profile:
            report = {"revision": revision, **profile_worker(args, url, body)}
            if args.json:
                print(json.dumps(report, indent=2))
            else:
                print_profile(args.n, backend, report)
            return
        e2e = end_to_end(args, url, workdir, body)
        stored = stored_rows(url, backend)
        log("measuring the floor")
        floor = sqlite_floor(url, workdir) if backend == "sqlite" else pg_floor(url)
        if source_revision() != revision:
            log(f"WARNING: the code changed during the run (from {revision} to {source_revision()})")
        result = {
            "revision": revision,
            "date": datetime.now().isoformat(timespec="seconds"),
            "machine": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "backend": backend,
            "backend_version": backend_version(url, backend),
            "n": args.n,
            "seed": args.seed,
            "chunk_rows": args.chunk_rows or Settings().upload_chunk_rows,
            "layout": layout(args),
            "body_bytes": len(body),
            "body_mb": len(body) / 1e6,
            "end_to_end": e2e,
            "stored_rows": stored,
            "floor": floor,
            "ratio": e2e["processed_s"] / floor["floor_s"],
            "ratio_after_202": e2e["after_202_s"] / floor["floor_s"],
            "ratio_target": TARGET_RATIO,
            "ratio_met": e2e["processed_s"] / floor["floor_s"] <= TARGET_RATIO,
            "customers_per_s": args.n / e2e["processed_s"],
        }
        if e2e["total_errors"] or stored != args.n:
            log(f"WARNING: expected {args.n} stored rows and no errors; see the figures")
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print_report(result)


if __name__ == "__main__":
    main()
