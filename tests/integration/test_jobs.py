"""Durable jobs on a real database: enqueue, claim with a lease, retry, release, drain.

Every test runs on SQLite and, when FORECOURT_TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import UploadRequest
from forecourt.db import migrate
from forecourt.db.engine import Database
from forecourt.db.models import jobs
from forecourt.jobs import queue
from forecourt.jobs.worker import HANDLERS, Handler, JobContext, JobInterrupted, Worker
from forecourt.kit.dates import utcnow
from tests.conftest import DRAIN_SCRIPT, MovableClock, Tenant

FORECOURT_BIN = Path(sys.executable).with_name("forecourt")
BOUNDED_WAIT = 30.0  # seconds; a safety net against hangs, never an assertion about speed


def _worker(
    db: Database, handlers: dict[str, Handler], lease_seconds: int = 60, clock: MovableClock | None = None
) -> Worker:
    settings = Settings(job_lease_seconds=lease_seconds, worker_poll_seconds=0.01)
    return Worker(db, settings, None, clock=clock, handlers=handlers)


def _enqueue(db: Database, kind: str, payload: dict[str, Any] | None = None, **kw: Any) -> int:
    with db.write() as conn:
        return queue.enqueue(conn, kind, payload or {}, **kw)


def _row(db: Database, job_id: int) -> sa.Row[Any]:
    with db.read() as conn:
        row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).one()
    return row


def _state(db: Database, job_id: int) -> tuple[str, int, str | None] | None:
    with db.read() as conn:
        return queue.get_state(conn, job_id)


def _known_state(db: Database, job_id: int) -> tuple[str, int, str | None]:
    """The state of a job that must exist."""
    found = _state(db, job_id)
    assert found is not None, f"job {job_id} does not exist"
    return found


def _make_due(db: Database, job_id: int) -> None:
    """Skip the retry backoff: the job is due now."""
    with db.write() as conn:
        conn.execute(
            sa.update(jobs).where(jobs.c.id == job_id).values(run_after=utcnow() - timedelta(seconds=1))
        )


def _expire_lease(db: Database, job_id: int) -> None:
    """What a worker killed with kill -9 leaves behind once its lease runs out."""
    with db.write() as conn:
        conn.execute(
            sa.update(jobs)
            .where(jobs.c.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUNDED_WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


class Recorder:
    """A test-only handler that remembers what it was given."""

    def __init__(self, action: Callable[[JobContext[None]], None] | None = None) -> None:
        self.calls: list[tuple[int, dict[str, Any], int]] = []
        self.action = action
        self._lock = threading.Lock()

    def __call__(self, ctx: JobContext[None]) -> None:
        with self._lock:
            self.calls.append((ctx.job.id, ctx.job.payload, ctx.job.attempts))
        if self.action is not None:
            self.action(ctx)


def _boom(ctx: JobContext[None]) -> None:
    raise RuntimeError(f"boom on attempt {ctx.job.attempts}")


# --- running a job ------------------------------------------------------------------


def test_enqueued_job_runs_exactly_once(db: Database) -> None:
    handler = Recorder()
    payload = {"upload_id": "u-1", "rows": [1, 2, 3], "nested": {"ok": True}}
    job_id = _enqueue(db, "test.record", payload)
    assert _state(db, job_id) == (queue.QUEUED, 0, None)

    worker = _worker(db, {"test.record": handler})
    assert worker.run_once() is True
    assert worker.run_once() is False  # nothing left: it is not run a second time
    assert worker.run_once() is False

    assert handler.calls == [(job_id, payload, 1)]
    assert _state(db, job_id) == (queue.DONE, 1, None)
    row = _row(db, job_id)
    assert row.finished_at is not None
    assert row.lease_owner is None
    assert row.lease_expires_at is None


def test_run_once_without_jobs_does_nothing(db: Database) -> None:
    handler = Recorder()
    assert _worker(db, {"test.record": handler}).run_once() is False
    assert handler.calls == []


def test_jobs_run_in_the_order_they_became_due(db: Database) -> None:
    handler = Recorder()
    first = _enqueue(db, "test.record", {"n": 1})
    second = _enqueue(db, "test.record", {"n": 2})
    third = _enqueue(db, "test.record", {"n": 3})
    worker = _worker(db, {"test.record": handler})
    while worker.run_once():
        pass
    assert [call[0] for call in handler.calls] == [first, second, third]


def test_job_enqueued_in_a_rolled_back_transaction_never_exists(db: Database) -> None:
    handler = Recorder()
    with pytest.raises(RuntimeError), db.write() as conn:
        queue.enqueue(conn, "test.record", {"n": 1})
        raise RuntimeError("the work the job was for failed to save")
    assert _worker(db, {"test.record": handler}).run_once() is False
    assert handler.calls == []
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(jobs)) == 0


def test_delayed_job_is_not_run_before_it_is_due(db: Database) -> None:
    handler = Recorder()
    job_id = _enqueue(db, "test.record", delay_seconds=3600)
    worker = _worker(db, {"test.record": handler})
    assert worker.run_once() is False
    assert handler.calls == []
    assert _state(db, job_id) == (queue.QUEUED, 0, None)

    _make_due(db, job_id)
    assert worker.run_once() is True
    assert _state(db, job_id) == (queue.DONE, 1, None)


def test_get_state_of_unknown_job_is_none(db: Database) -> None:
    assert _state(db, 123456) is None


# --- failures and retries -----------------------------------------------------------


def test_failing_handler_is_retried_with_backoff_then_fails(db: Database) -> None:
    job_id = _enqueue(db, "test.boom", {"n": 1}, max_attempts=3)
    worker = _worker(db, {"test.boom": _boom})

    before = utcnow()
    assert worker.run_once() is True
    after = utcnow()
    state, attempts, error = _known_state(db, job_id)
    assert (state, attempts) == (queue.QUEUED, 1)
    assert error == "RuntimeError: boom on attempt 1"
    row = _row(db, job_id)
    assert row.lease_owner is None
    assert row.finished_at is None
    # Not due again at once: the first retry waits 2 s.
    assert before + timedelta(seconds=2) <= row.run_after <= after + timedelta(seconds=2)

    _make_due(db, job_id)
    before = utcnow()
    assert worker.run_once() is True
    after = utcnow()
    row = _row(db, job_id)
    assert (row.state, row.attempts, row.last_error) == (
        queue.QUEUED,
        2,
        "RuntimeError: boom on attempt 2",
    )
    # The backoff grows: the second retry waits 4 s.
    assert before + timedelta(seconds=4) <= row.run_after <= after + timedelta(seconds=4)

    _make_due(db, job_id)
    assert worker.run_once() is True
    assert _state(db, job_id) == (queue.FAILED, 3, "RuntimeError: boom on attempt 3")
    assert _row(db, job_id).finished_at is not None

    # A failed job is never claimed again, however long one waits.
    _make_due(db, job_id)
    assert worker.run_once() is False
    assert _state(db, job_id) == (queue.FAILED, 3, "RuntimeError: boom on attempt 3")


def test_job_with_one_attempt_fails_at_once(db: Database) -> None:
    job_id = _enqueue(db, "test.boom", max_attempts=1)
    assert _worker(db, {"test.boom": _boom}).run_once() is True
    assert _state(db, job_id) == (queue.FAILED, 1, "RuntimeError: boom on attempt 1")


def test_retried_job_succeeds_on_a_later_attempt(db: Database) -> None:
    def flaky(ctx: JobContext[None]) -> None:
        if ctx.job.attempts < 2:
            raise ConnectionError("upstream unavailable")

    handler = Recorder(flaky)
    job_id = _enqueue(db, "test.flaky", max_attempts=5)
    worker = _worker(db, {"test.flaky": handler})
    assert worker.run_once() is True
    assert _state(db, job_id) == (queue.QUEUED, 1, "ConnectionError: upstream unavailable")
    _make_due(db, job_id)
    assert worker.run_once() is True
    state, attempts, _ = _known_state(db, job_id)
    assert (state, attempts) == (queue.DONE, 2)
    assert [call[2] for call in handler.calls] == [1, 2]


def test_job_of_unknown_kind_is_failed_with_a_clear_error(db: Database) -> None:
    job_id = _enqueue(db, "test.nobody-handles-this", max_attempts=1)
    assert _worker(db, {"test.record": Recorder()}).run_once() is True
    state, _, error = _known_state(db, job_id)
    assert state == queue.FAILED
    assert error is not None
    assert "LookupError" in error
    assert "test.nobody-handles-this" in error


def test_very_long_error_is_truncated(db: Database) -> None:
    def loud(_ctx: JobContext[None]) -> None:
        raise ValueError("x" * 10_000)

    job_id = _enqueue(db, "test.loud", max_attempts=1)
    assert _worker(db, {"test.loud": loud}).run_once() is True
    _, _, error = _known_state(db, job_id)
    assert error is not None
    assert error.startswith("ValueError: xxx")
    assert len(error) == 2000


# --- leases -------------------------------------------------------------------------


def test_expired_lease_is_claimed_by_another_worker(db: Database) -> None:
    job_id = _enqueue(db, "test.record", {"n": 1})
    with db.write() as conn:
        dead = queue.claim(conn, "dead-worker", 60, now=utcnow())
    assert dead is not None
    assert dead.id == job_id
    assert dead.attempts == 1

    handler = Recorder()
    rescuer = _worker(db, {"test.record": handler})
    # While the dead worker's lease is live, nobody else takes the job.
    assert rescuer.run_once() is False
    assert handler.calls == []
    assert _row(db, job_id).lease_owner == "dead-worker"

    _expire_lease(db, job_id)
    assert rescuer.run_once() is True
    assert handler.calls == [(job_id, {"n": 1}, 2)]
    assert _state(db, job_id) == (queue.DONE, 2, None)
    assert rescuer.run_once() is False


def test_job_whose_worker_dies_on_its_last_attempt_is_given_up(db: Database) -> None:
    job_id = _enqueue(db, "test.record", {"n": 1}, max_attempts=1)
    with db.write() as conn:
        assert queue.claim(conn, "dead-worker", 60, now=utcnow()) is not None
    _expire_lease(db, job_id)

    handler = Recorder()
    assert _worker(db, {"test.record": handler}).run_once() is False

    assert handler.calls == []
    state, attempts, error = _state(db, job_id) or ("", 0, None)
    assert (state, attempts) == (queue.FAILED, 1)
    assert error is not None
    assert "lease expired" in error


def test_an_upload_whose_worker_dies_on_its_last_attempt_ends_failed(db: Database, tenant: Tenant) -> None:
    """Its clients see `failed` rather than `processing` for ever: the give-up hook runs
    however the job was given up, here by the sweep of a dead worker's lease."""
    rows = [msgspec.Raw(b'{"rego": "DEAD01", "state": "VIC"}')]
    with db.write() as conn:
        upload = uploads.create(conn, tenant.account.id, "au", UploadRequest(customers=rows), chunk_rows=10)
        conn.execute(sa.update(jobs).values(max_attempts=1))
        claimed = queue.claim(conn, "dead-worker", 60, now=utcnow())
    assert claimed is not None
    _expire_lease(db, claimed.id)

    assert Worker(db, Settings(), None, handlers=HANDLERS).run_once() is False  # nothing left to run

    with db.read() as conn:
        assert uploads.get(conn, tenant.account.id, "au", str(upload.id)).status == "failed"
    assert _known_state(db, claimed.id)[0] == queue.FAILED


