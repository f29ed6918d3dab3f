"""Tracked customers: a sold vehicle a dealer wants to hear about when it is for sale again."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from forecourt.core.registry.schemas import Lookups
from forecourt.kit.errors import Forbidden, InvalidInput, NotFound

# The fields a client may change on an existing customer; the vehicle itself is fixed.
EDITABLE_FIELDS = (
    "external_id",
    "sale_date",
    "monitor_start_date",
    "monitor_end_date",
    "additional_fields",
)
DATE_FIELDS = ("sale_date", "monitor_start_date", "monitor_end_date")


class CustomerNotFound(NotFound):
    pass


class CustomerForbidden(Forbidden):
    pass


class MissingVehicleIdentity(InvalidInput):
    """Neither a plate nor a VIN: there is nothing to track."""


class CustomerFields(msgspec.Struct, kw_only=True):
    """A customer as a client describes it: raw strings, validated by the service."""

    rego: str | None = None
    state: str | None = None
    vin: str | None = None
    external_id: str | None = None
    sale_date: str | None = None
    monitor_start_date: str | None = None
    monitor_end_date: str | None = None
    additional_fields: dict[str, Any] | None = None


class VehicleRecord(msgspec.Struct, kw_only=True):
    """Validated and normalised customer values, ready to store."""

    rego: str | None
    state: str | None
    vin: str | None
    external_id: str | None
    sale_date: datetime | None
    monitor_start_date: datetime | None
    monitor_end_date: datetime | None
    additional_fields: dict[str, Any] | None
    vehicle_title: str | None = None


class Batch(NamedTuple):
    """Customers validated and, if asked, looked up outside any write transaction: what
    an upload's chunk and a single PUT both hand to `service.apply`."""

    records: list[VehicleRecord]
    lookups: Lookups | None = None  # None: no lookups were asked for


class Sighting(msgspec.Struct, kw_only=True):
    at: datetime
    lead_id: UUID
    listing_url: str
    listing_title: str | None
    listing_price: int | None
    seller_type: str | None
    delisted_at: datetime | None = None  # the listing was sold or withdrawn


class Customer(msgspec.Struct, kw_only=True):
    id: UUID
    region: str
    rego: str | None
    state: str | None
    vin: str | None
    external_id: str | None
    sale_date: datetime | None
    monitor_start_date: datetime | None
    monitor_end_date: datetime | None
    vehicle_title: str | None
    additional_fields: dict[str, Any]
    upload_id: UUID | None
    do_not_contact: bool = False  # no email or CRM delivery names it (docs/leads.md)
    created_at: datetime
    last_updated: datetime
    sightings: list[Sighting] = msgspec.field(default_factory=list)


class CustomerPage(msgspec.Struct, kw_only=True):
    total: int
    customers: list[Customer]


class CustomerSearch(msgspec.Struct, kw_only=True):
    """A page of the workspace's customer list: all the account's (newest first) when
    `query` is empty, else those it finds. Not counted: `more` says another page follows."""

    query: str
    page: int
    customers: list[Customer]
    more: bool
