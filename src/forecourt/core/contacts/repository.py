"""SQL for CRM parties (contacts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.contacts.schemas import Contact, PartyLead, PullQuery
from forecourt.db import bulk, ids
from forecourt.db.models import leads, parties
from forecourt.db.text import contains, lowered, starts_with

# Fields kept in columns of their own (found, filtered or unique by); the rest are in `details`.
COLUMNS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "name": "name",
    "email": "email",
    "phoneNumber": "phone",
    "tecfacturaId": "tecfactura_id",
    "isOrganisation": "is_organisation",
    "isChannelPartner": "is_channel_partner",
}
_FLAGS = ("isOrganisation", "isChannelPartner")


def _split(fields: dict[str, Any]) -> dict[str, Any]:
    row = {column: fields.get(name) for name, column in COLUMNS.items()}
    row.update({COLUMNS[flag]: bool(fields.get(flag)) for flag in _FLAGS})
    row["details"] = {k: v for k, v in fields.items() if k not in COLUMNS and v is not None}
    return row


def _contact(row: sa.RowMapping) -> Contact:
    fields = {**row["details"], **{name: row[column] for name, column in COLUMNS.items()}}
    return Contact(row["id"], fields, row["created_at"], row["updated_at"])


def insert(conn: Connection, account_id: UUID, fields: dict[str, Any], now: datetime) -> int:
    party_id = ids.issue_one(conn)
    conn.execute(
        sa.insert(parties).values(
            id=party_id, account_id=account_id, created_at=now, updated_at=now, **_split(fields)
        )
    )
    return party_id


def find(
    conn: Connection, account_id: UUID, *, party_id: int | None = None, tecfactura_id: str | None = None
) -> Contact | None:
    where = parties.c.id == party_id if party_id is not None else parties.c.tecfactura_id == tecfactura_id
    row = conn.execute(sa.select(parties).where(parties.c.account_id == account_id, where)).mappings().first()
    return _contact(row) if row else None


def find_by(conn: Connection, account_id: UUID, field: str, value: str) -> int | None:
    """The oldest party of the account with that email or phone number."""
    found: int | None = conn.scalar(
        sa.select(parties.c.id)
        .where(parties.c.account_id == account_id, parties.c[COLUMNS[field]] == value)
        .order_by(parties.c.created_at, parties.c.id)
        .limit(1)
    )
    return found


def replace(conn: Connection, party_id: int, fields: dict[str, Any], now: datetime) -> None:
    conn.execute(sa.update(parties).where(parties.c.id == party_id).values(updated_at=now, **_split(fields)))


def delete(conn: Connection, party_id: int) -> None:
    conn.execute(sa.delete(parties).where(parties.c.id == party_id))


def _filters(query: PullQuery) -> list[sa.ColumnElement[bool]]:
    c, details = parties.c, parties.c.details
    where: list[sa.ColumnElement[bool]] = []
    if query.name:
        where.append(contains(c.name, query.name))
    if query.phone:
        where.append(c.phone == query.phone)
    if query.email:
        where.append(c.email == query.email.lower())
    if query.party_id is not None:
        where.append(c.id == query.party_id)
    if query.customer_code:
        where.append(details["customerNumber"].as_string() == query.customer_code)
    if query.zone_ids:
        where.append(details["zoneId"].as_integer().in_(query.zone_ids))
    if query.assigned_to_ids:
        where.append(details["assignedToId"].as_integer().in_(query.assigned_to_ids))
    if query.kind == "organisation":
        where.append(c.is_organisation.is_(True))
    elif query.kind == "individual":
        where.append(c.is_organisation.is_(False))
    elif query.kind == "channelPartner":
        where.append(c.is_channel_partner.is_(True))
    where += [details[name].as_integer() == value for name, value in query.sources]
    where += [details[name].as_string() == value for name, value in query.attributes]
    return where


def pull(conn: Connection, account_id: UUID, query: PullQuery) -> list[Contact]:
    """A page of the parties created in the query's window, oldest first. The page's ids
    are found first (from the index alone when nothing else is asked), then their rows."""
    page = (
        sa.select(parties.c.id)
        .where(
            parties.c.account_id == account_id,
            parties.c.created_at >= query.start,
            parties.c.created_at < query.end,
            *_filters(query),
        )
        .order_by(parties.c.created_at, parties.c.id)
        .offset(query.offset)
        .limit(query.limit)
    )
    ids = list(conn.scalars(page))
    rows = conn.execute(sa.select(parties).where(parties.c.id.in_(ids))).mappings()
    found = {row["id"]: _contact(row) for row in rows}
    return [found[i] for i in ids]


def enquiries(conn: Connection, party_ids: Sequence[int]) -> dict[int, int]:
    """How many leads each party has."""
    rows = conn.execute(
        sa.select(leads.c.party_id, sa.func.count())
        .where(leads.c.party_id.in_(party_ids))
        .group_by(leads.c.party_id)
    )
    return {party_id: count for party_id, count in rows}


def set_do_not_contact(conn: Connection, account_id: UUID, party_id: int, value: bool) -> bool:
    """False when the account has no such party."""
    result = conn.execute(
        sa.update(parties)
        .where(parties.c.account_id == account_id, parties.c.id == party_id)
        .values(do_not_contact=value)
    )
    return result.rowcount == 1


def do_not_contact(conn: Connection, account_id: UUID) -> list[int]:
    query = sa.select(parties.c.id).where(parties.c.account_id == account_id, parties.c.do_not_contact)
    return list(conn.scalars(query.order_by(parties.c.id)))


def browse(
    conn: Connection, account_id: UUID, text: str | None, offset: int, limit: int, *, by: str | None = None
) -> list[Contact]:
    """Up to `limit` of the account's parties from `offset`, newest first. With `text`:
    given `by` (email, phoneNumber), those whose email or phone number is `text`, from its
    index, newest first; else those with a name starting with it, in name order
    (`_named`). The page's ids first, then their rows."""
    c = parties.c
    if text and by:
        value = text.lower() if by == "email" else text
        # Few match: sorted here, so that the planner does not walk the account's parties
        # by creation time instead of looking the value up.
        matches = conn.execute(
            sa.select(c.id, c.created_at).where(c.account_id == account_id, c[COLUMNS[by]] == value)
        ).all()
        ordered = sorted(matches, key=lambda row: (row.created_at, row.id), reverse=True)
        ids = [row.id for row in ordered][offset : offset + limit]
    elif text:
        ids = _named(conn, account_id, lowered(conn, text).split(), offset, limit)
    else:
        page = (
            sa.select(c.id)
            .where(c.account_id == account_id)
            .order_by(c.created_at.desc(), c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        ids = list(conn.scalars(page))
    rows = conn.execute(sa.select(parties).where(c.id.in_(ids))).mappings()
    found = {row["id"]: _contact(row) for row in rows}
    return [found[i] for i in ids]


def _named(conn: Connection, account_id: UUID, words: Sequence[str], offset: int, limit: int) -> list[int]:
    """The ids of up to `limit` parties from `offset` whose surname starts with the last of
    the (lower-case) words (and their first name with the others), whose first name or
    whose full name starts with the words: each one query in name order on its index
    (models.parties), their results in that order, each party once."""
    c = parties.c
    first, last, full = (sa.func.lower(c[column]) for column in ("first_name", "last_name", "name"))
    whole = " ".join(words)
    surname = [starts_with(last, words[-1])]
    if len(words) > 1:  # "ada love": the first name checked among the surname's rows
        surname.append(starts_with(first, " ".join(words[:-1])))
    branches = [(surname, last), ([starts_with(first, whole)], first), ([starts_with(full, whole)], full)]
    found: dict[int, None] = {}
    for where, name in branches:
        query = sa.select(c.id).where(c.account_id == account_id, *where).order_by(name, c.id)
        found.update(dict.fromkeys(conn.scalars(query.limit(offset + limit))))
    return list(found)[offset : offset + limit]


def leads_of(
    conn: Connection, account_id: UUID, party_id: int, assignee_id: UUID | None, limit: int
) -> list[PartyLead]:
    """Up to `limit` leads of a party, newest first (only those assigned to `assignee_id`
    when given): found from the party's index (a party has few leads; the account's index
    in creation order would walk all the account's leads for a party that has none)."""
    query = sa.select(leads.c.id, leads.c.origin, leads.c.status, leads.c.created_at, leads.c.message).where(
        bulk.plain(conn, leads.c.account_id) == account_id, leads.c.party_id == party_id
    )
    if assignee_id is not None:
        query = query.where(leads.c.assignee_id == assignee_id)
    rows = conn.execute(query.order_by(leads.c.created_at.desc(), leads.c.id.desc()).limit(limit))
    return [PartyLead(*row) for row in rows]