def test_zero_second_lease_is_taken_over(db: Database) -> None:
    job_id = _enqueue(db, "test.record")
    with db.write() as conn:
        assert queue.claim(conn, "dead-worker", 0, now=utcnow()) is not None
    # The lease ended the moment it was taken: a moment later another worker takes it.
    clock = MovableClock()
    clock.advance(0.001)
    handler = Recorder()
    assert _worker(db, {"test.record": handler}, clock=clock).run_once() is True
    assert len(handler.calls) == 1
    assert _state(db, job_id) == (queue.DONE, 2, None)


def test_worker_that_lost_its_lease_cannot_finish_the_job(db: Database) -> None:
    job_id = _enqueue(db, "test.record")
    with db.write() as conn:
        slow = queue.claim(conn, "slow-worker", 60, now=utcnow())
    assert slow is not None
    _expire_lease(db, job_id)
    with db.write() as conn:
        taken = queue.claim(conn, "other-worker", 60, now=utcnow())
    assert taken is not None
    assert taken.id == job_id

    with db.write() as conn:
        assert queue.heartbeat(conn, job_id, "slow-worker", 60, now=utcnow()) is False
        assert queue.heartbeat(conn, job_id, "other-worker", 60, now=utcnow()) is True
        # The old owner's late outcome is ignored: the job stays with its new owner.
        queue.complete(conn, job_id, "slow-worker", now=utcnow())
        queue.fail(conn, slow, "slow-worker", "late failure", now=utcnow())
        queue.release(conn, slow, "slow-worker", now=utcnow())
    row = _row(db, job_id)
    assert (row.state, row.lease_owner, row.last_error) == (queue.RUNNING, "other-worker", None)

    with db.write() as conn:
        queue.complete(conn, job_id, "other-worker", now=utcnow())
    assert _state(db, job_id) == (queue.DONE, 2, None)


