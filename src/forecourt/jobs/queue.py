"""SQL for the job table: enqueue, claim with a lease, heartbeat, finish.

A job is claimable when it is queued and due, or when its worker's lease has expired
(the worker died); so a `kill -9` never loses work, it only delays it by one lease.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db.models import jobs
from forecourt.kit.clock import backoff_seconds
from forecourt.kit.dates import utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job(msgspec.Struct, frozen=True):
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


# Told of a job given up for good, in the transaction that gives it up.
GiveUp = Callable[[Connection, Job], None]


def enqueue(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    delay_seconds: float = 0,
    max_attempts: int = 5,
    run_after: datetime | None = None,
) -> int:
    """Call inside the transaction that creates what the job works on: both commit or neither.
    `run_after` (a time of the worker's clock, which tests move) overrides `delay_seconds`."""
    now = utcnow()
    job_id = conn.scalar(
        sa.insert(jobs)
        .values(
            kind=kind,
            payload=payload,
            state=QUEUED,
            attempts=0,
            max_attempts=max_attempts,
            run_after=run_after or now + timedelta(seconds=delay_seconds),
            created_at=now,
        )
        .returning(jobs.c.id)
    )
    return int(job_id or 0)


def ensure(conn: Connection, kind: str, *, run_after: datetime, max_attempts: int = 5) -> bool:
    """A job of `kind` (no payload) queued for `run_after` unless one is queued already:
    a periodic job's next run. Two transactions at once may both queue one (PostgreSQL);
    the next run of either sees the other and queues none, so the chain stays one."""
    queued = sa.select(jobs.c.id).where(jobs.c.kind == kind, jobs.c.state == QUEUED)
    if conn.execute(queued.limit(1)).first() is not None:
        return False
    enqueue(conn, kind, {}, max_attempts=max_attempts, run_after=run_after)
    return True


def enqueue_many(
    conn: Connection, kind: str, payloads: list[dict[str, Any]], *, max_attempts: int = 5
) -> None:
    """Many jobs of one kind in one statement (in the caller's transaction, as enqueue)."""
    if payloads:
        now = utcnow()
        conn.execute(
            sa.insert(jobs).values(
                kind=kind, state=QUEUED, attempts=0, max_attempts=max_attempts, run_after=now, created_at=now
            ),
            [{"payload": payload} for payload in payloads],
        )


def claim(
    conn: Connection, owner: str, lease_seconds: float, *, now: datetime, on_give_up: GiveUp | None = None
) -> Job | None:
    """The next job due at `now`, leased to `owner`. On the way, jobs whose worker died on
    their last allowed attempt (say, killed for memory every time) are given up rather
    than retried forever, and `on_give_up` told of each, in this transaction."""
    abandoned = [
        Job(row.id, row.kind, row.payload, row.attempts, row.max_attempts)
        for row in conn.execute(
            sa.select(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.max_attempts).where(
                jobs.c.state == RUNNING,
                jobs.c.lease_expires_at < now,
                jobs.c.attempts >= jobs.c.max_attempts,
            )
        )
    ]
    if abandoned:
        conn.execute(
            sa.update(jobs)
            .where(jobs.c.id.in_([job.id for job in abandoned]))
            .values(
                state=FAILED,
                finished_at=now,
                last_error="lease expired: the worker stopped without finishing",
                lease_owner=None,
                lease_expires_at=None,
            )
        )
        for job in abandoned:
            if on_give_up is not None:
                on_give_up(conn, job)
    query = (
        sa.select(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.max_attempts)
        .where(_due(now))
        .order_by(jobs.c.run_after, jobs.c.id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        # Several workers on one PostgreSQL: each skips rows another is claiming.
        query = query.with_for_update(skip_locked=True)
    row = conn.execute(query).first()
    if row is None:
        return None
    conn.execute(
        sa.update(jobs)
        .where(jobs.c.id == row.id)
        .values(
            state=RUNNING,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=jobs.c.attempts + 1,
        )
    )
    return Job(row.id, row.kind, row.payload, row.attempts + 1, row.max_attempts)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    """A job a worker may take at `now`: queued and due, or running on a lease that lapsed."""
    return sa.or_(
        sa.and_(jobs.c.state == QUEUED, jobs.c.run_after <= now),
        sa.and_(jobs.c.state == RUNNING, jobs.c.lease_expires_at < now),
    )


def any_due(conn: Connection, *, now: datetime, besides: int | None = None) -> bool:
    """Whether a job other than `besides` may be taken at `now`: a read, so that an idle
    worker's look (several a second) takes no write lock."""
    query = sa.select(jobs.c.id).where(_due(now)).limit(1)
    if besides is not None:
        query = query.where(jobs.c.id != besides)
    return conn.execute(query).first() is not None


def _owned(job_id: int, owner: str) -> sa.ColumnElement[bool]:
    return sa.and_(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.state == RUNNING)


def heartbeat(conn: Connection, job_id: int, owner: str, lease_seconds: float, *, now: datetime) -> bool:
    """Extend the lease; False means it was lost (expired and taken by another worker)."""
    result = conn.execute(
        sa.update(jobs)
        .where(_owned(job_id, owner))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    return result.rowcount == 1


def complete(conn: Connection, job_id: int, owner: str, *, now: datetime) -> None:
    conn.execute(
        sa.update(jobs)
        .where(_owned(job_id, owner))
        .values(state=DONE, finished_at=now, lease_owner=None, lease_expires_at=None)
    )


def fail(
    conn: Connection,
    job: Job,
    owner: str,
    error: str,
    *,
    now: datetime,
    on_give_up: GiveUp | None = None,
) -> None:
    """Retry later with exponential backoff, or give up after max_attempts (and tell
    `on_give_up`, in this transaction)."""
    if job.attempts >= job.max_attempts:
        values: dict[str, Any] = {"state": FAILED, "finished_at": now}
    else:
        values = {"state": QUEUED, "run_after": now + timedelta(seconds=backoff_seconds(job.attempts))}
    result = conn.execute(
        sa.update(jobs)
        .where(_owned(job.id, owner))
        .values(**values, last_error=error[:2000], lease_owner=None, lease_expires_at=None)
    )
    if result.rowcount and values["state"] == FAILED and on_give_up is not None:
        on_give_up(conn, job)


def release(conn: Connection, job: Job, owner: str, *, now: datetime) -> None:
    """Give a job back unfinished (shutdown): runnable at once, the attempt not counted."""
    conn.execute(
        sa.update(jobs)
        .where(_owned(job.id, owner))
        .values(
            state=QUEUED,
            run_after=now,
            attempts=job.attempts - 1,
            lease_owner=None,
            lease_expires_at=None,
        )
    )


def get_state(conn: Connection, job_id: int) -> tuple[str, int, str | None] | None:
    """(state, attempts, last_error), for operators and tests."""
    row = conn.execute(
        sa.select(jobs.c.state, jobs.c.attempts, jobs.c.last_error).where(jobs.c.id == job_id)
    ).first()
    return (row.state, row.attempts, row.last_error) if row else None
