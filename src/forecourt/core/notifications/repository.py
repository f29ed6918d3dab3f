"""SQL for the email outbox. Scoped by account, except where the sending job acts for
whichever account owns the email."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.notifications.schemas import FAILED, PENDING, SENDING, UNKNOWN, OutgoingEmail
from forecourt.db import bulk
from forecourt.db.models import emails

_EMAIL = [emails.c[name] for name in OutgoingEmail.__struct_fields__]


def insert_new(conn: Connection, values: Mapping[str, Any]) -> OutgoingEmail | None:
    """The email inserted, or None when the account already has one for this key."""
    row = conn.execute(
        bulk.upsert(conn, emails)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["account_id", "key"])
        .returning(*_EMAIL)
    ).first()
    return OutgoingEmail(**row._mapping) if row else None


def by_key(conn: Connection, account_id: UUID, key: str) -> OutgoingEmail | None:
    row = conn.execute(
        sa.select(*_EMAIL).where(emails.c.account_id == account_id, emails.c.key == key)
    ).first()
    return OutgoingEmail(**row._mapping) if row else None


def for_sending(conn: Connection, email_id: UUID) -> OutgoingEmail | None:
    row = conn.execute(sa.select(*_EMAIL).where(emails.c.id == email_id)).first()
    return OutgoingEmail(**row._mapping) if row else None


def mark_sending(conn: Connection, email_id: UUID, now: datetime) -> None:
    """The message is about to be handed to the server: from now on it may have it. The
    attempt is counted here (a dead worker records nothing after)."""
    conn.execute(
        sa.update(emails)
        .where(emails.c.id == email_id, emails.c.status == PENDING)
        .values(status=SENDING, attempts=emails.c.attempts + 1, last_attempt_at=now)
    )


def finish_attempt(conn: Connection, email_id: UUID, values: Mapping[str, Any], now: datetime) -> bool:
    """The outcome of an attempt (counted and stamped here if it ended before
    `mark_sending`, which does both otherwise), or of one a dead worker left `sending`."""
    status = emails.c.status
    before_data = status == PENDING
    result = conn.execute(
        sa.update(emails)
        .where(emails.c.id == email_id, status.in_([PENDING, SENDING]))
        .values(
            attempts=emails.c.attempts + sa.case((before_data, 1), else_=0),
            last_attempt_at=sa.case((before_data, now), else_=emails.c.last_attempt_at),
            **values,
        )
    )
    return result.rowcount == 1


def give_up(conn: Connection, email_id: UUID, may_have_been_sent: str) -> None:
    """The job stopped for good: a pending email will not be sent; one caught mid-send
    may have been."""
    conn.execute(
        sa.update(emails)
        .where(emails.c.id == email_id)
        .values(
            status=sa.case((emails.c.status == SENDING, UNKNOWN), else_=FAILED),
            last_error=sa.case(
                (emails.c.status == SENDING, may_have_been_sent),
                else_="given up: the sending job stopped for good",
            ),
        )
        .where(emails.c.status.in_([PENDING, SENDING]))
    )
