"""Upload durability with real processes: `kill -9`, two workers on one upload, cancel at a
random moment, SIGTERM drain (DESIGN.md, "Background work").

Each test runs on SQLite (a file the subprocesses open too) and, when
FORECOURT_TEST_DATABASE_URL is set, on PostgreSQL. The workers are real `forecourt worker`
processes (and `forecourt serve` for the HTTP cancel); nothing in them is patched or slowed.
Uploads are chunked finely (CHUNK rows per transaction) so a test can catch a worker mid-way:
it samples the counters while the worker runs and freezes it with SIGSTOP once it is where
the test wants it (which may be in the middle of a chunk's transaction), so what happens
next does not depend on timing.

Every check of progress is exact: the dataset is generated here, so for any value P of
`total_processed_customers` the test knows how many customers and row errors the first P rows
make (a repeated vehicle is one customer, its last row wins; an invalid row is one error).
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import UploadRequest
from forecourt.db.engine import Database
from forecourt.db.models import jobs, tracked_customers, upload_chunks, upload_errors
from forecourt.db.models import uploads as uploads_table
from forecourt.jobs import queue
from tests.conftest import Tenant, make_tenant

FORECOURT_BIN = Path(sys.executable).with_name("forecourt")
BOUNDED_WAIT = 30.0  # seconds; a safety net against hangs, never an assertion about speed
CHUNK = 50
ROWS = 3000
LEASE_SECONDS = 1
CANCEL_SEED = 20240611
STATES = ("VIC", "NSW", "QLD", "SA")


# --- the dataset: what every prefix of the list must produce ------------------------------


@dataclass
class Dataset:
    """A customer list with invalid rows and repeated vehicles, and what it must produce."""

    tag: str
    rows: list[bytes]
    # For the first p rows (index p): the distinct vehicles among valid rows, the invalid rows.
    customers_after: list[int]
    errors_after: list[int]
    # row_no -> external_id the row error must carry, and part of its reason
    error_rows: dict[int, str | None]
    error_reasons: dict[int, str]
    # (rego, state) -> external_id of the last row naming the vehicle (the last one wins)
    vehicles: dict[tuple[str, str], str]

    @property
    def total(self) -> int:
        return len(self.rows)

    def counts_after(self, processed: int) -> tuple[int, int]:
        return self.customers_after[processed], self.errors_after[processed]


# What the row error of each kind of invalid row (below) says, in part.
REASONS = (
    "Missing required properties",
    "state is required with a rego",
    "vin must be 17 letters",
    "rego: Expected `str | null`, got `int`",
    "state must be one of",
    "customer: Expected `object`, got `str`",
)


def make_dataset(tag: str, n: int = ROWS, seed: int = 7) -> Dataset:
    """`tag` (at most 3 letters and digits) keeps the vehicles of different uploads apart."""
    rng = random.Random(seed)
    rows: list[bytes] = []
    customers_after, errors_after = [0], [0]
    error_rows: dict[int, str | None] = {}
    error_reasons: dict[int, str] = {}
    vehicles: dict[tuple[str, str], str] = {}
    for row_no in range(1, n + 1):
        ext = f"{tag}-row-{row_no}"
        customer: Any
        if row_no % 23 == 0:  # invalid, in one of several ways
            kind = (row_no // 23) % 6
            customer = [
                {"external_id": ext},  # neither rego nor vin
                {"rego": "NOSTATE1", "external_id": ext},  # au needs a state with a rego
                {"rego": f"{tag}BAD", "state": "VIC", "vin": "NOT-A-VIN", "external_id": ext},
                {"rego": 12345, "state": "VIC", "external_id": ext},  # wrong type
                {"rego": f"{tag}BAD", "state": "ZZZ", "external_id": ext},  # unknown state
                "not a customer",  # not even an object: no external_id to report
            ][kind]
            error_rows[row_no] = None if kind == 5 else ext
            error_reasons[row_no] = REASONS[kind]
        elif row_no % 7 == 0 and vehicles:  # a vehicle seen before: the same customer
            rego, state = rng.choice(sorted(vehicles))
            customer = {"rego": rego, "state": state, "external_id": ext}
            vehicles[(rego, state)] = ext
        else:
            rego, state = f"{tag}X{row_no:05d}", rng.choice(STATES)
            customer = {"rego": rego, "state": state, "external_id": ext, "sale_date": "2022-06-15"}
            vehicles[(rego, state)] = ext
        rows.append(msgspec.json.encode(customer))
        customers_after.append(len(vehicles))
        errors_after.append(len(error_rows))
    return Dataset(tag, rows, customers_after, errors_after, error_rows, error_reasons, vehicles)


def create_upload(db: Database, tenant: Tenant, data: Dataset, name: str = "durability") -> UUID:
    request = UploadRequest(customers=[msgspec.Raw(row) for row in data.rows], name=name)
    with db.write() as conn:
        return uploads.create(conn, tenant.account.id, "au", request, CHUNK).id


# --- reading the database -----------------------------------------------------------------


@contextmanager
def snapshot_read(db: Database) -> Iterator[Connection]:
    """One read transaction seeing one snapshot (SQLite's WAL readers always do; PostgreSQL
    needs REPEATABLE READ, else each statement sees the latest commits)."""
    with db.engine.connect() as conn:
        if not db.is_sqlite:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


@dataclass(frozen=True)
class State:
    status: str
    uploaded: int
    processed: int
    errors: int
    customers: int  # tracked customers whose upload_id is this upload
    error_rows: int  # upload_errors rows of this upload
    chunks: int  # staged chunks left


def _count(conn: Connection, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0)


def read_counter(db: Database, upload_id: UUID) -> int:
    with db.read() as conn:
        value = conn.scalar(
            sa.select(uploads_table.c.total_processed_customers).where(uploads_table.c.id == upload_id)
        )
    assert value is not None
    return int(value)


def read_state(db: Database, upload_id: UUID) -> State:
    """The upload's counters and what it has written, all from one snapshot."""
    with snapshot_read(db) as conn:
        row = conn.execute(sa.select(uploads_table).where(uploads_table.c.id == upload_id)).one()
        return State(
            status=row.status,
            uploaded=row.total_uploaded_customers,
            processed=row.total_processed_customers,
            errors=row.total_errors,
            customers=_count(conn, tracked_customers, tracked_customers.c.upload_id == upload_id),
            error_rows=_count(conn, upload_errors, upload_errors.c.upload_id == upload_id),
            chunks=_count(conn, upload_chunks, upload_chunks.c.upload_id == upload_id),
        )


