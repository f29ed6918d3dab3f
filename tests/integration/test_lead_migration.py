"""Migration 0012 (the lead workflow): leads made before it are `new`, unassigned, with a
`created` entry on their timeline at their creation time, and a sighting's lead is of
origin `sighting`; on a fresh SQLite file and in a schema of its own on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from forecourt.core.leads import service as leads
from forecourt.db import migrate
from forecourt.db.engine import Database
from forecourt.db.models import leads as leads_table
from forecourt.kit.ids import new_id
from tests.conftest import make_tenant
from tests.integration.test_id_migration import fresh_url

__all__ = ["fresh_url"]  # the fixture


def test_leads_made_before_the_workflow_start_new_with_a_timeline(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, "0011")
    db = Database(fresh_url)
    try:
        tenant = make_tenant(db, "Old Motors")
        made = datetime(2026, 11, 3, 9, 30)
        lead_id = new_id()
        with db.write() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO leads (id, account_id, origin, created_at) "
                    "VALUES (:id, :account, :origin, :at)"
                ).bindparams(
                    sa.bindparam("id", lead_id, type_=leads_table.c.id.type),
                    sa.bindparam("account", tenant.account.id, type_=leads_table.c.account_id.type),
                    sa.bindparam("origin", "recapture_sighting"),
                    sa.bindparam("at", made, type_=sa.DateTime),
                )
            )
        migrate.upgrade(fresh_url)
        with db.read() as conn:
            lead = leads.get(conn, tenant.account.id, lead_id)
            [created] = leads.timeline(conn, tenant.account.id, lead_id)
        assert (lead.origin, lead.status, lead.assignee_id, lead.do_not_contact) == (
            "sighting",
            "new",
            None,
            False,
        )
        assert (created.kind, created.actor, created.at, created.details) == (
            "created",
            "forecourt",
            made,
            {},
        )
    finally:
        db.dispose()
