"""The lead workflow's use cases: a lead opened by any source, its status moved, reopened,
assigned by hand, a note added; each one leaves an entry on the lead's timeline in the
same transaction. The rules of which status may follow which are in workflow.py.

A person's first status change or note is the lead's first action (the speed-to-lead
clock stops); what Forecourt itself does (routing, delivery) is not an action."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.contacts import repository as contacts
from forecourt.core.crm import service as crm
from forecourt.core.customers import repository as customers
from forecourt.core.inventory import repository as inventory
from forecourt.core.leads import repository, routing, workflow
from forecourt.core.leads.emails import Links
from forecourt.core.leads.schemas import (
    CLOSED,
    FORECOURT,
    ORIGINS,
    STATUSES,
    Actor,
    Lead,
    LeadAbout,
    LeadDetail,
    LeadEvent,
    LeadNotFound,
    LeadPage,
    LeadQuery,
    LeadSettings,
    LeadSummary,
)
from forecourt.core.listings import repository as listings
from forecourt.core.users import repository as users
from forecourt.jobs import queue as jobs
from forecourt.kit.errors import Conflict, InvalidInput
from forecourt.kit.text import check_no_nul

NOTE_MAX = 5000

settings = repository.settings
event = repository.event  # one timeline entry, as repository.add_events takes it


def opened(conn: Connection, new_leads: Iterable[tuple[UUID, UUID]], at: datetime) -> None:
    """Leads just made, as (lead id, account id): their timelines start, and those of a
    do-not-contact customer or party are flagged."""
    made = list(new_leads)
    repository.add_events(
        conn, (event(lead_id, account_id, "created", FORECOURT, at) for lead_id, account_id in made)
    )
    repository.flag_do_not_contact(conn, [lead_id for lead_id, _ in made])
    # Routing: one job per account that got leads, however many (docs/leads.md "Routing").
    payloads = [{"account_id": str(account_id)} for account_id in sorted({a for _, a in made})]
    jobs.enqueue_many(conn, routing.ROUTE_JOB, payloads)
    # Delivery to the accounts' CRMs (ADF): deliveries and a job per target, set-based.
    crm.enqueue(conn, made, at)


def open_one(
    conn: Connection,
    account_id: UUID,
    origin: str,
    at: datetime,
    *,
    party_id: int | None = None,
    vehicle_id: int | None = None,
    message: str | None = None,
) -> UUID:
    """A lead from one opportunity or enquiry, opened."""
    lead_id = repository.insert(
        conn, account_id, origin, at, party_id=party_id, vehicle_id=vehicle_id, message=message
    )
    opened(conn, [(lead_id, account_id)], at)
    return lead_id


def get(conn: Connection, account_id: UUID, lead_id: UUID) -> Lead:
    lead = repository.get(conn, account_id, lead_id)
    if lead is None:
        raise LeadNotFound("no lead with that id")
    return lead


def get_visible(conn: Connection, account_id: UUID, lead_id: UUID, assignee_id: UUID | None) -> Lead:
    """The lead, to someone who sees only the leads assigned to them (`assignee_id`, a
    salesperson in the workspace) or all the account's (None): another's is not found."""
    lead = get(conn, account_id, lead_id)
    if assignee_id is not None and lead.assignee_id != assignee_id:
        raise LeadNotFound("no lead with that id")
    return lead


def timeline(conn: Connection, account_id: UUID, lead_id: UUID) -> list[LeadEvent]:
    get(conn, account_id, lead_id)
    return repository.timeline(conn, account_id, lead_id)


def change_status(
    conn: Connection,
    account_id: UUID,
    lead_id: UUID,
    status: str,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
) -> Lead:
    lead = get(conn, account_id, lead_id)
    lost_reason = workflow.check_move(lead.status, status, reason, settings(conn, account_id).lost_reasons)
    values = {"status": status, "lost_reason": lost_reason, "closed_at": at if status in CLOSED else None}
    details = {"from": lead.status, "to": status} | ({"reason": lost_reason} if lost_reason else {})
    return _change(
        conn, lead, values, event(lead.id, account_id, "status_changed", actor, at, **details), actor, at
    )


def reopen(conn: Connection, account_id: UUID, lead_id: UUID, actor: Actor, at: datetime) -> Lead:
    lead = get(conn, account_id, lead_id)
    status = workflow.check_reopen(lead.status)
    values = {"status": status, "lost_reason": None, "closed_at": None}
    entry = event(lead.id, account_id, "reopened", actor, at, **{"from": lead.status, "to": status})
    return _change(conn, lead, values, entry, actor, at)


def assign(
    conn: Connection,
    account_id: UUID,
    lead_id: UUID,
    user_id: UUID,
    actor: Actor,
    at: datetime,
    *,
    public_url: str,
) -> Lead:
    """A lead handed to a user by hand (a manager, or the CRM through the API); the user
    is emailed, with links into the workspace at `public_url` (Settings.public_url)."""
    lead = get(conn, account_id, lead_id)
    user = users.get(conn, user_id)
    if user is None or user.account_id != account_id or not user.active:
        raise InvalidInput("assignee", "assignee must be an active user of this account")
    if lead.assignee_id == user_id:
        return lead
    # An escalated lead handed on by hand is watched again: left unactioned for the
    # window, the managers are told once more.
    values = {"assignee_id": user_id, "assigned_at": at, "escalated_at": None}
    changed = _change(conn, lead, values, None, actor, at, action=False)
    routing.announce(
        conn, account_id, [(lead.id, lead.assignee_id, user_id)], "by hand", actor, at, Links(public_url)
    )
    return changed


def add_note(
    conn: Connection, account_id: UUID, lead_id: UUID, text: str, actor: Actor, at: datetime
) -> LeadEvent:
    check_no_nul("text", text)
    text = text.strip()
    if not text or len(text) > NOTE_MAX:
        raise InvalidInput("text", f"text must be 1 to {NOTE_MAX} characters")
    lead = get(conn, account_id, lead_id)
    if _acts(actor) and lead.first_actioned_at is None:
        repository.mark_actioned(conn, lead.id, at)
    return repository.add_event(conn, event(lead.id, account_id, "note_added", actor, at, text=text))


def configure(conn: Connection, account_id: UUID, at: datetime, **changes: Any) -> LeadSettings:
    """The account's lead settings with `changes` made (checked: LeadSettings' fields)."""
    current = settings(conn, account_id)
    chosen = _checked(msgspec.structs.replace(current, **changes))
    repository.save_settings(conn, account_id, chosen, at)
    return chosen


def _checked(chosen: LeadSettings) -> LeadSettings:
    try:
        ZoneInfo(chosen.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "time_zone", f"time_zone must be an IANA time zone name, got {chosen.time_zone!r}"
        ) from None
    for reason in chosen.lost_reasons:
        check_no_nul("lost_reasons", reason)
    reasons = tuple(dict.fromkeys(reason.strip() for reason in chosen.lost_reasons if reason.strip()))
    if not reasons or any(len(reason) > 100 for reason in reasons):
        raise InvalidInput(
            "lost_reasons", "lost_reasons must name at least one reason, each up to 100 characters"
        )
    if not 1 <= chosen.unactioned_minutes <= 7 * 24 * 60:
        raise InvalidInput("unactioned_minutes", "unactioned_minutes must be 1 to 10080 (a week)")
    if not 0 <= chosen.max_reassignments <= 100:
        raise InvalidInput("max_reassignments", "max_reassignments must be 0 to 100")
    return msgspec.structs.replace(chosen, lost_reasons=reasons)


def _acts(actor: Actor) -> bool:
    return actor.kind != "forecourt"


def _change(
    conn: Connection,
    lead: Lead,
    values: Mapping[str, Any],
    entry: dict[str, Any] | None,
    actor: Actor,
    at: datetime,
    *,
    action: bool = True,
) -> Lead:
    values = dict(values)
    if action and _acts(actor) and lead.first_actioned_at is None:
        values["first_actioned_at"] = at
    if not repository.update(conn, lead, values):
        raise Conflict("lead", "the lead was changed meanwhile: read it again")
    if entry is not None:
        repository.add_events(conn, [entry])
    return msgspec.structs.replace(lead, **values)


def start_of_yesterday(time_zone: str, now: datetime) -> datetime:
    """Midnight at the start of yesterday in the account's time zone, as naive UTC."""
    zone = ZoneInfo(time_zone)
    local = now.replace(tzinfo=UTC).astimezone(zone)
    midnight = datetime.combine(local.date() - timedelta(days=1), time(), zone)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def new_since_yesterday(conn: Connection, account_id: UUID, now: datetime, assignee_id: UUID | None) -> int:
    """The Today page's count: leads made since the start of yesterday in the account's
    time zone; a salesperson's own (`assignee_id`), a manager's whole account (None)."""
    since = start_of_yesterday(repository.settings(conn, account_id).time_zone, now)
    return repository.count_created_since(conn, account_id, since, assignee_id)