def test_heartbeat_extends_the_lease(db: Database) -> None:
    job_id = _enqueue(db, "test.record")
    with db.write() as conn:
        assert queue.claim(conn, "w1", 1, now=utcnow()) is not None
    first_expiry = _row(db, job_id).lease_expires_at
    seen: list[bool] = []

    def beat(ctx: JobContext[None]) -> None:
        seen.append(ctx.heartbeat())

    _expire_lease(db, job_id)
    worker = _worker(db, {"test.record": Recorder(beat)}, lease_seconds=600)
    before = utcnow()
    assert worker.run_once() is True
    assert seen == [True]
    assert _state(db, job_id) == (queue.DONE, 2, None)
    assert first_expiry < before + timedelta(seconds=600)

    # Directly: a heartbeat pushes the expiry a full lease ahead of now.
    job_id = _enqueue(db, "test.record")
    with db.write() as conn:
        assert queue.claim(conn, "w2", 1, now=utcnow()) is not None
    before = utcnow()
    with db.write() as conn:
        assert queue.heartbeat(conn, job_id, "w2", 600, now=utcnow()) is True
    assert _row(db, job_id).lease_expires_at >= before + timedelta(seconds=600)


def test_handler_heartbeat_reports_a_lost_lease(db: Database) -> None:
    seen: list[bool] = []

    def lose_lease_then_beat(ctx: JobContext[None]) -> None:
        # Another worker took the job over while this one was stalled.
        with ctx.db.write() as conn:
            conn.execute(sa.update(jobs).where(jobs.c.id == ctx.job.id).values(lease_owner="usurper"))
        seen.append(ctx.heartbeat())

    job_id = _enqueue(db, "test.stall")
    assert _worker(db, {"test.stall": lose_lease_then_beat}).run_once() is True
    assert seen == [False]
    # The stalled worker's "done" did not override the new owner.
    row = _row(db, job_id)
    assert (row.state, row.lease_owner) == (queue.RUNNING, "usurper")


