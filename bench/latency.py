"""Listing-to-salesperson latency (issue 17, point 4): from a listing's POST to the
Recapture webhook a loopback receiver gets, and to the assignee's email an SMTP server
gets: p50, p99 and max, idle and while a 1M-customer upload is being processed.

    .venv/bin/python bench/latency.py --during-upload                 # 1M customers, SQLite
    .venv/bin/python bench/latency.py --customers 100000 --seconds 10 --during-upload
    .venv/bin/python bench/latency.py --during-upload --reset-schema \
        --database-url postgresql://postgres@127.0.0.1/forecourt_bench

Setup (not timed): a fresh database; one account with `--customers` tracked customers
(bulk, as bench/match.py seeds them), `--sales` sales users with email addresses and an
ingest key. In this process: an HTTP receiver on loopback (the webhook's endpoint) and
an SMTP server (aiosmtpd), each noting when each listing reached it. Then `forecourt
serve` with its defaults (one API process per core, one worker process, the worker
polling every FORECOURT_WORKER_POLL_SECONDS = 0.2 s, routing batches of 1,000), except:
SMTP pointed at the server here, loopback allowed for webhooks, rate limits out of reach.
The webhook is created through the Recapture API.

Timed: a steady feed of `--rate` listings/s, POSTed to /ingest/v1/listings as NDJSON
every `--interval` s as a feed would send them; `--match-share` of them are vehicles on
file. Each listing has its own source id (CS-<n>, also in its URL), which the webhook's
body and the assignment email carry: that is how an arrival is put to its listing. An
assignment email names up to 20 leads; a listing it counts without naming has no email
time. The clock starts just before the batch's POST. First `--seconds` idle, then
(`--during-upload`) the same while a second upload of `--upload-customers` customers to
the same account is being processed (the feed stops when the upload is done). Then, once
the upload is done, up to `--grace` s for what is still on its way; what never came is
counted, not timed.

Targets: p99 under 1 s for the webhook, under 2 s for the email, idle and during.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

sys.path.insert(0, str(Path(__file__).parent))
from cheap_requests import SERVER_ENV
from leads import smtp_server
from match import make_listings, seed_customers
from upload import (
    REGION,
    Server,
    backend_version,
    database_arguments,
    fresh_database,
    log,
    post_body,
    source_revision,
    upload_body,
)

from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.users import service as users
from forecourt.db.engine import Database
from forecourt.db.models import jobs
from forecourt.kit.dates import utcnow

TARGETS = {"webhook": 1.0, "email": 2.0}  # p99, seconds
SOURCE_ID = re.compile(rb"CS-(\d+)")


class Arrivals:
    """When each listing (by the n of its source id CS-<n>) first reached a receiver."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.messages = 0
        self.lock = threading.Lock()

    def note(self, text: bytes) -> None:
        now = time.perf_counter()
        with self.lock:
            self.messages += 1
            for found in SOURCE_ID.finditer(text):
                self.at.setdefault(int(found.group(1)), now)


