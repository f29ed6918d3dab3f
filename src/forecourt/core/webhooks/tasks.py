"""The job that sends one webhook delivery, retried by the queue with backoff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.adapters import Context
from forecourt.core.webhooks import repository
from forecourt.core.webhooks.schemas import DELIVERED, FAILED, PENDING
from forecourt.core.webhooks.service import DELIVER_JOB
from forecourt.jobs.worker import RetryLater, task
from forecourt.kit.clock import backoff_seconds

RETRY_FOR = timedelta(hours=24)


class DeliveryFailed(RetryLater):
    """The endpoint did not take the delivery (or is paused): the queue retries it later."""


def _give_up(conn: Connection, payload: dict[str, Any]) -> None:
    repository.give_up(conn, UUID(payload["delivery_id"]), "given up: the delivery job stopped for good")


@task(DELIVER_JOB, give_up=_give_up)
def deliver(ctx: Context) -> None:
    delivery_id = UUID(ctx.job.payload["delivery_id"])
    with ctx.db.read() as conn:
        target = repository.target(conn, delivery_id)
    if target is None or target.status != PENDING:
        return  # the webhook was deleted, or this delivery is settled
    now = ctx.clock.now()
    last_try = now - target.created_at >= RETRY_FOR or ctx.last_attempt
    if target.paused_until is not None and now < target.paused_until and not last_try:
        # The endpoint failed a moment ago: wait with the others rather than each
        # spending a timeout on it. Not an attempt at the endpoint.
        raise DeliveryFailed("waiting: the endpoint failed recently")
    outcome = ctx.adapters.sender.send(target.endpoint, target.secret, str(delivery_id), target.body)
    failures = 0 if outcome.delivered else target.failures + 1
    status = DELIVERED if outcome.delivered else FAILED if last_try else PENDING
    with ctx.db.write() as conn:
        repository.record_attempt(
            conn,
            delivery_id,
            {
                "status": status,
                "response_status": outcome.status,
                "last_error": outcome.error,
                "last_attempt_at": now,
                "delivered_at": now if outcome.delivered else None,
            },
            webhook_id=target.webhook_id,
            failures=failures,
            paused_until=now + timedelta(seconds=backoff_seconds(failures)) if failures else None,
        )
    if status == PENDING:
        raise DeliveryFailed(outcome.error or "not delivered")
