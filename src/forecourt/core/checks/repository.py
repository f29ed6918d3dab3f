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
    found = progress_of(conn, account_id, [batch_id])
    return found[0] if found else None


def progress_of(conn: Connection, account_id: UUID, batch_ids: Sequence[UUID]) -> list[BatchProgress]:
    """The progress of those of these batches that are the account's, in the order given:
    two queries whatever their number (the checks counted by state from an index)."""
    batches = {
        row["id"]: row
        for row in conn.execute(
            sa.select(check_batches).where(
                check_batches.c.id.in_(batch_ids), check_batches.c.account_id == account_id
            )
        ).mappings()
    }
    if not batches:
        return []
    c = vehicle_checks.c
    rows = conn.execute(
        sa.select(c.batch_id, c.state, sa.func.count(), sa.func.max(c.finished_at))
        .where(c.batch_id.in_(list(batches)))
        .group_by(c.batch_id, c.state)
    ).all()
    counts: dict[UUID, dict[str, int]] = {}
    finished: dict[UUID, datetime] = {}
    for batch_id, state, count, last in rows:
        counts.setdefault(batch_id, {})[state] = count
        if last is not None and (batch_id not in finished or last > finished[batch_id]):
            finished[batch_id] = last
    found = []
    for batch_id in batch_ids:
        batch = batches.get(batch_id)
        if batch is None:
            continue
        by_state = counts.get(batch_id, {})
        found.append(
            BatchProgress(
                id=batch_id,
                vehicles=batch["vehicles"],
                checks=batch["checks"],
                pending=by_state.get(PENDING, 0),
                done=by_state.get(DONE, 0),
                failed=by_state.get(FAILED, 0),
                created_at=batch["created_at"],
                finished_at=None if by_state.get(PENDING) else finished.get(batch_id),
            )
        )
    return found


def batch_ids(conn: Connection, account_id: UUID, offset: int, limit: int) -> list[UUID]:
    """A page of the account's batches, newest first (from the (account_id, created_at) index)."""
    query = (
        sa.select(check_batches.c.id)
        .where(check_batches.c.account_id == account_id)
        .order_by(check_batches.c.created_at.desc(), check_batches.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(conn.scalars(query))


# A Check's columns, in its fields' order.
_CHECK_COLUMNS = tuple(
    vehicle_checks.c[name]
    for name in (
        "id",
        "resource_id",
        "vin",
        "plate",
        "status_id",
        "result",
        "error",
        "created_at",
        "finished_at",
    )
)


def checks_of(conn: Connection, account_id: UUID, batch_id: UUID, offset: int, limit: int) -> list[Check]:
    """A page of one of the account's batches' checks, by vehicle (VIN, then plate) then
    resource. The batch's (id, vehicle, resource) are sorted here: at most a batch's
    checks (500 vehicles times the resources), found from the batch's index, where a
    condition on the account's column would lead the planner to the account's index."""
    c = vehicle_checks.c
    theirs = sa.exists().where(check_batches.c.id == batch_id, check_batches.c.account_id == account_id)
    keys = conn.execute(
        sa.select(c.id, c.vin, c.plate, c.resource_id).where(c.batch_id == batch_id, theirs)
    ).all()
    ids = [row.id for row in sorted(keys, key=lambda row: (row.vin, row.plate, row.resource_id, row.id))]
    page = ids[offset : offset + limit]
    rows = {row.id: Check(*row) for row in conn.execute(sa.select(*_CHECK_COLUMNS).where(c.id.in_(page)))}
    return [rows[i] for i in page]


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
                sa.select(*_CHECK_COLUMNS).where(c.account_id == account_id, match, c.state != PENDING)
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
