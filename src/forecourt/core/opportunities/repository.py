"""SQL for opportunities: a lead in the shared leads table, numbered for Autengo."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db import ids
from forecourt.db.models import opportunities


def insert(conn: Connection, account_id: UUID, lead_id: UUID, source_type: int | None, at: datetime) -> int:
    """Number a lead as an opportunity."""
    opportunity_id = ids.issue_one(conn)
    conn.execute(
        sa.insert(opportunities).values(
            id=opportunity_id, account_id=account_id, lead_id=lead_id, source_type=source_type, created_at=at
        )
    )
    return opportunity_id
