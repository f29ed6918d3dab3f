"""SQL for stored answers to requests made with an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db.models import idempotency_keys as ik


def find(conn: Connection, account_id: UUID, key: str, since: datetime) -> tuple[str, str, int, bytes] | None:
    """(operation, request_hash, status_code, response) of a live key."""
    row = conn.execute(
        sa.select(ik.c.operation, ik.c.request_hash, ik.c.status_code, ik.c.response).where(
            ik.c.account_id == account_id, ik.c.key == key, ik.c.created_at >= since
        )
    ).first()
    return (row.operation, row.request_hash, row.status_code, row.response) if row else None


def insert(
    conn: Connection,
    *,
    account_id: UUID,
    key: str,
    operation: str,
    request_hash: str,
    status_code: int,
    response: bytes,
    at: datetime,
) -> None:
    conn.execute(
        sa.insert(ik).values(
            account_id=account_id,
            key=key,
            operation=operation,
            request_hash=request_hash,
            status_code=status_code,
            response=response,
            created_at=at,
        )
    )


def purge(conn: Connection, before: datetime) -> None:
    """Forget keys stored before `before` (expired)."""
    conn.execute(sa.delete(ik).where(ik.c.created_at < before))