def test_heartbeat_after_finish_is_false(db: Database) -> None:
    job_id = _enqueue(db, "test.record")
    with db.write() as conn:
        assert queue.claim(conn, "w1", 60, now=utcnow()) is not None
        queue.complete(conn, job_id, "w1", now=utcnow())
    with db.write() as conn:
        assert queue.heartbeat(conn, job_id, "w1", 60, now=utcnow()) is False


# --- interruption and shutdown ------------------------------------------------------


def test_interrupted_job_is_released_without_counting_the_attempt(db: Database) -> None:
    def give_up(_ctx: JobContext[None]) -> None:
        raise JobInterrupted

    job_id = _enqueue(db, "test.long", max_attempts=1)
    assert _worker(db, {"test.long": give_up}).run_once() is True
    assert _state(db, job_id) == (queue.QUEUED, 0, None)
    row = _row(db, job_id)
    assert row.lease_owner is None
    assert row.lease_expires_at is None
    assert row.run_after <= utcnow()

    # Runnable again at once by the next worker, and max_attempts=1 was not used up.
    handler = Recorder()
    assert _worker(db, {"test.long": handler}).run_once() is True
    assert handler.calls == [(job_id, {}, 1)]
    assert _state(db, job_id) == (queue.DONE, 1, None)


def _upload_and_a_quick_job(
    db: Database, tenant: Tenant, turn_seconds: float
) -> tuple[Worker, Recorder, int]:
    """An upload of three chunks, then another job queued behind it, and a worker that
    runs both (the upload's real handler); the upload's job id."""
    rows = [msgspec.Raw(b'{"rego": "TURN%d", "state": "VIC"}' % n) for n in range(6)]
    with db.write() as conn:
        uploads.create(conn, tenant.account.id, "au", UploadRequest(customers=rows), chunk_rows=2)
        upload_job = conn.execute(sa.select(jobs.c.id).where(jobs.c.kind == uploads.PROCESS_JOB)).scalar_one()
    _enqueue(db, "test.quick")
    quick = Recorder()
    settings = Settings(job_turn_seconds=turn_seconds)
    handlers: dict[str, Handler] = {uploads.PROCESS_JOB: HANDLERS[uploads.PROCESS_JOB], "test.quick": quick}
    return Worker(db, settings, bootstrap.adapters(settings, db), handlers=handlers), quick, upload_job