def assert_consistent(state: State, data: Dataset, context: str = "") -> None:
    """Counters and written rows agree exactly, and the staged chunks left are the unprocessed ones."""
    customers, errors = data.counts_after(state.processed)
    assert state.uploaded == data.total, context
    assert (state.customers, state.error_rows, state.errors) == (customers, errors, errors), (
        f"{context}: {state} but the first {state.processed} rows make {customers} customers "
        f"and {errors} errors"
    )
    if state.status != "cancelled":
        unprocessed = -(-(data.total - state.processed) // CHUNK)
        assert state.chunks == unprocessed, f"{context}: {state}, expected {unprocessed} chunks left"


def sample(db: Database, upload_id: UUID, data: Dataset, context: str = "") -> State:
    """Check the counter is never ahead of the rows written, and return the state.

    The counter is read first, in its own transaction; the rows afterwards. Rows are only
    ever added, so whatever the counter said must already be covered by the rows read later:
    reading the rows first would let a chunk commit in between and fail a correct system.
    The second read is one snapshot, in which counters and rows must agree exactly.
    """
    processed = read_counter(db, upload_id)
    state = read_state(db, upload_id)
    customers, errors = data.counts_after(processed)
    assert processed <= state.processed, f"{context}: the counter went back: {processed} -> {state}"
    assert state.customers >= customers and state.error_rows >= errors, (
        f"{context}: counter said {processed} processed (that is {customers} customers and {errors} "
        f"errors) but only {state.customers} customers and {state.error_rows} errors were written"
    )
    assert_consistent(state, data, context)
    return state


def assert_completed(db: Database, upload_id: UUID, tenant: Tenant, data: Dataset) -> None:
    """Completed, and every customer and row error is there exactly once."""
    state = read_state(db, upload_id)
    assert state.status == "completed", state
    assert state.processed == state.uploaded == data.total, state
    assert_consistent(state, data, "completed")
    with db.read() as conn:
        stored = conn.execute(
            sa.select(
                tracked_customers.c.rego, tracked_customers.c.state, tracked_customers.c.external_id
            ).where(
                tracked_customers.c.account_id == tenant.account.id,
                tracked_customers.c.upload_id == upload_id,
            )
        ).all()
        errors = conn.execute(
            sa.select(upload_errors.c.row_no, upload_errors.c.external_id, upload_errors.c.reason).where(
                upload_errors.c.upload_id == upload_id
            )
        ).all()
        completed_at = conn.scalar(
            sa.select(uploads_table.c.completed_at).where(uploads_table.c.id == upload_id)
        )
    # Each vehicle once, holding the values of its last row (rows were applied in order).
    assert len(stored) == len(data.vehicles)
    assert {(r.rego, r.state): r.external_id for r in stored} == data.vehicles
    assert {r.row_no: r.external_id for r in errors} == data.error_rows
    assert all(data.error_reasons[r.row_no] in r.reason for r in errors), errors
    assert completed_at is not None


def account_customers(db: Database, tenant: Tenant) -> int:
    with db.read() as conn:
        return _count(conn, tracked_customers, tracked_customers.c.account_id == tenant.account.id)


def job_of(db: Database, upload_id: UUID) -> sa.Row[Any]:
    with db.read() as conn:
        found = [
            row
            for row in conn.execute(sa.select(jobs).where(jobs.c.kind == uploads.PROCESS_JOB)).all()
            if row.payload.get("upload_id") == str(upload_id)
        ]
    assert len(found) == 1, found
    return found[0]


def job_state(db: Database, job_id: int) -> str | None:
    with db.read() as conn:
        found = queue.get_state(conn, job_id)
    return found[0] if found else None


def wait_for(condition: Callable[[], bool], what: str, on_fail: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + BOUNDED_WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}\n{on_fail()}")
        time.sleep(0.005)


# --- processes ----------------------------------------------------------------------------


class Process:
    """A forecourt subprocess; its output goes to a file (no pipe to fill up)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def log(self) -> str:
        return f"--- {self.name} (pid {self.pid}) ---\n" + self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        assert self.alive(), f"{self.name} exited early:\n{self.log}"
        self.proc.send_signal(sig)

    def wait_exit(self) -> int:
        try:
            return self.proc.wait(timeout=BOUNDED_WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} did not exit:\n{self.log}")

    def wait_started(self) -> None:
        def started() -> bool:
            assert self.alive(), f"{self.name} exited early:\n{self.log}"
            return " started" in self.log_path.read_text(errors="replace")

        wait_for(started, f"{self.name} to start", lambda: self.log)

    def kill(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)  # works on a stopped process too
        self.proc.wait(timeout=BOUNDED_WAIT)

    def lease_tag(self) -> str:
        """How this process appears in jobs.lease_owner (host:pid:random)."""
        return f":{self.pid}:"


class Processes:
    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.started: list[Process] = []

    def env(
        self, application_name: str | None = None, lease_seconds: float = LEASE_SECONDS
    ) -> dict[str, str]:
        url = self.database_url
        if application_name:  # PostgreSQL: tells the workers' sessions apart
            url += f"?application_name={application_name}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORECOURT_")}
        env.update(
            FORECOURT_DATABASE_URL=url,
            FORECOURT_WORKER_POLL_SECONDS="0.05",
            FORECOURT_JOB_LEASE_SECONDS=str(lease_seconds),
            FORECOURT_UPLOAD_CHUNK_ROWS=str(CHUNK),
            # Every upload through the pipeline (a child validates the next chunk), the
            # way long uploads go: the guarantees must hold with it.
            FORECOURT_UPLOAD_PIPELINE_ROWS="1",
            FORECOURT_EMBEDDED_WORKER="false",
            FORECOURT_LOG_LEVEL="info",
        )
        return env

    def _start(
        self,
        name: str,
        args: list[str],
        application_name: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> Process:
        env = self.env(application_name, lease_seconds)
        process = Process(name, args, env, self.tmp_path / f"{name}.log")
        self.started.append(process)
        return process

    def start_worker(
        self, name: str, application_name: str | None = None, lease_seconds: float = LEASE_SECONDS
    ) -> Process:
        """A `forecourt worker`, not waited for: start several, then wait for each."""
        return self._start(name, [str(FORECOURT_BIN), "worker"], application_name, lease_seconds)

    def worker(
        self, name: str, application_name: str | None = None, lease_seconds: float = LEASE_SECONDS
    ) -> Process:
        process = self.start_worker(name, application_name, lease_seconds)
        process.wait_started()
        return process

    def start_serve(self) -> tuple[Process, str]:
        """A `forecourt serve` and its base URL, not waited for (see wait_healthy)."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        process = self._start("serve", [str(FORECOURT_BIN), "serve", "--port", str(port)])
        return process, f"http://127.0.0.1:{port}"

    @staticmethod
    def wait_healthy(process: Process, base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=2) as client:

            def healthy() -> bool:
                assert process.alive(), f"serve exited early:\n{process.log}"
                try:
                    return client.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(healthy, "serve to answer /healthz", lambda: process.log)

    def logs(self) -> str:
        return "\n".join(p.log for p in self.started)

    def stop_all(self) -> None:
        for process in self.started:
            process.kill()


@pytest.fixture
def procs(db: Database, database_url: str, tmp_path: Path) -> Iterator[Processes]:
    """Subprocesses on the test's database; whatever is still running is killed afterwards,
    before the next test empties the database."""
    processes = Processes(database_url, tmp_path)
    try:
        yield processes
    finally:
        processes.stop_all()


@pytest.fixture
def postgres(db: Database) -> Database:
    if db.is_sqlite:
        pytest.skip("several workers on one upload is the PostgreSQL deployment; SQLite has one writer")
    return db


def freeze_mid_upload(
    db: Database,
    worker: Process,
    upload_id: UUID,
    data: Dataset,
    at_least: int,
    procs: Processes,
    context: str = "",
) -> State:
    """Let the worker run, checking every state seen, until it has processed `at_least`
    rows; then SIGSTOP it and return the state it is frozen in (which must be mid-upload)."""
    samples = 0

    def far_enough() -> bool:
        nonlocal samples
        assert worker.alive(), f"worker died:\n{procs.logs()}"
        state = sample(db, upload_id, data, f"{context} while the worker runs")
        samples += 1
        assert state.status != "completed", (
            f"{context}: the upload finished before the test could stop the worker ({samples} samples);"
            " make the upload bigger"
        )
        return state.processed >= at_least

    wait_for(far_enough, f"{context}: the worker to process {at_least} rows", procs.logs)
    worker.signal(signal.SIGSTOP)
    time.sleep(0.05)  # a COMMIT already sent to PostgreSQL lands anyway: read the state after it
    state = sample(db, upload_id, data, f"{context} worker frozen")
    print(f"{context}: froze {worker.name} after {samples} samples at {state}")
    assert 0 < state.processed < data.total, (context, state)
    return state


# --- 1. kill -9 ---------------------------------------------------------------------------


def finish_with_a_new_worker(
    db: Database, procs: Processes, upload_id: UUID, tenant: Tenant, data: Dataset
) -> Process:
    """Start worker-2 and wait until it has completed the upload, exactly, and its job."""
    second = procs.worker("worker-2")
    wait_for(
        lambda: sample(db, upload_id, data, "second worker").status == "completed",
        "the second worker to complete the upload",
        procs.logs,
    )
    assert_completed(db, upload_id, tenant, data)
    assert account_customers(db, tenant) == len(data.vehicles)
    wait_for(lambda: job_of(db, upload_id).state == queue.DONE, "the job to be done", procs.logs)
    return second


def test_kill_9_mid_upload_loses_and_duplicates_nothing(db: Database, procs: Processes) -> None:
    tenant = make_tenant(db, "Alpha Motors")
    data = make_dataset("KL")
    upload_id = create_upload(db, tenant, data)

    first = procs.worker("worker-1")
    frozen = freeze_mid_upload(db, first, upload_id, data, data.total // 4, procs)
    first.signal(signal.SIGKILL)
    first.wait_exit()

    # What the dead worker left: exactly the chunks it committed, nothing half-done.
    after_kill = read_state(db, upload_id)
    assert after_kill.processed >= frozen.processed
    assert after_kill.processed < data.total
    assert_consistent(after_kill, data, "after kill -9")
    assert after_kill.status == "processing"
    job = job_of(db, upload_id)
    assert (job.state, job.attempts) == (queue.RUNNING, 1)
    assert first.lease_tag() in job.lease_owner

    # A new worker takes the job over once the dead one's lease has expired.
    second = finish_with_a_new_worker(db, procs, upload_id, tenant, data)
    job = job_of(db, upload_id)
    assert (job.state, job.attempts, job.lease_owner, job.last_error) == (queue.DONE, 2, None, None)
    assert second.alive()


# --- 2. two workers -----------------------------------------------------------------------


PROGRESS_LOG = (
    """CREATE TABLE durability_progress (
        seq BIGSERIAL PRIMARY KEY, upload_id UUID NOT NULL, worker TEXT NOT NULL,
        from_row INTEGER NOT NULL, to_row INTEGER NOT NULL)""",
    """CREATE FUNCTION durability_progress() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.total_processed_customers <> OLD.total_processed_customers THEN
            INSERT INTO durability_progress (upload_id, worker, from_row, to_row)
            VALUES (NEW.id, current_setting('application_name'),
                    OLD.total_processed_customers, NEW.total_processed_customers);
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER durability_progress AFTER UPDATE ON uploads
        FOR EACH ROW EXECUTE FUNCTION durability_progress()""",
)


@pytest.fixture
def progress_log(postgres: Database) -> Iterator[Callable[[UUID], list[tuple[str, int, int]]]]:
    """A test-only trigger recording, in the transaction that moves an upload's counter,
    which session (application_name) moved it from where to where."""
    with postgres.write() as conn:
        for statement in PROGRESS_LOG:
            conn.execute(sa.text(statement))

    def moves(upload_id: UUID) -> list[tuple[str, int, int]]:
        with postgres.read() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT worker, from_row, to_row FROM durability_progress"
                    " WHERE upload_id = :u ORDER BY seq"
                ),
                {"u": upload_id},
            ).all()
        return [(r.worker, r.from_row, r.to_row) for r in rows]

    try:
        yield moves
    finally:
        with postgres.write() as conn:
            conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(sa.text("DROP TRIGGER durability_progress ON uploads"))
            conn.execute(sa.text("DROP FUNCTION durability_progress()"))
            conn.execute(sa.text("DROP TABLE durability_progress"))


