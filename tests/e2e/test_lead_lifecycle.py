"""One lead's whole life, on both backends, the way issue 15 says it is done: a listing
ingested for a tracked vehicle opens a lead; it is assigned round-robin; the assignee's
email arrives at a real SMTP server; the ADF document reaches the dealer's CRM by email
and by POST, valid against the ADF 1.0 DTD; nobody acts within the window, so it is
reassigned to the other salesperson, who is emailed; nobody acts again, so the managers
get the escalation email. Each of those is sent once, and the timeline tells it all."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

import httpx
from lxml import etree

from forecourt.config import Settings
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import Actor
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database
from tests.conftest import Cli, MovableClock, Tenant, run_jobs
from tests.e2e.test_crm_delivery import (
    CRM_EMAIL,
    PERSON,
    Receiver,
    add_target,
    adf,
    receiver,
    settings,
    sighting_lead,
    texts,
)
from tests.smtp import Mailbox

__all__ = ["receiver", "settings"]  # the fixtures, shared with the CRM tests

WINDOW = 20 * 60  # the default unactioned_minutes, in seconds


def staff(db: Database, tenant: Tenant, email: str, role: str = "sales") -> User:
    with db.write() as conn:
        return users.create_user(conn, users.check_new_user(tenant.account.id, email, email, role)).user


def to_crm(mailbox: Mailbox) -> list[etree._Element]:
    """The ADF documents emailed to the CRM (checked against the DTD)."""
    return [
        adf(message.get_content().encode()) for _, message in mailbox.messages if message["To"] == CRM_EMAIL
    ]


def to_people(mailbox: Mailbox, crm: str) -> list[tuple[str, str]]:
    """(recipient, subject) of the emails to anyone but the CRM, in the order received."""
    return [(message["To"], message["Subject"]) for _, message in mailbox.messages if message["To"] != crm]


def test_a_lead_from_listing_to_escalation(
    http: httpx.Client,
    db: Database,
    cli: Cli,
    tenant: Tenant,
    settings: Settings,
    mailbox: Mailbox,
    receiver: Receiver,
    clock: MovableClock,
) -> None:
    ann, bob = staff(db, tenant, "ann@alpha.example"), staff(db, tenant, "bob@alpha.example")
    boss = staff(db, tenant, "boss@alpha.example", role="manager")
    cli.ok("leads", "settings", str(tenant.account.id), "--max-reassignments", "1")
    add_target(cli, tenant, "CRM inbox", email=CRM_EMAIL)
    add_target(cli, tenant, "CRM API", url=receiver.url)

    lead_id = sighting_lead(http, db, tenant, additional_fields=PERSON)
    run_jobs(db, settings, clock)

    with db.read() as conn:
        first = leads.get(conn, tenant.account.id, lead_id).assignee_id
    assert first in (ann.id, bob.id)
    owner, other = (ann, bob) if first == ann.id else (bob, ann)
    [(to, subject)] = to_people(mailbox, CRM_EMAIL)
    assert to == owner.email and subject.startswith("A lead for you: ")
    # The CRM has it twice (email and POST), valid ADF, about this lead.
    [emailed] = to_crm(mailbox)
    for document in (emailed, *receiver.documents):
        assert texts(document, "prospect/id") == [str(lead_id)]
    assert len(receiver.received) == 1

    clock.advance(WINDOW + 60)  # nobody acted: the other salesperson gets it
    run_jobs(db, settings, clock)
    with db.read() as conn:
        again = leads.get(conn, tenant.account.id, lead_id)
    assert (again.assignee_id, again.reassignments, again.escalated_at) == (other.id, 1, None)
    assert [to for to, _ in to_people(mailbox, CRM_EMAIL)] == [owner.email, other.email]
    assert to_people(mailbox, CRM_EMAIL)[-1][1].startswith("Reassigned to you: ")

    clock.advance(WINDOW + 60)  # nobody acted again, and one reassignment is the most
    run_jobs(db, settings, clock)
    with db.read() as conn:
        escalated = leads.get(conn, tenant.account.id, lead_id)
    assert escalated.escalated_at is not None and escalated.assignee_id == other.id
    people = to_people(mailbox, CRM_EMAIL)
    assert [to for to, _ in people] == [owner.email, other.email, boss.email]
    assert people[-1][1] == "A lead nobody has acted on"

    # Nothing is sent twice, however often the worker runs.
    clock.advance(WINDOW + 60)
    run_jobs(db, settings, clock)
    assert len(to_people(mailbox, CRM_EMAIL)) == 3
    assert (len(to_crm(mailbox)), len(receiver.received)) == (1, 1)

    # The manager hands it back by hand: the salesperson is told, and the lead is watched
    # again; left unactioned once more, the managers hear of it again.
    with db.write() as conn:
        leads.assign(
            conn, tenant.account.id, lead_id, owner.id, Actor("user", boss.id), clock.now(), public_url=""
        )
    run_jobs(db, settings, clock)
    clock.advance(WINDOW + 60)
    run_jobs(db, settings, clock)
    assert [to for to, _ in to_people(mailbox, CRM_EMAIL)][3:] == [owner.email, boss.email]
    with db.read() as conn:
        timeline = leads.timeline(conn, tenant.account.id, lead_id)

    kinds = Counter(entry.kind for entry in timeline)
    assert kinds == {"created": 1, "delivered": 2, "assigned": 3, "email_sent": 5, "escalated": 2}
    assigned = [entry.details for entry in timeline if entry.kind == "assigned"]
    assert assigned == [
        {"from": None, "to": str(owner.id), "reason": "routing"},
        {"from": str(owner.id), "to": str(other.id), "reason": "unactioned"},
        {"from": str(other.id), "to": str(owner.id), "reason": "by hand"},
    ]
    told = [UUID(entry.details["to"]) for entry in timeline if entry.kind == "email_sent"]
    assert told == [owner.id, other.id, boss.id, owner.id, boss.id]
