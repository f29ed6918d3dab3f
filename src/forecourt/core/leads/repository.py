"""SQL for leads, their timelines and the account's lead settings. Every query of an
account's leads is scoped by its id; leads are made one at a time (an opportunity, an
enquiry) or in bulk for the sightings of a batch."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.leads.schemas import (
    OPEN,
    Actor,
    DigestCounts,
    Lead,
    LeadEvent,
    LeadQuery,
    LeadSettings,
    LeadSummary,
)
from forecourt.db import bulk
from forecourt.db.models import (
    accounts,
    lead_digests,
    lead_emails,
    lead_events,
    lead_routes,
    lead_settings,
    leads,
    listings,
    parties,
    tracked_customers,
)
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


def event(
    lead_id: UUID, account_id: UUID, kind: str, actor: Actor, at: datetime, **details: Any
) -> dict[str, Any]:
    """One timeline entry, as add_events takes it."""
    return {
        "lead_id": lead_id,
        "account_id": account_id,
        "kind": kind,
        "actor": actor.kind,
        "user_id": actor.user_id,
        "details": details,
        "at": at,
    }


_EVENT_FIELDS = ("lead_id", "account_id", "kind", "actor", "user_id", "details", "at")


def add_events(conn: Connection, events: Iterable[Mapping[str, Any]]) -> None:
    """Timeline entries (each as `event` makes one), by the driver's bulk path: a listing
    batch opens thousands of leads, a routing batch assigns a thousand."""
    rows = list(events)
    if rows:
        bulk.insert_columns(conn, lead_events, {name: [row[name] for row in rows] for name in _EVENT_FIELDS})


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


# --- The native API's reads: a page of leads, and the rows the numbers are made from ---


def page(conn: Connection, account_id: UUID, query: LeadQuery) -> list[Lead]:
    """Up to query.limit + 1 leads (one more tells that another page follows), newest
    first. Keyset paging on (created_at, id): a lead made while a client pages is newer
    than its cursor, so no page repeats or skips one."""
    where = [leads.c.account_id == account_id]
    if query.statuses:
        where.append(leads.c.status.in_(query.statuses))
    if query.origins:
        where.append(leads.c.origin.in_(query.origins))
    if query.unassigned:
        where.append(leads.c.assignee_id.is_(None))
    elif query.assignee_id is not None:
        where.append(leads.c.assignee_id == query.assignee_id)
    if query.created_since is not None:
        where.append(leads.c.created_at >= query.created_since)
    if query.created_until is not None:
        where.append(leads.c.created_at < query.created_until)
    if query.unactioned is not None:
        actioned = leads.c.first_actioned_at
        where.append(actioned.is_(None) if query.unactioned else actioned.is_not(None))
    # Each cursor also as a plain bound on created_at, which the index's range scan can
    # use (an OR alone made SQLite read all the account's index entries).
    if query.after is not None:
        at, lead_id = query.after
        where.append(leads.c.created_at <= at)
        where.append(sa.or_(leads.c.created_at < at, leads.c.id < lead_id))
    if query.newer_than is not None:
        at, lead_id = query.newer_than
        where.append(leads.c.created_at >= at)
        where.append(sa.or_(leads.c.created_at > at, leads.c.id > lead_id))
    rows = conn.execute(
        sa.select(*_LEAD)
        .where(*where)
        .order_by(leads.c.created_at.desc(), leads.c.id.desc())
        .limit(query.limit + 1)
    )
    return [Lead(*row) for row in rows]


def stats_counts(
    conn: Connection, account_id: UUID, since: datetime, until: datetime
) -> list[tuple[str, str, UUID | None, bool, int]]:
    """(origin, status, assignee_id, actioned, how many) of the account's leads created in
    [since, until): counted by the database, however many leads a range holds."""
    actioned = leads.c.first_actioned_at.is_not(None).label("actioned")
    rows = conn.execute(
        sa.select(leads.c.origin, leads.c.status, leads.c.assignee_id, actioned, sa.func.count())
        .where(leads.c.account_id == account_id, leads.c.created_at >= since, leads.c.created_at < until)
        .group_by(leads.c.origin, leads.c.status, leads.c.assignee_id, actioned)
    )
    return [(r[0], r[1], r[2], bool(r[3]), int(r[4])) for r in rows]


def stats_actioned(
    conn: Connection, account_id: UUID, since: datetime, until: datetime
) -> list[tuple[str, UUID | None, datetime, datetime]]:
    """(origin, assignee_id, created_at, first_actioned_at) of the leads created in
    [since, until) that someone acted on (as many as people work, not as listings bring).
    The percentiles are worked out from these in Python, the same way on both databases
    (SQLite has no percentile function)."""
    rows = conn.execute(
        sa.select(leads.c.origin, leads.c.assignee_id, leads.c.created_at, leads.c.first_actioned_at).where(
            leads.c.account_id == account_id,
            leads.c.created_at >= since,
            leads.c.created_at < until,
            leads.c.first_actioned_at.is_not(None),
        )
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def add_event(conn: Connection, entry: Mapping[str, Any]) -> LeadEvent:
    """One timeline entry, handed back as stored (its id from the INSERT itself: reading
    the timeline's last entry again could give another writer's, committed meanwhile)."""
    row = conn.execute(sa.insert(lead_events).values(**entry).returning(*_EVENT)).one()
    return LeadEvent(*row)


# --- Routing (core/leads/routing.py): who gets which lead, what is overdue, the emails'
# links to leads, the daily digest.


def lock_for_routing(conn: Connection, account_id: UUID) -> None:
    """One router per account at a time, till the transaction ends: the loads it counts
    stay true while it assigns (PostgreSQL: the account's row; SQLite: BEGIN IMMEDIATE has
    serialised writers already). NO KEY UPDATE: inserts that reference the account go on."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.select(accounts.c.id).where(accounts.c.id == account_id).with_for_update(key_share=True)
        )


