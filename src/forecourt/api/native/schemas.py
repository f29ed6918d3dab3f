"""The native API's wire shapes (snake_case JSON, times as ISO 8601 UTC with a Z), built
from the core's typed objects; its query strings and bodies, read with errors that name
the field."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar.datastructures import MultiDict
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Parameter, Schema
from msgspec import UNSET, Meta, UnsetType

from forecourt.api import bodies
from forecourt.core.leads.schemas import (
    ORIGINS,
    STATUSES,
    EventKind,
    Lead,
    LeadDetail,
    LeadEvent,
    LeadQuery,
    LeadStats,
    Origin,
    Speed,
    Status,
)
from forecourt.core.leads.service import NOTE_MAX, PAGE_MAX
from forecourt.core.users.schemas import Role, User
from forecourt.kit.dates import format_timestamp, parse_date
from forecourt.kit.errors import InvalidInput
from forecourt.kit.text import whole_number

DEFAULT_LIMIT = 50
Timestamp = Annotated[str, Meta(description="ISO 8601, UTC: 2026-12-01T15:18:02.123Z")]


def _at(value: datetime) -> str:
    stamp = format_timestamp(value)
    assert stamp is not None
    return stamp


# --- Answers ---


class LeadOut(msgspec.Struct, kw_only=True):
    id: UUID
    origin: Origin
    status: Status
    lost_reason: str | None
    assignee_id: UUID | None
    created_at: Timestamp
    assigned_at: Timestamp | None
    first_actioned_at: Timestamp | None
    closed_at: Timestamp | None
    reassignments: int
    escalated_at: Timestamp | None
    do_not_contact: bool
    message: str | None


class LeadList(msgspec.Struct):
    leads: list[LeadOut]
    next_cursor: str | None  # pass it as `cursor` for the next page; null on the last


class TrackedCustomerOut(msgspec.Struct, kw_only=True):
    id: UUID
    external_id: str | None
    region: str
    rego: str | None
    state: str | None
    vin: str | None
    vehicle_title: str | None
    do_not_contact: bool


class ListingOut(msgspec.Struct, kw_only=True):
    id: int
    source: str
    url: str
    title: str | None
    price: int | None
    seller_type: str | None
    listed_at: Timestamp
    delisted_at: Timestamp | None


class PartyOut(msgspec.Struct, kw_only=True):
    id: int
    name: str | None
    email: str | None
    phone: str | None


class StockVehicleOut(msgspec.Struct, kw_only=True):
    selling_id: str | None
    make: str | None
    model: str | None
    vin: str | None
    kilometers: int | None
    price: float | None
    first_registration: str | None  # YYYY-MM-DD


class AboutOut(msgspec.Struct, kw_only=True):
    customer: TrackedCustomerOut | None  # a sighting's tracked customer
    listing: ListingOut | None  # the listing it was sighted in
    party: PartyOut | None  # an opportunity's or enquiry's CRM party
    vehicle: StockVehicleOut | None  # the stock vehicle asked about


class EventOut(msgspec.Struct, kw_only=True):
    id: int
    kind: EventKind
    actor: str  # user, api or forecourt
    user_id: UUID | None
    at: Timestamp
    details: dict[str, Any]


class LeadDetailOut(LeadOut, kw_only=True):
    about: AboutOut
    timeline: list[EventOut]


class UserOut(msgspec.Struct, kw_only=True):
    id: UUID
    email: str
    display_name: str
    role: Role
    active: bool


class UserList(msgspec.Struct):
    users: list[UserOut]


class SpeedFigures(msgspec.Struct, kw_only=True):
    actioned: int  # leads with a first action: what the median and p90 are over
    unactioned: int  # leads never actioned (not counted as zero)
    median_seconds: float | None
    p90_seconds: float | None


class UserSpeed(SpeedFigures, kw_only=True):
    user_id: UUID | None  # the lead's assignee; null: unassigned


class OriginSpeed(SpeedFigures, kw_only=True):
    origin: Origin


class SpeedToLead(msgspec.Struct, kw_only=True):
    by_user: list[UserSpeed]
    by_origin: list[OriginSpeed]


class OriginWonRate(msgspec.Struct, kw_only=True):
    origin: Origin
    won: int
    lost: int
    rate: float | None  # won / (won + lost); null when none is closed


class StatsOut(msgspec.Struct, kw_only=True):
    since: Timestamp
    until: Timestamp
    leads: int
    speed_to_lead: SpeedToLead
    by_status: dict[Status, int]
    won_rate_by_origin: list[OriginWonRate]


def lead_out(lead: Lead) -> LeadOut:
    return LeadOut(**_lead_fields(lead))


def _lead_fields(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "origin": lead.origin,
        "status": lead.status,
        "lost_reason": lead.lost_reason,
        "assignee_id": lead.assignee_id,
        "created_at": _at(lead.created_at),
        "assigned_at": format_timestamp(lead.assigned_at),
        "first_actioned_at": format_timestamp(lead.first_actioned_at),
        "closed_at": format_timestamp(lead.closed_at),
        "reassignments": lead.reassignments,
        "escalated_at": format_timestamp(lead.escalated_at),
        "do_not_contact": lead.do_not_contact,
        "message": lead.message,
    }


def event_out(event: LeadEvent) -> EventOut:
    return EventOut(
        id=event.id,
        kind=event.kind,
        actor=event.actor,
        user_id=event.user_id,
        at=_at(event.at),
        details=event.details,
    )


def _party_name(fields: dict[str, Any]) -> str | None:
    name = fields.get("name") or " ".join(filter(None, (fields.get("firstName"), fields.get("lastName"))))
    return name or None


def _day(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


def detail_out(found: LeadDetail) -> LeadDetailOut:
    customer, listing, party, vehicle = (
        found.about.customer,
        found.about.listing,
        found.about.party,
        found.about.vehicle,
    )
    about = AboutOut(
        customer=None
        if customer is None
        else TrackedCustomerOut(
            id=customer.id,
            external_id=customer.external_id,
            region=customer.region,
            rego=customer.rego,
            state=customer.state,
            vin=customer.vin,
            vehicle_title=customer.vehicle_title,
            do_not_contact=customer.do_not_contact,
        ),
        listing=None
        if listing is None
        else ListingOut(
            id=listing.id,
            source=listing.source,
            url=listing.url,
            title=listing.title,
            price=listing.price,
            seller_type=listing.seller_type,
            listed_at=_at(listing.listed_at),
            delisted_at=format_timestamp(listing.delisted_at),
        ),
        party=None
        if party is None
        else PartyOut(
            id=party.id,
            name=_party_name(party.fields),
            email=party.fields.get("email"),
            phone=party.fields.get("phoneNumber"),
        ),
        vehicle=None
        if vehicle is None
        else StockVehicleOut(
            selling_id=vehicle.get("sellingId"),
            make=vehicle.get("makeName"),
            model=vehicle.get("modelName"),
            vin=vehicle.get("vin"),
            kilometers=vehicle.get("kilometers"),
            price=vehicle.get("price"),
            first_registration=_day(vehicle.get("firstRegistration")),
        ),
    )
    return LeadDetailOut(
        **_lead_fields(found.lead), about=about, timeline=[event_out(e) for e in found.timeline]
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, email=user.email, display_name=user.display_name, role=user.role, active=user.active
    )


def _figures(speed: Speed) -> dict[str, Any]:
    return {
        "actioned": speed.actioned,
        "unactioned": speed.unactioned,
        "median_seconds": speed.median_seconds,
        "p90_seconds": speed.p90_seconds,
    }


def stats_out(stats: LeadStats) -> StatsOut:
    return StatsOut(
        since=_at(stats.since),
        until=_at(stats.until),
        leads=stats.leads,
        speed_to_lead=SpeedToLead(
            by_user=[
                UserSpeed(user_id=user_id, **_figures(speed))
                # The unassigned group last, users by id: the same order every time.
                for user_id, speed in sorted(
                    stats.speed_by_user.items(), key=lambda item: (item[0] is None, str(item[0]))
                )
            ],
            by_origin=[
                OriginSpeed(origin=origin, **_figures(speed))  # type: ignore[arg-type]
                for origin, speed in stats.speed_by_origin.items()
            ],
        ),
        by_status=stats.by_status,  # type: ignore[arg-type]
        won_rate_by_origin=[
            OriginWonRate(origin=origin, won=r.won, lost=r.lost, rate=r.rate)  # type: ignore[arg-type]
            for origin, r in stats.won_rate_by_origin.items()
        ],
    )


# --- Bodies ---


class LeadPatch(msgspec.Struct, forbid_unknown_fields=True):
    """What to change: any of them, made in this order: reopen, status, assignee."""

    status: Status | UnsetType = UNSET
    reason: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET  # with status lost
    assignee: UUID | UnsetType = UNSET  # an active user of the account
    reopen: bool | UnsetType = UNSET  # true: a won or lost lead back to contacted


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(min_length=1, max_length=NOTE_MAX)]


# msgspec names a field missing from, or unknown to, the body's top level only in its message.
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]*)`")


def decode_body(raw: bytes, shape: type[Any]) -> Any:
    """A JSON body as `shape`; InvalidInput naming the field (an unknown or missing one too)."""
    try:
        return bodies.decode(raw, shape)
    except InvalidInput as exc:
        if exc.field == "body":
            if unknown := _UNKNOWN_FIELD.search(exc.message):
                raise InvalidInput(unknown[1], f"{unknown[1]} is not a field of this body") from None
            if missing := _MISSING_FIELD.search(exc.message):
                raise InvalidInput(missing[1], f"{missing[1]} is required") from None
        raise


# --- Query strings ---


def _query(name: str, schema: Schema, description: str, **style: Any) -> Parameter:
    return Parameter(
        name=name, param_in=ParamType.QUERY, required=False, schema=schema, description=description, **style
    )


_TEXT = Schema(type=OpenAPIType.STRING)
LIST_PARAMETERS = (
    _query(
        "status",
        Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING, enum=list(STATUSES))),
        "Leads in any of these statuses: repeated (`status=new&status=contacted`) or a comma list",
        style="form",
        explode=True,
    ),
    _query(
        "origin",
        Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING, enum=list(ORIGINS))),
        "Leads from any of these sources: repeated or a comma list",
        style="form",
        explode=True,
    ),
    _query(
        "assignee",
        Schema(
            one_of=[
                Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
                Schema(type=OpenAPIType.STRING, enum=["none"]),
            ]
        ),
        "Leads assigned to this user (an id from GET /v1/users), or `none` for unassigned ones",
    ),
    _query("created_since", _TEXT, "Created at or after: YYYY-MM-DD (midnight UTC) or ISO 8601"),
    _query("created_until", _TEXT, "Created before (not at): YYYY-MM-DD (midnight UTC) or ISO 8601"),
    _query(
        "unactioned",
        Schema(type=OpenAPIType.BOOLEAN),
        "true: leads no one has acted on yet (no status change or note); false: the others",
    ),
    _query(
        "limit",
        Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=PAGE_MAX),
        f"Leads in the page (default {DEFAULT_LIMIT})",
    ),
    _query("cursor", _TEXT, "The `next_cursor` of the page before (newest first)"),
)
STATS_PARAMETERS = (
    _query("since", _TEXT, "Leads created at or after: YYYY-MM-DD or ISO 8601 (default: until - 30 days)"),
    _query("until", _TEXT, "Leads created before: YYYY-MM-DD or ISO 8601 (default: now)"),
)


def _single(params: MultiDict[str], name: str) -> str | None:
    given = params.getall(name, [])
    if len(given) > 1:
        raise InvalidInput(name, f"{name} is given more than once")
    return given[0] if given else None


def check_names(params: MultiDict[str], documented: Sequence[Parameter]) -> None:
    """A parameter the operation does not read is refused, not ignored (a misspelt filter
    would otherwise list everything)."""
    known = {p.name for p in documented}
    unknown = sorted(name for name in params if name not in known)
    if unknown:
        name = unknown[0] or "query"
        raise InvalidInput(name, f"{name!r} is not a query parameter of this operation")


def _listed(params: MultiDict[str], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for value in params.getall(name, []) for v in value.split(",") if v.strip())


def _boolean(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value not in ("true", "false"):
        raise InvalidInput(name, f"{name} must be true or false, got {value[:40]!r}")
    return value == "true"


def parse_id(name: str, value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput(name, f"{name} must be a UUID, got {value[:40]!r}") from None


def encode_cursor(after: tuple[datetime, UUID]) -> str:
    at, lead_id = after
    raw = f"{at.isoformat(timespec='microseconds')}/{lead_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        at, lead_id = raw.decode("ascii").split("/")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is not None:
            raise ValueError("a cursor's time is naive UTC")
        return parsed, UUID(hex=lead_id)
    except (binascii.Error, ValueError, UnicodeDecodeError):  # UnicodeDecodeError: not ASCII
        raise InvalidInput("cursor", "cursor is not one this API gave: start again without it") from None


def lead_query(params: MultiDict[str]) -> LeadQuery:
    check_names(params, LIST_PARAMETERS)
    assignee = _single(params, "assignee")
    limit = _single(params, "limit")
    cursor = _single(params, "cursor")
    return LeadQuery(
        statuses=_listed(params, "status"),
        origins=_listed(params, "origin"),
        assignee_id=None if assignee in (None, "none") else parse_id("assignee", assignee),
        unassigned=assignee == "none",
        created_since=parse_date("created_since", _single(params, "created_since")),
        created_until=parse_date("created_until", _single(params, "created_until")),
        unactioned=_boolean("unactioned", _single(params, "unactioned")),
        after=None if cursor is None else decode_cursor(cursor),
        limit=DEFAULT_LIMIT if limit is None else whole_number("limit", limit, 1, PAGE_MAX),
    )


def stats_range(params: MultiDict[str]) -> tuple[datetime | None, datetime | None]:
    check_names(params, STATS_PARAMETERS)
    return parse_date("since", _single(params, "since")), parse_date("until", _single(params, "until"))