def test_two_workers_on_one_upload_write_everything_once(
    postgres: Database, progress_log: Callable[[UUID], list[tuple[str, int, int]]], procs: Processes
) -> None:
    db = postgres
    tenant = make_tenant(db, "Alpha Motors")
    data = make_dataset("TW")
    a = procs.start_worker("worker-a", application_name="worker-a")
    b = procs.start_worker("worker-b", application_name="worker-b")
    a.wait_started()
    b.wait_started()
    upload_id = create_upload(db, tenant, data)

    # Whichever worker claimed the job is frozen until its lease expires and the other
    # takes the job over (if the frozen one holds the upload's lock mid-chunk, the new owner
    # waits for it)...
    wait_for(lambda: job_of(db, upload_id).lease_owner is not None, "a worker to claim the job")
    holder, other = (a, b) if a.lease_tag() in job_of(db, upload_id).lease_owner else (b, a)
    frozen = freeze_until_taken_over(db, holder, other, upload_id, data, procs)
    resumed_at = sample(db, upload_id, data, "takeover")
    assert resumed_at.processed < data.total - 20 * CHUNK, "too little left for both to work on"
    # ...then the frozen one carries on with the chunk it had in hand (it learns it lost the
    # job only at its next heartbeat), so both work on the upload at once.
    holder.signal(signal.SIGCONT)
    assert both_wait_for_the_upload(db, upload_id, procs) >= {"worker-a", "worker-b"}
    wait_for(
        lambda: sample(db, upload_id, data, "two workers").status == "completed",
        "the two workers to complete the upload",
        procs.logs,
    )
    assert_completed(db, upload_id, tenant, data)
    assert account_customers(db, tenant) == len(data.vehicles)
    wait_for(lambda: job_of(db, upload_id).state == queue.DONE, "the job to be done", procs.logs)
    # Two attempts at least (more if a lease ran out while this test held the lock).
    assert job_of(db, upload_id).attempts >= 2
    assert job_of(db, upload_id).last_error is None

    # Every chunk moved the counter exactly once. (Which worker applied which chunk is down
    # to timing: a worker that prepared a chunk another applied first drops it.)
    moves = progress_log(upload_id)
    expected = [(start, min(start + CHUNK, data.total)) for start in range(0, data.total, CHUNK)]
    assert sorted((start, end) for _, start, end in moves) == expected, moves
    print(f"frozen at {frozen.processed}; chunks applied after that:")
    print(
        {w: sum(1 for m in moves if m[0] == w and m[1] > frozen.processed) for w in ("worker-a", "worker-b")}
    )
    assert holder.alive() and other.alive()


