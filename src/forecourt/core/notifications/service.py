"""Queueing an email: a row in the outbox and a job that sends it, both in the caller's
transaction, so an email is queued exactly when the event it tells of is committed.

The caller names the event with `key` (say `lead-assigned:<lead id>:<user id>`): an
account's second email with a key it has used is not queued, so retrying the caller's
work, or hearing of one event twice, never makes two emails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.notifications import repository
from forecourt.core.notifications.schemas import PENDING, OutgoingEmail
from forecourt.jobs import queue as jobs
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput
from forecourt.kit.ids import new_id
from forecourt.kit.text import check_no_nul

SEND_JOB = "notifications.send"
# The queue backs off 2, 4, 8 ... s up to an hour: 15 attempts span about four hours of
# a mail server being down or refusing.
MAX_ATTEMPTS = 15
KEY_MAX, ADDRESS_MAX, SUBJECT_MAX, BODY_MAX = 200, 254, 998, 1024 * 1024


def _address(to: str) -> str:
    to = to.strip()
    try:
        # An addr-spec alone (no display name, no second address): what RCPT TO takes.
        parsed = Address(addr_spec=to)
        usable = bool(parsed.username) and "." in parsed.domain and parsed.addr_spec == to
    except (HeaderParseError, ValueError, IndexError):
        usable = False
    # ASCII only: an internationalised address needs SMTPUTF8 end to end, not assumed here.
    if not usable or len(to) > ADDRESS_MAX or not to.isascii() or any(c.isspace() or ord(c) < 32 for c in to):
        raise InvalidInput("to", "to must be one email address (ASCII)")
    return to


def queue(
    conn: Connection, account_id: UUID, to: str, subject: str, text: str, html: str, key: str
) -> OutgoingEmail:
    """The email for `key` in the account: queued now, or the one queued before."""
    for field, value in (("to", to), ("subject", subject), ("text", text), ("html", html), ("key", key)):
        check_no_nul(field, value)
    recipient = _address(to)
    subject = " ".join(subject.split())  # one line: no header injection, no folding surprises
    if not subject or len(subject) > SUBJECT_MAX:
        raise InvalidInput("subject", f"subject must be 1 to {SUBJECT_MAX} characters")
    if not key or len(key) > KEY_MAX:
        raise InvalidInput("key", f"key must be 1 to {KEY_MAX} characters")
    for field, body in (("text", text), ("html", html)):
        if not body.strip() or len(body) > BODY_MAX:
            raise InvalidInput(field, f"{field} must be 1 to {BODY_MAX} characters")
    email_id = new_id()
    values = {
        "id": email_id,
        "account_id": account_id,
        "key": key,
        "recipient": recipient,
        "subject": subject,
        "text": text,
        "html": html,
        "status": PENDING,
        "attempts": 0,
        "created_at": utcnow(),
    }
    created = repository.insert_new(conn, values)
    if created is not None:
        jobs.enqueue(conn, SEND_JOB, {"email_id": str(email_id)}, max_attempts=MAX_ATTEMPTS)
        return created
    found = repository.by_key(conn, account_id, key)
    assert found is not None  # queued before (emails are not deleted but with the account)
    return found


def get(conn: Connection, account_id: UUID, key: str) -> OutgoingEmail | None:
    """The account's email for `key`, with how its sending went."""
    return repository.by_key(conn, account_id, key)


# Told of each email the server took, in the transaction that records it `sent` (say, to
# put it on a lead's timeline): features register theirs when their tasks are imported.
SentListener = Callable[[Connection, OutgoingEmail, datetime], None]
SENT_LISTENERS: list[SentListener] = []


def on_sent(listener: SentListener) -> SentListener:
    if listener not in SENT_LISTENERS:
        SENT_LISTENERS.append(listener)
    return listener
