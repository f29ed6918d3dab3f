"""CRM targets, the delivery log, and a lead as an ADF prospect (before it is XML)."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal, get_args
from uuid import UUID

import msgspec

from forecourt.kit.errors import NotFound

Channel = Literal["email", "http"]
CHANNELS: Final[tuple[str, ...]] = get_args(Channel)

# A delivery's status. pending: to be sent (again); sending: an HTTP POST under way, or
# its worker died during it; delivered: the endpoint answered 2xx (an email: the mail
# server took it); failed: given up, not delivered; unknown: may have been delivered (a
# worker died, or the connection broke, after the request went out), not sent again;
# skipped: never sent (the lead is do-not-contact). An email delivery is `queued` once
# handed to the outbox: its log shows the email's own status, in these words.
PENDING, SENDING, DELIVERED, FAILED, UNKNOWN, SKIPPED, QUEUED = (
    "pending",
    "sending",
    "delivered",
    "failed",
    "unknown",
    "skipped",
    "queued",
)


class TargetNotFound(NotFound):
    """No such CRM target in this account (whether or not another account has one)."""


class Target(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    name: str
    channel: Channel
    address: str  # the email address, or the URL posted to
    created_at: datetime


class Delivery(msgspec.Struct, frozen=True):
    """One lead's delivery to one target, as the log shows it."""

    id: int
    target_id: UUID
    lead_id: UUID
    status: str
    attempts: int
    response_status: int | None  # the endpoint's HTTP status (HTTP targets)
    last_error: str | None  # words that name no host, address or server reply
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


# What an ADF document says of a lead, gathered from Forecourt's records (service.py)
# and written as XML by adf.py.


class AdfVehicle(msgspec.Struct, frozen=True, kw_only=True):
    interest: Literal["buy", "sell"]
    status: Literal["new", "used"] | None = None  # None: not known (no vehicle on record)
    year: int | None = None
    make: str | None = None
    model: str | None = None
    vin: str | None = None
    stock: str | None = None  # the dealer's stock number (sellingId)
    trim: str | None = None
    odometer: int | None = None  # kilometres
    price: float | None = None
    price_type: Literal["quote", "asking"] = "quote"
    currency: str | None = None
    comments: str | None = None


class AdfContact(msgspec.Struct, frozen=True, kw_only=True):
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    business: bool = False
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None


class Prospect(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    requested_at: datetime  # naive UTC: when the lead was opened
    vehicle: AdfVehicle
    customer: AdfContact
    customer_id: tuple[str, str] | None = None  # (source, id): the dealer's or Forecourt's id of them
    customer_comments: str | None = None
    vendor_name: str  # the dealer (the account's name)
    provider_url: str | None = None  # Forecourt's public address, when configured