@contextmanager
def webhook_receiver(arrivals: Arrivals) -> Iterator[str]:
    """An HTTP server on loopback answering 204 to every POST; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrivals.note(body)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


class MailArrivals(Arrivals):
    """An aiosmtpd handler: the listings an email names, by its plain-text part (the
    HTML part links the same listings)."""

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        self.note(part.get_content().encode() if part is not None else b"")
        return "250 OK"


class Upload(threading.Thread):
    """POST an upload body and poll it until it is processed; `done` is set then."""

    def __init__(self, base: str, api_key: str, body: bytes) -> None:
        super().__init__(daemon=True)
        self.base, self.headers, self.body = base, {"ApiKey": api_key}, body
        self.accepted = threading.Event()
        self.done = threading.Event()
        self.started = self.accepted_s = self.processed_s = 0.0
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.started = time.perf_counter()
            path = f"/v2/recapture/upload?region={REGION}"
            status, answer = post_body(self.base, path, self.headers, self.body)
            self.accepted_s = time.perf_counter() - self.started
            if status != 202:
                raise RuntimeError(f"upload answered {status}: {answer[:500]!r}")
            self.accepted.set()
            path = f"{self.base}/v2/recapture/upload/{json.loads(answer)['upload']['id']}"
            with httpx.Client(timeout=60) as client:
                while True:
                    state = client.get(path, params={"region": REGION}, headers=self.headers).json()["upload"]
                    if state["total_processed_customers"] == state["total_uploaded_customers"]:
                        break
                    time.sleep(0.5)
            self.processed_s = time.perf_counter() - self.started
        except Exception as error:  # reported by the caller
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.accepted.set()
            self.done.set()


def server_env(extra: dict[str, str]) -> dict[str, str]:
    """`forecourt serve`'s settings at their defaults (the worker polling every second:
    upload.Server's 0.05 s is put back), rate limits out of reach, and `extra`."""
    return {**SERVER_ENV, "FORECOURT_WORKER_POLL_SECONDS": str(Settings().worker_poll_seconds), **extra}


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p99 and max in ms (nearest rank)."""
    if not samples:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def feed(
    base: str, key: str, lines: list[bytes], first: int, args: argparse.Namespace, stop: threading.Event
) -> tuple[int, dict[int, float], list[float]]:
    """POST lines[first:] in batches every --interval s for --seconds (or until `stop`);
    returns where it stopped, when each listing's batch was posted, and how long each
    POST took to be answered."""
    per_batch = max(1, round(args.rate * args.interval))
    posted: dict[int, float] = {}
    answered: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    n = first
    while n < len(lines) and not stop.is_set():
        due = started + (n - first) / per_batch * args.interval
        if due - started >= args.seconds:
            break
        time.sleep(max(0.0, due - time.perf_counter()))
        batch = lines[n : n + per_batch]
        at = time.perf_counter()
        status, answer = post_body(base, "/ingest/v1/listings", headers, b"\n".join(batch) + b"\n")
        if status != 200:
            raise SystemExit(f"ingest answered {status}: {answer[:500]!r}")
        answered.append(time.perf_counter() - at)
        posted.update((j, at) for j in range(n, n + len(batch)))
        n += len(batch)
    return n, posted, answered


def matching(lines: list[bytes], first: int, last: int) -> set[int]:
    """Which of lines[first:last] are vehicles on file (match.make_listings gives the
    others a plate starting with Z, which no customer has)."""
    return {j for j in range(first, last) if b'"plate":"Z' not in lines[j]}


def latencies(
    posted: dict[int, float], expected: set[int], hooks: Arrivals, mail: Arrivals
) -> dict[str, dict[str, float]]:
    out = {}
    for name, arrivals in (("webhook", hooks), ("email", mail)):
        samples = [arrivals.at[j] - posted[j] for j in expected if j in arrivals.at]
        missing = len(expected) - len(samples)
        out[name] = {**percentiles(samples), "expected": len(expected), "missing": missing}
    return out


def job_times(db: Database, since: datetime) -> dict[str, dict[str, float]]:
    """Per kind, the jobs created since `since` and finished: how many, the mean and max
    time from queued to finished (the queue's wait plus the run), and the mean run. The
    queue keeps no start time: a job's run is taken as the time since the job finished
    before it, when it was already queued then (a worker that had a queue), which holds
    for one worker process (the default) and overstates the run when workers overlap."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(jobs.c.kind, jobs.c.created_at, jobs.c.finished_at)
            .where(jobs.c.created_at >= since, jobs.c.finished_at.is_not(None))
            .order_by(jobs.c.finished_at)
        ).all()
    waits: dict[str, list[float]] = {}
    runs: dict[str, list[float]] = {}
    previous = None
    for kind, created, finished in rows:
        waits.setdefault(kind, []).append((finished - created).total_seconds() * 1000)
        if previous is not None and created <= previous:
            runs.setdefault(kind, []).append((finished - previous).total_seconds() * 1000)
        previous = finished
    return {
        kind: {
            "jobs": len(t),
            "mean_ms": statistics.fmean(t),
            "max_ms": max(t),
            "run_ms": statistics.fmean(runs[kind]) if kind in runs else float("nan"),
        }
        for kind, t in waits.items()
    }


def wait_for(expected: set[int], receivers: list[Arrivals], grace: float) -> None:
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(expected - r.at.keys() for r in receivers):
        time.sleep(0.1)


def seed(url: str, args: argparse.Namespace) -> tuple[Any, str, str]:
    """The account, its API key and the ingest key, its customers and sales users."""
    log(f"seeding {args.customers:,} tracked customers and {args.sales} sales users")
    (account_id,), ingest_key = seed_customers(url, args.customers, 1)
    db = Database(url)
    try:
        with db.write() as conn:
            api_key = accounts.issue_credential(conn, account_id, "api").api_key
            for n in range(args.sales):
                new = users.check_new_user(account_id, f"sales{n}@bench.example", f"Sales {n}", "sales")
                users.create_user(conn, new, "a long enough password")
    finally:
        db.dispose()
    return account_id, api_key or "", ingest_key


