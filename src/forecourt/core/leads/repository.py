"""SQL for leads, their timelines and the account's lead settings. Every query of an
account's leads is scoped by its id; leads are made one at a time (an opportunity, an
enquiry) or in bulk for the sightings of a batch."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.leads.schemas import OPEN, Lead, LeadEvent, LeadSettings
from forecourt.db import bulk
from forecourt.db.models import lead_events, lead_settings, leads, parties, tracked_customers
from forecourt.kit.ids import new_id

_LEAD = tuple(leads.c[name] for name in Lead.__struct_fields__)
_EVENT = tuple(lead_events.c[name] for name in LeadEvent.__struct_fields__)


def insert(
    conn: Connection,
    account_id: UUID,
    origin: str,
    at: datetime,
    *,
    party_id: int | None = None,
    vehicle_id: int | None = None,
    message: str | None = None,
) -> UUID:
    lead_id = new_id()
    conn.execute(
        sa.insert(leads).values(
            id=lead_id,
            account_id=account_id,
            origin=origin,
            party_id=party_id,
            vehicle_id=vehicle_id,
            message=message,
            created_at=at,
        )
    )
    return lead_id


def insert_columns(conn: Connection, columns: Mapping[str, Sequence[Any] | bulk.Same]) -> None:
    bulk.insert_columns(conn, leads, columns)


def get(conn: Connection, account_id: UUID, lead_id: UUID) -> Lead | None:
    row = conn.execute(
        sa.select(*_LEAD).where(leads.c.id == lead_id, leads.c.account_id == account_id)
    ).first()
    return None if row is None else Lead(*row)


def update(conn: Connection, lead: Lead, values: Mapping[str, Any]) -> bool:
    """Change a lead as read: False (nothing changed) when another writer changed its
    status or assignee since."""
    result = conn.execute(
        sa.update(leads)
        .where(
            leads.c.id == lead.id,
            leads.c.account_id == lead.account_id,
            leads.c.status == lead.status,
            leads.c.assignee_id.is_(None)
            if lead.assignee_id is None
            else leads.c.assignee_id == lead.assignee_id,
        )
        .values(**values)
    )
    return result.rowcount == 1


def mark_actioned(conn: Connection, lead_id: UUID, at: datetime) -> None:
    conn.execute(
        sa.update(leads)
        .where(leads.c.id == lead_id, leads.c.first_actioned_at.is_(None))
        .values(first_actioned_at=at)
    )


def add_events(conn: Connection, events: Iterable[Mapping[str, Any]]) -> None:
    """Timeline entries: each with lead_id, account_id, kind, actor, user_id, details, at."""
    rows = list(events)
    if rows:
        conn.execute(sa.insert(lead_events), rows)


def timeline(conn: Connection, account_id: UUID, lead_id: UUID) -> list[LeadEvent]:
    rows = conn.execute(
        sa.select(*_EVENT)
        .where(lead_events.c.lead_id == lead_id, lead_events.c.account_id == account_id)
        .order_by(lead_events.c.id)
    )
    return [LeadEvent(*row) for row in rows]


def open_sighting_leads(conn: Connection, customer_ids: Collection[UUID]) -> dict[UUID, UUID]:
    """The open lead of each tracked customer that has one (the newest, if ever two)."""
    if not customer_ids:
        return {}
    rows = conn.execute(
        sa.select(leads.c.tracked_customer_id, leads.c.id)
        .where(bulk.one_of(conn, leads.c.tracked_customer_id, customer_ids), leads.c.status.in_(OPEN))
        .order_by(leads.c.created_at)
    )
    return {customer_id: lead_id for customer_id, lead_id in rows}


def settings(conn: Connection, account_id: UUID) -> LeadSettings:
    row = conn.execute(
        sa.select(
            lead_settings.c.time_zone,
            lead_settings.c.lost_reasons,
            lead_settings.c.unactioned_minutes,
            lead_settings.c.max_reassignments,
        ).where(lead_settings.c.account_id == account_id)
    ).first()
    if row is None:
        return LeadSettings()
    return LeadSettings(row.time_zone, tuple(row.lost_reasons), row.unactioned_minutes, row.max_reassignments)


def save_settings(conn: Connection, account_id: UUID, chosen: LeadSettings, at: datetime) -> None:
    values = {
        "time_zone": chosen.time_zone,
        "lost_reasons": list(chosen.lost_reasons),
        "unactioned_minutes": chosen.unactioned_minutes,
        "max_reassignments": chosen.max_reassignments,
        "updated_at": at,
    }
    statement = bulk.upsert(conn, lead_settings).values(account_id=account_id, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["account_id"], set_=values))


def flag_do_not_contact(conn: Connection, lead_ids: Collection[UUID]) -> None:
    """Flag the leads, of those given, whose customer or party is marked do-not-contact."""
    if not lead_ids:
        return
    customer = sa.select(tracked_customers.c.id).where(
        tracked_customers.c.id == leads.c.tracked_customer_id, tracked_customers.c.do_not_contact
    )
    party = sa.select(parties.c.id).where(parties.c.id == leads.c.party_id, parties.c.do_not_contact)
    conn.execute(
        sa.update(leads)
        .where(bulk.one_of(conn, leads.c.id, lead_ids), sa.or_(customer.exists(), party.exists()))
        .values(do_not_contact=True)
    )


def set_do_not_contact(
    conn: Connection,
    account_id: UUID,
    value: bool,
    *,
    customer_id: UUID | None = None,
    party_id: int | None = None,
) -> None:
    """Every lead of one customer or one party flagged, or no longer."""
    about = (
        leads.c.tracked_customer_id == customer_id
        if customer_id is not None
        else leads.c.party_id == party_id
    )
    conn.execute(sa.update(leads).where(leads.c.account_id == account_id, about).values(do_not_contact=value))


def count_created_since(conn: Connection, account_id: UUID, since: datetime, assignee_id: UUID | None) -> int:
    """How many of the account's leads were made at or after `since` (only those assigned
    to `assignee_id` when given)."""
    query = sa.select(sa.func.count()).where(leads.c.account_id == account_id, leads.c.created_at >= since)
    if assignee_id is not None:
        query = query.where(leads.c.assignee_id == assignee_id)
    return int(conn.scalar(query) or 0)
