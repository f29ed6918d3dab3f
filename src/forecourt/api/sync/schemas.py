"""Sync's request shape: the vehicles asked about, `{"vehicles": [{"vin", "plate"}, ...]}`,
validated with the vendor's messages."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypedDict

import msgspec

from forecourt.core.checks.schemas import CheckedVehicle
from forecourt.kit.errors import InvalidInput

MAX_VEHICLES = 500
_VIN = re.compile(r"[A-Z0-9]{1,17}")
_PLATE = re.compile(r"[A-Z0-9]{1,10}")


class MissingVehicles(InvalidInput):
    """The list of vehicles is absent, misspelt, empty or too long."""


class InvalidVehicle(InvalidInput):
    """A vehicle's VIN or plate is not uppercase letters and digits."""


class VehicleAsked(msgspec.Struct):
    """A vin, a plate or both; empty means not given."""

    vin: Annotated[str, msgspec.Meta(pattern=f"^({_VIN.pattern})?$")] | None = None
    plate: Annotated[str, msgspec.Meta(pattern=f"^({_PLATE.pattern})?$")] | None = None


class VehiclesBody(msgspec.Struct):
    """The body as the document describes it (read leniently by `vehicles_of`)."""

    vehicles: Annotated[list[VehicleAsked], msgspec.Meta(min_length=1, max_length=MAX_VEHICLES)]


# The answers as the document describes them (built as dicts in checks.py). Optional keys
# come from a `total=False` class: `NotRequired` would be lost to postponed annotations.


class CheckStatus(TypedDict):
    statusId: int
    key: str
    description: str
    descriptionSpanish: str
    priority: int


class _CheckInfo(TypedDict):
    _id: str
    plate: str | None
    vin: str | None
    resourceId: int
    result: Any
    creationDateTime: str | None
    finishedDateTime: str | None


class CheckInfo(_CheckInfo, total=False):
    status: CheckStatus  # a check that ran
    error: str | None  # a check that failed


class VehicleChecks(TypedDict):
    vin: str | None
    plate: str | None
    info: list[CheckInfo]


class ChecksRead(TypedDict):
    vehicleData: list[VehicleChecks]


class BatchProgressOut(TypedDict):
    batchId: str
    status: Literal["processing", "finished"]
    vehicles: int
    checks: int
    pending: int
    done: int
    failed: int
    creationDateTime: str | None
    finishedDateTime: str | None


class BatchSubmitted(BatchProgressOut):
    resources: list[int]


class ResourceOut(TypedDict):
    resourceId: int
    key: str
    description: str
    resourceType: int
    criteriaType: str
    authenticationRequired: bool
    state: str | None
    portalUrl: str | None
    enabled: bool


class ResourceList(TypedDict):
    resources: list[ResourceOut]


def body_of(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw) if raw.strip() else None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise MissingVehicles("vehicles", "Vehicle list was not provided or might be misspelled.") from None


def _code(where: str, value: Any, pattern: re.Pattern[str], what: str) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidVehicle(
            where,
            f"VIN and/or plate is not valid: {where} must be {what} uppercase letters and digits",
        )
    return value


def vehicles_of(body: Any) -> list[CheckedVehicle]:
    """The distinct vehicles of a request body `{"vehicles": [{"vin", "plate"}, ...]}`."""
    listed = body.get("vehicles") if isinstance(body, dict) else None
    if not isinstance(listed, list):
        raise MissingVehicles("vehicles", "Vehicle list was not provided or might be misspelled.")
    if not listed:
        raise MissingVehicles("vehicles", "You must specify at least one vehicle.")
    if len(listed) > MAX_VEHICLES:
        raise MissingVehicles("vehicles", f"At most {MAX_VEHICLES} vehicles can be requested at once.")
    vehicles: dict[CheckedVehicle, None] = {}
    for i, item in enumerate(listed):
        where = f"vehicles[{i}]"
        if not isinstance(item, dict):
            raise InvalidVehicle(where, f"VIN and/or plate is not valid: {where} must be an object")
        vehicle = CheckedVehicle(
            _code(f"{where}.vin", item.get("vin"), _VIN, "1 to 17"),
            _code(f"{where}.plate", item.get("plate"), _PLATE, "1 to 10"),
        )
        if vehicle == ("", ""):
            raise InvalidVehicle(where, f"VIN and/or plate is not valid: {where} needs a vin or a plate")
        vehicles[vehicle] = None
    return list(vehicles)
