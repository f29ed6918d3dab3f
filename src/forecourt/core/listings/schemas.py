"""Marketplace listings: a vehicle advertised for sale, as sources send it and as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

SellerType = Literal["private", "dealer"]
SELLER_TYPES: tuple[SellerType, ...] = ("private", "dealer")
MAX_PRICE = 10**12  # whole dollars; far above any car, far below a 64-bit integer


class ListingFields(msgspec.Struct, kw_only=True):
    """A listing as a source sends it: raw values, validated by the service."""

    source: str | None = None
    source_id: str | int | None = None
    region: str | None = None
    url: str | None = None
    title: str | None = None
    price: Annotated[int, msgspec.Meta(ge=0, le=MAX_PRICE)] | None = None
    seller_type: str | None = None
    vin: str | None = None
    plate: str | None = None
    state: str | None = None
    listed_at: str | None = None
    # Left out: unchanged. null: for sale again (relisted).
    delisted_at: str | msgspec.UnsetType | None = msgspec.UNSET


class ListingRecord(msgspec.Struct, kw_only=True):
    """A validated, normalised listing; None where a re-send keeps the stored value."""

    source: str
    source_id: str
    region: str | None
    url: str | None
    title: str | None
    price: int | None
    seller_type: SellerType | None
    vin: str | None
    plate: str | None
    state: str | None
    listed_at: datetime | None
    delisted_at: datetime | msgspec.UnsetType | None


class Listing(msgspec.Struct, kw_only=True):
    id: int
    source: str
    source_id: str
    region: str
    url: str
    title: str | None
    price: int | None
    seller_type: str | None
    vin: str | None
    plate: str | None
    state: str | None
    listed_at: datetime
    delisted_at: datetime | None
    price_history: list[Any]
    first_seen_at: datetime
    last_seen_at: datetime


class RecordError(msgspec.Struct, kw_only=True):
    """Why one record of a batch was not ingested (a record may have several). `row` is
    the line of an NDJSON body, the element of a JSON array (from 1), or the row of a CSV
    file as a spreadsheet shows it (the header is row 1)."""

    row: int
    source_id: str | None
    field: str
    message: str


class IngestReport(msgspec.Struct, kw_only=True):
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    sightings: int = 0
    errors: list[RecordError] = msgspec.field(default_factory=list)

    def add(self, other: IngestReport) -> None:
        """Fold in the report of the next batch (the CLI ingests a file batch by batch)."""
        for name in ("received", "created", "updated", "unchanged", "rejected", "sightings"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
