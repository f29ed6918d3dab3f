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
from forecourt.db.models import upload_chunks, upload_drafts, upload_errors, upload_files, uploads


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
                    "field": e.field,
                }
                for e in errors
            ],
        )


def errors_page(conn: Connection, upload_id: UUID, *, offset: int, limit: int) -> tuple[int, list[RowError]]:
    where = upload_errors.c.upload_id == upload_id
    total = conn.scalar(sa.select(sa.func.count()).select_from(upload_errors).where(where)) or 0
    rows = conn.execute(
        sa.select(
            upload_errors.c.row_no, upload_errors.c.external_id, upload_errors.c.reason, upload_errors.c.field
        )
        .where(where)
        .order_by(upload_errors.c.row_no)
        .offset(offset)
        .limit(limit)
    )
    return total, [
        RowError(row=r.row_no, external_id=r.external_id, reason=r.reason, field=r.field) for r in rows
    ]


def page(
    conn: Connection, account_id: UUID, region: str, *, offset: int, limit: int
) -> tuple[int, list[Upload]]:
    """The account's uploads, newest first."""
    total = (
        conn.scalar(sa.select(sa.func.count()).select_from(uploads).where(_scope(account_id, region))) or 0
    )
    rows = conn.execute(
        sa.select(uploads)
        .where(_scope(account_id, region))
        .order_by(uploads.c.created_at.desc(), uploads.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total, [Upload(**row._mapping) for row in rows]


def insert_file(conn: Connection, upload_id: UUID, file_name: str, row_numbers: bytes) -> None:
    conn.execute(
        sa.insert(upload_files).values(upload_id=upload_id, file_name=file_name, row_numbers=row_numbers)
    )


def file_row_numbers(conn: Connection, upload_id: UUID) -> bytes | None:
    """The file's row of each customer (JSON), for an upload made from a file."""
    found: bytes | None = conn.scalar(
        sa.select(upload_files.c.row_numbers).where(upload_files.c.upload_id == upload_id)
    )
    return found


def insert_draft(
    conn: Connection,
    *,
    draft_id: UUID,
    account_id: UUID,
    region: str,
    file_name: str,
    created_at: datetime,
    expires_at: datetime,
    preview: bytes,
    body: bytes,
) -> None:
    conn.execute(
        sa.insert(upload_drafts).values(
            id=draft_id,
            account_id=account_id,
            region=region,
            file_name=file_name,
            created_at=created_at,
            expires_at=expires_at,
            preview=preview,
            body=body,
        )
    )


def _draft_scope(account_id: UUID, region: str, draft_id: UUID, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        upload_drafts.c.id == draft_id,
        upload_drafts.c.account_id == account_id,
        upload_drafts.c.region == region,
        upload_drafts.c.expires_at > now,
    )


def draft(conn: Connection, account_id: UUID, region: str, draft_id: UUID, now: datetime) -> Any:
    """A live draft's name, times and preview (not its file), or None."""
    return conn.execute(
        sa.select(
            upload_drafts.c.id,
            upload_drafts.c.file_name,
            upload_drafts.c.created_at,
            upload_drafts.c.expires_at,
            upload_drafts.c.preview,
        ).where(_draft_scope(account_id, region, draft_id, now))
    ).first()


def draft_body(
    conn: Connection, account_id: UUID, region: str, draft_id: UUID, now: datetime
) -> bytes | None:
    body: bytes | None = conn.scalar(
        sa.select(upload_drafts.c.body).where(_draft_scope(account_id, region, draft_id, now))
    )
    return body


def delete_draft(conn: Connection, account_id: UUID, draft_id: UUID) -> None:
    conn.execute(
        sa.delete(upload_drafts).where(
            upload_drafts.c.id == draft_id, upload_drafts.c.account_id == account_id
        )
    )


def delete_expired_drafts(conn: Connection, now: datetime) -> None:
    conn.execute(sa.delete(upload_drafts).where(upload_drafts.c.expires_at <= now))


def in_progress(conn: Connection, account_id: UUID, region: str, limit: int) -> list[Upload]:
    """The account's queued and processing uploads, oldest first, up to `limit`."""
    rows = conn.execute(
        sa.select(uploads)
        .where(_scope(account_id, region), uploads.c.status.not_in(FINISHED))
        .order_by(uploads.c.created_at, uploads.c.id)
        .limit(limit)
    )
    return [Upload(**row._mapping) for row in rows]
