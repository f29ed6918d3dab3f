"""The routing jobs. `leads.route` routes an account's waiting leads (queued by
`service.opened` for every account that got new leads); `leads.sweep` runs every minute
of the worker's clock: it routes what still waits (a crashed pass, an account that had no
sales user), reassigns and escalates what nobody acted on, and sends the daily digests.

Both work in batches of FORECOURT_LEAD_ROUTING_BATCH leads, one transaction each, and
keep their lease between batches; a worker killed mid-pass leaves the batches it
committed done and the rest to the job's next run, one lease later. Two sweeps at once
are safe: routing takes the account's routing lock, updates only leads still as read, and
a digest is claimed once per account and day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.adapters import Context
from forecourt.core.leads import repository, routing
from forecourt.core.leads.emails import Links
from forecourt.core.leads.routing import ROUTE_JOB, SWEEP_JOB, SWEEP_SECONDS
from forecourt.core.notifications import service as notifications
from forecourt.core.users import repository as users
from forecourt.jobs import queue
from forecourt.jobs.worker import JobInterrupted, task

notifications.on_sent(routing.record_sent)

Batch = Callable[[Connection, UUID, datetime, int, Links], int]


def _links(ctx: Context) -> Links:
    return Links(ctx.settings.public_url)


def _in_batches(ctx: Context, account_id: UUID, batch: Batch) -> None:
    size = max(1, ctx.settings.lead_routing_batch)
    while True:
        if ctx.stopping:
            raise JobInterrupted
        with ctx.db.write() as conn:
            seen = batch(conn, account_id, ctx.clock.now(), size, _links(ctx))
            kept = ctx.heartbeat(conn)
        if seen < size or not kept:  # done, or the lease went to another worker, who goes on
            return


def _next_sweep(ctx: Context) -> None:
    with ctx.db.write() as conn:
        queue.ensure(conn, SWEEP_JOB, run_after=ctx.clock.now() + timedelta(seconds=SWEEP_SECONDS))


@task(ROUTE_JOB)
def route(ctx: Context) -> None:
    _next_sweep(ctx)  # the backstop, and the clock of reassignment, runs from now on
    _in_batches(ctx, UUID(ctx.job.payload["account_id"]), routing.route)


@task(SWEEP_JOB)
def sweep(ctx: Context) -> None:
    _next_sweep(ctx)  # first: a sweep that fails does not stop the next
    now = ctx.clock.now()
    with ctx.db.read() as conn:
        # The shortest window is a minute: accounts whose leads are younger wait.
        due = repository.accounts_to_sweep(conn, now - timedelta(minutes=1))
        with_managers = users.accounts_with_managers(conn)
    for account_id in due:
        _in_batches(ctx, account_id, routing.route)
        _in_batches(ctx, account_id, routing.reassign)
    for account_id in with_managers:
        with ctx.db.write() as conn:
            routing.digest(conn, account_id, ctx.clock.now(), _links(ctx))