def routes(conn: Connection, account_id: UUID) -> dict[str, set[UUID]]:
    found: dict[str, set[UUID]] = {}
    rows = conn.execute(
        sa.select(lead_routes.c.origin, lead_routes.c.user_id).where(lead_routes.c.account_id == account_id)
    )
    for origin, user_id in rows:
        found.setdefault(origin, set()).add(user_id)
    return found


def set_route(conn: Connection, account_id: UUID, origin: str, user_ids: Collection[UUID]) -> None:
    conn.execute(
        sa.delete(lead_routes).where(lead_routes.c.account_id == account_id, lead_routes.c.origin == origin)
    )
    if user_ids:
        conn.execute(
            sa.insert(lead_routes),
            [{"account_id": account_id, "origin": origin, "user_id": user_id} for user_id in user_ids],
        )


def loads(conn: Connection, account_id: UUID, user_ids: Collection[UUID]) -> dict[UUID, tuple[int, datetime]]:
    """Per user: open leads nobody has acted on, and when they were last given an open lead."""
    if not user_ids:
        return {}
    unactioned = sa.func.sum(sa.case((leads.c.first_actioned_at.is_(None), 1), else_=0))
    rows = conn.execute(
        sa.select(leads.c.assignee_id, unactioned, sa.func.max(leads.c.assigned_at))
        .where(
            leads.c.account_id == account_id,
            bulk.one_of(conn, leads.c.assignee_id, user_ids),
            leads.c.status.in_(OPEN),
        )
        .group_by(leads.c.assignee_id)
    )
    return {user_id: (int(count or 0), last) for user_id, count, last in rows}


def unassigned(
    conn: Connection, account_id: UUID, origins: Collection[str], limit: int
) -> list[tuple[UUID, str]]:
    """Open leads waiting for an assignee, of these origins, oldest first."""
    rows = conn.execute(
        sa.select(leads.c.id, leads.c.origin)
        .where(
            leads.c.account_id == account_id,
            leads.c.assignee_id.is_(None),
            leads.c.status.in_(OPEN),
            leads.c.origin.in_(list(origins)),
        )
        .order_by(leads.c.created_at, leads.c.id)
        .limit(limit)
    )
    return [(lead_id, origin) for lead_id, origin in rows]


