"""SQL for the operator-loaded registration table behind the `file` lookup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.db.models import registry_vehicles as rv

Key = tuple[str, str]  # (plate, state or "")


def replace_rows(conn: Connection, rows: Sequence[dict[str, str | None]]) -> None:
    """Insert rows, replacing any with the same plate and state."""
    if not rows:
        return
    keys = [(r["plate"], r["state"]) for r in rows]
    conn.execute(sa.delete(rv).where(sa.tuple_(rv.c.plate, rv.c.state).in_(keys)))
    conn.execute(sa.insert(rv), rows)


def find_many(conn: Connection, keys: Iterable[Key]) -> dict[Key, tuple[str, str | None]]:
    """(vin, vehicle_title) for each known (plate, state)."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(rv.c.plate, rv.c.state, rv.c.vin, rv.c.vehicle_title).where(
            sa.tuple_(rv.c.plate, rv.c.state).in_(wanted)
        )
    )
    return {(r.plate, r.state): (r.vin, r.vehicle_title) for r in rows}
