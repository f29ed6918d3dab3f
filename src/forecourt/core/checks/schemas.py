"""Vehicle checks: the vehicles asked about, the statuses a check can end in, and the
resources that run checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from forecourt.kit.errors import NotFound


class CheckedVehicle(NamedTuple):
    vin: str  # "" when not given
    plate: str


class Status(msgspec.Struct, frozen=True):
    status_id: int
    key: str
    description: str
    description_spanish: str
    priority: int  # higher: more for the dealer to worry about


def _status(status_id: int, key: str, description: str, spanish: str, priority: int) -> Status:
    return Status(status_id, key, description, spanish, priority)


# The vendor's statuses, then Forecourt's own (from 100, clear of the vendor's range)
# for checks whose answer is information rather than a verdict.
STATUSES = {
    s.status_id: s
    for s in (
        _status(-1, "UnProcessed", "Not processed yet", "Sin procesar", 0),
        _status(0, "WithTicketsDebts", "Has unpaid traffic fines", "Con adeudos de multas", 2),
        _status(1, "WithoutTicketsDebts", "No unpaid traffic fines", "Sin adeudos de multas", 0),
        _status(2, "WithTenenciasDebts", "Has unpaid ownership tax", "Con adeudos de tenencia", 2),
        _status(3, "WithoutTenenciasDebts", "No unpaid ownership tax", "Sin adeudos de tenencia", 0),
        _status(4, "WithStolenReport", "Reported stolen", "Con reporte de robo", 3),
        _status(5, "WithoutStolenReport", "Not reported stolen", "Sin reporte de robo", 0),
        _status(
            6,
            "WithActiveInsurancePolicy",
            "Has an active insurance policy",
            "Con póliza de seguro vigente",
            0,
        ),
        _status(7, "WithoutMiscDebts", "No other debts", "Sin otros adeudos", 0),
        _status(
            8, "WithoutActiveInsurancePolicy", "No active insurance policy", "Sin póliza de seguro vigente", 1
        ),
        _status(9, "WithMiscDebts", "Has other debts", "Con otros adeudos", 2),
        _status(10, "VehicleDoesNotExist", "The vehicle does not exist", "El vehículo no existe", 2),
        _status(
            11, "VehicleIsNotRegistered", "The vehicle is not registered", "El vehículo no está registrado", 2
        ),
        _status(
            12,
            "VehicleHasChangedPlate",
            "The plate now belongs to another vehicle",
            "El vehículo cambió de placa",
            1,
        ),
        _status(
            100,
            "InfoFound",
            "Information about the vehicle was found",
            "Se encontró información del vehículo",
            0,
        ),
        _status(
            101,
            "NoInfoFound",
            "No information about the vehicle was found",
            "No se encontró información del vehículo",
            0,
        ),
    )
}
INFO_FOUND, NO_INFO_FOUND = 100, 101
NOT_A_VEHICLE, NOT_REGISTERED, CHANGED_PLATE = 10, 11, 12


class Outcome(NamedTuple):
    """What one check found: a status and results, or (status None) why it failed."""

    status_id: int | None
    result: list[dict[str, Any]]
    error: str | None = None


class Resource(msgspec.Struct, frozen=True):
    """A source that checks vehicles, described as the Sync vendor describes its own."""

    resource_id: int
    key: str
    description: str
    resource_type: int  # the vendor's types: 2 info, 6 misc, 14 plateStatus, ...
    criteria_type: str  # what it needs: vin, plate or vinOrPlate
    authentication_required: bool = False
    state: str | None = None  # a Mexican state at the vendor; none of ours is regional
    portal_url: str | None = None


class Check(msgspec.Struct, frozen=True):
    id: int
    resource_id: int
    vin: str
    plate: str
    status_id: int | None
    result: list[dict[str, Any]]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class BatchProgress(msgspec.Struct, frozen=True):
    id: UUID
    vehicles: int
    checks: int
    pending: int
    done: int
    failed: int
    created_at: datetime
    finished_at: datetime | None


class BatchNotFound(NotFound):
    pass
