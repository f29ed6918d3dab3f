"""SQL for check batches, vehicle checks, the resources an account switched off, and
the listings a listing-history check reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forecourt.core.checks.schemas import BatchProgress, Check, CheckedVehicle
from forecourt.db import bulk
from forecourt.db.models import check_batches, disabled_resources, listings, vehicle_checks

PENDING, DONE, FAILED = "pending", "done", "failed"


def insert_batch(
    conn: Connection,
    batch_id: UUID,
    account_id: UUID,
    vehicles: int,
    checks: Sequence[tuple[int, CheckedVehicle]],
    now: datetime,
) -> None:
    """The batch and its pending checks, (resource id, vehicle) each."""
    conn.execute(
        sa.insert(check_batches).values(
            id=batch_id, account_id=account_id, vehicles=vehicles, checks=len(checks), created_at=now
        )
    )
    bulk.insert_columns(
        conn,
        vehicle_checks,
        {
            "account_id": bulk.Same(account_id),
            "batch_id": bulk.Same(batch_id),
            "resource_id": [r for r, _ in checks],
            "vin": [v.vin for _, v in checks],
            "plate": [v.plate for _, v in checks],
            "state": bulk.Same(PENDING),
            "result": bulk.Same([]),
            "created_at": bulk.Same(now),
        },
    )


def batch_account(conn: Connection, batch_id: UUID) -> UUID | None:
    found: UUID | None = conn.scalar(
        sa.select(check_batches.c.account_id).where(check_batches.c.id == batch_id)
    )
    return found


def progress(conn: Connection, account_id: UUID, batch_id: UUID) -> BatchProgress | None:
    batch = (
        conn.execute(
            sa.select(check_batches).where(
                check_batches.c.id == batch_id, check_batches.c.account_id == account_id
            )
        )
        .mappings()
        .first()
    )
    if batch is None:
        return None
    rows = conn.execute(
        sa.select(vehicle_checks.c.state, sa.func.count(), sa.func.max(vehicle_checks.c.finished_at))
        .where(vehicle_checks.c.batch_id == batch_id)
        .group_by(vehicle_checks.c.state)
    ).all()
    counts = {state: count for state, count, _ in rows}
    finished = max((last for _, _, last in rows if last is not None), default=None)
    return BatchProgress(
        id=batch_id,
        vehicles=batch["vehicles"],
        checks=batch["checks"],
        pending=counts.get(PENDING, 0),
        done=counts.get(DONE, 0),
        failed=counts.get(FAILED, 0),
        created_at=batch["created_at"],
        finished_at=None if counts.get(PENDING) else finished,
    )


def pending(conn: Connection, batch_id: UUID, resource_id: int) -> list[tuple[int, CheckedVehicle]]:
    rows = conn.execute(
        sa.select(vehicle_checks.c.id, vehicle_checks.c.vin, vehicle_checks.c.plate)
        .where(
            vehicle_checks.c.batch_id == batch_id,
            vehicle_checks.c.resource_id == resource_id,
            vehicle_checks.c.state == PENDING,
        )
        .order_by(vehicle_checks.c.id)
    )
    return [(row.id, CheckedVehicle(row.vin, row.plate)) for row in rows]


def finish(conn: Connection, finished: Iterable[dict[str, Any]]) -> None:
    """Record outcomes: dicts of id, state, status_id, result, error, finished_at; only
    checks still pending are changed (a re-run never overwrites a recorded outcome)."""
    rows = list(finished)
    if rows:
        conn.execute(
            sa.update(vehicle_checks)
            .where(vehicle_checks.c.id == sa.bindparam("check_id"), vehicle_checks.c.state == PENDING)
            .values(
                state=sa.bindparam("new_state"),
                status_id=sa.bindparam("status_id"),
                result=sa.bindparam("result"),
                error=sa.bindparam("error"),
                finished_at=sa.bindparam("finished_at"),
            ),
            [{**row, "check_id": row["id"], "new_state": row["state"]} for row in rows],
        )


def give_up(conn: Connection, batch_id: UUID, resource_id: int, error: str, now: datetime) -> None:
    """The resource's checks of a batch still pending when their job was given up."""
    c = vehicle_checks.c
    conn.execute(
        sa.update(vehicle_checks)
        .where(c.batch_id == batch_id, c.resource_id == resource_id, c.state == PENDING)
        .values(state=FAILED, error=error, finished_at=now)
    )


def finished_checks(conn: Connection, account_id: UUID, vehicles: Sequence[CheckedVehicle]) -> list[Check]:
    """Every finished check of these vehicles (each the exact VIN and plate pair). Found by
    VIN, or by plate for vehicles without one: each is one probe of the same index."""
    c = vehicle_checks.c
    columns = (
        c.id,
        c.resource_id,
        c.vin,
        c.plate,
        c.status_id,
        c.result,
        c.error,
        c.created_at,
        c.finished_at,
    )
    wanted = set(vehicles)
    vins = {v.vin for v in wanted if v.vin}
    plates = {v.plate for v in wanted if not v.vin}
    found: list[Check] = []
    for match in (
        bulk.one_of(conn, c.vin, vins) if vins else None,
        sa.and_(c.vin == "", bulk.one_of(conn, c.plate, plates)) if plates else None,
    ):
        if match is not None:
            rows = conn.execute(
                sa.select(*columns).where(c.account_id == account_id, match, c.state != PENDING)
            )
            found += [Check(*row) for row in rows if CheckedVehicle(row.vin, row.plate) in wanted]
    return found


def disabled(conn: Connection, account_id: UUID) -> set[str]:
    rows = conn.execute(
        sa.select(disabled_resources.c.resource).where(disabled_resources.c.account_id == account_id)
    )
    return {row.resource for row in rows}


def set_disabled(conn: Connection, account_id: UUID, resource: str, off: bool) -> None:
    conn.execute(
        sa.delete(disabled_resources).where(
            disabled_resources.c.account_id == account_id, disabled_resources.c.resource == resource
        )
    )
    if off:
        conn.execute(sa.insert(disabled_resources).values(account_id=account_id, resource=resource))


def listings_of(
    conn: Connection, region: str, vehicles: Sequence[CheckedVehicle]
) -> dict[CheckedVehicle, list[dict[str, Any]]]:
    """The region's listings of each vehicle: by VIN, or by plate where it has no VIN."""
    columns = (
        listings.c.vin,
        listings.c.plate,
        listings.c.source,
        listings.c.url,
        listings.c.title,
        listings.c.price,
        listings.c.listed_at,
        listings.c.delisted_at,
        listings.c.first_seen_at,
        listings.c.last_seen_at,
    )
    vins = {v.vin for v in vehicles if v.vin}
    plates = {v.plate for v in vehicles if v.plate and not v.vin}
    by_vin: dict[str, list[dict[str, Any]]] = {}
    by_plate: dict[str, list[dict[str, Any]]] = {}
    if vins:
        for row in conn.execute(
            sa.select(*columns).where(bulk.one_of(conn, listings.c.vin, vins))
        ).mappings():
            by_vin.setdefault(row["vin"], []).append(dict(row))
    if plates:
        query = sa.select(*columns).where(
            listings.c.region == region, bulk.one_of(conn, listings.c.plate, plates)
        )
        for row in conn.execute(query).mappings():
            by_plate.setdefault(row["plate"], []).append(dict(row))
    return {v: by_vin.get(v.vin, []) if v.vin else by_plate.get(v.plate, []) for v in vehicles}
