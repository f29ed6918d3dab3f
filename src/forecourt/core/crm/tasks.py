"""The job that delivers one batch of new leads to one CRM target: walks the batch's
pending deliveries in order, retried with the queue's backoff while the target does not
take them. Each target has its own job, so one that is down or slow delays only itself.

Email targets: each lead's document is handed to the email outbox
(core/notifications), keyed `adf:<lead>:<target>`, which sends it at most once.

HTTP targets send at most once as the outbox does (core/notifications/tasks.py):
before the POST the delivery is marked `sending` (the attempt counted) and that is
committed; after, it is `delivered` (2xx), back to `pending` (refused with another
status, or nothing could have been sent: no connection) and the job retried later, or
`unknown` (the connection broke, or the answer timed out, after the request went out:
the endpoint may have it). A run that finds a delivery still `sending` follows a worker
that died (`kill -9`) during its POST: it is marked `unknown` and not sent again. A job
given up for good marks its batch's pending deliveries `failed`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.adapters import Context
from forecourt.core.crm import repository, service
from forecourt.core.crm.schemas import DELIVERED, FAILED, PENDING, QUEUED, SENDING, UNKNOWN, Target
from forecourt.core.crm.service import DELIVER_JOB
from forecourt.core.leads import repository as leads
from forecourt.core.leads import service as lead_service
from forecourt.core.leads.schemas import FORECOURT
from forecourt.core.notifications import service as notifications
from forecourt.jobs.worker import JobInterrupted, RetryLater, task
from forecourt.kit.dates import utcnow

CHUNK = 100  # deliveries read at a time; an email chunk is queued in one transaction
HEADERS = {"content-type": "application/xml", "user-agent": "Forecourt-ADF/1"}
MAY_HAVE_BEEN_SENT = "may have been delivered: the worker stopped during the POST"
GIVEN_UP = "given up: the target did not take the lead in any attempt"


class NotDelivered(RetryLater):
    """The target did not take a delivery: the queue retries the batch later."""


def _give_up(conn: Connection, payload: dict[str, Any]) -> None:
    target_id, batch_id = UUID(payload["target_id"]), UUID(payload["batch_id"])
    left = repository.unsettled(conn, target_id, batch_id)
    repository.give_up(conn, target_id, batch_id, MAY_HAVE_BEEN_SENT, GIVEN_UP)
    leads.add_events(
        conn,
        (
            _event(lead_id, account_id, target_id, UNKNOWN if status == SENDING else FAILED, utcnow())
            for lead_id, account_id, status in left
        ),
    )


def _event(
    lead_id: UUID, account_id: UUID, target_id: UUID, status: str, at: datetime, **more: Any
) -> dict[str, Any]:
    """The lead's timeline entry for a delivery settled (or handed to the email outbox)."""
    return lead_service.event(
        lead_id, account_id, "delivered", FORECOURT, at, target_id=str(target_id), status=status, **more
    )


@task(DELIVER_JOB, give_up=_give_up)
def deliver(ctx: Context) -> None:
    target_id, batch_id = UUID(ctx.job.payload["target_id"]), UUID(ctx.job.payload["batch_id"])
    with ctx.db.read() as conn:
        target = repository.target(conn, target_id)
    if target is None:
        return  # removed, and its deliveries with it
    # Forecourt's public address, where the operator set one (FORECOURT_PUBLIC_URL).
    provider_url = str(getattr(ctx.settings, "public_url", "") or "").strip() or None
    after = 0  # a cursor: each delivery is looked at once per run, whatever became of it
    while True:
        if ctx.stopping:
            raise JobInterrupted
        with ctx.db.read() as conn:
            batch = repository.pending(conn, target.id, batch_id, after, CHUNK)
        if not batch:
            return
        after = batch[-1][0]
        if target.channel == "email":
            _email(ctx, target, batch, provider_url)
        else:
            for delivery_id, lead_id, status in batch:
                _post(ctx, target, delivery_id, lead_id, status, provider_url)


def _email(
    ctx: Context, target: Target, batch: list[tuple[int, UUID, str]], provider_url: str | None
) -> None:
    """A chunk of the batch handed to the outbox in one transaction; the documents are
    made before it, in a read (a write transaction on SQLite holds up every other writer)."""
    with ctx.db.read() as conn:
        lead_ids = [lead_id for _, lead_id, _ in batch]
        documents = service.prepare(conn, target.account_id, lead_ids, provider_url)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        events, queued = [], []
        for (delivery_id, lead_id, _), prepared in zip(batch, documents, strict=True):
            if prepared.body is None:
                values = {"status": prepared.status, "last_error": prepared.error, "last_attempt_at": now}
                repository.settle(conn, delivery_id, values)
                events.append(_event(lead_id, target.account_id, target.id, str(prepared.status), now))
                continue
            email = notifications.queue(
                conn,
                target.account_id,
                target.address,
                f"ADF lead {lead_id}",
                prepared.body.decode(),
                "",  # the XML as the whole plain-text body: what ADF-by-email readers parse
                key=f"adf:{lead_id}:{target.id}",
            )
            queued.append((delivery_id, email.id))
            events.append(_event(lead_id, target.account_id, target.id, QUEUED, now, email_id=str(email.id)))
        repository.mark_queued(conn, queued, now)
        leads.add_events(conn, events)
        ctx.heartbeat(conn)


def _post(
    ctx: Context, target: Target, delivery_id: int, lead_id: UUID, status: str, provider_url: str | None
) -> None:
    """One delivery POSTed at most once; raises NotDelivered to retry the batch later."""
    now = ctx.clock.now()
    if status == SENDING:  # its worker died during the POST: the endpoint may have it
        _settle(ctx, target, delivery_id, lead_id, {"status": UNKNOWN, "last_error": MAY_HAVE_BEEN_SENT})
        return
    with ctx.db.read() as conn:
        (prepared,) = service.prepare(conn, target.account_id, [lead_id], provider_url)
    if prepared.body is None:
        values = {"status": prepared.status, "last_error": prepared.error, "last_attempt_at": now}
        _settle(ctx, target, delivery_id, lead_id, values)
        return
    with ctx.db.write() as conn:
        if not repository.mark_sending(conn, delivery_id, now):
            return  # settled meanwhile
        ctx.heartbeat(conn)  # a POST may take the whole timeout
    outcome = ctx.adapters.sender.post(target.address, prepared.body, HEADERS)
    now = ctx.clock.now()
    if outcome.delivered:
        values = {"status": DELIVERED, "delivered_at": now, "last_error": None}
    elif outcome.uncertain:
        values = {"status": UNKNOWN, "last_error": f"may have been delivered: {outcome.error}"}
    else:
        values = {"status": FAILED if ctx.last_attempt else PENDING, "last_error": outcome.error}
    _settle(ctx, target, delivery_id, lead_id, values | {"response_status": outcome.status})
    if not outcome.delivered and not outcome.uncertain:
        # The target is down or refusing: the rest of the batch waits with this one.
        raise NotDelivered(outcome.error or "not delivered")


def _settle(ctx: Context, target: Target, delivery_id: int, lead_id: UUID, values: dict[str, Any]) -> None:
    with ctx.db.write() as conn:
        repository.settle(conn, delivery_id, values)
        if values["status"] != PENDING:
            event = _event(lead_id, target.account_id, target.id, values["status"], ctx.clock.now())
            leads.add_events(conn, [event])
        ctx.heartbeat(conn)  # a long walk (a batch of skipped leads) keeps its lease