def freeze_until_taken_over(
    db: Database, holder: Process, other: Process, upload_id: UUID, data: Dataset, procs: Processes
) -> State:
    """Freeze the worker holding the job until the other one has claimed it."""
    frozen = freeze_mid_upload(db, holder, upload_id, data, 2 * CHUNK, procs)
    for _ in range(5):
        deadline = time.monotonic() + 3 * LEASE_SECONDS
        while time.monotonic() < deadline:
            if other.lease_tag() in (job_of(db, upload_id).lease_owner or ""):
                return frozen
            time.sleep(0.02)
        # Frozen inside its heartbeat's transaction, it keeps the job's row locked, and a
        # claim skips locked jobs (SKIP LOCKED): let it out of there and freeze it again.
        with db.read() as conn:
            locks = conn.execute(
                sa.text(
                    "SELECT l.locktype, l.relation::regclass::text AS relation, l.mode, l.granted"
                    " FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = :app"
                ),
                {"app": holder.name},
            ).all()
        print(f"no takeover while {holder.name} is frozen holding {locks}; freezing it elsewhere")
        holder.signal(signal.SIGCONT)
        time.sleep(0.01)
        holder.signal(signal.SIGSTOP)
        time.sleep(0.05)
        frozen = sample(db, upload_id, data, "frozen again")
    pytest.fail(f"{other.name} never took the job over:\n{procs.logs()}")


