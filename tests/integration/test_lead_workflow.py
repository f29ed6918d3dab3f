"""The lead workflow on both backends: every source opens a lead with a timeline; a vehicle
seen again while its lead is open joins that lead; status moves follow the rules (no way
back from won or lost but a reopen); the first action by a person is recorded; leads of
one account are invisible to another; do-not-contact customers and contacts flag their
leads, before and after the leads are made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import Enquiry
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import API, FORECOURT, Actor, Lead, LeadNotFound
from forecourt.core.optouts import service as optouts
from forecourt.core.users import service as users
from forecourt.db.engine import Database
from forecourt.db.models import listings, sightings
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import Conflict, InvalidInput, NotFound
from tests.conftest import VIN, Cli, Tenant, ingest_listings, listing_record, make_user, save_customer


def lead_of(db: Database, tenant: Tenant, source_id: str) -> Lead:
    """The lead of the sighting made by a listing."""
    with db.read() as conn:
        lead_id = conn.scalar(
            sa.select(sightings.c.lead_id).join(listings).where(listings.c.source_id == source_id)
        )
        assert lead_id is not None
        return leads.get(conn, tenant.account.id, lead_id)


def sighting_lead(db: Database, tenant: Tenant, source_id: str = "L1", vin: str = VIN) -> Lead:
    assert ingest_listings(db, listing_record(source_id, vin=vin)).sightings == 1
    return lead_of(db, tenant, source_id)


def act(db: Database, change: Any, *args: Any, **kwargs: Any) -> Any:
    with db.write() as conn:
        return change(conn, *args, **kwargs)


def kinds(db: Database, tenant: Tenant, lead: Lead) -> list[str]:
    with db.read() as conn:
        return [entry.kind for entry in leads.timeline(conn, tenant.account.id, lead.id)]


def test_a_sighting_opens_a_new_lead_with_a_timeline(db: Database, tenant: Tenant) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    lead = sighting_lead(db, tenant)
    assert (lead.origin, lead.status, lead.assignee_id, lead.first_actioned_at) == (
        "sighting",
        "new",
        None,
        None,
    )
    with db.read() as conn:
        [created] = leads.timeline(conn, tenant.account.id, lead.id)
    assert (created.kind, created.actor, created.user_id) == ("created", "forecourt", None)


def test_the_vehicle_seen_again_while_its_lead_is_open_joins_that_lead(db: Database, tenant: Tenant) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    first = sighting_lead(db, tenant, "L1")
    # Two more listings of the same vehicle, one in a batch of its own and two at once.
    ingest_listings(db, listing_record("L2", vin=VIN))
    ingest_listings(db, listing_record("L3", vin=VIN), listing_record("L4", vin=VIN))
    assert {lead_of(db, tenant, source_id).id for source_id in ("L2", "L3", "L4")} == {first.id}
    with db.read() as conn:
        timeline = leads.timeline(conn, tenant.account.id, first.id)
        recorded = conn.execute(sightings.select()).all()
    assert [e.kind for e in timeline] == ["created", "sighted", "sighted", "sighted"]
    assert len(recorded) == 4 and {row.lead_id for row in recorded} == {first.id}
    # Once the lead is closed, the next listing of the vehicle is a new lead.
    act(db, leads.change_status, tenant.account.id, first.id, "won", API, utcnow())
    later = sighting_lead(db, tenant, "L5")
    assert later.id != first.id and later.status == "new"


def test_one_batch_with_two_listings_of_one_vehicle_opens_one_lead(db: Database, tenant: Tenant) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    assert ingest_listings(db, listing_record("L1", vin=VIN), listing_record("L2", vin=VIN)).sightings == 2
    lead = lead_of(db, tenant, "L1")
    assert lead_of(db, tenant, "L2").id == lead.id
    assert kinds(db, tenant, lead) == ["created", "sighted"]


def test_status_moves_forward_and_back_only_by_reopening(db: Database, tenant: Tenant) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    lead = sighting_lead(db, tenant)
    seller = make_user(db, tenant.account.id, "sam@alpha.example")
    by_sam = Actor("user", seller.id)
    account = tenant.account.id
    start = utcnow()

    contacted = act(db, leads.change_status, account, lead.id, "contacted", by_sam, start)
    assert contacted.first_actioned_at == start
    with pytest.raises(Conflict, match="cannot go back to new"):
        act(db, leads.change_status, account, lead.id, "new", by_sam, start)
    with pytest.raises(InvalidInput) as no_reason:
        act(db, leads.change_status, account, lead.id, "lost", by_sam, start)
    assert no_reason.value.field == "reason"
    with pytest.raises(InvalidInput) as unknown_status:
        act(db, leads.change_status, account, lead.id, "sold", by_sam, start)
    assert unknown_status.value.field == "status"

    later = start + timedelta(hours=2)
    lost = act(db, leads.change_status, account, lead.id, "lost", by_sam, later, reason="sold privately")
    assert (lost.status, lost.lost_reason, lost.closed_at, lost.first_actioned_at) == (
        "lost",
        "sold privately",
        later,
        start,
    )
    with pytest.raises(Conflict, match="reopen it"):
        act(db, leads.change_status, account, lead.id, "contacted", by_sam, later)
    reopened = act(db, leads.reopen, account, lead.id, by_sam, later)
    assert (reopened.status, reopened.lost_reason, reopened.closed_at) == ("contacted", None, None)
    with pytest.raises(Conflict):
        act(db, leads.reopen, account, lead.id, by_sam, later)  # only a closed lead reopens

    with db.read() as conn:
        stored = leads.get(conn, account, lead.id)
        timeline = leads.timeline(conn, account, lead.id)
    assert stored == reopened
    assert [(e.kind, e.details.get("to"), e.user_id) for e in timeline] == [
        ("created", None, None),
        ("status_changed", "contacted", seller.id),
        ("status_changed", "lost", seller.id),
        ("reopened", "contacted", seller.id),
    ]
    assert timeline[2].details["reason"] == "sold privately"


def test_a_lead_may_skip_ahead_and_an_appointment_may_be_called_off(db: Database, tenant: Tenant) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    lead = sighting_lead(db, tenant)
    account, now = tenant.account.id, utcnow()
    act(db, leads.change_status, account, lead.id, "appointment", API, now)
    assert act(db, leads.change_status, account, lead.id, "contacted", API, now).status == "contacted"
    assert act(db, leads.change_status, account, lead.id, "won", API, now).closed_at == now


def test_lost_reasons_are_the_accounts_own(db: Database, tenant: Tenant) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    lead = sighting_lead(db, tenant)
    account, now = tenant.account.id, utcnow()
    chosen = act(
        db, leads.configure, account, now, lost_reasons=("went interstate", " went interstate ", "other")
    )
    assert chosen.lost_reasons == ("went interstate", "other")
    with pytest.raises(InvalidInput, match="went interstate, other"):
        act(db, leads.change_status, account, lead.id, "lost", API, now, reason="sold privately")
    assert (
        act(db, leads.change_status, account, lead.id, "lost", API, now, reason="went interstate").status
        == "lost"
    )
    for field, value in (("time_zone", "Mars/Olympus"), ("lost_reasons", ("  ",)), ("unactioned_minutes", 0)):
        with pytest.raises(InvalidInput) as refused:
            act(db, leads.configure, account, now, **{field: value})
        assert refused.value.field == field
    with db.read() as conn:
        assert leads.settings(conn, account) == chosen


def test_a_persons_note_is_the_first_action_and_forecourts_work_is_not(db: Database, tenant: Tenant) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    lead = sighting_lead(db, tenant)
    seller = make_user(db, tenant.account.id, "sam@alpha.example")
    account, now = tenant.account.id, utcnow()
    assigned = act(db, leads.assign, account, lead.id, seller.id, FORECOURT, now, public_url="")
    assert (assigned.assignee_id, assigned.assigned_at, assigned.first_actioned_at) == (seller.id, now, None)
    with pytest.raises(InvalidInput) as empty:
        act(db, leads.add_note, account, lead.id, "   ", Actor("user", seller.id), now)
    assert empty.value.field == "text"
    note = act(db, leads.add_note, account, lead.id, " Called, voicemail. ", Actor("user", seller.id), now)
    assert (note.kind, note.details, note.user_id) == (
        "note_added",
        {"text": "Called, voicemail."},
        seller.id,
    )
    with db.read() as conn:
        assert leads.get(conn, account, lead.id).first_actioned_at == now


def test_assignees_are_active_users_of_the_same_account(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    lead = sighting_lead(db, tenant)
    stranger = make_user(db, other_tenant.account.id, "sam@beta.example")
    gone = make_user(db, tenant.account.id, "gone@alpha.example")
    act(db, users.set_active, gone.id, False)
    for user in (stranger, gone):
        with pytest.raises(InvalidInput) as refused:
            act(db, leads.assign, tenant.account.id, lead.id, user.id, API, utcnow(), public_url="")
        assert refused.value.field == "assignee"
    assert kinds(db, tenant, lead) == ["created"]


def test_another_accounts_lead_is_not_found_and_not_changed(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    save_customer(db, tenant.account.id, vin=VIN)
    lead = sighting_lead(db, tenant)
    theirs, now = other_tenant.account.id, utcnow()
    for attempt in (
        lambda conn: leads.get(conn, theirs, lead.id),
        lambda conn: leads.timeline(conn, theirs, lead.id),
        lambda conn: leads.change_status(conn, theirs, lead.id, "contacted", API, now),
        lambda conn: leads.add_note(conn, theirs, lead.id, "hello", API, now),
        lambda conn: leads.reopen(conn, theirs, lead.id, API, now),
    ):
        with pytest.raises(LeadNotFound), db.write() as conn:
            attempt(conn)
    with db.read() as conn:
        assert leads.get(conn, tenant.account.id, lead.id) == lead
    assert kinds(db, tenant, lead) == ["created"]


def test_enquiries_open_leads_of_their_own_origin(db: Database, tenant: Tenant) -> None:
    contact, lead_id = act(
        db,
        contacts.add_update_customer,
        tenant.account.id,
        {"name": "Ann Lee", "email": "ann@example.com"},
        None,
        Enquiry(title="Test drive", remarks="Saturday?"),
    )
    assert lead_id is not None
    with db.read() as conn:
        lead = leads.get(conn, tenant.account.id, lead_id)
    assert (lead.origin, lead.party_id, lead.message, lead.status) == (
        "enquiry",
        contact.id,
        "Test drive - Saturday?",
        "new",
    )
    assert kinds(db, tenant, lead) == ["created"]


def test_do_not_contact_flags_leads_made_before_and_after(db: Database, tenant: Tenant) -> None:
    customer = save_customer(db, tenant.account.id, vin=VIN)
    account = tenant.account.id
    before = sighting_lead(db, tenant, "L1")
    assert not before.do_not_contact
    act(db, optouts.mark_customer, account, customer.id, True)
    with db.read() as conn:
        assert leads.get(conn, account, before.id).do_not_contact
    act(db, leads.change_status, account, before.id, "won", API, utcnow())
    after = sighting_lead(db, tenant, "L2")
    assert after.id != before.id and after.do_not_contact
    act(db, optouts.mark_customer, account, customer.id, False)
    with db.read() as conn:
        assert not any(leads.get(conn, account, lead.id).do_not_contact for lead in (before, after))


def test_a_do_not_contact_party_flags_its_enquiries(db: Database, tenant: Tenant) -> None:
    fields = {"name": "Ann Lee", "email": "ann@example.com"}
    contact, _ = act(db, contacts.add_update_customer, tenant.account.id, fields, None, None)
    act(db, optouts.mark_contact, tenant.account.id, contact.id, True)
    _, lead_id = act(
        db, contacts.add_update_customer, tenant.account.id, fields, contact.id, Enquiry(title="Trade-in")
    )
    with db.read() as conn:
        assert leads.get(conn, tenant.account.id, lead_id).do_not_contact


def test_the_opt_out_commands_stay_in_their_account(
    db: Database, cli: Cli, tenant: Tenant, other_tenant: Tenant
) -> None:
    customer = save_customer(db, tenant.account.id, vin=VIN)
    mine, theirs = str(tenant.account.id), str(other_tenant.account.id)
    refused = cli.run("opt-outs", "set", theirs, "--customer", str(customer.id))
    assert refused.exit_code == 1 and "no customer with that id" in refused.output
    assert cli.ok("opt-outs", "list", theirs) == {"customers": [], "contacts": []}
    assert cli.ok("opt-outs", "list", mine) == {"customers": [], "contacts": []}
    assert cli.ok("opt-outs", "set", mine, "--customer", str(customer.id)) == {
        "customer": str(customer.id),
        "do_not_contact": True,
    }
    assert cli.ok("opt-outs", "list", mine) == {"customers": [str(customer.id)], "contacts": []}
    assert cli.ok("opt-outs", "list", theirs) == {"customers": [], "contacts": []}
    assert cli.run("opt-outs", "set", mine).exit_code == 2  # neither --customer nor --contact
    cli.ok("opt-outs", "clear", mine, "--customer", str(customer.id))
    assert cli.ok("opt-outs", "list", mine) == {"customers": [], "contacts": []}
    with pytest.raises(NotFound), db.write() as conn:
        optouts.mark_contact(conn, tenant.account.id, 12345, True)