# --- The native API's reads: a page of leads, and what a lead is about ---

PAGE_MAX = 500


def list_page(conn: Connection, account_id: UUID, query: LeadQuery) -> LeadPage:
    for name, given, known in (("status", query.statuses, STATUSES), ("origin", query.origins, ORIGINS)):
        wrong = [value for value in given if value not in known]
        if wrong:
            raise InvalidInput(name, f"{name} must be one of {', '.join(known)}, got {wrong[0]!r}")
    if not 1 <= query.limit <= PAGE_MAX:
        raise InvalidInput("limit", f"limit must be 1 to {PAGE_MAX}")
    found = repository.page(conn, account_id, query)
    shown = found[: query.limit]
    more = len(found) > query.limit
    return LeadPage(shown, (shown[-1].created_at, shown[-1].id) if more else None)


def summaries(conn: Connection, account_id: UUID, lead_ids: Sequence[UUID]) -> list[LeadSummary]:
    """What a list of leads says of each (the vehicle, the customer, the plate), in the
    order given; the customer's own details left out of a do-not-contact lead's."""
    return repository.summaries(conn, account_id, lead_ids)


def about(conn: Connection, lead: Lead) -> LeadAbout:
    """The tracked customer, listing, CRM party and stock vehicle a lead came from (the
    lead is the account's: its links are too)."""
    customer = listing = party = vehicle = None
    if lead.tracked_customer_id is not None:
        customer = customers.get_many(conn, [lead.tracked_customer_id]).get(lead.tracked_customer_id)
    if lead.listing_id is not None:
        listing = listings.by_ids(conn, [lead.listing_id]).get(lead.listing_id)
    if lead.party_id is not None:
        party = contacts.find(conn, lead.account_id, party_id=lead.party_id)
    if lead.vehicle_id is not None:
        vehicle = inventory.by_row_id(conn, lead.account_id, lead.vehicle_id)
    return LeadAbout(customer, listing, party, vehicle)