def both_wait_for_the_upload(db: Database, upload_id: UUID, procs: Processes) -> set[str]:
    """Hold the upload's row lock until every worker working on it queues behind it; return
    the sessions (application_name) seen waiting. A worker on the upload can finish nothing
    without that lock, so one that is really at work on it must end up waiting for it."""
    seen: set[str] = set()
    sessions: list[Any] = []
    with db.engine.connect() as conn, conn.begin():
        conn.execute(sa.select(uploads_table.c.id).where(uploads_table.c.id == upload_id).with_for_update())
        me = conn.scalar(sa.text("SELECT pg_backend_pid()"))

        def both_waiting() -> bool:
            # In a transaction of its own: pg_stat_activity is cached per transaction. The
            # first waiter for a row lock waits for us, the next ones wait behind it.
            with db.read() as watcher:
                sessions[:] = watcher.execute(
                    sa.text(
                        "SELECT pid, application_name, state, wait_event_type, wait_event, query,"
                        " pg_blocking_pids(pid) AS blockers FROM pg_stat_activity"
                        " WHERE datname = current_database()"
                    )
                ).all()
            behind_us = {me}
            while more := {s.pid for s in sessions if behind_us & set(s.blockers)} - behind_us:
                behind_us |= more
            seen.update(s.application_name for s in sessions if s.pid in behind_us - {me})
            return {"worker-a", "worker-b"} <= seen

        wait_for(
            both_waiting,
            "both workers to wait for the upload's lock",
            lambda: "\n".join(map(str, [seen, *sessions, procs.logs()])),
        )
    return seen


