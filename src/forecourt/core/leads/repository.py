"""SQL for leads: made one at a time (an opportunity, an enquiry), or in bulk for the
sightings of a batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db import bulk
from forecourt.db.models import leads
from forecourt.kit.ids import new_id


def insert(
    conn: Connection,
    account_id: UUID,
    origin: str,
    at: datetime,
    *,
    party_id: int | None = None,
    vehicle_id: int | None = None,
    message: str | None = None,
) -> UUID:
    lead_id = new_id()
    conn.execute(
        sa.insert(leads).values(
            id=lead_id,
            account_id=account_id,
            origin=origin,
            party_id=party_id,
            vehicle_id=vehicle_id,
            message=message,
            created_at=at,
        )
    )
    return lead_id


def insert_columns(conn: Connection, columns: Mapping[str, Sequence[Any] | bulk.Same]) -> None:
    bulk.insert_columns(conn, leads, columns)
