"""SQL for counting paid registration lookups per account and month."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db import bulk
from forecourt.db.models import accounts, lookup_usage


def add(conn: Connection, account_id: UUID, month: str, provider: str, lookups: int, failures: int) -> None:
    """Add to the month's counters, in the caller's transaction (so a rolled-back chunk
    counts nothing)."""
    insert = bulk.upsert(conn, lookup_usage)
    conn.execute(
        insert.values(
            account_id=account_id,
            month=month,
            provider=provider,
            lookups=lookups,
            failures=failures,
        ).on_conflict_do_update(
            index_elements=["account_id", "month", "provider"],
            set_={
                "lookups": lookup_usage.c.lookups + insert.excluded.lookups,
                "failures": lookup_usage.c.failures + insert.excluded.failures,
            },
        )
    )


def report(conn: Connection, account_id: UUID | None = None) -> list[dict[str, Any]]:
    query = (
        sa.select(
            lookup_usage.c.account_id,
            accounts.c.name,
            lookup_usage.c.month,
            lookup_usage.c.provider,
            lookup_usage.c.lookups,
            lookup_usage.c.failures,
        )
        .join(accounts, accounts.c.id == lookup_usage.c.account_id)
        .order_by(accounts.c.name, lookup_usage.c.month, lookup_usage.c.provider)
    )
    if account_id is not None:
        query = query.where(lookup_usage.c.account_id == account_id)
    return [dict(row._mapping) for row in conn.execute(query)]