def test_two_workers_finish_several_uploads(db: Database, procs: Processes) -> None:
    tenants = [make_tenant(db, "Alpha Motors"), make_tenant(db, "Beta Cars")]
    # A lease long enough that no job is taken over on a busy machine: this test is about
    # sharing the work, and asserts every job ran once.
    a = procs.start_worker("worker-a", lease_seconds=30)
    b = procs.start_worker("worker-b", lease_seconds=30)
    a.wait_started()
    b.wait_started()
    work = []
    for n in range(4):
        tenant = tenants[n % 2]
        data = make_dataset(f"S{n}", n=1500, seed=n)
        work.append((tenant, data))
    request = [UploadRequest(customers=[msgspec.Raw(r) for r in d.rows]) for _, d in work]
    with db.write() as conn:  # all queued at once: both idle workers go for them
        ids = [
            uploads.create(conn, tenant.account.id, "au", req, CHUNK).id
            for (tenant, _), req in zip(work, request, strict=True)
        ]

    owners: set[str] = set()

    def all_completed() -> bool:
        states = [
            sample(db, upload_id, data, f"upload {n}")
            for n, (upload_id, (_, data)) in enumerate(zip(ids, work, strict=True))
        ]
        with db.read() as conn:
            owners.update(o for o in conn.scalars(sa.select(jobs.c.lease_owner)) if o)
        return all(s.status == "completed" for s in states)

    wait_for(all_completed, "both workers to complete every upload", procs.logs)
    for upload_id, (tenant, data) in zip(ids, work, strict=True):
        assert_completed(db, upload_id, tenant, data)
    for tenant in tenants:
        assert account_customers(db, tenant) == sum(len(d.vehicles) for t, d in work if t is tenant)
    wait_for(
        lambda: all(job_of(db, upload_id).state == queue.DONE for upload_id in ids),
        "every job to be done",
        procs.logs,
    )
    assert {(job_of(db, i).attempts, job_of(db, i).last_error) for i in ids} == {(1, None)}
    print("lease owners seen:", owners)
    if not db.is_sqlite:
        # Each worker held a job at some point: they shared the work. (Not asserted on SQLite,
        # where a worker waiting for the write lock to claim a job may get no turn until the
        # other has done everything.)
        assert any(a.lease_tag() in o for o in owners), owners
        assert any(b.lease_tag() in o for o in owners), owners


