"""Routing: who gets each lead, and what happens when nobody acts on it.

A lead waiting for an assignee goes to one of the account's active `sales` users (only
those named for its origin in `lead_routes`, if any are): the one with the fewest open
leads nobody has acted on; ties go to whoever was given a lead longest ago, then by id,
so equal users take turns. A lead nobody acted on within the account's
`unactioned_minutes` of its assignment goes, the same way, to someone else (back to the
same user only when there is nobody else), at most `max_reassignments` times; then it is
escalated: managers are told and it stays where it is.

Set-based: each call handles up to `limit` leads in the caller's transaction, with one
UPDATE per assignee. Each assignment, its timeline entries and its emails are written
together, the UPDATE taking only leads still as read, so a batch retried after a crash
assigns and emails each lead once. Emails: one per assignee per batch, naming up to 20
of its leads (emails.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from forecourt.core.accounts import repository as accounts
from forecourt.core.leads import emails, repository
from forecourt.core.leads.emails import Links, Rendered
from forecourt.core.leads.schemas import FORECOURT, ORIGINS, Actor, Reason
from forecourt.core.notifications import service as notifications
from forecourt.core.notifications.schemas import OutgoingEmail
from forecourt.core.users import repository as users
from forecourt.core.users.schemas import User

ROUTE_JOB = "leads.route"
SWEEP_JOB = "leads.sweep"
SWEEP_SECONDS = 60
# The digest's hours, local to the account: made at 08:00, or at the first sweep after
# it (a worker that was down); a morning without any worker gets none, rather than one
# in the afternoon.
DIGEST_HOUR, DIGEST_UNTIL_HOUR = 8, 12


class Seats:
    """The candidates as routing goes, each with its order: (open unactioned leads, when
    last given a lead and in which turn of this pass, id): the first is given the next."""

    def __init__(self, loads: dict[UUID, tuple[int, datetime]], users: Sequence[UUID]) -> None:
        self.order: dict[UUID, tuple[int, datetime, int, str]] = {}
        for user in users:
            load, last = loads.get(user, (0, datetime.min))
            self.order[user] = (load, last or datetime.min, 0, str(user))
        self.turn = 0

    def pick(self, among: Sequence[UUID], avoid: UUID | None = None) -> UUID | None:
        others = [user for user in among if user != avoid] if avoid in among else among
        return min(others or among, key=self.order.__getitem__, default=None)

    def give(self, user: UUID, at: datetime, taken_from: UUID | None = None) -> None:
        self.turn += 1
        load, _, _, name = self.order[user]
        self.order[user] = (load + 1, at, self.turn, name)
        if taken_from is not None and taken_from in self.order:
            load, last, turn, name = self.order[taken_from]
            self.order[taken_from] = (load - 1, last, turn, name)


def candidates(conn: Connection, account_id: UUID) -> dict[str, list[UUID]]:
    """Per origin, the users its leads may go to (by id, for a stable order)."""
    sales = {user.id for user in users.of_account(conn, account_id) if user.active and user.role == "sales"}
    rules = repository.routes(conn, account_id)
    return {origin: sorted(rules[origin] & sales if origin in rules else sales) for origin in ORIGINS}


def route(conn: Connection, account_id: UUID, at: datetime, limit: int, links: Links) -> int:
    """Assign up to `limit` of the account's waiting leads; how many were waiting (fewer
    than `limit`: none is left that anyone may take)."""
    repository.lock_for_routing(conn, account_id)
    among = candidates(conn, account_id)
    waiting = repository.unassigned(conn, account_id, [o for o, found in among.items() if found], limit)
    if not waiting:
        return 0
    everyone = sorted({user for found in among.values() for user in found})
    seats = Seats(repository.loads(conn, account_id, everyone), everyone)
    chosen: dict[UUID, list[UUID]] = {}
    for lead_id, origin in waiting:
        user = seats.pick(among[origin])
        assert user is not None  # only origins with candidates were read
        seats.give(user, at)
        chosen.setdefault(user, []).append(lead_id)
    moves = []
    for user, lead_ids in chosen.items():
        done = set(repository.assign_unassigned(conn, account_id, lead_ids, user, at))
        moves += [(lead_id, None, user) for lead_id in lead_ids if lead_id in done]
    announce(conn, account_id, moves, "routing", FORECOURT, at, links)
    return len(waiting)


def reassign(conn: Connection, account_id: UUID, at: datetime, limit: int, links: Links) -> int:
    """Reassign or escalate up to `limit` of the account's leads nobody acted on in time;
    how many were overdue."""
    repository.lock_for_routing(conn, account_id)
    chosen = repository.settings(conn, account_id)
    cutoff = at - timedelta(minutes=chosen.unactioned_minutes)
    late = repository.overdue(conn, account_id, cutoff, limit)
    if not late:
        return 0
    among = candidates(conn, account_id)
    everyone = sorted(
        {user for found in among.values() for user in found} | {lead.assignee_id for lead in late}
    )
    seats = Seats(repository.loads(conn, account_id, everyone), everyone)
    moving: dict[UUID, list[UUID]] = {}
    came_from = {lead.id: lead.assignee_id for lead in late}
    out_of_turns = []
    for lead in late:
        user = seats.pick(among[lead.origin], avoid=lead.assignee_id)
        if lead.reassignments >= chosen.max_reassignments or user is None:
            out_of_turns.append(lead.id)  # no turns left, or nobody to hand it to
            continue
        seats.give(user, at, taken_from=lead.assignee_id)
        moving.setdefault(user, []).append(lead.id)
    moves = []
    for user, lead_ids in moving.items():
        done = set(repository.reassign(conn, account_id, lead_ids, user, at, cutoff))
        moves += [(lead_id, came_from[lead_id], user) for lead_id in lead_ids if lead_id in done]
    announce(conn, account_id, moves, "unactioned", FORECOURT, at, links, chosen.unactioned_minutes)
    escalated = repository.escalate(conn, account_id, out_of_turns, at, cutoff)
    _escalate(conn, account_id, escalated, chosen.max_reassignments, at, links)
    return len(late)


def announce(
    conn: Connection,
    account_id: UUID,
    moves: Sequence[tuple[UUID, UUID | None, UUID]],
    reason: Reason,
    actor: Actor,
    at: datetime,
    links: Links,
    unactioned_minutes: int = 0,
) -> None:
    """Assignments made, as (lead, from, to): on each timeline, and one email to each
    assignee naming their leads."""
    if not moves:
        return
    repository.add_events(
        conn,
        [
            repository.event(
                lead_id,
                account_id,
                "assigned",
                actor,
                at,
                **{"from": _text(old), "to": str(new), "reason": reason},
            )
            for lead_id, old, new in moves
        ],
    )
    staff = {user.id: user for user in users.of_account(conn, account_id)}
    per_user: dict[UUID, list[UUID]] = {}
    for lead_id, _, user_id in moves:
        per_user.setdefault(user_id, []).append(lead_id)
    about = "reassigned" if reason == "unactioned" else "assigned"
    for user_id, lead_ids in per_user.items():
        shown = repository.summaries(conn, account_id, lead_ids[: emails.LISTED])
        rendered = emails.assigned(shown, len(lead_ids), reason, unactioned_minutes, links)
        # The event: these leads given to this user now (a lead is given once at a time).
        key = f"lead-{about}:{lead_ids[0]}:{at.isoformat()}"
        _email(conn, account_id, staff[user_id], rendered, key, lead_ids, about)


def _escalate(
    conn: Connection,
    account_id: UUID,
    lead_ids: Sequence[UUID],
    reassignments: int,
    at: datetime,
    links: Links,
) -> None:
    """Escalated leads: on each timeline, and one email to each active manager."""
    if not lead_ids:
        return
    repository.add_events(
        conn,
        [
            repository.event(lead_id, account_id, "escalated", FORECOURT, at, reassignments=reassignments)
            for lead_id in lead_ids
        ],
    )
    shown = repository.summaries(conn, account_id, lead_ids[: emails.LISTED])
    rendered = emails.escalated(shown, len(lead_ids), reassignments, links)
    for manager in managers(conn, account_id):
        _email(
            conn,
            account_id,
            manager,
            rendered,
            f"lead-escalated:{lead_ids[0]}:{at.isoformat()}:{manager.id}",
            lead_ids,
            "escalated",
        )


def managers(conn: Connection, account_id: UUID) -> list[User]:
    return [user for user in users.of_account(conn, account_id) if user.active and user.role == "manager"]


def _email(
    conn: Connection,
    account_id: UUID,
    user: User,
    rendered: Rendered,
    key: str,
    lead_ids: Sequence[UUID],
    about: str,
) -> None:
    queued = notifications.queue(
        conn, account_id, user.email, rendered.subject, rendered.text, rendered.html, key
    )
    repository.link_emails(
        conn,
        [
            {
                "email_id": queued.id,
                "lead_id": lead_id,
                "account_id": account_id,
                "user_id": user.id,
                "about": about,
            }
            for lead_id in lead_ids
        ],
    )


def digest(conn: Connection, account_id: UUID, at: datetime, links: Links) -> bool:
    """The account's daily digest, made once per local day between 08:00 and noon (in the
    account's time zone), to each active manager: whether it was made now."""
    zone = ZoneInfo(repository.settings(conn, account_id).time_zone)
    local = at.replace(tzinfo=UTC).astimezone(zone)
    if not DIGEST_HOUR <= local.hour < DIGEST_UNTIL_HOUR:
        return False
    told = managers(conn, account_id)
    account = accounts.get_account(conn, account_id)
    if not told or account is None or not repository.claim_digest(conn, account_id, local.date(), at):
        return False
    yesterday = local.date() - timedelta(days=1)
    start, end = (_utc(datetime.combine(day, time(), zone)) for day in (yesterday, local.date()))
    counts = repository.digest_counts(conn, account_id, start, end)
    rendered = emails.digest(account.name, yesterday, counts, links)
    for manager in told:
        key = f"lead-digest:{local.date().isoformat()}:{manager.id}"
        notifications.queue(
            conn, account_id, manager.email, rendered.subject, rendered.text, rendered.html, key
        )
    return True


def record_sent(conn: Connection, email: OutgoingEmail, at: datetime) -> None:
    """An email the server took: `email_sent` on the timeline of each lead it told of."""
    repository.add_events(
        conn,
        [
            repository.event(
                lead_id,
                account_id,
                "email_sent",
                FORECOURT,
                at,
                email_id=str(email.id),
                to=_text(user_id),
                about=about,
            )
            for lead_id, account_id, user_id, about in repository.emailed_leads(conn, email.id)
        ],
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)
