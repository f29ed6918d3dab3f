"""The worker loop: claim a job, run its handler, record the outcome.

Runs embedded in `forecourt serve` (a thread) or alone in `forecourt worker`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection

from forecourt.config import Settings
from forecourt.db.engine import Database, database_unavailable
from forecourt.jobs import queue
from forecourt.jobs.queue import Job
from forecourt.kit.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class JobInterrupted(Exception):
    """Raised by a handler that saw `ctx.stopping` and gave up between units of work."""


class RetryLater(Exception):
    """Raised by a handler whose work cannot be done now (say, an endpoint is down): the
    job is retried with backoff like a failure, but logged without a traceback."""


# What the composition root hands every handler: the outside world's adapters.
D = TypeVar("D")


@dataclass
class JobContext(Generic[D]):
    """What a handler gets: the job, the database, the adapters, the clock, and a way to
    keep its lease."""

    job: Job
    db: Database
    settings: Settings
    adapters: D
    clock: Clock
    owner: str
    stop: threading.Event
    started_at: datetime  # by the worker's clock, which tests move

    @property
    def lease_seconds(self) -> float:
        return float(self.settings.job_lease_seconds)

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()

    def turn_over(self) -> bool:
        """Whether a long job should hand the worker to others now: it has run for its
        turn (FORECOURT_JOB_TURN_SECONDS) and another job is due. The job then raises
        JobInterrupted and is taken up again after them, from where it stopped, so a
        webhook or a lead's email never waits for a whole upload."""
        now = self.clock.now()
        if now - self.started_at < timedelta(seconds=self.settings.job_turn_seconds):
            return False
        with self.db.read() as conn:
            return queue.any_due(conn, now=now, besides=self.job.id)

    @property
    def last_attempt(self) -> bool:
        """Whether the queue gives the job up if this attempt does not finish it."""
        return self.job.attempts >= self.job.max_attempts

    def heartbeat(self, conn: Connection | None = None) -> bool:
        """Extend the lease (in `conn`'s transaction if given, saving a commit); False
        when it was lost to another worker."""
        if conn is not None:
            return queue.heartbeat(conn, self.job.id, self.owner, self.lease_seconds, now=self.clock.now())
        with self.db.write() as own:
            return queue.heartbeat(own, self.job.id, self.owner, self.lease_seconds, now=self.clock.now())


Handler = Callable[[JobContext[Any]], None]
HANDLERS: dict[str, Handler] = {}
# What a feature does when its job is given up for good, however that came about (the
# handler failed its last attempt, or its worker died during it): given the payload, in
# the transaction that gives the job up.
GIVE_UP: dict[str, Callable[[Connection, dict[str, Any]], None]] = {}


def task(
    kind: str, give_up: Callable[[Connection, dict[str, Any]], None] | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler for a job kind (features do this in their tasks.py)."""

    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        if give_up is not None:
            GIVE_UP[kind] = give_up
        return handler

    return register


def _give_up(conn: Connection, job: Job) -> None:
    hook = GIVE_UP.get(job.kind)
    if hook is not None:
        hook(conn, job.payload)


class Worker:
    """Built by the composition root (bootstrap.py), which hands it the adapters and the clock."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        adapters: object,
        *,
        clock: Clock | None = None,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.adapters = adapters
        self.clock = clock or SystemClock()
        self.lease_seconds = float(settings.job_lease_seconds)
        self.poll_seconds = settings.worker_poll_seconds
        self.handlers = HANDLERS if handlers is None else handlers
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stop = threading.Event()
        self.database_away = False
        self._thread: threading.Thread | None = None
        self.idle = True  # the last look found no job: look again with a read first

    def run_once(self) -> bool:
        """Run one due job; False when there was none."""
        if self.idle:  # an idle worker looks with a read before it takes the write lock
            with self.db.read() as conn:
                if not queue.any_due(conn, now=self.clock.now()):
                    return False
        with self.db.write() as conn:
            job = queue.claim(conn, self.owner, self.lease_seconds, now=self.clock.now(), on_give_up=_give_up)
        self.idle = job is None
        if job is None:
            return False
        ctx = JobContext(
            job, self.db, self.settings, self.adapters, self.clock, self.owner, self.stop, self.clock.now()
        )
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(ctx)
        except JobInterrupted:
            with self.db.write() as conn:
                queue.release(conn, job, self.owner, now=self.clock.now())
        except RetryLater as exc:
            log.info("job %s (%s) will be retried: %s", job.id, job.kind, exc)
            self._fail(job, str(exc))
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            self._fail(job, f"{type(exc).__name__}: {exc}")
        else:
            with self.db.write() as conn:
                queue.complete(conn, job.id, self.owner, now=self.clock.now())
        return True

    def _fail(self, job: Job, error: str) -> None:
        with self.db.write() as conn:
            queue.fail(conn, job, self.owner, error, now=self.clock.now(), on_give_up=_give_up)

    def run(self) -> None:
        """Work until `stop` is set; a job in hand is finished first (SIGTERM drains)."""
        log.info("worker %s started", self.owner)
        while not self.stop.is_set():
            try:
                busy = self.run_once()
                self.database_away = False
            except Exception as error:
                busy = False
                if not database_unavailable(error):
                    log.exception("worker loop error; retrying")
                elif not self.database_away:  # said once per outage, not at every poll
                    self.database_away = True
                    log.warning("database unavailable (%s); retrying", type(error).__name__)
            if not busy:
                self.stop.wait(self.poll_seconds)
        log.info("worker %s stopped", self.owner)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="forecourt-worker", daemon=True)
        thread.start()
        self._thread = thread
        return thread

    def shutdown(self) -> None:
        """Stop, and wait (at most one lease) for the job in hand to finish: SIGTERM drains."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.lease_seconds)