# --- 3. cancel ----------------------------------------------------------------------------


def test_cancel_at_a_random_moment_stops_all_writes(db: Database, procs: Processes) -> None:
    rng = random.Random(CANCEL_SEED)
    print(f"cancel moments from random.Random({CANCEL_SEED})")
    tenant = make_tenant(db, "Alpha Motors")
    serve, base_url = procs.start_serve()
    worker = procs.start_worker("worker")
    procs.wait_healthy(serve, base_url)
    worker.wait_started()
    kept = 0  # customers the cancelled uploads made before their cancel
    # The cancel waits for the worker, let run in short bursts (see _run_in_bursts_until):
    # on a loaded machine that can take more than a few seconds, so the client waits as
    # long as the test's own bound.
    with httpx.Client(
        base_url=base_url, timeout=BOUNDED_WAIT, params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    ) as client:
        for iteration in range(3):
            data = make_dataset(f"C{iteration}", seed=iteration)
            target = rng.randrange(1, data.total // 2)
            burst = rng.uniform(0.002, 0.01)
            context = (
                f"seed {CANCEL_SEED}, iteration {iteration}: cancel at >= {target} rows, bursts {burst:.4f}s"
            )
            print(context)
            kept += _cancel_once(db, client, procs, worker, data, target, burst, context)
            assert worker.alive(), procs.logs()
    assert account_customers(db, tenant) == kept


def _cancel_once(
    db: Database,
    client: httpx.Client,
    procs: Processes,
    worker: Process,
    data: Dataset,
    target: int,
    burst: float,
    context: str,
) -> int:
    """Upload over HTTP; once the worker has processed `target` rows freeze it wherever it
    is (maybe mid-chunk, holding the upload's lock) and send the cancel; let the worker go
    on in bursts until the cancel answers; check nothing is written after the answer.
    Returns the customers the upload kept."""
    body = b'{"name": "cancel me", "customers": [' + b",".join(data.rows) + b"]}"
    posted = client.post("/v2/recapture/upload", headers={"Content-Type": "application/json"}, content=body)
    assert posted.status_code == 202, posted.text
    upload_id = UUID(posted.json()["upload"]["id"])
    frozen = freeze_mid_upload(db, worker, upload_id, data, target, procs, context)
    with ThreadPoolExecutor(1) as pool:
        cancelling = pool.submit(client.delete, f"/v2/recapture/upload/{upload_id}")
        answer = _run_in_bursts_until(db, worker, cancelling, burst, procs)
    worker.signal(signal.SIGCONT)
    assert answer.status_code == 200, answer.text
    said = answer.json()["upload"]
    assert said["status"] == "cancelled", (context, said)
    processed, errors = said["total_processed_customers"], said["total_errors"]
    assert frozen.processed <= processed < data.total, (context, said)
    assert processed % CHUNK == 0, (context, said)
    customers, expected_errors = data.counts_after(processed)
    assert errors == expected_errors, (context, said)

    # The worker notices the cancel at its next chunk and ends the job; afterwards, with the
    # worker still running, nothing more is ever written: exactly what the answer said is there,
    # also once the worker has gone on to its next job (so nothing of this one is in flight).
    wait_for(lambda: job_of(db, upload_id).state == queue.DONE, f"{context}: the job to end", procs.logs)
    expected = State(
        status="cancelled",
        uploaded=data.total,
        processed=processed,
        errors=errors,
        customers=customers,
        error_rows=expected_errors,
        chunks=0,
    )
    assert read_state(db, upload_id) == expected, (context, said)
    with db.write() as conn:  # a job of a kind no handler takes: failed as soon as it is claimed
        next_job = queue.enqueue(conn, "test.next-job", {}, max_attempts=1)
    wait_for(
        lambda: job_state(db, next_job) == queue.FAILED,
        f"{context}: the worker to take its next job",
        procs.logs,
    )
    assert worker.alive(), procs.logs()
    assert read_state(db, upload_id) == expected, (context, said)

    # The API says the same, and a second cancel changes nothing.
    shown = client.get(f"/v2/recapture/upload/{upload_id}")
    assert shown.json()["upload"] == said, context
    again = client.delete(f"/v2/recapture/upload/{upload_id}")
    assert again.status_code == 200, again.text
    assert again.json()["upload"] == said, context
    return customers


def _holds_the_write_lock(db: Database) -> bool:
    """SQLite: whether some process is inside a write transaction right now."""
    probe = sqlite3.connect(db.engine.url.database or "", timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def _freeze(db: Database, worker: Process) -> None:
    """Stop the worker, on SQLite outside its write transaction: frozen inside one, it
    would hold the lock the waiting cancel needs through the whole pause."""
    worker.signal(signal.SIGSTOP)
    for _ in range(1000):
        if not db.is_sqlite or not _holds_the_write_lock(db):
            return
        worker.signal(signal.SIGCONT)
        time.sleep(0.0005)
        worker.signal(signal.SIGSTOP)


def _run_in_bursts_until(
    db: Database, worker: Process, cancelling: Future[httpx.Response], burst: float, procs: Processes
) -> httpx.Response:
    """Let the frozen worker run `burst` seconds at a time until the cancel has answered.

    Between bursts it stays frozen long enough for the waiting cancel to get its turn: on
    SQLite a waiting writer retries on a timer (up to 100 ms apart) while a worker running
    flat out grabs the write lock again and again, so unpaced it could finish the upload
    before the cancel got in, and the test would prove nothing. For the same reason it is
    frozen outside its write transaction.
    """
    deadline = time.monotonic() + BOUNDED_WAIT
    for bursts in itertools.count():
        try:
            answer = cancelling.result(timeout=0.15)
        except TimeoutError:
            if time.monotonic() > deadline:
                pytest.fail(f"the cancel never answered:\n{procs.logs()}")
        else:
            print(f"the cancel answered after {bursts} bursts of the worker")
            return answer
        worker.signal(signal.SIGCONT)
        time.sleep(burst)
        _freeze(db, worker)
    raise AssertionError("unreachable")


# --- 4. SIGTERM ---------------------------------------------------------------------------


def test_sigterm_mid_upload_finishes_the_chunk_and_releases_the_job(db: Database, procs: Processes) -> None:
    tenant = make_tenant(db, "Alpha Motors")
    data = make_dataset("TM")
    upload_id = create_upload(db, tenant, data)

    first = procs.worker("worker-1")
    frozen = freeze_mid_upload(db, first, upload_id, data, data.total // 3, procs)
    assert frozen.processed + CHUNK < data.total
    first.signal(signal.SIGTERM)  # delivered when it runs again
    first.signal(signal.SIGCONT)
    code = first.wait_exit()
    assert code == 0, first.log
    assert "stopped" in first.log

    # It finished the chunk in hand (at most one more) and started no other.
    drained = read_state(db, upload_id)
    assert frozen.processed <= drained.processed <= frozen.processed + CHUNK, (frozen, drained)
    assert_consistent(drained, data, "after SIGTERM")
    assert drained.status == "processing"
    job = job_of(db, upload_id)
    assert (job.state, job.attempts, job.lease_owner, job.lease_expires_at) == (queue.QUEUED, 0, None, None)
    assert not first.alive()  # nothing happens to a released job while no worker runs
    assert read_state(db, upload_id) == drained

    second = finish_with_a_new_worker(db, procs, upload_id, tenant, data)
    assert (job_of(db, upload_id).attempts, job_of(db, upload_id).last_error) == (1, None)
    assert second.alive()
