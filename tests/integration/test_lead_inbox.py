"""The reads behind the workspace's leads inbox, on both backends: what arrived after the
newest lead a reader has (the live inbox), a list's summaries, and a salesperson's view
of one lead (only their own; another's is not found)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import API, LeadNotFound, LeadQuery
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow
from tests.conftest import Tenant, make_user


def test_newer_than_gives_only_what_arrived_after_the_newest_shown(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    now = utcnow()
    with db.write() as conn:
        older = leads.open_one(conn, tenant.account.id, "enquiry", now - timedelta(minutes=5))
        # Two made at the same moment (a listing batch stamps its leads alike).
        same = sorted(leads.open_one(conn, tenant.account.id, "enquiry", now) for _ in range(2))
        leads.open_one(conn, other_tenant.account.id, "enquiry", now + timedelta(seconds=1))
    with db.read() as conn:
        every = leads.list_page(conn, tenant.account.id, LeadQuery())
        assert [lead.id for lead in every.leads] == [same[1], same[0], older]
        newest = (every.leads[0].created_at, every.leads[0].id)
        assert leads.list_page(conn, tenant.account.id, LeadQuery(newer_than=newest)).leads == []
        since_older = LeadQuery(newer_than=(now - timedelta(minutes=5), older))
        assert [lead.id for lead in leads.list_page(conn, tenant.account.id, since_older).leads] == [
            same[1],
            same[0],
        ]
        # The one of the pair with the lower id is older: the other is newer than it.
        after_first = LeadQuery(newer_than=(now, same[0]))
        assert [lead.id for lead in leads.list_page(conn, tenant.account.id, after_first).leads] == [same[1]]
        # And paging on from the first of the pair gives the other, then the older one.
        after_newest = LeadQuery(after=(now, same[1]))
        assert [lead.id for lead in leads.list_page(conn, tenant.account.id, after_newest).leads] == [
            same[0],
            older,
        ]
        # Filters hold as for a page.
        wrong_origin = LeadQuery(newer_than=(now - timedelta(minutes=5), older), origins=("sighting",))
        assert leads.list_page(conn, tenant.account.id, wrong_origin).leads == []


def test_summaries_and_a_salespersons_view_of_a_lead(db: Database, tenant: Tenant) -> None:
    now = utcnow()
    sam = make_user(db, tenant.account.id)
    kim = make_user(db, tenant.account.id, "kim@dealer.example", "Kim")
    with db.write() as conn:
        lead_id = leads.open_one(conn, tenant.account.id, "enquiry", now, message="Is it still there?")
        leads.assign(conn, tenant.account.id, lead_id, sam.id, API, now, public_url="http://x.example")
    with db.read() as conn:
        [summary] = leads.summaries(conn, tenant.account.id, [lead_id])
        assert (summary.id, summary.origin, summary.message) == (lead_id, "enquiry", "Is it still there?")
        assert leads.detail(conn, tenant.account.id, lead_id, assignee_id=sam.id).lead.id == lead_id
        assert leads.detail(conn, tenant.account.id, lead_id).lead.assignee_id == sam.id
        with pytest.raises(LeadNotFound):
            leads.detail(conn, tenant.account.id, lead_id, assignee_id=kim.id)
