"""`forecourt leads settings` and `forecourt leads route`: an account's lead rules, as the
operator sets them (the commands are wired in cli/main.py; docs/leads.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from forecourt.core.accounts.service import require_account
from forecourt.core.leads import service as leads
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow


def settings(database: Database, account_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    """The account's lead settings, with `changes` made (none: as they are)."""
    with database.write() as conn:
        require_account(conn, account_id)
        now = utcnow()
        found = (
            leads.configure(conn, account_id, now, **changes) if changes else leads.settings(conn, account_id)
        )
        leads.start_sweep(conn, now)
    return {
        "account_id": str(account_id),
        "time_zone": found.time_zone,
        "unactioned_minutes": found.unactioned_minutes,
        "max_reassignments": found.max_reassignments,
        "lost_reasons": list(found.lost_reasons),
    }


def route(database: Database, account_id: UUID, origin: str, user_ids: Sequence[UUID]) -> dict[str, Any]:
    """Leads of `origin` go only to these users; none: to every active sales user."""
    with database.write() as conn:
        require_account(conn, account_id)
        kept = leads.route_origin(conn, account_id, origin, user_ids)
        leads.start_sweep(conn, utcnow())
    return {"account_id": str(account_id), "origin": origin, "users": [str(user) for user in kept]}
