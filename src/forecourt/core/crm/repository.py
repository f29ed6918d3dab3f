"""SQL for CRM targets and the delivery log. Scoped by account, except where the delivery
job acts for whichever account owns the target it was given."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from msgspec.structs import asdict
from sqlalchemy.engine import Connection

from forecourt.core.crm.schemas import FAILED, PENDING, QUEUED, SENDING, UNKNOWN, Delivery, Target
from forecourt.db import bulk
from forecourt.db.models import crm_deliveries, crm_targets, emails, leads, parties, tracked_customers

_TARGET = [crm_targets.c[name] for name in Target.__struct_fields__]
d = crm_deliveries


def insert_target(conn: Connection, target: Target) -> None:
    conn.execute(sa.insert(crm_targets).values(**asdict(target)))


def targets(conn: Connection, account_id: UUID) -> list[Target]:
    rows = conn.execute(
        sa.select(*_TARGET)
        .where(crm_targets.c.account_id == account_id)
        .order_by(crm_targets.c.created_at, crm_targets.c.id)
    )
    return [Target(**row._mapping) for row in rows]


def target(conn: Connection, target_id: UUID, account_id: UUID | None = None) -> Target | None:
    """A target by id: of that account when `account_id` is given (the workspace), else
    whichever account owns it (the job, and the operator's `remove`)."""
    query = sa.select(*_TARGET).where(crm_targets.c.id == target_id)
    if account_id is not None:
        query = query.where(crm_targets.c.account_id == account_id)
    row = conn.execute(query).first()
    return Target(**row._mapping) if row else None


def delete_target(conn: Connection, target_id: UUID) -> None:
    conn.execute(sa.delete(crm_targets).where(crm_targets.c.id == target_id))


def targets_of(conn: Connection, account_ids: Collection[UUID]) -> list[tuple[UUID, UUID]]:
    """(target id, account id) of every target of these accounts."""
    if not account_ids:
        return []
    query = sa.select(crm_targets.c.id, crm_targets.c.account_id).where(
        bulk.one_of(conn, crm_targets.c.account_id, account_ids)
    )
    return [(row.id, row.account_id) for row in conn.execute(query)]


def insert_deliveries(conn: Connection, lead_ids: Collection[UUID], batch_id: UUID, at: datetime) -> None:
    """One pending delivery per lead and target of the lead's account, in one statement."""
    select = sa.select(
        crm_targets.c.id,
        leads.c.account_id,
        leads.c.id,
        sa.literal(batch_id, sa.Uuid),
        sa.literal(PENDING),
        sa.literal(0),
        sa.literal(at, sa.DateTime),
    ).join(crm_targets, crm_targets.c.account_id == leads.c.account_id)
    select = select.where(bulk.one_of(conn, leads.c.id, lead_ids))
    columns = ["target_id", "account_id", "lead_id", "batch_id", "status", "attempts", "created_at"]
    conn.execute(sa.insert(d).from_select(columns, select))


def pending(
    conn: Connection, target_id: UUID, batch_id: UUID, after: int, limit: int
) -> list[tuple[int, UUID, str]]:
    """(delivery id, lead id, status) of a batch's deliveries to a target that are not
    settled (pending, or sending: left by a worker that died), in order from after `after`."""
    rows = conn.execute(
        sa.select(d.c.id, d.c.lead_id, d.c.status)
        .where(
            d.c.target_id == target_id,
            d.c.batch_id == batch_id,
            d.c.status.in_([PENDING, SENDING]),
            d.c.id > after,
        )
        .order_by(d.c.id)
        .limit(limit)
    )
    return [(row.id, row.lead_id, row.status) for row in rows]


def unsettled(conn: Connection, target_id: UUID, batch_id: UUID) -> list[tuple[UUID, UUID, str]]:
    """(lead id, account id, status) of every unsettled delivery of the batch to a target."""
    rows = conn.execute(
        sa.select(d.c.lead_id, d.c.account_id, d.c.status).where(
            d.c.target_id == target_id, d.c.batch_id == batch_id, d.c.status.in_([PENDING, SENDING])
        )
    )
    return [(row.lead_id, row.account_id, row.status) for row in rows]


def mark_sending(conn: Connection, delivery_id: int, now: datetime) -> bool:
    """The POST is about to go out: from now on the endpoint may have it. The attempt is
    counted here (a dead worker records nothing after). False when another worker has it."""
    result = conn.execute(
        sa.update(d)
        .where(d.c.id == delivery_id, d.c.status == PENDING)
        .values(status=SENDING, attempts=d.c.attempts + 1, last_attempt_at=now)
    )
    return result.rowcount == 1


def settle(conn: Connection, delivery_id: int, values: Mapping[str, Any]) -> None:
    """An attempt's outcome (or a decision made without one: skipped, invalid)."""
    conn.execute(
        sa.update(d).where(d.c.id == delivery_id, d.c.status.in_([PENDING, SENDING])).values(**values)
    )


def mark_queued(conn: Connection, queued: Sequence[tuple[int, UUID]], now: datetime) -> None:
    """Deliveries handed to the email outbox, as (delivery id, email id): one statement."""
    if queued:
        conn.execute(
            sa.update(d)
            .where(d.c.id == sa.bindparam("b_id"), d.c.status == PENDING)
            .values(status=QUEUED, email_id=sa.bindparam("b_email"), last_attempt_at=now),
            [{"b_id": delivery_id, "b_email": email_id} for delivery_id, email_id in queued],
        )


def give_up(
    conn: Connection, target_id: UUID, batch_id: UUID, may_have_been_sent: str, not_sent: str
) -> None:
    """The batch's job stopped for good: a pending delivery will not be sent; one caught
    mid-POST may have been."""
    conn.execute(
        sa.update(d)
        .where(d.c.target_id == target_id, d.c.batch_id == batch_id, d.c.status.in_([PENDING, SENDING]))
        .values(
            status=sa.case((d.c.status == SENDING, UNKNOWN), else_=FAILED),
            last_error=sa.case(
                (d.c.status == SENDING, may_have_been_sent),
                else_=sa.func.coalesce(d.c.last_error, not_sent),
            ),
        )
    )


def do_not_contact(conn: Connection, lead_ids: Collection[UUID]) -> set[UUID]:
    """Those of the leads that are, or whose customer or party is, marked do-not-contact now."""
    tc, p = tracked_customers, parties
    query = (
        sa.select(leads.c.id)
        .select_from(leads)
        .outerjoin(tc, tc.c.id == leads.c.tracked_customer_id)
        .outerjoin(p, p.c.id == leads.c.party_id)
        .where(
            bulk.one_of(conn, leads.c.id, lead_ids),
            sa.or_(leads.c.do_not_contact, tc.c.do_not_contact.is_(True), p.c.do_not_contact.is_(True)),
        )
    )
    return set(conn.scalars(query))


# An email delivery's log shows the outbox's status, in the log's words.
_EMAIL_STATUS = {
    "pending": PENDING,
    "sending": SENDING,
    "sent": "delivered",
    "failed": FAILED,
    "unknown": UNKNOWN,
}


def deliveries(
    conn: Connection, account_id: UUID, lead_id: UUID | None, limit: int, target_id: UUID | None = None
) -> list[Delivery]:
    """The account's deliveries, newest first (of one lead, or to one target, if given)."""
    e = emails
    query = (
        sa.select(
            d.c.id,
            d.c.target_id,
            d.c.lead_id,
            d.c.status,
            d.c.attempts,
            d.c.response_status,
            d.c.last_error,
            d.c.created_at,
            d.c.last_attempt_at,
            d.c.delivered_at,
            e.c.status.label("email_status"),
            e.c.attempts.label("email_attempts"),
            e.c.last_error.label("email_error"),
            e.c.last_attempt_at.label("email_attempt_at"),
            e.c.sent_at,
        )
        .outerjoin(e, e.c.id == d.c.email_id)
        .where(d.c.account_id == account_id)
        .order_by(d.c.created_at.desc(), d.c.id.desc())
        .limit(limit)
    )
    if lead_id is not None:
        query = query.where(d.c.lead_id == lead_id)
    if target_id is not None:
        query = query.where(d.c.target_id == target_id)
    return [_delivery(row) for row in conn.execute(query)]


def _delivery(row: Any) -> Delivery:
    if row.status != QUEUED or row.email_status is None:
        return Delivery(*row[:10])
    return Delivery(
        id=row.id,
        target_id=row.target_id,
        lead_id=row.lead_id,
        status=_EMAIL_STATUS.get(row.email_status, row.email_status),
        attempts=row.email_attempts,
        response_status=None,
        last_error=row.email_error,
        created_at=row.created_at,
        last_attempt_at=row.email_attempt_at,
        delivered_at=row.sent_at,
    )
