"""Leads as the rest of Forecourt sees them: the workflow's words, a lead, its timeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final, Literal, get_args
from uuid import UUID

import msgspec

from forecourt.kit.errors import NotFound

Origin = Literal["sighting", "opportunity", "enquiry"]
ORIGINS: Final[tuple[str, ...]] = get_args(Origin)
Status = Literal["new", "contacted", "appointment", "won", "lost"]
STATUSES: Final[tuple[str, ...]] = get_args(Status)
OPEN: Final = ("new", "contacted", "appointment")
CLOSED: Final = ("won", "lost")

# What a timeline holds.
EventKind = Literal[
    "created",  # details: {}
    "assigned",  # {"from": user id or None, "to": user id, "reason": "routing" | "unactioned" | "by hand"}
    "status_changed",  # {"from", "to", "reason"?}
    "reopened",  # {"from", "to"}
    "note_added",  # {"text"}
    "sighted",  # {"listing_id"}: the vehicle seen again in another listing while open
    "escalated",  # {"reassignments"}: out of reassignments, managers told
    "email_sent",  # {"email_id", "to" (user id), "about"}
    "delivered",  # {"target_id", "status"}
]

# Who did it: a staff user (user_id), an API client with the account's key, or Forecourt.
ActorKind = Literal["user", "api", "forecourt"]


class Actor(msgspec.Struct, frozen=True):
    kind: ActorKind
    user_id: UUID | None = None


API: Final = Actor("api")
FORECOURT: Final = Actor("forecourt")

DEFAULT_LOST_REASONS: Final = (
    "sold privately",
    "sold to another dealer",
    "kept the vehicle",
    "not interested",
    "could not reach",
    "price",
    "other",
)


class LeadSettings(msgspec.Struct, frozen=True):
    """An account's lead rules (the defaults until the operator changes them)."""

    time_zone: str = "UTC"
    lost_reasons: tuple[str, ...] = DEFAULT_LOST_REASONS
    unactioned_minutes: int = 20
    max_reassignments: int = 2


class Lead(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    origin: Origin
    status: Status
    lost_reason: str | None
    assignee_id: UUID | None
    created_at: datetime
    assigned_at: datetime | None
    first_actioned_at: datetime | None
    closed_at: datetime | None
    reassignments: int
    escalated_at: datetime | None
    do_not_contact: bool
    # What it is about: a tracked customer and the listing it was seen in (a sighting),
    # a CRM party and perhaps a stock vehicle (an opportunity or an enquiry).
    tracked_customer_id: UUID | None
    listing_id: int | None
    party_id: int | None
    vehicle_id: int | None
    message: str | None


class LeadEvent(msgspec.Struct, frozen=True):
    id: int
    lead_id: UUID
    kind: EventKind
    actor: ActorKind
    user_id: UUID | None
    details: dict[str, Any]
    at: datetime


class LeadNotFound(NotFound):
    """No such lead in this account (whether or not another account has one)."""


# --- Lists, what a lead is about, and the numbers (the native API, issue 15 points 6-7) ---


class LeadQuery(msgspec.Struct, frozen=True):
    """Which of an account's leads to list: every filter given must hold. Newest first
    (created_at, then id, both descending); `after` is the last lead of the page before."""

    statuses: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    assignee_id: UUID | None = None
    unassigned: bool = False
    created_since: datetime | None = None  # inclusive
    created_until: datetime | None = None  # exclusive
    unactioned: bool | None = None  # True: no first action yet; False: actioned
    after: tuple[datetime, UUID] | None = None
    # Only leads newer than this one (the newest a reader already has: the workspace's
    # live inbox asks for what arrived since); still newest first.
    newer_than: tuple[datetime, UUID] | None = None
    limit: int = 50


class LeadPage(msgspec.Struct, frozen=True):
    leads: list[Lead]
    # (created_at, id) of the page's last lead when more follow, else None
    next_after: tuple[datetime, UUID] | None


class LeadAbout(msgspec.Struct, frozen=True):
    """What a lead is about, as far as each source knows it (None where it does not, or
    where the row has gone). The values are the owning features' own shapes."""

    customer: Any  # core.customers.schemas.Customer: the tracked customer of a sighting
    listing: Any  # core.listings.schemas.Listing: the listing it was sighted in
    party: Any  # core.contacts.schemas.Contact: the CRM party of an opportunity or enquiry
    vehicle: dict[str, Any] | None  # the stock vehicle asked about (its Autengo fields)


class Speed(msgspec.Struct, frozen=True):
    """Speed-to-lead of a group: seconds from created to first action, over the leads
    actioned; those never actioned are counted apart, not as zero."""

    actioned: int
    unactioned: int
    median_seconds: float | None
    p90_seconds: float | None


class WonRate(msgspec.Struct, frozen=True):
    won: int
    lost: int
    rate: float | None  # won / (won + lost); None when none closed


class LeadStats(msgspec.Struct, frozen=True):
    since: datetime
    until: datetime
    leads: int
    speed_by_user: dict[UUID | None, Speed]  # by current assignee; None: unassigned
    speed_by_origin: dict[str, Speed]
    by_status: dict[str, int]
    won_rate_by_origin: dict[str, WonRate]


class LeadDetail(msgspec.Struct, frozen=True):
    """A lead with what it is about and its timeline, oldest entry first."""

    lead: Lead
    about: LeadAbout
    timeline: list[LeadEvent]


# Routing and notifications (core/leads/routing.py).
Reason = Literal["routing", "unactioned", "by hand"]


class LeadSummary(msgspec.Struct, frozen=True):
    """What an email says of a lead. The customer's details (name, contact, plate, listing)
    are None for a do-not-contact lead: read with them left out, never hidden later."""

    id: UUID
    origin: Origin
    created_at: datetime
    do_not_contact: bool
    vehicle: str | None  # "2019 Toyota Camry Ascent Sport"
    customer: str | None  # a name
    contact: str | None  # phone and email
    plate: str | None
    listing_url: str | None
    message: str | None


class DigestCounts(msgspec.Struct, frozen=True):
    new: int  # opened yesterday
    unactioned: int  # open now, nobody has acted on yet
    won: int  # closed yesterday
    lost: int


class DailyCounts(msgspec.Struct, frozen=True):
    """Leads per local day and origin (the Today page's chart): `counts[origin][i]` is
    the count of `days[i]`, days oldest first, every origin listed."""

    days: list[date]
    counts: dict[str, list[int]]
