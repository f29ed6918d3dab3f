"""Recapture wire shapes: field names and order as the vendor's examples show them."""

from __future__ import annotations

from typing import Any

import msgspec

from forecourt.core.customers.schemas import Customer, CustomerFields, Sighting
from forecourt.core.listings.schemas import Listing
from forecourt.core.uploads.schemas import RowError, Upload, UploadRequest
from forecourt.core.webhooks.schemas import Delivery, Webhook, WebhookEvent
from forecourt.kit.dates import format_timestamp


class CustomerPutBody(msgspec.Struct, kw_only=True):
    customer: CustomerFields
    enable_rego_lookups: bool = False


class UploadBody(UploadRequest, kw_only=True):
    """The upload's body as the document describes it: the route streams it to disk and
    decodes it as UploadRequest, whose other fields this keeps, the customers left raw."""

    customers: list[CustomerFields]  # type: ignore[assignment]


class SightingOut(msgspec.Struct, kw_only=True):
    at: str | None
    lead_id: str
    listing_url: str
    listing_title: str | None
    listing_price: int | None
    seller_type: str | None
    # Additive: when the listing was sold or withdrawn (null while it is for sale).
    delisted_at: str | None


class CustomerOut(msgspec.Struct, kw_only=True):
    id: str
    last_updated: str | None
    rego: str | None
    state: str | None
    vin: str | None
    external_id: str | None
    sale_date: str | None
    monitor_start_date: str | None
    monitor_end_date: str | None
    vehicle_title: str | None
    sightings: list[SightingOut]
    additional_fields: dict[str, Any]


class CustomerEnvelope(msgspec.Struct, kw_only=True):
    success: bool
    customer: CustomerOut


class CustomerListEnvelope(msgspec.Struct, kw_only=True):
    success: bool
    total: int
    customers: list[CustomerOut]


class CustomerPutEnvelope(CustomerEnvelope, kw_only=True, omit_defaults=True):
    # Additive: why a requested registration lookup found no VIN (the customer is kept).
    lookup_error: str | None = None


class UploadOut(msgspec.Struct, kw_only=True):
    id: str
    created_at: str | None
    enable_rego_lookups: bool
    name: str | None
    total_uploaded_customers: int
    total_processed_customers: int
    total_errors: int
    # Additive fields, beyond the vendor's examples.
    status: str
    completed_at: str | None


class UploadEnvelope(msgspec.Struct, kw_only=True):
    success: bool
    upload: UploadOut


class RowErrorOut(msgspec.Struct, kw_only=True):
    row: int
    external_id: str | None
    reason: str


class RowErrorListEnvelope(msgspec.Struct, kw_only=True):
    success: bool
    total: int
    errors: list[RowErrorOut]


def upload_out(upload: Upload) -> UploadOut:
    return UploadOut(
        id=str(upload.id),
        created_at=format_timestamp(upload.created_at),
        enable_rego_lookups=upload.enable_rego_lookups,
        name=upload.name,
        total_uploaded_customers=upload.total_uploaded_customers,
        total_processed_customers=upload.total_processed_customers,
        total_errors=upload.total_errors,
        status=upload.status,
        completed_at=format_timestamp(upload.completed_at),
    )


def row_error_out(error: RowError) -> RowErrorOut:
    return RowErrorOut(row=error.row, external_id=error.external_id, reason=error.reason)


def sighting_out(sighting: Sighting) -> SightingOut:
    return SightingOut(
        at=format_timestamp(sighting.at),
        lead_id=str(sighting.lead_id),
        listing_url=sighting.listing_url,
        listing_title=sighting.listing_title,
        listing_price=sighting.listing_price,
        seller_type=sighting.seller_type,
        delisted_at=format_timestamp(sighting.delisted_at),
    )


def _customer_values(customer: Customer) -> dict[str, Any]:
    """A customer's fields as the vendor writes them, in the API and in webhook events."""
    return {
        "id": str(customer.id),
        "rego": customer.rego,
        "state": customer.state,
        "vin": customer.vin,
        "external_id": customer.external_id,
        "sale_date": format_timestamp(customer.sale_date),
        "monitor_start_date": format_timestamp(customer.monitor_start_date),
        "monitor_end_date": format_timestamp(customer.monitor_end_date),
        "vehicle_title": customer.vehicle_title,
        "additional_fields": customer.additional_fields,
    }


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        last_updated=format_timestamp(customer.last_updated),
        sightings=[sighting_out(s) for s in customer.sightings],
        **_customer_values(customer),
    )


class WebhookOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    name: str
    region: str
    format: str
    endpoint: str
    created_at: str | None
    # Only in the answer to the creation: the key that signs every delivery.
    secret: str | None = None


class WebhookEnvelope(msgspec.Struct, kw_only=True):
    success: bool
    webhook: WebhookOut


class WebhookListEnvelope(msgspec.Struct, kw_only=True):
    success: bool
    webhooks: list[WebhookOut]


class PingEnvelope(msgspec.Struct, kw_only=True):
    success: bool
    delivery_id: str


class DeliveryOut(msgspec.Struct, kw_only=True):
    id: str
    event: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: str | None
    last_attempt_at: str | None
    delivered_at: str | None


class DeliveryListEnvelope(msgspec.Struct, kw_only=True):
    success: bool
    total: int
    deliveries: list[DeliveryOut]


def webhook_out(webhook: Webhook, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=str(webhook.id),
        name=webhook.name,
        region=webhook.region,
        format=webhook.format,
        endpoint=webhook.endpoint,
        created_at=format_timestamp(webhook.created_at),
        secret=secret,
    )


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=str(delivery.id),
        event=delivery.event,
        status=delivery.status,
        attempts=delivery.attempts,
        response_status=delivery.response_status,
        last_error=delivery.last_error,
        created_at=format_timestamp(delivery.created_at),
        last_attempt_at=format_timestamp(delivery.last_attempt_at),
        delivered_at=format_timestamp(delivery.delivered_at),
    )


# Webhook events. The event's customer is the API's customer with its region, without
# the sightings and the update time (the vendor's two shapes differ only there).


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


def _event_listing(listing: Listing) -> EventListing:
    return EventListing(
        id=str(listing.id),
        source=listing.source,
        source_id=listing.source_id,
        url=listing.url,
        title=listing.title,
        price=listing.price,
        seller_type=listing.seller_type,
        vin=listing.vin,
        plate=listing.plate,
        state=listing.state,
        listed_at=format_timestamp(listing.listed_at),
        delisted_at=format_timestamp(listing.delisted_at),
        price_history=listing.price_history,
    )


_encoder = msgspec.json.Encoder()


def event_body(event: WebhookEvent) -> bytes:
    """The body a Recapture webhook receives (the composition root hands this to the core)."""
    customer = event.customer
    return _encoder.encode(
        EventBody(
            id=str(event.id),
            type=event.type,
            created_at=format_timestamp(event.created_at) or "",
            region=event.region,
            lead_id=str(event.lead_id) if event.lead_id else None,
            customer=EventCustomer(region=customer.region, **_customer_values(customer))
            if customer
            else None,
            listing=_event_listing(event.listing) if event.listing else None,
        )
    )
