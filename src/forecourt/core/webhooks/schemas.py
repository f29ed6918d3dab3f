"""Webhooks: where an account hears of sightings, and the log of every delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from forecourt.kit.errors import NotFound

Event = Literal["ping", "recapture_new", "recapture_price_change", "recapture_delist"]
FORMATS = ("json",)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class WebhookNotFound(NotFound):
    pass


class WebhookFields(msgspec.Struct, kw_only=True):
    name: str
    endpoint: str
    format: str = "json"


class Webhook(msgspec.Struct, kw_only=True):
    id: UUID
    region: str
    name: str
    format: str
    endpoint: str
    created_at: datetime


class NewWebhook(msgspec.Struct, kw_only=True):
    """A webhook just created, with its signing secret: the only time it is shown."""

    webhook: Webhook
    secret: str


class Delivery(msgspec.Struct, kw_only=True):
    id: UUID
    event: str
    status: str  # pending, delivered, failed (gave up)
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryPage(msgspec.Struct, kw_only=True):
    total: int
    deliveries: list[Delivery]


class EventCustomer(msgspec.Struct, kw_only=True):
    id: str
    region: str
    rego: str | None
    state: str | None
    vin: str | None
    external_id: str | None
    sale_date: str | None
    monitor_start_date: str | None
    monitor_end_date: str | None
    vehicle_title: str | None
    additional_fields: dict[str, Any]


class EventListing(msgspec.Struct, kw_only=True):
    id: str
    source: str
    source_id: str
    url: str
    title: str | None
    price: int | None
    seller_type: str | None
    vin: str | None
    plate: str | None
    state: str | None
    listed_at: str | None
    delisted_at: str | None
    price_history: list[Any]


class EventBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What an endpoint receives: the event, when it happened, and for sighting events
    the customer and the listing (with its lead)."""

    id: str
    type: str
    created_at: str
    region: str
    lead_id: str | None = None
    customer: EventCustomer | None = None
    listing: EventListing | None = None
