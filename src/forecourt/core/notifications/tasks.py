"""The job that sends one email: at most once, retried with the queue's backoff while the
mail server is known not to have taken it.

Before talking to the server the email is marked `sending` (committed); after, `sent`, or
back to `pending` when the server refused or could not be reached before the message's
end went out. A run that finds the email still `sending` follows a worker that died
somewhere in between, perhaps after the server took the message and before the outcome
was recorded: it is marked `unknown` and not sent again. So a `kill -9` can cost an email
(rarely: only a death inside one SMTP conversation), but never sends one twice. The
Message-ID is the email's id, the same at every attempt, for receivers that dedupe."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.adapters import Context
from forecourt.core.notifications import repository
from forecourt.core.notifications.schemas import FAILED, PENDING, SENDING, SENT, UNKNOWN
from forecourt.core.notifications.service import SEND_JOB
from forecourt.jobs.worker import RetryLater, task
from forecourt.providers.mail import Email


class NotSent(RetryLater):
    """The mail server did not take the email: the queue tries again later."""


def _give_up(conn: Connection, payload: dict[str, Any]) -> None:
    repository.give_up(conn, UUID(payload["email_id"]))


@task(SEND_JOB, give_up=_give_up)
def send(ctx: Context) -> None:
    email_id = UUID(ctx.job.payload["email_id"])
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        email = repository.for_sending(conn, email_id)
        if email is None or email.status not in (PENDING, SENDING):
            return  # settled (or its account deleted)
        if email.status == SENDING:
            repository.finish_attempt(
                conn,
                email_id,
                {"status": UNKNOWN, "last_error": "may have been sent: the worker stopped during the send"},
            )
            return
        repository.start_attempt(conn, email_id, now)
    mailer = ctx.adapters.mailer
    outcome = mailer.send(Email(str(email_id), email.recipient, email.subject, email.text, email.html))
    if outcome.sent:
        values: dict[str, Any] = {"status": SENT, "sent_at": ctx.clock.now(), "last_error": None}
    elif outcome.uncertain:
        values = {"status": UNKNOWN, "last_error": f"may have been sent: {outcome.error}"}
    elif not mailer.configured or ctx.last_attempt:
        values = {"status": FAILED, "last_error": outcome.error}
    else:
        values = {"status": PENDING, "last_error": outcome.error}
    with ctx.db.write() as conn:
        repository.finish_attempt(conn, email_id, values)
    if values["status"] == PENDING:
        raise NotSent(outcome.error or "not sent")