def _processed(db: Database, tenant: Tenant) -> list[int]:
    with db.read() as conn:
        page = uploads.list_page(conn, tenant.account.id, "au", offset=0, limit=10)
    return [upload.total_processed_customers for upload in page.uploads]


def test_an_upload_past_its_turn_lets_a_job_due_behind_it_run_then_carries_on(
    db: Database, tenant: Tenant
) -> None:
    """A webhook or a lead's email queued during a long upload does not wait for all of it."""
    worker, quick, upload_job = _upload_and_a_quick_job(db, tenant, turn_seconds=0)

    assert worker.run_once() is True  # one chunk, then the worker is handed on
    assert _processed(db, tenant) == [2] and _state(db, upload_job) == (queue.QUEUED, 0, None)
    assert quick.calls == []

    assert worker.run_once() is True  # the job behind it
    assert len(quick.calls) == 1
    assert _processed(db, tenant) == [2]

    assert worker.run_once() is True  # the rest, nobody else waiting
    assert _processed(db, tenant) == [6] and _state(db, upload_job) == (queue.DONE, 1, None)
    assert worker.run_once() is False


def test_an_upload_within_its_turn_keeps_the_worker(db: Database, tenant: Tenant) -> None:
    worker, quick, upload_job = _upload_and_a_quick_job(db, tenant, turn_seconds=3600)

    assert worker.run_once() is True
    assert _processed(db, tenant) == [6] and _state(db, upload_job) == (queue.DONE, 1, None)
    assert quick.calls == []
    assert worker.run_once() is True and len(quick.calls) == 1


def test_handler_sees_stopping_and_releases_the_job(db: Database) -> None:
    done_chunks: list[int] = []

    def chunked(ctx: JobContext[None]) -> None:
        for chunk in range(3):
            if ctx.stopping:
                raise JobInterrupted
            done_chunks.append(chunk)

    job_id = _enqueue(db, "test.chunked")
    worker = _worker(db, {"test.chunked": chunked})
    worker.stop.set()
    assert worker.run_once() is True
    assert done_chunks == []
    assert _state(db, job_id) == (queue.QUEUED, 0, None)

    fresh = _worker(db, {"test.chunked": chunked})
    assert fresh.run_once() is True
    assert done_chunks == [0, 1, 2]
    assert _state(db, job_id) == (queue.DONE, 1, None)


def test_run_loop_finishes_the_job_in_hand_when_stopped(db: Database) -> None:
    worker: Worker

    def stop_midway(ctx: JobContext[None]) -> None:
        worker.stop.set()  # SIGTERM arrives while the job is running
        assert ctx.stopping

    handler = Recorder(stop_midway)
    first = _enqueue(db, "test.record")
    second = _enqueue(db, "test.record")
    worker = _worker(db, {"test.record": handler})
    thread = worker.start_thread()
    thread.join(BOUNDED_WAIT)
    assert not thread.is_alive()
    assert [call[0] for call in handler.calls] == [first]
    assert _state(db, first) == (queue.DONE, 1, None)
    assert _state(db, second) == (queue.QUEUED, 0, None)