def _these(
    conn: Connection, account_id: UUID, lead_ids: Collection[UUID]
) -> tuple[sa.ColumnElement[bool], ...]:
    """The account's leads of these ids, found by id."""
    return (bulk.one_of(conn, leads.c.id, lead_ids), bulk.plain(conn, leads.c.account_id) == account_id)


def _unactioned(conn: Connection) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        bulk.plain(conn, leads.c.first_actioned_at).is_(None),
        bulk.plain(conn, leads.c.escalated_at).is_(None),
        bulk.plain(conn, leads.c.assignee_id).is_not(None),
        bulk.plain(conn, leads.c.status).in_(OPEN),
    )


def assign_unassigned(
    conn: Connection, account_id: UUID, lead_ids: Collection[UUID], user_id: UUID, at: datetime
) -> list[UUID]:
    """Those of the leads still without an assignee, given to the user: their ids."""
    rows = conn.execute(
        sa.update(leads)
        .where(
            *_these(conn, account_id, lead_ids),
            bulk.plain(conn, leads.c.assignee_id).is_(None),
            bulk.plain(conn, leads.c.status).in_(OPEN),
        )
        .values(assignee_id=user_id, assigned_at=at)
        .returning(leads.c.id)
    )
    return list(rows.scalars())


_UNACTIONED = (
    leads.c.first_actioned_at.is_(None),
    leads.c.escalated_at.is_(None),
    leads.c.assignee_id.is_not(None),
    leads.c.status.in_(OPEN),
)


class Overdue(NamedTuple):
    id: UUID
    origin: str
    assignee_id: UUID
    reassignments: int


def overdue(conn: Connection, account_id: UUID, cutoff: datetime, limit: int) -> list[Overdue]:
    """Open leads assigned at or before `cutoff` that nobody has acted on, oldest first."""
    rows = conn.execute(
        sa.select(leads.c.id, leads.c.origin, leads.c.assignee_id, leads.c.reassignments)
        .where(leads.c.account_id == account_id, leads.c.assigned_at <= cutoff, *_UNACTIONED)
        .order_by(leads.c.assigned_at, leads.c.id)
        .limit(limit)
    )
    return [Overdue(*row) for row in rows]


def reassign(
    conn: Connection,
    account_id: UUID,
    lead_ids: Collection[UUID],
    user_id: UUID,
    at: datetime,
    cutoff: datetime,
) -> list[UUID]:
    """Those of the leads still overdue, handed to the user: their ids. A lead acted on or
    assigned anew meanwhile is left as it is."""
    rows = conn.execute(
        sa.update(leads)
        .where(
            *_these(conn, account_id, lead_ids),
            bulk.plain(conn, leads.c.assigned_at) <= cutoff,
            *_unactioned(conn),
        )
        .values(assignee_id=user_id, assigned_at=at, reassignments=leads.c.reassignments + 1)
        .returning(leads.c.id)
    )
    return list(rows.scalars())


def escalate(
    conn: Connection, account_id: UUID, lead_ids: Collection[UUID], at: datetime, cutoff: datetime
) -> list[UUID]:
    rows = conn.execute(
        sa.update(leads)
        .where(
            *_these(conn, account_id, lead_ids),
            bulk.plain(conn, leads.c.assigned_at) <= cutoff,
            *_unactioned(conn),
        )
        .values(escalated_at=at)
        .returning(leads.c.id)
    )
    return list(rows.scalars())


def accounts_to_sweep(conn: Connection, cutoff: datetime) -> list[UUID]:
    """Accounts with open leads waiting for an assignee, or assigned at or before `cutoff`
    and not acted on (both found by partial indexes)."""
    waiting = sa.select(leads.c.account_id).where(leads.c.assignee_id.is_(None), leads.c.status.in_(OPEN))
    idle = sa.select(leads.c.account_id).where(leads.c.assigned_at <= cutoff, *_UNACTIONED)
    return sorted(set(conn.scalars(sa.union(waiting, idle))))


