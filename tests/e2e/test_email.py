"""Email notifications on both backends: queued in the caller's transaction, sent by the
job worker over real SMTP to an aiosmtpd server on loopback (no mock of the mailer),
deduplicated by the caller's key, retried with backoff while refused or unreachable,
sent at most once across a worker that dies, and never logging the SMTP password."""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import trustme
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from forecourt.config import Settings
from forecourt.core.notifications import service as notifications
from forecourt.core.notifications.schemas import OutgoingEmail
from forecourt.core.notifications.service import MAX_ATTEMPTS
from forecourt.db.engine import Database
from forecourt.db.models import accounts, emails, jobs
from forecourt.kit.errors import InvalidInput
from tests.conftest import MovableClock, Tenant, make_tenant, run_jobs, settings_for
from tests.smtp import BOUNDED_WAIT, Mailbox, free_port, smtp_server

SENDER = "Alpha Motors <leads@alpha.example>"
PASSWORD = "s3cret p@ss/word"
FORECOURT_BIN = Path(sys.executable).with_name("forecourt")


def _authenticate(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"mailer" and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # a refusal answered 535 by the server


@pytest.fixture
def smtp_settings(mailbox: Mailbox, database_url: str) -> Iterator[Settings]:
    with smtp_server(mailbox) as port:
        yield settings_for(database_url, smtp_url=f"smtp://127.0.0.1:{port}", mail_from=SENDER)


def queue(db: Database, tenant: Tenant, key: str = "lead-assigned:1", **fields: str) -> OutgoingEmail:
    values = {
        "to": "sam@alpha.example",
        "subject": "New lead: 2019 Toyota Camry",
        "text": "Call Zoë Bloggs about the Camry.",
        "html": "<p>Call <b>Zoë Bloggs</b> about the Camry.</p>",
    } | fields
    with db.write() as conn:
        return notifications.queue(conn, tenant.account.id, key=key, **values)


def outbox(db: Database, tenant: Tenant, key: str = "lead-assigned:1") -> OutgoingEmail:
    with db.read() as conn:
        found = notifications.get(conn, tenant.account.id, key)
    assert found is not None
    return found


def _parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_a_queued_email_is_sent_once_with_both_parts(
    db: Database, tenant: Tenant, mailbox: Mailbox, smtp_settings: Settings
) -> None:
    queued = queue(db, tenant)
    assert (queued.status, queued.attempts) == ("pending", 0)

    assert run_jobs(db, smtp_settings) == 1
    assert len(mailbox.messages) == 1
    envelope, message = mailbox.messages[0]
    assert (envelope.mail_from, envelope.rcpt_tos) == ("leads@alpha.example", ["sam@alpha.example"])
    assert message["From"] == SENDER
    assert message["To"] == "sam@alpha.example"
    assert message["Subject"] == "New lead: 2019 Toyota Camry"
    assert message["Message-ID"] == f"<{queued.id}@alpha.example>"
    assert message["Date"]
    assert (envelope.original_content or b"").isascii()  # 7-bit: no 8BITMIME needed
    assert {k: v.strip() for k, v in _parts(message).items()} == {
        "text/plain": "Call Zoë Bloggs about the Camry.",
        "text/html": "<p>Call <b>Zoë Bloggs</b> about the Camry.</p>",
    }
    sent = outbox(db, tenant)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)
    assert sent.sent_at is not None

    assert run_jobs(db, smtp_settings) == 0
    assert len(mailbox.messages) == 1


def test_the_same_key_makes_one_email_per_account(
    db: Database, tenant: Tenant, other_tenant: Tenant, mailbox: Mailbox, smtp_settings: Settings
) -> None:
    first = queue(db, tenant, key="lead-assigned:7")
    again = queue(db, tenant, key="lead-assigned:7", subject="Another subject")
    assert again.id == first.id and again.subject == first.subject
    other = queue(db, other_tenant, key="lead-assigned:7", to="kim@beta.example")
    assert other.id != first.id

    assert run_jobs(db, smtp_settings) == 2
    assert sorted(message["To"] for _, message in mailbox.messages) == [
        "kim@beta.example",
        "sam@alpha.example",
    ]
    assert queue(db, tenant, key="lead-assigned:7").status == "sent"
    assert run_jobs(db, smtp_settings) == 0
    assert len(mailbox.messages) == 2