def test_run_loop_works_through_the_queue(db: Database) -> None:
    handler = Recorder()
    ids = [_enqueue(db, "test.record", {"n": n}) for n in range(5)]
    worker = _worker(db, {"test.record": handler})
    thread = worker.start_thread()
    try:
        _wait_for(lambda: len(handler.calls) >= 5, "five jobs to run")
        _wait_for(lambda: all(_known_state(db, i)[0] == queue.DONE for i in ids), "jobs to finish")
    finally:
        worker.stop.set()
        thread.join(BOUNDED_WAIT)
    assert not thread.is_alive()
    assert sorted(call[0] for call in handler.calls) == ids


# --- concurrency --------------------------------------------------------------------


def test_concurrent_workers_run_each_job_exactly_once(db: Database) -> None:
    handler = Recorder()
    ids = [_enqueue(db, "test.record", {"n": n}) for n in range(40)]
    workers = [_worker(db, {"test.record": handler}) for _ in range(4)]
    errors: list[BaseException] = []

    def drain(worker: Worker) -> None:
        try:
            while worker.run_once():
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUNDED_WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    ran = [call[0] for call in handler.calls]
    assert sorted(ran) == ids  # every job, none twice
    with db.read() as conn:
        states = conn.execute(sa.select(jobs.c.state, jobs.c.attempts)).all()
    assert {(s.state, s.attempts) for s in states} == {(queue.DONE, 1)}


@pytest.fixture
def postgres(db: Database) -> Database:
    if db.is_sqlite:
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL only; SQLite serialises writers")
    return db


@pytest.fixture
def open_transactions(postgres: Database) -> Iterator[tuple[sa.Connection, sa.Connection]]:
    """Two connections, each in a transaction left open (two workers mid-claim)."""
    with postgres.engine.connect() as first, postgres.engine.connect() as second:
        for conn in (first, second):
            conn.begin()
            # If a claim ever waits on the other's row lock, fail instead of hanging.
            conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
        yield first, second
        # Closing the connections rolls both transactions back.


def test_postgres_concurrent_claims_never_get_the_same_job(
    postgres: Database, open_transactions: tuple[sa.Connection, sa.Connection]
) -> None:
    a_id = _enqueue(postgres, "test.record", {"n": 1})
    b_id = _enqueue(postgres, "test.record", {"n": 2})
    first, second = open_transactions

    claimed_first = queue.claim(first, "worker-a", 60, now=utcnow())
    claimed_second = queue.claim(second, "worker-b", 60, now=utcnow())  # first has not committed yet
    assert claimed_first is not None
    assert claimed_second is not None
    assert {claimed_first.id, claimed_second.id} == {a_id, b_id}


def test_postgres_claim_skips_a_job_another_worker_is_claiming(
    postgres: Database, open_transactions: tuple[sa.Connection, sa.Connection]
) -> None:
    job_id = _enqueue(postgres, "test.record")
    first, second = open_transactions
    claimed = queue.claim(first, "worker-a", 60, now=utcnow())
    assert claimed is not None
    assert claimed.id == job_id
    # Neither blocks nor takes the same job: the only job is locked, so none for now.
    assert queue.claim(second, "worker-b", 60, now=utcnow()) is None


# --- the `forecourt worker` process -------------------------------------------------


class WorkerProcess:
    """A worker subprocess whose log (stderr) is collected as it is written."""

    def __init__(self, args: list[str], url: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORECOURT_")}
        env.update(
            FORECOURT_DATABASE_URL=url,
            FORECOURT_WORKER_POLL_SECONDS="0.1",
            FORECOURT_LOG_LEVEL="info",
        )
        self.proc = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self._lines)

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        _wait_for(lambda: self.proc.poll() is not None or condition(), what)
        assert self.proc.poll() is None, f"worker exited on its own:\n{self.log}"

    def wait_started(self) -> None:
        # Logged by the run loop, after the signal handlers are installed.
        self.wait_until(lambda: "started" in self.log, "the worker to start")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the worker and return its exit code (bounded wait, then kill)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=BOUNDED_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"worker did not exit after signal {sig}:\n{self.log}")
        self._reader.join(BOUNDED_WAIT)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """A migrated SQLite file of our own, for a worker process to share with the test."""
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    migrate.upgrade(url)
    db = Database(url)
    yield url, db
    db.dispose()