def detail(
    conn: Connection, account_id: UUID, lead_id: UUID, *, assignee_id: UUID | None = None
) -> LeadDetail:
    lead = get_visible(conn, account_id, lead_id, assignee_id)
    return LeadDetail(lead, about(conn, lead), repository.timeline(conn, account_id, lead_id))


def change(
    conn: Connection,
    account_id: UUID,
    lead_id: UUID,
    actor: Actor,
    at: datetime,
    *,
    reopen_it: bool = False,
    status: str | None = None,
    reason: str | None = None,
    assignee_id: UUID | None = None,
    public_url: str,
) -> Lead:
    """Several changes asked at once (an API client's PATCH), made in this order: reopened,
    status moved, assigned. The caller's transaction makes them all or none."""
    if reason is not None and status is None:
        raise InvalidInput("reason", "a reason is given with status lost")
    if not (reopen_it or status is not None or assignee_id is not None):
        raise InvalidInput("body", "nothing to change: give status, assignee or reopen: true")
    lead = get(conn, account_id, lead_id)
    if reopen_it:
        lead = reopen(conn, account_id, lead_id, actor, at)
    if status is not None:
        lead = change_status(conn, account_id, lead_id, status, actor, at, reason)
    if assignee_id is not None:
        lead = assign(conn, account_id, lead_id, assignee_id, actor, at, public_url=public_url)
    return lead


def route_origin(conn: Connection, account_id: UUID, origin: str, user_ids: Sequence[UUID]) -> list[UUID]:
    """Leads of `origin` go only to these users (active sales users of the account); none:
    to all the account's active sales users again. The users kept, by id."""
    if origin not in ORIGINS:
        raise InvalidInput("origin", f"origin must be one of {', '.join(ORIGINS)}")
    chosen = sorted(set(user_ids))
    for user_id in chosen:
        user = users.get(conn, user_id)
        if user is None or user.account_id != account_id:
            raise InvalidInput("user", f"user {user_id} is not a user of this account")
        if user.role != "sales":
            raise InvalidInput("user", f"user {user_id} is a {user.role}: leads are routed to sales users")
    repository.set_route(conn, account_id, origin, chosen)
    return chosen


def routes(conn: Connection, account_id: UUID) -> dict[str, set[UUID]]:
    """Per origin, the users its leads are routed to (an origin left out: to every active
    sales user)."""
    return repository.routes(conn, account_id)


def start_sweep(conn: Connection, at: datetime) -> None:
    """The routing sweep queued unless it is (it queues its own next run): the operator's
    lead commands start it, as the first routed lead does."""
    jobs.ensure(conn, routing.SWEEP_JOB, run_after=at)


def waiting(
    conn: Connection, account_id: UUID, assignee_id: UUID | None, limit: int = 10
) -> tuple[int, list[Lead]]:
    """The Today page's unactioned leads: how many open leads nobody has acted on yet (a
    salesperson's own, `assignee_id`; the whole account's for a manager, None), and the
    oldest `limit` of them."""
    return repository.unactioned(conn, account_id, assignee_id, limit)
