"""The resources that check vehicles. Each takes a batch of vehicles and answers one
outcome per vehicle: a status and results, a failure, or Transient (try again later).

Outside services are called with no database transaction open.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from vininfo import Vin
from vininfo.exceptions import ValidationError as VinError

from forecourt.core.checks import repository
from forecourt.core.checks.schemas import (
    CHANGED_PLATE,
    INFO_FOUND,
    NO_INFO_FOUND,
    NOT_A_VEHICLE,
    NOT_REGISTERED,
    STATUSES,
    CheckedVehicle,
    Outcome,
    Resource,
)
from forecourt.db.engine import Database
from forecourt.kit.dates import format_timestamp
from forecourt.kit.errors import InvalidInput
from forecourt.kit.vehicles import STATED_REGIONS, normalise_vin
from forecourt.providers.check_service import Answer as ServiceAnswer
from forecourt.providers.check_service import HttpCheckService, Unavailable
from forecourt.providers.registration import PlateNotFound, PlateQuery, Registration, RegistrationLookup


class Transient(NamedTuple):
    """The source could not answer now; the check is tried again later."""

    error: str


Answer = Outcome | Transient


class Checker(Protocol):
    resource: Resource
    billable: bool  # whether each check is counted against the account...
    provider: str  # ...and under which name (`forecourt accounts usage`)

    def can_check(self, region: str, vehicle: CheckedVehicle) -> bool: ...

    def check(self, region: str, vehicles: Sequence[CheckedVehicle]) -> list[Answer]: ...


class VinDecode:
    """Offline: is the VIN well formed, does its check digit hold (it need not outside
    North America), who made the vehicle, where, and which model years it can be."""

    resource = Resource(1, "vin-decode", "VIN decoding (offline)", resource_type=2, criteria_type="vin")
    billable, provider = False, "vin-decode"

    def can_check(self, region: str, vehicle: CheckedVehicle) -> bool:
        return bool(vehicle.vin)

    def check(self, region: str, vehicles: Sequence[CheckedVehicle]) -> list[Answer]:
        return [self._decode(v.vin) for v in vehicles]

    @staticmethod
    def _decode(vin: str) -> Outcome:
        try:
            normalise_vin(vin)
        except InvalidInput as exc:
            return Outcome(NOT_A_VEHICLE, [{"valid": False, "reason": exc.message}])
        try:
            decoded = Vin(vin)
            details: dict[str, Any] = {
                "manufacturer": decoded.manufacturer,
                "country": decoded.country,
                "region": decoded.region,
                "modelYears": list(decoded.years),
                "checkDigitValid": decoded.verify_checksum(),
            }
        except VinError as exc:
            return Outcome(NOT_A_VEHICLE, [{"valid": False, "reason": str(exc)}])
        return Outcome(INFO_FOUND, [{"valid": True, "wmi": vin[:3], **details}])


class RegistrationCheck:
    """The plate in the registration data the Recapture uploads use (plate -> VIN)."""

    resource = Resource(
        2, "registration", "Registration lookup (plate to VIN)", resource_type=14, criteria_type="plate"
    )

    def __init__(self, lookup: RegistrationLookup) -> None:
        self.lookup = lookup
        # Counted as the uploads' lookups are: the same provider, the same cost.
        self.billable, self.provider = lookup.billable, lookup.name

    def can_check(self, region: str, vehicle: CheckedVehicle) -> bool:
        # Where plates are issued per state, a plate alone names no vehicle, and a Sync
        # request carries no state: asking would only report it unregistered (and cost).
        return bool(vehicle.plate) and region not in STATED_REGIONS

    def check(self, region: str, vehicles: Sequence[CheckedVehicle]) -> list[Answer]:
        found = self.lookup.lookup_many([PlateQuery(v.plate, None, region) for v in vehicles])
        return [self._answer(v, outcome) for v, outcome in zip(vehicles, found, strict=True)]

    @staticmethod
    def _answer(vehicle: CheckedVehicle, outcome: Any) -> Answer:
        if isinstance(outcome, Registration):
            status = CHANGED_PLATE if vehicle.vin and vehicle.vin != outcome.vin else INFO_FOUND
            return Outcome(status, [{"vin": outcome.vin, "vehicleTitle": outcome.vehicle_title}])
        if isinstance(outcome, PlateNotFound):
            return Outcome(NOT_REGISTERED, [])
        return Transient(str(outcome))


class ListingHistory:
    """What Forecourt's own marketplace listings know: times seen, first and last seen,
    the last price, whether the vehicle is still for sale."""

    resource = Resource(
        3,
        "listing-history",
        "Marketplace listings seen by Forecourt",
        resource_type=2,
        criteria_type="vinOrPlate",
    )
    billable, provider = False, "listing-history"

    def __init__(self, db: Database) -> None:
        self.db = db

    def can_check(self, region: str, vehicle: CheckedVehicle) -> bool:
        return True

    def check(self, region: str, vehicles: Sequence[CheckedVehicle]) -> list[Answer]:
        with self.db.read() as conn:
            seen = repository.listings_of(conn, region, vehicles)
        return [self._summary(seen.get(v, [])) for v in vehicles]

    @staticmethod
    def _summary(listings: list[dict[str, Any]]) -> Outcome:
        if not listings:
            return Outcome(NO_INFO_FOUND, [])
        last = max(listings, key=lambda item: item["last_seen_at"])
        summary = {
            "timesSeen": len(listings),
            "firstSeen": format_timestamp(min(item["first_seen_at"] for item in listings)),
            "lastSeen": format_timestamp(last["last_seen_at"]),
            "lastPrice": last["price"],
            "delisted": all(item["delisted_at"] is not None for item in listings),
            "listings": [
                {
                    "source": item["source"],
                    "url": item["url"],
                    "title": item["title"],
                    "price": item["price"],
                    "listedAt": format_timestamp(item["listed_at"]),
                    "delistedAt": format_timestamp(item["delisted_at"]),
                }
                for item in listings
            ],
        }
        return Outcome(INFO_FOUND, [summary])


def _pick(body: Any, path: str) -> Any:
    """`a.b.c` in nested JSON objects; the whole body for an empty path."""
    for part in filter(None, path.split(".")):
        body = body.get(part) if isinstance(body, dict) else None
    return body


class HttpCheck:
    """An operator's outside check service: the results (and a status id) read from its
    JSON answer by the configured paths; nothing known when it has no answer."""

    billable, provider = False, "http-check"

    def __init__(
        self,
        service: HttpCheckService,
        *,
        description: str,
        resource_type: int,
        result_path: str,
        status_path: str,
    ) -> None:
        self.service = service
        self.result_path, self.status_path = result_path, status_path
        self.resource = Resource(
            4,
            "http",
            description,
            resource_type=resource_type,
            criteria_type="vinOrPlate",
            portal_url=service.host,
        )

    def can_check(self, region: str, vehicle: CheckedVehicle) -> bool:
        return True

    def check(self, region: str, vehicles: Sequence[CheckedVehicle]) -> list[Answer]:
        return [self._one(region, v) for v in vehicles]

    def _one(self, region: str, vehicle: CheckedVehicle) -> Answer:
        reply = self.service.fetch(vehicle.vin, vehicle.plate, region)
        if isinstance(reply, Unavailable):
            return Transient(reply.error)
        if not isinstance(reply, ServiceAnswer):
            return Outcome(None, [], reply.error)
        if reply.body is None:
            return Outcome(NO_INFO_FOUND, [])
        result = _pick(reply.body, self.result_path)
        status = _pick(reply.body, self.status_path) if self.status_path else None
        return Outcome(
            status if isinstance(status, int) and status in STATUSES else INFO_FOUND,
            result if isinstance(result, list) else [result] if result is not None else [],
        )