def test_worker_process_runs_jobs_and_exits_cleanly_on_sigterm(
    sqlite_file: tuple[str, Database],
) -> None:
    url, db = sqlite_file
    # No handler is registered for this kind, so the worker records a failure:
    # proof that it is really polling this database.
    job_id = _enqueue(db, "test.nobody-handles-this", max_attempts=1)
    worker = WorkerProcess([str(FORECOURT_BIN), "worker"], url)
    try:
        worker.wait_until(
            lambda: _known_state(db, job_id)[0] == queue.FAILED,
            "the worker process to pick up the job",
        )
    finally:
        code = worker.stop(signal.SIGTERM)
    assert code == 0, worker.log
    assert "stopped" in worker.log
    state, attempts, error = _known_state(db, job_id)
    assert (state, attempts) == (queue.FAILED, 1)
    assert "test.nobody-handles-this" in (error or "")


def test_idle_worker_process_exits_cleanly_on_sigterm_and_sigint(tmp_path: Path) -> None:
    # Fresh files: each worker creates and migrates its own. The two run side by side.
    signals = (signal.SIGTERM, signal.SIGINT)
    workers = [
        WorkerProcess([str(FORECOURT_BIN), "worker"], f"sqlite:///{tmp_path / f'idle-{sig.name}.db'}")
        for sig in signals
    ]
    try:
        for worker in workers:
            worker.wait_started()
    finally:
        codes = [worker.stop(sig) for worker, sig in zip(workers, signals, strict=True)]
    for worker, code in zip(workers, codes, strict=True):
        assert code == 0, worker.log


def test_worker_process_finishes_the_job_in_hand_on_sigterm(
    sqlite_file: tuple[str, Database], tmp_path: Path
) -> None:
    url, db = sqlite_file
    started, go = tmp_path / "started", tmp_path / "go"
    job_id = _enqueue(db, "test.slow")
    second = _enqueue(db, "test.slow")
    worker = WorkerProcess([sys.executable, "-c", DRAIN_SCRIPT, str(started), str(go), "worker"], url)
    try:
        worker.wait_until(started.exists, "the job to start")
        worker.proc.send_signal(signal.SIGTERM)  # arrives mid-job
        go.write_text("go")
    finally:
        code = worker.stop(signal.SIGTERM)
    assert code == 0, worker.log
    assert _state(db, job_id) == (queue.DONE, 1, None)
    # Draining means stopping: the next job is left for another worker.
    assert _state(db, second) == (queue.QUEUED, 0, None)


def test_a_worker_says_once_that_the_database_is_away_then_works_when_it_is_back(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[int] = []
    worker = _worker(db, {"test.record": lambda ctx: done.append(ctx.job.id)})
    polls = threading.Semaphore(0)
    away = threading.Event()
    away.set()
    real_run_once = worker.run_once

    def run_once() -> bool:
        polls.release()
        if away.is_set():
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
        return real_run_once()

    worker.run_once = run_once  # type: ignore[method-assign]
    thread = worker.start_thread()
    for _ in range(5):  # five polls while the database is away
        assert polls.acquire(timeout=10)
    job_id = _enqueue(db, "test.record")
    away.clear()
    deadline = time.monotonic() + 10
    while not done and time.monotonic() < deadline:
        polls.acquire(timeout=1)
    worker.stop.set()
    thread.join(timeout=10)

    assert done == [job_id]  # it went on by itself
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "forecourt.jobs.worker"]
    assert [s for s in said if s[0] != "INFO"] == [
        ("WARNING", "database unavailable (OperationalError); retrying")
    ]
    assert not any(r.exc_info for r in caplog.records)