def test_a_refused_recipient_is_retried_with_backoff_then_failed(
    db: Database, tenant: Tenant, mailbox: Mailbox, smtp_settings: Settings, clock: MovableClock
) -> None:
    mailbox.refuse_rcpt = "550 5.1.1 <sam@alpha.example> unknown here at relay.internal [10.9.8.7]"
    queue(db, tenant)

    assert run_jobs(db, smtp_settings, clock) == 1
    email = outbox(db, tenant)
    assert (email.status, email.attempts) == ("pending", 1)
    assert email.last_error == "the mail server refused the recipient (SMTP 550)"
    assert run_jobs(db, smtp_settings, clock) == 0  # backing off
    clock.advance(2)
    assert run_jobs(db, smtp_settings, clock) == 1
    assert outbox(db, tenant).attempts == 2

    for _ in range(MAX_ATTEMPTS):
        clock.advance(3600)
        run_jobs(db, smtp_settings, clock)
    email = outbox(db, tenant)
    assert (email.status, email.attempts) == ("failed", MAX_ATTEMPTS)
    assert email.last_error == "the mail server refused the recipient (SMTP 550)"
    assert mailbox.messages == []


def test_a_message_refused_at_data_is_pending_again_and_sent_once_later(
    db: Database, tenant: Tenant, mailbox: Mailbox, smtp_settings: Settings, clock: MovableClock
) -> None:
    """The server refused the message itself: it surely does not have it, so the email
    leaves `sending` for `pending`, stamped with that attempt, and goes once, later."""
    mailbox.refuse_data = "554 5.6.0 message refused"
    queue(db, tenant)

    assert run_jobs(db, smtp_settings, clock) == 1
    refused = outbox(db, tenant)
    assert (refused.status, refused.attempts, mailbox.messages) == ("pending", 1, [])
    assert refused.last_error == "the mail server refused the message (SMTP 554)"
    assert refused.last_attempt_at is not None

    clock.advance(2)
    assert run_jobs(db, smtp_settings, clock) == 1
    sent = outbox(db, tenant)
    assert (sent.status, sent.attempts, len(mailbox.messages)) == ("sent", 2, 1)
    assert run_jobs(db, smtp_settings, clock) == 0


def test_a_server_that_is_down_is_tried_again_until_it_is_back(
    db: Database, tenant: Tenant, mailbox: Mailbox, database_url: str, clock: MovableClock
) -> None:
    port = free_port()  # nothing listens there yet
    settings = settings_for(database_url, smtp_url=f"smtp://127.0.0.1:{port}", mail_from=SENDER)
    queue(db, tenant)

    assert run_jobs(db, settings, clock) == 1
    email = outbox(db, tenant)
    assert (email.status, email.attempts) == ("pending", 1)
    assert email.last_error == "could not reach the mail server"  # no host, no port

    with smtp_server(mailbox, port):
        clock.advance(2)
        assert run_jobs(db, settings, clock) == 1
    email = outbox(db, tenant)
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, None)
    assert len(mailbox.messages) == 1


def test_a_connection_lost_after_the_message_went_out_is_not_retried(
    db: Database, tenant: Tenant, mailbox: Mailbox, database_url: str, clock: MovableClock
) -> None:
    mailbox.hold_data = True  # the server takes the message but answers too late
    with smtp_server(mailbox) as port:
        settings = settings_for(
            database_url, smtp_url=f"smtp://127.0.0.1:{port}", mail_from=SENDER, smtp_timeout_seconds=0.5
        )
        queue(db, tenant)
        assert run_jobs(db, settings, clock) == 1
        email = outbox(db, tenant)
        assert (email.status, email.attempts) == ("unknown", 1)
        assert email.last_error == "may have been sent: the mail server did not confirm it (connection lost)"
        mailbox.release.set()
        clock.advance(3600)
        assert run_jobs(db, settings, clock) == 0


