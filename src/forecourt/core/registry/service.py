"""Registration data: the operator's CSV for the `file` lookup, and filling in VINs."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.customers.schemas import VehicleRecord
from forecourt.core.registry import repository
from forecourt.core.registry.schemas import Lookups
from forecourt.core.usage import repository as usage
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput
from forecourt.kit.vehicles import AU_STATES, normalise_plate, normalise_vin
from forecourt.providers.registration import LookupFailed, PlateQuery, RegistrationLookup

BATCH = 5000


def _rows(path: Path) -> Iterator[dict[str, str | None]]:
    """plate,state,vin[,vehicle_title] with or without a header line."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if not row or (line_no == 1 and row[0].strip().lower() == "plate"):
                continue
            if len(row) < 3:
                raise InvalidInput("file", f"line {line_no}: expected plate,state,vin[,vehicle_title]")
            try:
                state = row[1].strip().upper()
                if state and state not in AU_STATES:
                    raise InvalidInput("state", f"unknown state {row[1]!r}")
                yield {
                    "plate": normalise_plate(row[0], "plate"),
                    "state": state,
                    "vin": normalise_vin(row[2]),
                    "vehicle_title": (row[3].strip()[:255] or None) if len(row) > 3 else None,
                }
            except InvalidInput as exc:
                raise InvalidInput("file", f"line {line_no}: {exc.message}") from None


def load_csv(db: Database, path: Path) -> int:
    """Load (or refresh) the registry from a CSV file in one transaction; returns rows read."""
    total = 0
    batch: dict[tuple[str | None, str | None], dict[str, str | None]] = {}
    with db.write() as conn:
        for row in _rows(path):
            batch[(row["plate"], row["state"])] = row  # a later line wins
            total += 1
            if len(batch) >= BATCH:
                repository.replace_rows(conn, list(batch.values()))
                batch = {}
        repository.replace_rows(conn, list(batch.values()))
    return total


def needs_lookup(record: VehicleRecord, region: str) -> bool:
    """A plate (with its state in au) and no VIN: what a registration lookup can resolve."""
    return record.vin is None and record.rego is not None and (region != "au" or bool(record.state))


def fill_vins(records: list[VehicleRecord], region: str, provider: RegistrationLookup) -> Lookups:
    """Look up the VIN of every record that needs one and fill it in (with the vehicle
    title) in place. No database writes: call it before taking write locks, since an
    outside service may be slow; count the result with `count_usage` when saving."""
    wanted = [i for i, r in enumerate(records) if needs_lookup(r, region)]
    outcomes = (
        provider.lookup_many([PlateQuery(records[i].rego or "", records[i].state, region) for i in wanted])
        if wanted
        else []
    )
    failures: dict[int, str] = {}
    for i, outcome in zip(wanted, outcomes, strict=True):
        if isinstance(outcome, LookupFailed):
            failures[i] = f"registration lookup failed: {outcome}"
        else:
            records[i] = msgspec.structs.replace(
                records[i], vin=outcome.vin, vehicle_title=outcome.vehicle_title
            )
    return Lookups(failures, len(wanted), provider.name, provider.billable)


def count_usage(conn: Connection, account_id: UUID, lookups: Lookups) -> None:
    """Count billable lookups against the account, in the transaction that saves their result."""
    if lookups.billable and lookups.made:
        failed = len(lookups.failures)
        usage.add(conn, account_id, utcnow().strftime("%Y-%m"), lookups.provider, lookups.made, failed)
