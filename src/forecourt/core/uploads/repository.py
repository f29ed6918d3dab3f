"""SQL for uploads, their staged chunks and their row errors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.uploads.schemas import (
    CANCELLED,
    COMPLETED,
    FAILED,
    FINISHED,
    PROCESSING,
    RowError,
    Upload,
)
from forecourt.db.models import upload_chunks, upload_errors, uploads


def _scope(account_id: UUID, region: str) -> sa.ColumnElement[bool]:
    return sa.and_(uploads.c.account_id == account_id, uploads.c.region == region)


def insert(conn: Connection, upload: Upload) -> None:
    conn.execute(sa.insert(uploads).values(**_values(upload)))


def _values(upload: Upload) -> dict[str, Any]:
    return {c.name: getattr(upload, c.name) for c in uploads.c}


def insert_chunks(conn: Connection, upload_id: UUID, bodies: Iterable[bytes]) -> None:
    insert = sa.insert(upload_chunks)
    for chunk_no, body in enumerate(bodies):
        conn.execute(insert, {"upload_id": upload_id, "chunk_no": chunk_no, "body": body})


def get(conn: Connection, account_id: UUID, region: str, upload_id: UUID) -> Upload | None:
    row = conn.execute(
        sa.select(uploads).where(_scope(account_id, region), uploads.c.id == upload_id)
    ).first()
    return Upload(**row._mapping) if row else None


def get_by_id(conn: Connection, upload_id: UUID) -> Upload | None:
    """An upload by id alone: for workers, which act for whichever account owns it."""
    row = conn.execute(sa.select(uploads).where(uploads.c.id == upload_id)).first()
    return Upload(**row._mapping) if row else None


def owner_of(conn: Connection, upload_id: UUID) -> UUID | None:
    """The account an upload id belongs to, across tenants: only to tell 403 from 404."""
    owner: UUID | None = conn.scalar(sa.select(uploads.c.account_id).where(uploads.c.id == upload_id))
    return owner


def lock(conn: Connection, upload_id: UUID) -> Upload | None:
    """The upload, locked until the transaction ends (PostgreSQL; SQLite's writers are
    already serialised by BEGIN IMMEDIATE). Workers and cancel meet here."""
    row = conn.execute(sa.select(uploads).where(uploads.c.id == upload_id).with_for_update()).first()
    return Upload(**row._mapping) if row else None


def chunk_body(conn: Connection, upload_id: UUID, chunk_no: int) -> bytes | None:
    body: bytes | None = conn.scalar(
        sa.select(upload_chunks.c.body).where(
            upload_chunks.c.upload_id == upload_id, upload_chunks.c.chunk_no == chunk_no
        )
    )
    return body


def delete_chunks(conn: Connection, upload_id: UUID, up_to: int | None = None) -> None:
    """Drop staged chunks: all of them, or those numbered up to `up_to`."""
    query = sa.delete(upload_chunks).where(upload_chunks.c.upload_id == upload_id)
    if up_to is not None:
        query = query.where(upload_chunks.c.chunk_no <= up_to)
    conn.execute(query)


def advance(
    conn: Connection, upload_id: UUID, processed: int, errors: int, *, completed_at: datetime | None
) -> None:
    """Move the counters; with `completed_at` the upload is complete."""
    conn.execute(
        sa.update(uploads)
        .where(uploads.c.id == upload_id)
        .values(
            total_processed_customers=processed,
            total_errors=errors,
            status=COMPLETED if completed_at else PROCESSING,
            completed_at=completed_at,
        )
    )


def mark_cancelled(conn: Connection, upload_id: UUID, at: datetime) -> None:
    conn.execute(
        sa.update(uploads).where(uploads.c.id == upload_id).values(status=CANCELLED, cancelled_at=at)
    )


def mark_failed(conn: Connection, upload_id: UUID) -> None:
    conn.execute(
        sa.update(uploads)
        .where(uploads.c.id == upload_id, uploads.c.status.not_in(FINISHED))
        .values(status=FAILED)
    )


def insert_errors(conn: Connection, upload_id: UUID, errors: Sequence[RowError]) -> None:
    if errors:
        conn.execute(
            sa.insert(upload_errors),
            [
                {
                    "upload_id": upload_id,
                    "row_no": e.row,
                    "external_id": e.external_id,
                    "reason": e.reason,
                }
                for e in errors
            ],
        )


def errors_page(conn: Connection, upload_id: UUID, *, offset: int, limit: int) -> tuple[int, list[RowError]]:
    where = upload_errors.c.upload_id == upload_id
    total = conn.scalar(sa.select(sa.func.count()).select_from(upload_errors).where(where)) or 0
    rows = conn.execute(
        sa.select(upload_errors.c.row_no, upload_errors.c.external_id, upload_errors.c.reason)
        .where(where)
        .order_by(upload_errors.c.row_no)
        .offset(offset)
        .limit(limit)
    )
    return total, [RowError(row=r.row_no, external_id=r.external_id, reason=r.reason) for r in rows]


def in_progress(conn: Connection, account_id: UUID, region: str, limit: int) -> list[Upload]:
    """The account's queued and processing uploads, oldest first, up to `limit`."""
    rows = conn.execute(
        sa.select(uploads)
        .where(_scope(account_id, region), uploads.c.status.not_in(FINISHED))
        .order_by(uploads.c.created_at, uploads.c.id)
        .limit(limit)
    )
    return [Upload(**row._mapping) for row in rows]
