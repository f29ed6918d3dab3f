"""The resources that check vehicles. Each takes a batch of vehicles and answers one
outcome per vehicle: a status and results, a failure, or Transient (try again later).

Outside services are called with no database transaction open.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

import httpx
from vininfo import Vin
from vininfo.exceptions import ValidationError as VinError

from forecourt.config import Settings
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
from forecourt.kit.dates import format_timestamp
from forecourt.kit.errors import InvalidInput
from forecourt.kit.vehicles import STATED_REGIONS, normalise_vin
from forecourt.db.engine import Database
from forecourt.providers.registration import PlateNotFound, PlateQuery, Registration, RegistrationLookup
from forecourt.providers.registration import from_settings as lookup_from_settings


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
    """An outside check service (fines, stolen or write-off registers, ...): GET the
    operator's URL template with `{vin}` and `{plate}`, read the results (and a status
    id) from the JSON answer by the configured paths. 404 means nothing known."""

    billable, provider = False, "http-check"

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.template = settings.check_http_url
        self.result_path = settings.check_http_result_path
        self.status_path = settings.check_http_status_path
        self.resource = Resource(
            4,
            "http",
            settings.check_http_description,
            resource_type=settings.check_http_resource_type,
            criteria_type="vinOrPlate",
            portal_url=httpx.URL(self.template).host or None,
        )
        self.client = httpx.Client(timeout=settings.check_http_timeout_seconds, transport=transport)

    def can_check(self, region: str, vehicle: CheckedVehicle) -> bool:
        return True

    def check(self, region: str, vehicles: Sequence[CheckedVehicle]) -> list[Answer]:
        return [self._one(region, v) for v in vehicles]

    def _one(self, region: str, vehicle: CheckedVehicle) -> Answer:
        url = self.template.format(vin=quote(vehicle.vin), plate=quote(vehicle.plate), region=quote(region))
        try:
            response = self.client.get(url)
        except httpx.HTTPError as exc:
            return Transient(f"check service unreachable: {type(exc).__name__}")
        if response.status_code == 404:
            return Outcome(NO_INFO_FOUND, [])
        if response.status_code >= 500 or response.status_code == 429:
            return Transient(f"check service answered {response.status_code}")
        if response.status_code != 200:
            return Outcome(None, [], f"check service answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            return Outcome(None, [], "check service answered with invalid JSON")
        result = _pick(body, self.result_path)
        status = _pick(body, self.status_path) if self.status_path else None
        return Outcome(
            status if isinstance(status, int) and status in STATUSES else INFO_FOUND,
            result if isinstance(result, list) else [result] if result is not None else [],
        )


@lru_cache(maxsize=8)
def available(settings: Settings, db: Database) -> tuple[Checker, ...]:
    """The resources this server can run (one set per process: HTTP clients are shared)."""
    checkers: list[Checker] = [VinDecode()]
    if settings.registration_lookup != "none":
        checkers.append(RegistrationCheck(lookup_from_settings(settings, db)))
    checkers.append(ListingHistory(db))
    if settings.check_http_url:
        checkers.append(HttpCheck(settings))
    return tuple(checkers)