def run(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    _, api_key, ingest_key = seed(url, args)
    per_phase = int(args.rate * args.seconds) + 1000
    lines, _ = make_listings(2 * per_phase, args.customers, args.match_share, args.seed)
    body = upload_body(args.upload_customers, args.seed + 1) if args.during_upload else b""
    hooks, mail = Arrivals(), MailArrivals()
    result: dict[str, Any] = {}
    with webhook_receiver(hooks) as endpoint, smtp_server(mail) as (_, smtp_port):
        env = server_env(
            {
                "FORECOURT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                "FORECOURT_MAIL_FROM": "leads@forecourt.bench.example",
                "FORECOURT_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
                "FORECOURT_PROCESSES": str(args.processes),
                **dict(e.split("=", 1) for e in args.env),
            }
        )
        server = Server(url, workdir, None, len(body), env)
        db = Database(url)
        try:
            server.wait_healthy()
            answer = httpx.post(
                f"{server.base}/v2/webhooks",
                params={"region": REGION},
                headers={"ApiKey": api_key},
                json={"name": "latency bench", "endpoint": endpoint},
            )
            if answer.status_code != 200:
                raise SystemExit(f"webhook not created: {answer.status_code} {answer.text}")
            log(f"idle: {args.rate:g} listings/s for {args.seconds:g} s")
            since = utcnow()
            fed = time.perf_counter()
            end, posted, answered = feed(server.base, ingest_key, lines, 0, args, threading.Event())
            fed = time.perf_counter() - fed
            expected = matching(lines, 0, end)
            wait_for(expected, [hooks, mail], args.grace)
            result["idle"] = {
                "listings": end,
                "rate": end / fed,
                "ingest": percentiles(answered),
                **latencies(posted, expected, hooks, mail),
                "jobs": job_times(db, since),
            }
            if args.during_upload:
                upload = Upload(server.base, api_key, body)
                upload.start()
                log(f"during an upload of {args.upload_customers:,} customers")
                first, since = end, utcnow()
                fed = time.perf_counter()
                end, posted, answered = feed(server.base, ingest_key, lines, first, args, upload.done)
                fed = time.perf_counter() - fed
                still_processing = not upload.done.is_set()
                expected = matching(lines, first, end)
                upload.done.wait(3600)  # what waits behind the upload comes after it: time it
                wait_for(expected, [hooks, mail], args.grace)
                result["during"] = {
                    "listings": end - first,
                    "rate": (end - first) / fed,
                    "upload_still_processing_at_the_end": still_processing,
                    "ingest": percentiles(answered),
                    **latencies(posted, expected, hooks, mail),
                    "jobs": job_times(db, since),
                }
                if upload.error:
                    raise SystemExit(f"the upload failed: {upload.error}")
                result["upload"] = {"accepted_s": upload.accepted_s, "processed_s": upload.processed_s}
            server.check_alive()
        finally:
            server.stop()
            db.dispose()
    result["emails"], result["webhooks"] = mail.messages, hooks.messages
    return result


def profile(args: argparse.Namespace, url: str) -> None:
    """No server: the feed's batches ingested in-process (as the API does), then the
    jobs they queued run by the worker's own loop (bootstrap.worker) under cProfile."""
    import cProfile
    import pstats

    from forecourt import bootstrap
    from forecourt.api.recapture.schemas import event_body
    from forecourt.core.listings import service as listings
    from forecourt.core.webhooks import service as webhooks
    from forecourt.core.webhooks.schemas import WebhookFields

    account_id, _, _ = seed(url, args)
    lines, _ = make_listings(args.profile_listings, args.customers, args.match_share, args.seed)
    per_batch = max(1, round(args.rate * args.interval))
    hooks, mail = Arrivals(), MailArrivals()
    with webhook_receiver(hooks) as endpoint, smtp_server(mail) as (_, smtp_port):
        settings = Settings.load(
            {},
            database_url=url,
            smtp_url=f"smtp://127.0.0.1:{smtp_port}",
            mail_from="leads@forecourt.bench.example",
            webhook_allowed_networks="127.0.0.0/8",
        )
        db = Database(url)
        with db.write() as conn:
            webhooks.create(conn, account_id, REGION, WebhookFields(name="latency bench", endpoint=endpoint))
        for first in range(0, len(lines), per_batch):
            with db.write() as conn:
                batch = listings.decode_ndjson(b"\n".join(lines[first : first + per_batch]))
                listings.ingest(conn, event_body, batch)
        worker = bootstrap.worker(settings, db, bootstrap.adapters(settings, db))
        profiler = cProfile.Profile()
        ran, started = 0, time.perf_counter()
        profiler.enable()
        while worker.run_once():
            ran += 1
        profiler.disable()
        seconds = time.perf_counter() - started
        db.dispose()
    each = seconds / max(ran, 1) * 1000
    print(f"\n{ran} jobs in {seconds:.2f} s ({each:.1f} ms a job), one worker, under cProfile;")
    print(f"{hooks.messages} webhooks and {mail.messages} emails received")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(35)


def report(args: argparse.Namespace, url: str, backend: str, result: dict[str, Any], revision: str) -> None:
    print(f"\nForecourt listing-to-salesperson latency  {time.strftime('%Y-%m-%dT%H:%M:%S')}  ", end="")
    print(f"{os.cpu_count()} CPUs  {backend} {backend_version(url, backend)}")
    print(f"  forecourt commit      {revision}; load average {os.getloadavg()[0]:.2f} at the end")
    print(f"  tracked customers     {args.customers:,}; {args.sales} sales users; processes {args.processes}")
    if args.env:
        print(f"  server settings       {' '.join(args.env)}")
    print(
        f"  feed                  {args.rate:g} listings/s in batches every {args.interval:g} s, "
        f"{args.match_share:.0%} of vehicles on file, {args.seconds:g} s per phase"
    )
    if "upload" in result:
        u = result["upload"]
        print(
            f"  upload (during)       {args.upload_customers:,} customers: "
            f"202 after {u['accepted_s']:.1f} s, processed after {u['processed_s']:.1f} s"
        )
    print(f"  received              {result['webhooks']:,} webhooks, {result['emails']:,} emails")
    heads = ("timed", "missing", "p50 ms", "p99 ms", "max ms")
    print(f"  {'phase':8} {'to':8} {heads[0]:>6} {heads[1]:>7} " + " ".join(f"{h:>8}" for h in heads[2:]))
    for phase in ("idle", "during"):
        if phase not in result:
            continue
        for kind, target in TARGETS.items():
            f = result[phase][kind]
            verdict = "MET" if f["n"] and not f["missing"] and f["p99_ms"] <= target * 1000 else "MISSED"
            print(
                f"  {phase:8} {kind:8} {f['n']:>6} {f['missing']:>7} {f['p50_ms']:>8.0f} {f['p99_ms']:>8.0f} "
                f"{f['max_ms']:>8.0f}  p99 < {target:g} s: {verdict}"
            )
    for phase in ("idle", "during"):
        if phase not in result:
            continue
        f = result[phase]["ingest"]
        print(
            f"  {phase:8} fed {result[phase]['listings']:,} listings at {result[phase]['rate']:.0f}/s "
            f"(one client: a POST slower than the interval slows it); "
            f"POST answered: p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms"
        )
        for kind, j in sorted(result[phase]["jobs"].items()):
            print(
                f"  {phase:8} job {kind:22} {j['jobs']:>6} queued to finished: "
                f"mean {j['mean_ms']:>7.0f} ms, max {j['max_ms']:>7.0f} ms; run {j['run_ms']:>6.0f} ms"
            )
    if result.get("during", {}).get("upload_still_processing_at_the_end") is False:
        print("  (the upload finished before the feed's --seconds: the 'during' phase was cut short)")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000, help="tracked customers on file")
    parser.add_argument("--upload-customers", type=int, help="customers in the upload (default: --customers)")
    parser.add_argument("--during-upload", action="store_true", help="a second phase during an upload")
    parser.add_argument("--rate", type=float, default=200.0, help="listings per second")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between the feed's batches")
    parser.add_argument("--match-share", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=30.0, help="of feed per phase")
    parser.add_argument("--grace", type=float, default=60.0, help="seconds to wait for late arrivals")
    parser.add_argument("--sales", type=int, default=5, help="sales users to route among")
    parser.add_argument("--processes", type=int, default=0, help="forecourt serve --processes (0: per core)")
    parser.add_argument(
        "--env", action="append", default=[], metavar="FORECOURT_X=VALUE", help="a server setting (repeated)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--profile-listings",
        type=int,
        help="no server: ingest this many of the feed's listings in-process, then profile the jobs",
    )
    database_arguments(parser)
    args = parser.parse_args()
    args.upload_customers = args.upload_customers or args.customers
    return args


def main() -> None:
    args = arguments()
    with fresh_database(args) as (url, backend, workdir):
        revision = source_revision()
        if args.profile_listings:
            profile(args, url)
            return
        result = run(args, url, workdir)
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            report(args, url, backend, result, revision)


if __name__ == "__main__":
    main()
