"""Webhooks: where an account hears of sightings, and the log of every delivery."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from forecourt.core.customers.schemas import Customer
from forecourt.core.listings.schemas import Listing
from forecourt.kit.errors import NotFound

Event = Literal["ping", "recapture_new", "recapture_price_change", "recapture_delist"]
FORMATS = ("json",)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class WebhookNotFound(NotFound):
    pass


class DeliveryNotFound(NotFound):
    """No such delivery of this webhook (whether or not another account has one)."""


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


class WebhookEvent(msgspec.Struct, kw_only=True):
    """An event as an account's webhook hears of it, in Forecourt's terms: for sighting
    events the customer and the listing (with the lead). The body sent is rendered from
    it at the edge, in the dialect's shape (see `EventRenderer`)."""

    id: UUID  # the delivery's
    type: Event
    created_at: datetime
    region: str
    lead_id: UUID | None = None
    customer: Customer | None = None
    listing: Listing | None = None


# The exact bytes a webhook receives for an event: the composition root picks the
# dialect's renderer (the Recapture body today).
EventRenderer = Callable[[WebhookEvent], bytes]
