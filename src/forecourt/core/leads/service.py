"""The lead workflow's use cases: a lead opened by any source, its status moved, reopened,
assigned by hand, a note added; each one leaves an entry on the lead's timeline in the
same transaction. The rules of which status may follow which are in workflow.py.

A person's first status change or note is the lead's first action (the speed-to-lead
clock stops); what Forecourt itself does (routing, delivery) is not an action."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.leads import repository, workflow
from forecourt.core.leads.schemas import CLOSED, FORECOURT, Actor, Lead, LeadEvent, LeadNotFound, LeadSettings
from forecourt.core.users import repository as users
from forecourt.kit.errors import Conflict, InvalidInput
from forecourt.kit.text import check_no_nul

NOTE_MAX = 5000

settings = repository.settings


def event(
    lead_id: UUID, account_id: UUID, kind: str, actor: Actor, at: datetime, **details: Any
) -> dict[str, Any]:
    """One timeline entry, as repository.add_events takes it."""
    return {
        "lead_id": lead_id,
        "account_id": account_id,
        "kind": kind,
        "actor": actor.kind,
        "user_id": actor.user_id,
        "details": details,
        "at": at,
    }


def opened(conn: Connection, new_leads: Iterable[tuple[UUID, UUID]], at: datetime) -> None:
    """Leads just made, as (lead id, account id): their timelines start, and those of a
    do-not-contact customer or party are flagged."""
    made = list(new_leads)
    repository.add_events(
        conn, (event(lead_id, account_id, "created", FORECOURT, at) for lead_id, account_id in made)
    )
    repository.flag_do_not_contact(conn, [lead_id for lead_id, _ in made])


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
    conn: Connection, account_id: UUID, lead_id: UUID, user_id: UUID, actor: Actor, at: datetime
) -> Lead:
    """A lead handed to a user by hand (a manager, or the CRM through the API)."""
    lead = get(conn, account_id, lead_id)
    user = users.get(conn, user_id)
    if user is None or user.account_id != account_id or not user.active:
        raise InvalidInput("assignee", "assignee must be an active user of this account")
    if lead.assignee_id == user_id:
        return lead
    values = {"assignee_id": user_id, "assigned_at": at}
    details = {"from": _text(lead.assignee_id), "to": str(user_id), "reason": "by hand"}
    entry = event(lead.id, account_id, "assigned", actor, at, **details)
    return _change(conn, lead, values, entry, actor, at, action=False)


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
    repository.add_events(conn, [event(lead.id, account_id, "note_added", actor, at, text=text)])
    return repository.timeline(conn, account_id, lead.id)[-1]


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


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _change(
    conn: Connection,
    lead: Lead,
    values: Mapping[str, Any],
    entry: dict[str, Any],
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
