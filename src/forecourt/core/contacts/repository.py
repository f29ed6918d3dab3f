"""SQL for CRM parties (contacts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db.models import parties

# Contact fields kept in columns of their own (found by, or unique); the rest are in `details`.
COLUMNS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "email": "email",
    "phoneNumber": "phone",
    "tecfacturaId": "tecfactura_id",
}


def _split(fields: dict[str, Any]) -> dict[str, Any]:
    row = {column: fields.get(name) for name, column in COLUMNS.items()}
    row["details"] = {k: v for k, v in fields.items() if k not in COLUMNS and v is not None}
    return row


def _fields(row: sa.RowMapping) -> dict[str, Any]:
    return {**row["details"], **{name: row[column] for name, column in COLUMNS.items()}}


def insert(conn: Connection, account_id: UUID, fields: dict[str, Any], now: datetime) -> int:
    result = conn.execute(
        sa.insert(parties).values(account_id=account_id, created_at=now, updated_at=now, **_split(fields))
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def find(
    conn: Connection, account_id: UUID, *, party_id: int | None = None, tecfactura_id: str | None = None
) -> tuple[int, dict[str, Any]] | None:
    where = parties.c.id == party_id if party_id is not None else parties.c.tecfactura_id == tecfactura_id
    row = conn.execute(sa.select(parties).where(parties.c.account_id == account_id, where)).mappings().first()
    return (row["id"], _fields(row)) if row else None


def find_by(conn: Connection, account_id: UUID, field: str, value: str) -> int | None:
    """The oldest party of the account with that email or phone number."""
    found: int | None = conn.scalar(
        sa.select(parties.c.id)
        .where(parties.c.account_id == account_id, parties.c[COLUMNS[field]] == value)
        .order_by(parties.c.id)
        .limit(1)
    )
    return found


def replace(conn: Connection, party_id: int, fields: dict[str, Any], now: datetime) -> None:
    conn.execute(sa.update(parties).where(parties.c.id == party_id).values(updated_at=now, **_split(fields)))


def delete(conn: Connection, party_id: int) -> None:
    conn.execute(sa.delete(parties).where(parties.c.id == party_id))
