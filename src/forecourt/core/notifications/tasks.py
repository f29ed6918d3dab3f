"""The job that sends one email: at most once, retried with the queue's backoff while the
mail server is known not to have taken it.

The conversation (providers/mail.py) runs step by step. Once the server has taken the
sender and the recipient, and before the message is handed over (DATA), the email is
marked `sending` and that is committed. After, it is `sent`, or back to `pending` when
the server refused it or could not be reached before the message went out. A run that
finds the email still `sending` follows a worker that died (`kill -9`, power lost)
somewhere between that commit and the outcome's, perhaps after the server took the
message: it is marked `unknown` and not sent again. A worker that dies earlier (while
connecting, in TLS or AUTH) leaves it `pending`, and the next run sends it: the server
cannot have it. So an email is never sent twice, and is lost only to a death inside one
DATA exchange. The Message-ID is the email's id, the same at every attempt, for
receivers that deduplicate."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.adapters import Context
from forecourt.core.notifications import repository
from forecourt.core.notifications.schemas import FAILED, PENDING, SENDING, SENT, UNKNOWN
from forecourt.core.notifications.service import SEND_JOB, SENT_LISTENERS
from forecourt.jobs.worker import RetryLater, task
from forecourt.providers.mail import Email

MAY_HAVE_BEEN_SENT = "may have been sent: the worker stopped during the send"


class NotSent(RetryLater):
    """The mail server did not take the email: the queue tries again later."""


def _give_up(conn: Connection, payload: dict[str, Any]) -> None:
    repository.give_up(conn, UUID(payload["email_id"]), MAY_HAVE_BEEN_SENT)


@task(SEND_JOB, give_up=_give_up)
def send(ctx: Context) -> None:
    email_id = UUID(ctx.job.payload["email_id"])
    with ctx.db.read() as conn:
        email = repository.for_sending(conn, email_id)
    if email is None or email.status not in (PENDING, SENDING):
        return  # settled (or its account deleted)
    if email.status == SENDING:
        with ctx.db.write() as conn:
            settled = {"status": UNKNOWN, "last_error": MAY_HAVE_BEEN_SENT}
            repository.finish_attempt(conn, email_id, settled, ctx.clock.now())
        return

    def before_data() -> None:
        with ctx.db.write() as conn:
            repository.mark_sending(conn, email_id, ctx.clock.now())

    mailer = ctx.adapters.mailer
    outcome = mailer.send(
        Email(str(email_id), email.recipient, email.subject, email.text, email.html), before_data
    )
    now = ctx.clock.now()
    if outcome.sent:
        values: dict[str, Any] = {"status": SENT, "sent_at": now, "last_error": None}
    elif outcome.uncertain:
        values = {"status": UNKNOWN, "last_error": f"may have been sent: {outcome.error}"}
    elif not mailer.configured or ctx.last_attempt:
        values = {"status": FAILED, "last_error": outcome.error}
    else:
        values = {"status": PENDING, "last_error": outcome.error}
    with ctx.db.write() as conn:
        if repository.finish_attempt(conn, email_id, values, now) and values["status"] == SENT:
            for listener in SENT_LISTENERS:
                listener(conn, email, now)
    if values["status"] == PENDING:
        raise NotSent(outcome.error or "not sent")
