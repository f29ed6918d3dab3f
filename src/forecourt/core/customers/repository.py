"""SQL for tracked customers. Every query is scoped by (account_id, region)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.customers.schemas import Customer
from forecourt.db import bulk
from forecourt.db.models import PLATE_WITH_VIN, STATED_PLATE, STATELESS_PLATE, FieldText
from forecourt.db.models import tracked_customers as tc
from forecourt.db.text import starts_with

_COLUMNS = [c for c in tc.c if c.name != "account_id"]


def _scope(account_id: UUID, region: str) -> sa.ColumnElement[bool]:
    return sa.and_(tc.c.account_id == account_id, tc.c.region == region)


def _customer(row: sa.RowMapping) -> Customer:
    return Customer(**row)


def owner_of(conn: Connection, customer_id: UUID) -> UUID | None:
    """The account a customer id belongs to, across tenants: only to tell 403 from 404."""
    owner: UUID | None = conn.scalar(sa.select(tc.c.account_id).where(tc.c.id == customer_id))
    return owner


# Built once (a single customer's GET is the API's commonest read): see active_credential.
_GET = sa.select(*_COLUMNS).where(
    tc.c.account_id == sa.bindparam("account_id"),
    tc.c.region == sa.bindparam("region"),
    tc.c.id == sa.bindparam("customer_id"),
)


def get(conn: Connection, account_id: UUID, region: str, customer_id: UUID) -> Customer | None:
    row = conn.execute(_GET, {"account_id": account_id, "region": region, "customer_id": customer_id}).first()
    return _customer(row._mapping) if row else None


def get_many(conn: Connection, customer_ids: Collection[UUID]) -> dict[UUID, Customer]:
    """Customers by id, whichever account they belong to: for the matcher and workers."""
    query = sa.select(*_COLUMNS).where(bulk.one_of(conn, tc.c.id, customer_ids))
    return {row.id: _customer(row._mapping) for row in conn.execute(query)}


class Candidate(NamedTuple):
    id: UUID
    vin: str | None
    rego: str | None
    state: str | None
    last_updated: datetime


def candidates(
    conn: Connection,
    account_id: UUID,
    region: str,
    *,
    vins: Collection[str],
    stated_plates: Collection[str],
    stateless_plates: Collection[str],
    plates_without_vin: Collection[str],
) -> list[Candidate]:
    """Stored customers that may be the same vehicle as some of a batch: the same VIN, or
    the same plate. Each query matches one of the partial indexes (models.tracked_customers),
    and is skipped when the batch has nothing to look for in it."""
    # The account kept out of SQLite's choice of index: given it and the region, SQLite
    # walked the account's name index (migration 0018) for a batch's stated plates, 0.6 s
    # a chunk at 1M customers, instead of probing the plates' partial index.
    scope = sa.and_(bulk.plain(conn, tc.c.account_id) == account_id, tc.c.region == region)
    searches = [
        (vins, tc.c.vin, None),
        (stated_plates, tc.c.rego, STATED_PLATE),
        (stateless_plates, tc.c.rego, STATELESS_PLATE),
        # A record without a VIN may be a stored customer who has one.
        (plates_without_vin, tc.c.rego, PLATE_WITH_VIN),
    ]
    found: list[Candidate] = []
    for values, column, condition in searches:
        if values:
            where = [scope, bulk.one_of(conn, column, values)] + (
                [condition] if condition is not None else []
            )
            query = sa.select(tc.c.id, tc.c.vin, tc.c.rego, tc.c.state, tc.c.last_updated).where(*where)
            found.extend(Candidate(*row) for row in conn.execute(query))
    return found


def refresh_statistics(conn: Connection) -> None:
    """PostgreSQL: ANALYZE the table now rather than when autovacuum comes by (up to a
    minute later). Without statistics after a big load the planner scans a region's
    whole index for a batch of plates instead of probing it: seconds per listing batch.
    (SQLite's indexes are ordered so that its planner needs none.)"""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"ANALYZE {tc.name}"))


def insert_columns(conn: Connection, columns: Mapping[str, Sequence[Any] | bulk.Same]) -> None:
    bulk.insert_columns(conn, tc, columns)


# Values given replace stored ones; None keeps what is stored. vehicle_title is only
# filled while unknown.
_UPDATE_MANY = (
    sa.update(tc)
    .where(
        tc.c.account_id == sa.bindparam("b_account_id", type_=tc.c.account_id.type),
        tc.c.id == sa.bindparam("b_id", type_=tc.c.id.type),
    )
    .values(
        {
            **{
                name: sa.func.coalesce(sa.bindparam(f"b_{name}", type_=tc.c[name].type), tc.c[name])
                for name in (
                    "rego",
                    "state",
                    "vin",
                    "external_id",
                    "sale_date",
                    "monitor_start_date",
                    "monitor_end_date",
                    "additional_fields",
                    "upload_id",
                )
            },
            "vehicle_title": sa.func.coalesce(
                tc.c.vehicle_title, sa.bindparam("b_vehicle_title", type_=tc.c.vehicle_title.type)
            ),
            "last_updated": sa.bindparam("b_last_updated", type_=tc.c.last_updated.type),
        }
    )
)


def update_many(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows keyed b_<column>, with b_id and b_account_id."""
    if rows:
        conn.execute(_UPDATE_MANY, rows)


_FILL_TITLE = (
    sa.update(tc)
    .where(tc.c.id == sa.bindparam("b_id", type_=tc.c.id.type), tc.c.vehicle_title.is_(None))
    .values(
        vehicle_title=sa.bindparam("b_title", type_=tc.c.vehicle_title.type),
        last_updated=sa.bindparam("b_now", type_=tc.c.last_updated.type),
    )
)
# PostgreSQL: one statement for the whole batch, the pairs as two arrays (one UPDATE per
# row cost 0.6 s per 10,000 sightings there).
_FILL_TITLES_PG = sa.text(
    "UPDATE tracked_customers AS t SET vehicle_title = v.title, last_updated = :now"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:titles AS varchar[])) AS v(id, title)"
    " WHERE t.id = v.id AND t.vehicle_title IS NULL"
)


def fill_titles(conn: Connection, titles: Iterable[tuple[UUID, str]], now: datetime) -> None:
    """Give customers whose vehicle_title is still unknown the listing's title; they are
    updated then (a client syncing by last_updated sees the new title)."""
    pairs = [(customer_id, title[:255]) for customer_id, title in titles]
    if not pairs:
        return
    if conn.dialect.name == "postgresql":
        ids, texts = zip(*pairs, strict=True)
        conn.execute(_FILL_TITLES_PG, {"ids": list(ids), "titles": list(texts), "now": now})
    else:
        conn.execute(_FILL_TITLE, [{"b_id": id_, "b_title": title, "b_now": now} for id_, title in pairs])


def update(
    conn: Connection, account_id: UUID, region: str, customer_id: UUID, values: Mapping[str, Any]
) -> None:
    conn.execute(sa.update(tc).where(_scope(account_id, region), tc.c.id == customer_id).values(**values))


def delete(conn: Connection, account_id: UUID, region: str, customer_id: UUID) -> None:
    conn.execute(sa.delete(tc).where(_scope(account_id, region), tc.c.id == customer_id))


def page(
    conn: Connection,
    account_id: UUID,
    region: str,
    *,
    offset: int,
    limit: int,
    upload_id: UUID | None = None,
) -> tuple[int, list[Customer]]:
    where = [_scope(account_id, region)]
    if upload_id is not None:
        where.append(tc.c.upload_id == upload_id)
    total = conn.scalar(sa.select(sa.func.count()).select_from(tc).where(*where)) or 0
    rows = conn.execute(
        sa.select(*_COLUMNS).where(*where).order_by(tc.c.created_at, tc.c.id).offset(offset).limit(limit)
    )
    return total, [_customer(row._mapping) for row in rows]


def set_do_not_contact(conn: Connection, account_id: UUID, customer_id: UUID, value: bool) -> bool:
    """False when the account has no such customer."""
    result = conn.execute(
        sa.update(tc)
        .where(tc.c.account_id == account_id, tc.c.id == customer_id)
        .values(do_not_contact=value)
    )
    return result.rowcount == 1


def do_not_contact(conn: Connection, account_id: UUID) -> list[UUID]:
    query = sa.select(tc.c.id).where(tc.c.account_id == account_id, tc.c.do_not_contact).order_by(tc.c.id)
    return list(conn.scalars(query))


# --- The workspace's customer list and search (web /customers) ---

LAST_NAME = FieldText(tc.c.additional_fields, "last_name")
FIRST_NAME = FieldText(tc.c.additional_fields, "first_name")
FULL_NAME = FieldText(tc.c.additional_fields, "name")


def newest(conn: Connection, account_id: UUID, region: str, *, offset: int, limit: int) -> list[Customer]:
    """Up to `limit` customers, newest first, from `offset` (read off the index on
    (account, region, created_at, id); nothing is counted)."""
    rows = conn.execute(
        sa.select(*_COLUMNS)
        .where(_scope(account_id, region))
        .order_by(tc.c.created_at.desc(), tc.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_customer(row._mapping) for row in rows]


def search(
    conn: Connection,
    account_id: UUID,
    region: str,
    *,
    vin: str | None,
    plate: str | None,
    external_id: str | None,
    words: Sequence[str],
    offset: int,
    limit: int,
) -> list[Customer]:
    """Up to `limit` customers from `offset` that have this VIN, this plate, this external
    id, or a surname (`last_name`, after the first name when several words are given) or
    full name (`name`) starting with the words: each key one indexed query, their results
    in that order, each customer once."""
    branches: list[tuple[list[sa.ColumnElement[bool]], list[sa.ColumnElement[Any]]]] = []
    if vin:
        branches.append(([tc.c.vin == vin], [tc.c.id]))
    if plate:  # each row is in one of the plate indexes (models.tracked_customers)
        branches.extend(([tc.c.rego == plate, kind], [tc.c.id]) for kind in (STATED_PLATE, STATELESS_PLATE))
        branches.append(([tc.c.rego == plate, PLATE_WITH_VIN], [tc.c.id]))
    if external_id:
        branches.append(([tc.c.external_id == external_id], [tc.c.id]))
    if words:
        surname = [starts_with(LAST_NAME, words[-1])]
        if len(words) > 1:  # "olivia smi": the first name checked among the surname's rows
            surname.append(starts_with(FIRST_NAME, " ".join(words[:-1])))
        branches.append((surname, [LAST_NAME, tc.c.id]))
        branches.append(([starts_with(FULL_NAME, " ".join(words))], [FULL_NAME, tc.c.id]))
    found: dict[UUID, Customer] = {}
    for where, order in branches:
        query = sa.select(*_COLUMNS).where(_scope(account_id, region), *where).order_by(*order)
        for row in conn.execute(query.limit(offset + limit)):
            found.setdefault(row.id, _customer(row._mapping))
    return list(found.values())[offset : offset + limit]