def summaries(conn: Connection, account_id: UUID, lead_ids: Sequence[UUID]) -> list[LeadSummary]:
    """What emails say of these leads, in the order given; nothing of a do-not-contact
    customer's own details is read (the lead's flag, or its customer's or party's)."""
    if not lead_ids:
        return []
    dnc = sa.or_(
        leads.c.do_not_contact,
        sa.func.coalesce(tracked_customers.c.do_not_contact, sa.false()),
        sa.func.coalesce(parties.c.do_not_contact, sa.false()),
    )
    rows = conn.execute(
        sa.select(
            leads.c.id,
            leads.c.origin,
            leads.c.created_at,
            dnc.label("dnc"),
            tracked_customers.c.vehicle_title,
            listings.c.title,
            tracked_customers.c.rego,
            tracked_customers.c.state,
            listings.c.url,
            parties.c.name,
            parties.c.first_name,
            parties.c.last_name,
            parties.c.phone,
            parties.c.email,
            leads.c.message,
        )
        .select_from(
            leads.outerjoin(tracked_customers, tracked_customers.c.id == leads.c.tracked_customer_id)
            .outerjoin(listings, listings.c.id == leads.c.listing_id)
            .outerjoin(parties, parties.c.id == leads.c.party_id)
        )
        .where(*_these(conn, account_id, lead_ids))
    )
    found = {}
    for row in rows:
        vehicle = row.vehicle_title or row.title
        if row.dnc:
            found[row.id] = LeadSummary(
                row.id, row.origin, row.created_at, True, vehicle, None, None, None, None, None
            )
            continue
        name = row.name or " ".join(part for part in (row.first_name, row.last_name) if part) or None
        contact = " · ".join(part for part in (row.phone, row.email) if part) or None
        plate = " ".join(part for part in (row.rego, row.state) if part) or None
        found[row.id] = LeadSummary(
            row.id, row.origin, row.created_at, False, vehicle, name, contact, plate, row.url, row.message
        )
    return [found[lead_id] for lead_id in lead_ids if lead_id in found]


