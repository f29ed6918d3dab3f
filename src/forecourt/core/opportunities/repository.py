"""SQL for opportunities: a lead in the shared leads table, numbered for Autengo."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.leads import repository as leads
from forecourt.db import ids
from forecourt.db.models import opportunities

ORIGIN = "opportunity"


def insert(
    conn: Connection,
    account_id: UUID,
    *,
    party_id: int,
    vehicle_id: int,
    message: str | None,
    source_type: int | None,
    at: datetime,
) -> int:
    lead_id = leads.insert(
        conn, account_id, ORIGIN, at, party_id=party_id, vehicle_id=vehicle_id, message=message
    )
    opportunity_id = ids.issue_one(conn)
    conn.execute(
        sa.insert(opportunities).values(
            id=opportunity_id, account_id=account_id, lead_id=lead_id, source_type=source_type, created_at=at
        )
    )
    return opportunity_id
