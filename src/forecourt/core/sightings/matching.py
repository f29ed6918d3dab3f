"""The matching rules, pure: is this listing the vehicle of this tracked customer, listed
while the dealer wants to hear about it?"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from forecourt.kit.vehicles import STATED_REGIONS


class WatchedVehicle(NamedTuple):
    """A tracked customer, as matching sees it."""

    id: UUID
    account_id: UUID
    region: str
    vin: str | None
    rego: str | None
    state: str | None
    monitor_start_date: datetime | None
    monitor_end_date: datetime | None
    vehicle_title: str | None


class ListedVehicle(NamedTuple):
    """A listing, as matching sees it."""

    id: int
    region: str
    vin: str | None
    plate: str | None
    state: str | None
    listed_at: datetime
    title: str | None


def same_vehicle(customer: WatchedVehicle, listing: ListedVehicle) -> bool:
    """The same VIN; else, when either VIN is unknown, the same plate in the same state.
    In a region with states a plate without one proves nothing (each state issues its own)."""
    if customer.region != listing.region:
        return False
    if customer.vin and listing.vin:
        return customer.vin == listing.vin
    if customer.rego is None or customer.rego != listing.plate or customer.state != listing.state:
        return False
    return (customer.state is not None) == (customer.region in STATED_REGIONS)


def in_window(customer: WatchedVehicle, listed_at: datetime) -> bool:
    """Whole days, both ends included; a missing end is open."""
    day = listed_at.date()
    start, end = customer.monitor_start_date, customer.monitor_end_date
    return (start is None or start.date() <= day) and (end is None or day <= end.date())


def matches(customer: WatchedVehicle, listing: ListedVehicle) -> bool:
    return same_vehicle(customer, listing) and in_window(customer, listing.listed_at)


def pairs(
    customers: Iterable[WatchedVehicle], listings: Iterable[ListedVehicle]
) -> list[tuple[WatchedVehicle, ListedVehicle]]:
    """Every (customer, listing) that matches, found through dictionaries by VIN and by
    plate rather than by comparing every pair."""
    by_vin: dict[str, list[WatchedVehicle]] = {}
    by_plate: dict[str, list[WatchedVehicle]] = {}
    for customer in customers:
        if customer.vin:
            by_vin.setdefault(customer.vin, []).append(customer)
        if customer.rego:
            by_plate.setdefault(customer.rego, []).append(customer)
    found: dict[tuple[UUID, int], tuple[WatchedVehicle, ListedVehicle]] = {}
    for listing in listings:
        near = by_vin.get(listing.vin, []) if listing.vin else []
        if listing.plate:
            near = near + by_plate.get(listing.plate, [])
        for customer in near:
            if matches(customer, listing):
                found[(customer.id, listing.id)] = (customer, listing)
    return list(found.values())