def link_emails(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Which leads an email tells of: email_id, lead_id, account_id, user_id, about."""
    names = ("email_id", "lead_id", "account_id", "user_id", "about")
    bulk.insert_columns(conn, lead_emails, {name: [row[name] for row in rows] for name in names})


def emailed_leads(conn: Connection, email_id: UUID) -> list[tuple[UUID, UUID, UUID | None, str]]:
    """(lead, account, user, about) of each lead the email tells of."""
    rows = conn.execute(
        sa.select(lead_emails.c.lead_id, lead_emails.c.account_id, lead_emails.c.user_id, lead_emails.c.about)
        .where(lead_emails.c.email_id == email_id)
        .order_by(lead_emails.c.lead_id)
    )
    return [(lead_id, account_id, user_id, about) for lead_id, account_id, user_id, about in rows]


def claim_digest(conn: Connection, account_id: UUID, day: date, at: datetime) -> bool:
    """True once per account and day: the caller makes that day's digest."""
    statement = (
        bulk.upsert(conn, lead_digests)
        .values(account_id=account_id, day=day, created_at=at)
        .on_conflict_do_nothing(index_elements=["account_id", "day"])
        .returning(lead_digests.c.day)
    )
    return conn.execute(statement).first() is not None


def digest_counts(conn: Connection, account_id: UUID, start: datetime, end: datetime) -> DigestCounts:
    """Leads opened and closed in [start, end), and those open and not acted on now."""

    def count(*where: sa.ColumnElement[bool]) -> int:
        return int(
            conn.scalar(
                sa.select(sa.func.count()).select_from(leads).where(leads.c.account_id == account_id, *where)
            )
            or 0
        )

    closed = (leads.c.closed_at >= start, leads.c.closed_at < end)
    return DigestCounts(
        new=count(leads.c.created_at >= start, leads.c.created_at < end),
        unactioned=count(leads.c.status.in_(OPEN), leads.c.first_actioned_at.is_(None)),
        won=count(leads.c.status == "won", *closed),
        lost=count(leads.c.status == "lost", *closed),
    )


def get_many(conn: Connection, account_id: UUID, lead_ids: Collection[UUID]) -> dict[UUID, Lead]:
    """The account's leads of these ids (a delivery job's chunk)."""
    rows = conn.execute(
        sa.select(*_LEAD).where(leads.c.account_id == account_id, bulk.one_of(conn, leads.c.id, lead_ids))
    )
    return {row.id: Lead(*row) for row in rows}


# --- The workspace's Today page: what waits, and how many came in per day ---


def _mine(assignee_id: UUID | None) -> list[sa.ColumnElement[bool]]:
    return [] if assignee_id is None else [leads.c.assignee_id == assignee_id]


def unactioned(
    conn: Connection, account_id: UUID, assignee_id: UUID | None, limit: int
) -> tuple[int, list[Lead]]:
    """How many open leads nobody has acted on yet (those assigned to `assignee_id`
    when given), and the oldest `limit` of them: read from the partial index
    ix_leads_waiting (on SQLite, status and the order are kept out of the choice of
    index, or it would walk all the account's leads by status or by time)."""
    where = [
        leads.c.account_id == account_id,
        leads.c.first_actioned_at.is_(None),
        bulk.plain(conn, leads.c.status).in_(OPEN),
        *_mine(assignee_id),
    ]
    count = int(conn.scalar(sa.select(sa.func.count()).select_from(leads).where(*where)) or 0)
    oldest = (bulk.plain(conn, leads.c.created_at), leads.c.id)
    rows = conn.execute(sa.select(*_LEAD).where(*where).order_by(*oldest).limit(limit))
    return count, [Lead(*row) for row in rows]


def daily_counts(
    conn: Connection,
    account_id: UUID,
    since: datetime,
    until: datetime,
    offset_minutes: int,
    assignee_id: UUID | None,
) -> list[tuple[date, str, int]]:
    """(local day, origin, how many) of the leads created in [since, until), the local day
    being the UTC time shifted by `offset_minutes` (constant over the range: the caller
    splits a range at a change of daylight saving time). Counted by the database."""
    if conn.dialect.name == "sqlite":
        day: sa.ColumnElement[Any] = sa.func.date(leads.c.created_at, f"{offset_minutes:+d} minutes")
    else:
        shifted = leads.c.created_at + sa.text(f"interval '{offset_minutes} minutes'")
        day = sa.cast(shifted, sa.Date)
    day = day.label("day")
    rows = conn.execute(
        sa.select(day, leads.c.origin, sa.func.count())
        .where(
            leads.c.account_id == account_id,
            leads.c.created_at >= since,
            leads.c.created_at < until,
            *_mine(assignee_id),
        )
        .group_by(day, leads.c.origin)
    )
    return [(d if isinstance(d, date) else date.fromisoformat(d), origin, int(n)) for d, origin, n in rows]


def actioned_seconds(
    conn: Connection, account_id: UUID, since: datetime, until: datetime, assignee_id: UUID | None
) -> list[float]:
    """Seconds from creation to first action of the leads created in [since, until) that
    someone acted on (those assigned to `assignee_id` when given): worked out by the
    database, so that thousands of them come back as numbers, not times to parse."""
    if conn.dialect.name == "sqlite":
        days = sa.func.julianday(leads.c.first_actioned_at) - sa.func.julianday(leads.c.created_at)
        seconds: sa.ColumnElement[Any] = days * 86400.0
    else:
        # A float, not numeric: thousands of Decimals cost more than the query.
        seconds = sa.cast(sa.extract("epoch", leads.c.first_actioned_at - leads.c.created_at), sa.Float)
    rows = conn.execute(
        sa.select(seconds).where(
            leads.c.account_id == account_id,
            leads.c.created_at >= since,
            leads.c.created_at < until,
            leads.c.first_actioned_at.is_not(None),
            *_mine(assignee_id),
        )
    )
    return [float(value) for value in rows.scalars()]


def count_unactioned_created(
    conn: Connection, account_id: UUID, since: datetime, until: datetime, assignee_id: UUID | None
) -> int:
    """How many of the leads created in [since, until) nobody has acted on yet."""
    where = [
        leads.c.account_id == account_id,
        leads.c.created_at >= since,
        leads.c.created_at < until,
        leads.c.first_actioned_at.is_(None),
        *_mine(assignee_id),
    ]
    return int(conn.scalar(sa.select(sa.func.count()).select_from(leads).where(*where)) or 0)
