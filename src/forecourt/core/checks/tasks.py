"""The job that runs one resource's checks of a batch, a piece at a time."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.accounts import repository as accounts
from forecourt.core.adapters import Context
from forecourt.core.checks import repository, service
from forecourt.core.checks.resources import Answer
from forecourt.core.checks.schemas import Outcome
from forecourt.jobs.worker import JobInterrupted, RetryLater, task
from forecourt.kit.dates import utcnow

PIECE = 100  # vehicles per outside call and per write transaction


def _give_up(conn: Connection, payload: dict[str, Any]) -> None:
    batch_id, resource_id = UUID(payload["batch_id"]), int(payload["resource_id"])
    repository.give_up(
        conn, batch_id, resource_id, "the check could not be made: its job stopped for good", utcnow()
    )


@task(service.RUN_JOB, give_up=_give_up)
def run_checks(ctx: Context) -> None:
    batch_id, resource_id = UUID(ctx.job.payload["batch_id"]), int(ctx.job.payload["resource_id"])
    with ctx.db.read() as conn:
        account_id = repository.batch_account(conn, batch_id)
        account = accounts.get_account(conn, account_id) if account_id else None
        work = repository.pending(conn, batch_id, resource_id)
    if account is None or not work:
        return  # the batch or its account was deleted, or every check is recorded
    checker = next((c for c in ctx.adapters.checkers if c.resource.resource_id == resource_id), None)
    last_try = ctx.last_attempt
    later: list[str] = []
    billed_as = checker.provider if checker is not None and checker.billable else None
    for start in range(0, len(work), PIECE):
        piece = work[start : start + PIECE]
        if ctx.stopping:
            raise JobInterrupted  # what is recorded stays; the rest is picked up again
        answers: list[Answer] = (
            checker.check(account.region, [v for _, v in piece])
            if checker is not None
            else [Outcome(None, [], "this resource is no longer available on the server")] * len(piece)
        )
        with ctx.db.write() as conn:
            later += service.record(conn, account.id, piece, answers, last_try, billed_as)
            ctx.heartbeat(conn)
    if later:
        raise RetryLater(f"{len(later)} checks could not be made now, e.g. {later[0]}")
