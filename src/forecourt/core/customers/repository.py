"""SQL for tracked customers. Every query is scoped by (account_id, region)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.customers.schemas import Customer
from forecourt.db.models import tracked_customers as tc

_COLUMNS = [c for c in tc.c if c.name != "account_id"]


def _scope(account_id: UUID, region: str) -> sa.ColumnElement[bool]:
    return sa.and_(tc.c.account_id == account_id, tc.c.region == region)


def _customer(row: sa.RowMapping) -> Customer:
    return Customer(**row)


def owner_of(conn: Connection, customer_id: UUID) -> UUID | None:
    """The account a customer id belongs to, across tenants: only to tell 403 from 404."""
    owner: UUID | None = conn.scalar(sa.select(tc.c.account_id).where(tc.c.id == customer_id))
    return owner


def get(conn: Connection, account_id: UUID, region: str, customer_id: UUID) -> Customer | None:
    row = conn.execute(
        sa.select(*_COLUMNS).where(_scope(account_id, region), tc.c.id == customer_id)
    ).first()
    return _customer(row._mapping) if row else None


def find_by_identity(
    conn: Connection,
    account_id: UUID,
    region: str,
    *,
    vin: str | None,
    rego: str | None,
    state: str | None,
) -> UUID | None:
    """The customer already tracking this vehicle: same VIN, else same plate and state
    on a record whose VIN does not contradict ours."""
    if vin is not None:
        found: UUID | None = conn.scalar(
            sa.select(tc.c.id).where(_scope(account_id, region), tc.c.vin == vin)
        )
        if found is not None:
            return found
    if rego is None:
        return None
    query = sa.select(tc.c.id).where(
        _scope(account_id, region), tc.c.rego == rego, tc.c.state.is_not_distinct_from(state)
    )
    if vin is not None:
        query = query.where(tc.c.vin.is_(None))
    latest: UUID | None = conn.scalar(query.order_by(tc.c.last_updated.desc()).limit(1))
    return latest


def insert(conn: Connection, account_id: UUID, values: Mapping[str, Any]) -> None:
    conn.execute(sa.insert(tc).values(account_id=account_id, **values))


def update(
    conn: Connection, account_id: UUID, region: str, customer_id: UUID, values: Mapping[str, Any]
) -> None:
    conn.execute(
        sa.update(tc).where(_scope(account_id, region), tc.c.id == customer_id).values(**values)
    )


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
        sa.select(*_COLUMNS)
        .where(*where)
        .order_by(tc.c.created_at, tc.c.id)
        .offset(offset)
        .limit(limit)
    )
    return total, [_customer(row._mapping) for row in rows]