def kill_worker_when(reached: threading.Event, database_url: str, smtp_url: str) -> None:
    """Run `forecourt worker` (a process) until the SMTP server reaches a point, then kill -9 it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORECOURT_")}
    env.update(
        FORECOURT_DATABASE_URL=database_url,
        FORECOURT_SMTP_URL=smtp_url,
        FORECOURT_MAIL_FROM=SENDER,
        FORECOURT_WORKER_POLL_SECONDS="0.05",
    )
    worker = subprocess.Popen(
        [str(FORECOURT_BIN), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        arrived = reached.wait(BOUNDED_WAIT)
    finally:
        worker.kill()
        _, log = worker.communicate(timeout=BOUNDED_WAIT)
    assert arrived, log.decode()


@pytest.mark.parametrize("last_attempt", [False, True], ids=["retried", "given-up"])
def test_kill_9_of_the_worker_once_the_server_has_the_message_never_sends_it_again(
    db: Database, tenant: Tenant, mailbox: Mailbox, database_url: str, clock: MovableClock, last_attempt: bool
) -> None:
    mailbox.hold_data = True  # the server has the whole message; the worker waits for its answer
    with smtp_server(mailbox) as port:
        smtp_url = f"smtp://127.0.0.1:{port}"
        queue(db, tenant)
        if last_attempt:  # the queue gives the job up rather than running it again
            with db.write() as conn:
                conn.execute(sa.update(jobs).values(max_attempts=1))
        kill_worker_when(mailbox.data_received, database_url, smtp_url)
        mailbox.release.set()
        assert outbox(db, tenant).status == "sending"

        settings = settings_for(database_url, smtp_url=smtp_url, mail_from=SENDER)
        clock.advance(settings.job_lease_seconds + 1)  # the killed worker's lease expires
        assert run_jobs(db, settings, clock) == (0 if last_attempt else 1)
        email = outbox(db, tenant)
        assert (email.status, email.attempts) == ("unknown", 1)
        assert email.last_error == "may have been sent: the worker stopped during the send"
        clock.advance(3600)
        assert run_jobs(db, settings, clock) == 0
    assert len(mailbox.messages) == 1


def test_kill_9_of_the_worker_before_the_message_went_out_sends_it_once_later(
    db: Database, tenant: Tenant, mailbox: Mailbox, database_url: str, clock: MovableClock
) -> None:
    mailbox.hold_rcpt = True  # the worker waits for the answer to RCPT: no message sent yet
    with smtp_server(mailbox) as port:
        smtp_url = f"smtp://127.0.0.1:{port}"
        queue(db, tenant)
        kill_worker_when(mailbox.rcpt_received, database_url, smtp_url)
        mailbox.release.set()
        assert (outbox(db, tenant).status, outbox(db, tenant).attempts) == ("pending", 0)

        settings = settings_for(database_url, smtp_url=smtp_url, mail_from=SENDER)
        clock.advance(settings.job_lease_seconds + 1)
        assert run_jobs(db, settings, clock) == 1
    email = outbox(db, tenant)
    assert (email.status, email.attempts) == ("sent", 1)
    assert len(mailbox.messages) == 1


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_tls_and_sign_in_and_the_password_never_logged(
    db: Database,
    tenant: Tenant,
    mailbox: Mailbox,
    database_url: str,
    ca: trustme.CA,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    scheme: str,
) -> None:
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    tls: dict[str, Any] = (
        {"tls_context": context, "require_starttls": True, "auth_required": True}
        if scheme == "smtp+starttls"
        # aiosmtpd offers AUTH only over TLS it started itself (STARTTLS) unless told otherwise
        else {"ssl_context": context, "auth_require_tls": False}
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the test server's own log, not Forecourt's
    caplog.set_level(logging.DEBUG)
    with smtp_server(mailbox, authenticator=_authenticate, **tls) as port:
        url = f"{scheme}://mailer:s3cret%20p%40ss%2Fword@127.0.0.1:{port}"
        settings = settings_for(database_url, smtp_url=url, mail_from=SENDER, smtp_ca_file=str(ca_file))
        queue(db, tenant)
        assert run_jobs(db, settings) == 1
        assert outbox(db, tenant).status == "sent"
        assert len(mailbox.messages) == 1

        wrong = settings_for(
            database_url, smtp_url=url.replace("s3cret", "wrong"), mail_from=SENDER, smtp_ca_file=str(ca_file)
        )
        queue(db, tenant, key="lead-assigned:2")
        assert run_jobs(db, wrong) == 1
        refused = outbox(db, tenant, "lead-assigned:2")
        assert (refused.status, refused.last_error) == (
            "pending",
            "the mail server refused the sign-in (SMTP 535)",
        )

        untrusted = settings_for(database_url, smtp_url=url, mail_from=SENDER)  # the system CAs only
        queue(db, tenant, key="lead-assigned:3")
        assert run_jobs(db, untrusted) == 1
        assert outbox(db, tenant, "lead-assigned:3").last_error == "TLS with the mail server failed"
    assert len(mailbox.messages) == 1
    assert "s3cret" not in repr(settings)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert "s3cret" not in logged and "p@ss" not in logged
    with db.read() as conn:
        stored = " ".join(
            str(row) for row in conn.execute(sa.select(emails, jobs).join_from(emails, jobs, sa.true()))
        )
    assert "s3cret" not in stored


def test_email_off_records_the_email_and_sends_nothing(
    db: Database, tenant: Tenant, mailbox: Mailbox, database_url: str, clock: MovableClock
) -> None:
    with smtp_server(mailbox):
        queue(db, tenant)
        assert run_jobs(db, settings_for(database_url), clock) == 1
    email = outbox(db, tenant)
    assert (email.status, email.attempts) == ("failed", 1)
    assert email.last_error == "not sent: email is off (FORECOURT_SMTP_URL is empty)"
    clock.advance(3600)
    assert run_jobs(db, settings_for(database_url), clock) == 0
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": "sam@alpha.example\r\nBcc: all@elsewhere.example"}, "to"),
        ({"to": "Sam <sam@alpha.example>"}, "to"),
        ({"to": "sam@alpha.example, kim@beta.example"}, "to"),
        ({"to": "not an address"}, "to"),
        ({"to": "søren@alpha.example"}, "to"),
        ({"subject": "   "}, "subject"),
        ({"text": ""}, "text"),
        ({"html": "<p>\x00</p>"}, "html"),
        ({"key": ""}, "key"),
        ({"key": "k" * 201}, "key"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    db: Database, tenant: Tenant, fields: dict[str, str], field: str
) -> None:
    fields = dict(fields)  # the parameters are shared by both backends' runs
    key = fields.pop("key", "lead-assigned:1")
    with pytest.raises(InvalidInput) as raised:
        queue(db, tenant, key=key, **fields)
    assert raised.value.field == field
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(emails)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(jobs)) == 0


def test_a_subject_is_sent_on_one_line(
    db: Database, tenant: Tenant, mailbox: Mailbox, smtp_settings: Settings
) -> None:
    queue(db, tenant, subject="New lead\r\nBcc: all@elsewhere.example")
    run_jobs(db, smtp_settings)
    _, message = mailbox.messages[0]
    assert message["Subject"] == "New lead Bcc: all@elsewhere.example"
    assert message["Bcc"] is None


def test_emails_go_with_their_account(db: Database, tenant: Tenant) -> None:
    queue(db, tenant)
    other = make_tenant(db, "Gamma Autos")
    with db.read() as conn:
        assert notifications.get(conn, other.account.id, "lead-assigned:1") is None
    with db.write() as conn:
        conn.execute(sa.delete(accounts).where(accounts.c.id == tenant.account.id))
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(emails)) == 0


def test_starttls_asked_of_a_server_without_it_sends_nothing_in_clear(
    db: Database, tenant: Tenant, mailbox: Mailbox, database_url: str
) -> None:
    with smtp_server(mailbox) as port:  # no TLS offered
        settings = settings_for(
            database_url, smtp_url=f"smtp+starttls://mailer:secret@127.0.0.1:{port}", mail_from=SENDER
        )
        queue(db, tenant)
        assert run_jobs(db, settings) == 1
    email = outbox(db, tenant)
    assert (email.status, email.last_error) == (
        "pending",
        "the mail server does not offer STARTTLS or AUTH as configured",
    )
    assert mailbox.messages == []
